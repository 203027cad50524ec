package main

import (
	"encoding/csv"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/seqcast/seqcast/serving"
)

// goldPrices reads data/gold_daily_usd.csv: the dates and prices.
func goldPrices(t *testing.T) ([]time.Time, []float64) {
	t.Helper()
	f, err := os.Open("../../data/gold_daily_usd.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var dates []time.Time
	var prices []float64
	for _, r := range rows[1:] {
		d, err1 := time.Parse("2006-01-02", r[0])
		v, err2 := strconv.ParseFloat(r[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %v: %v %v", r, err1, err2)
		}
		dates, prices = append(dates, d), append(prices, v)
	}
	return dates, prices
}

func jsonArray(w []float64) string {
	s := make([]string, len(w))
	for i, v := range w {
		s[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return "[" + strings.Join(s, ",") + "]"
}

// metricFamilies parses /metrics.
func (p *proc) metricFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

// metricValue is the value of the sample of family name with labels (every
// one given must match); ok is false when there is none.
func metricValue(mf map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := mf[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// TestServeOutOfRange: the embedded gold model's training_stats.json makes a
// window of negative prices warn (its field, a counter, a log line), and
// --out-of-range reject refuse it with 422; a real recent window does not
// warn although its prices are above anything in training.
func TestServeOutOfRange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	_, prices := goldPrices(t)
	recent := prices[len(prices)-60:] // 2023: above the training maximum of 1,895
	neg := make([]float64, 60)
	for i, v := range recent {
		neg[i] = -v
	}
	warn := startBinary(t, nil)
	r := warn.call(t, "POST", "/predict", `{"historical_prices":`+jsonArray(recent)+`}`, "Content-Type", "application/json")
	if r.status != 200 || r.body["warnings"] != nil {
		t.Fatalf("recent window: %d %s", r.status, r.raw)
	}
	for range 2 { // the second is a cache hit: the same warning
		r = warn.call(t, "POST", "/predict", `{"historical_prices":`+jsonArray(neg)+`}`, "Content-Type", "application/json")
		ws, _ := r.body["warnings"].([]any)
		if r.status != 200 || len(ws) != 1 {
			t.Fatalf("negative window: %d %s", r.status, r.raw)
		}
		w := ws[0].(map[string]any)
		if w["field"] != "historical_prices" || w["feature"] != "level_sign" || w["reason"] == "" {
			t.Fatalf("warning %v", w)
		}
	}
	r = warn.call(t, "POST", "/predict/batch", `{"instances":[`+jsonArray(recent)+`,`+jsonArray(neg)+`]}`, "Content-Type", "application/json")
	if ws, _ := r.body["warnings"].([]any); r.status != 200 || len(ws) != 1 || ws[0].(map[string]any)["field"] != "instances[1]" {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	mf := warn.metricFamilies(t)
	if n, _ := metricValue(mf, "seqcast_out_of_range_total", map[string]string{"model": "gold", "feature": "level_sign"}); n != 3 {
		t.Errorf("seqcast_out_of_range_total{level_sign} = %g, want 3", n)
	}
	if n, _ := metricValue(mf, "seqcast_prediction_value", map[string]string{"model": "gold", "version": "1"}); n < 2 {
		t.Errorf("seqcast_prediction_value count %g, want the computed predictions", n)
	}
	if n, _ := metricValue(mf, "seqcast_interval_width", map[string]string{"model": "gold", "version": "1"}); n < 2 {
		t.Errorf("seqcast_interval_width count %g, want the computed predictions", n)
	}
	if !strings.Contains(warn.log.String(), `"msg":"input out of range"`) {
		t.Errorf("no out-of-range log line:\n%s", warn.log)
	}

	rej := startBinary(t, nil, "--out-of-range", "reject")
	r = rej.call(t, "POST", "/predict", `{"historical_prices":`+jsonArray(neg)+`}`, "Content-Type", "application/json")
	if r.status != 422 || r.errField("field") != "historical_prices" || !strings.Contains(r.errField("message"), "level_sign") {
		t.Fatalf("reject: %d %s", r.status, r.raw)
	}
	if r = rej.call(t, "POST", "/predict", `{"historical_prices":`+jsonArray(recent)+`}`, "Content-Type", "application/json"); r.status != 200 {
		t.Fatalf("reject, recent window: %d %s", r.status, r.raw)
	}
}

// driftGauges reads seqcast_input_drift_psi and its threshold for gold
// version 1's relative spread and step; ok is false while the server has
// published none (its ring of 1,000 distinct windows is not full yet).
func (p *proc) driftGauges(t *testing.T) (psi, threshold map[string]float64, ok bool) {
	t.Helper()
	mf := p.metricFamilies(t)
	psi, threshold = map[string]float64{}, map[string]float64{}
	for _, f := range []string{"relative_spread", "relative_step"} {
		l := map[string]string{"model": "gold", "version": "1", "feature": f}
		v, ok1 := metricValue(mf, "seqcast_input_drift_psi", l)
		th, ok2 := metricValue(mf, "seqcast_input_drift_threshold", l)
		if !ok1 || !ok2 {
			return nil, nil, false
		}
		psi[f], threshold[f] = v, th
	}
	return psi, threshold, true
}

// TestServeDrift: the drift gauge against its threshold gauge (the largest
// PSI that gold's own 1,000-window training blocks reach), through the
// binary and /predict/batch. 1,000 distinct windows drawn from the training
// period stay under it, and so does the real series after training
// (2015-08-28 to 2023, every window in order), and a window sent 1,000 times
// (counted once: distinct windows). 1,000 training windows with their swings
// around the mean multiplied by 5 go past it: measured (relative spread,
// relative step; thresholds 3.46, 4.19) x2 1.05 and 1.39, x3 2.24 and 3.11,
// x4 3.55 and 4.05 (the spread only just past), x5 4.70 and 5.84.
func TestServeDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dates, prices := goldPrices(t)
	end := 0 // training inputs: rows [0, end), dated 2015-08-27 or earlier
	for end < len(dates) && !dates[end].After(time.Date(2015, 8, 27, 0, 0, 0, 0, time.UTC)) {
		end++
	}
	const T = 60
	amplified := func(i int, k float64) []float64 {
		w := append([]float64(nil), prices[i:i+T]...)
		var mean float64
		for _, v := range w {
			mean += v / T
		}
		for j := range w {
			w[j] = mean + k*(w[j]-mean)
		}
		return w
	}
	r := rand.New(rand.NewPCG(16, 1))
	sample := func(k float64) [][]float64 { // 1,000 distinct training windows
		var out [][]float64
		for _, i := range r.Perm(end - T + 1)[:1000] {
			out = append(out, amplified(i, k))
		}
		return out
	}
	// The windows after training: each ends on 2015-08-28 or later.
	var real [][]float64
	for i := end - T + 1; i+T <= len(prices); i++ {
		real = append(real, prices[i:i+T])
	}
	// 1,000 real windows, then one window 1,000 times (one whose swings are
	// multiplied by 5: 1,000 copies counted as such would fill the ring's
	// top bins, a PSI near 8), then 100 more real windows: the next PSI
	// counts it once.
	wild := amplified(end-T+1000, 5)
	repeated := slices.Concat(real[:1000], slices.Repeat([][]float64{wild}, 1000), real[1000:1100])

	cases := []struct {
		name    string
		windows [][]float64
		over    bool // past the threshold at the end
	}{
		{"training windows", sample(1), false},
		{"training windows, swings x5", sample(5), true},
		{"real 2015-2023 in order", real, false},
		{"one window 1,000 times", repeated, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startBinary(t, nil, "--max-batch", "1000")
			readings := 0 // scrapes with the gauges
			var psi, th map[string]float64
			top := map[string]float64{}
			for b := 0; b < len(c.windows); b += 100 {
				inst := make([]string, 0, 100)
				for _, w := range c.windows[b:min(b+100, len(c.windows))] {
					inst = append(inst, jsonArray(w))
				}
				rep := p.call(t, "POST", "/predict/batch", `{"instances":[`+strings.Join(inst, ",")+`]}`, "Content-Type", "application/json")
				if rep.status != 200 {
					t.Fatalf("batch: %d %.300s", rep.status, rep.raw)
				}
				if b == 0 { // before the PSI: the ring's fill says how far it is
					l := map[string]string{"model": "gold", "version": "1", "size": "1000"}
					if n, ok := metricValue(p.metricFamilies(t), "seqcast_input_drift_windows", l); !ok || n != float64(len(inst)) {
						t.Errorf("after %d distinct windows: seqcast_input_drift_windows%v = %v (found %v)", len(inst), l, n, ok)
					}
				}
				var ok bool
				if psi, th, ok = p.driftGauges(t); !ok {
					continue
				}
				readings++
				for f, v := range psi {
					top[f] = max(top[f], v)
					if !c.over && v > th[f] {
						t.Errorf("after %d windows: PSI %s %.3f over its threshold %.3f", b+len(inst), f, v, th[f])
					}
				}
			}
			if readings == 0 {
				t.Fatalf("no drift gauges after %d windows", len(c.windows))
			}
			over := false
			for f, v := range psi {
				t.Logf("%s: PSI last %.3f, highest %.3f (%d scrapes), threshold %.3f", f, v, top[f], readings, th[f])
				if th[f] <= serving.DefaultDriftThreshold {
					t.Errorf("threshold %s %.3f: want the calibrated one", f, th[f])
				}
				over = over || v > th[f]
			}
			if over != c.over {
				t.Errorf("past the threshold %v, want %v", over, c.over)
			}
		})
	}
}
