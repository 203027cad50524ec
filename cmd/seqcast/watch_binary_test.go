package main

import (
	"encoding/csv"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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

// TestServeDrift: 1,000 windows drawn from gold's training period keep the
// drift gauge low; 1,000 windows with their swings around the mean tripled
// push it past 0.25.
func TestServeDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dates, prices := goldPrices(t)
	end := 0
	for end < len(dates) && !dates[end].After(time.Date(2015, 8, 27, 0, 0, 0, 0, time.UTC)) {
		end++
	}
	r := rand.New(rand.NewPCG(16, 1))
	p := startBinary(t, nil, "--max-batch", "1000")
	psi := func(amplify float64) float64 {
		var inst []string
		for range 1000 {
			i := r.IntN(end - 60)
			w := append([]float64(nil), prices[i:i+60]...)
			var mean float64
			for _, v := range w {
				mean += v / 60
			}
			for k := range w {
				w[k] = mean + amplify*(w[k]-mean)
			}
			inst = append(inst, jsonArray(w))
		}
		for b := 0; b < 1000; b += 250 {
			rep := p.call(t, "POST", "/predict/batch", `{"instances":[`+strings.Join(inst[b:b+250], ",")+`]}`, "Content-Type", "application/json")
			if rep.status != 200 {
				t.Fatalf("batch: %d %.300s", rep.status, rep.raw)
			}
		}
		mf := p.metricFamilies(t)
		worst := 0.0
		for _, f := range []string{"relative_spread", "relative_step"} {
			v, ok := metricValue(mf, "seqcast_input_drift_psi", map[string]string{"model": "gold", "version": "1", "feature": f})
			if !ok {
				t.Fatalf("no seqcast_input_drift_psi for %s", f)
			}
			t.Logf("amplify %g: PSI %s %.3f", amplify, f, v)
			worst = max(worst, v)
		}
		return worst
	}
	if v := psi(1); v > 0.1 {
		t.Errorf("in-distribution stream: PSI %.3f, want <= 0.1", v)
	}
	if v := psi(3); v <= 0.25 {
		t.Errorf("tripled swings: PSI %.3f, want > 0.25", v)
	}
}
