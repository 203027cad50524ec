package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// forecastBody is a POST /v1/timeseries/forecast body: one univariate
// series per window (JSON arrays), named s0, s1, ...
func forecastBody(horizon int, windows ...string) string {
	in := make([]string, len(windows))
	for i, w := range windows {
		in[i] = `{"type":"univariate_time_series","name":"s` + strconv.Itoa(i) + `","series":` + w + `,"frequency":"D"}`
	}
	return `{"model":"gold","options":{"horizon":` + strconv.Itoa(horizon) + `},"inputs":[` + strings.Join(in, ",") + `]}`
}

// forecastOutput is output i of a forecast answer.
func forecastOutput(t *testing.T, r reply, i int) map[string]any {
	t.Helper()
	outs, _ := r.body["outputs"].([]any)
	if i >= len(outs) {
		t.Fatalf("no output %d: %s", i, r.raw)
	}
	o, _ := outs[i].(map[string]any)
	return o
}

// versionHeader checks that an answer's X-Model-Version is its body's
// model_version, and returns it.
func versionHeader(t *testing.T, r reply) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(r.header.Get("X-Model-Version"), 64)
	if err != nil || v != r.body["model_version"] {
		t.Fatalf("X-Model-Version %q, model_version %v: %.300s", r.header.Get("X-Model-Version"), r.body["model_version"], r.raw)
	}
	return v
}

// TestServeForecastOutOfRange: the embedded gold model's
// training_stats.json makes a series of negative prices warn on
// /v1/timeseries/forecast (a top-level "warnings" entry naming
// inputs[1].series, the counter), and under --out-of-range reject be that
// series' own error while the other series is forecast; a real recent
// window does neither.
func TestServeForecastOutOfRange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	_, prices := goldPrices(t)
	recent := prices[len(prices)-60:]
	neg := make([]float64, 60)
	for i, v := range recent {
		neg[i] = -v
	}
	warn := startBinary(t, nil)
	r := warn.call(t, "POST", "/v1/timeseries/forecast", forecastBody(2, jsonArray(recent)))
	if r.status != 200 || r.body["status"] != "completed" || r.body["warnings"] != nil {
		t.Fatalf("recent series: %d %s", r.status, r.raw)
	}
	versionHeader(t, r)
	for range 2 { // the second is a cache hit: the same warning
		r = warn.call(t, "POST", "/v1/timeseries/forecast", forecastBody(2, jsonArray(recent), jsonArray(neg)))
		ws, _ := r.body["warnings"].([]any)
		if r.status != 200 || r.body["status"] != "completed" || len(ws) != 1 {
			t.Fatalf("negative series: %d %s", r.status, r.raw)
		}
		w := ws[0].(map[string]any)
		if w["field"] != "inputs[1].series" || w["feature"] != "level_sign" || w["reason"] == "" {
			t.Fatalf("warning %v", w)
		}
	}
	mf := warn.metricFamilies(t)
	if n, _ := metricValue(mf, "seqcast_out_of_range_total", map[string]string{"model": "gold", "feature": "level_sign"}); n != 2 {
		t.Errorf("seqcast_out_of_range_total{level_sign} = %g, want 2", n)
	}
	if n, _ := metricValue(mf, "seqcast_prediction_value", map[string]string{"model": "gold", "version": "1"}); n < 3 {
		t.Errorf("seqcast_prediction_value count %g, want the 3 forecasts computed", n)
	}
	if !strings.Contains(warn.log.String(), `"field":"inputs[1].series"`) {
		t.Errorf("no out-of-range log line naming inputs[1].series:\n%s", warn.log)
	}

	rej := startBinary(t, nil, "--out-of-range", "reject")
	r = rej.call(t, "POST", "/v1/timeseries/forecast", forecastBody(2, jsonArray(recent), jsonArray(neg)))
	if r.status != 200 || r.body["status"] != "partial" || r.body["warnings"] != nil {
		t.Fatalf("reject: %d %s", r.status, r.raw)
	}
	if o := forecastOutput(t, r, 0); o["status"] != "completed" {
		t.Errorf("reject: the in-range series: %v", o)
	}
	o := forecastOutput(t, r, 1)
	e, _ := o["error"].(map[string]any)
	if o["status"] != "error" || e["code"] != "invalid_input" || e["param"] != "inputs[1].series" || !strings.Contains(e["message"].(string), "level_sign") {
		t.Errorf("reject: the negative series: %v", o)
	}
	r = rej.call(t, "POST", "/v1/timeseries/forecast", forecastBody(1, jsonArray(neg)))
	if r.status != 200 || r.body["status"] != "error" {
		t.Errorf("reject, only a negative series: %d %s", r.status, r.raw)
	}
}

// TestServeForecastCanary: with --canary gold:2=10 a forecast (which names
// no version) goes to version 2 for about 10% of 2,000 distinct series, the
// same series always to the same version, and to the version /predict
// gives the same window (one hash); a request of several series goes to
// one version. X-Model-Version says which.
func TestServeForecastCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	root := versionedModelsDir(t)
	p := startBinary(t, nil, "--models-dir", root, "--default-version", "gold:1", "--canary", "gold:2=10", "--cache-ttl", "0")
	const n = 2000
	got := make([]float64, n)
	canary := 0
	for i := range n {
		r := p.call(t, "POST", "/v1/timeseries/forecast", forecastBody(1, windowJSON(i)))
		if r.status != 200 || r.body["status"] != "completed" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		got[i] = versionHeader(t, r)
		if got[i] == 2 {
			canary++
		}
	}
	if share := 100 * float64(canary) / n; math.Abs(share-10) > 3 {
		t.Errorf("canary share %.2f%% of %d series, want 10 ± 3", share, n)
	} else {
		t.Logf("canary share %.2f%% of %d series", share, n)
	}
	for i := range 200 {
		if r := p.call(t, "POST", "/v1/timeseries/forecast", forecastBody(2, windowJSON(i))); versionHeader(t, r) != got[i] {
			t.Fatalf("series %d: version %v, first %v", i, r.body["model_version"], got[i])
		}
		if r := p.call(t, "POST", "/predict", `{"historical_prices":`+windowJSON(i)+`}`); versionHeader(t, r) != got[i] {
			t.Fatalf("series %d on /predict: version %v, forecast's %v", i, r.body["model_version"], got[i])
		}
	}
	c1, c2 := -1, -1
	for i, v := range got {
		if v == 1 && c1 < 0 {
			c1 = i
		}
		if v == 2 && c2 < 0 {
			c2 = i
		}
	}
	body := forecastBody(1, windowJSON(c1), windowJSON(c2))
	first := p.call(t, "POST", "/v1/timeseries/forecast", body)
	for range 3 {
		if r := p.call(t, "POST", "/v1/timeseries/forecast", body); versionHeader(t, r) != first.body["model_version"] {
			t.Fatalf("two series: %s, first %s", r.raw, first.raw)
		}
	}
}

// TestServeForecastShadow: --shadow runs every forecast (rate 1) on the
// shadow version too: the divergence of each series' first step shows the
// 0.5 difference of version 2 from version 1, and is zero for an identical
// version 3.
func TestServeForecastShadow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	root := versionedModelsDir(t)
	if err := os.CopyFS(filepath.Join(root, "gold", "3"), os.DirFS(filepath.Join(root, "gold", "1"))); err != nil {
		t.Fatal(err)
	}
	for _, shadow := range []string{"2", "3"} {
		p := startBinary(t, nil, "--models-dir", root, "--default-version", "gold:1", "--shadow", "gold:"+shadow, "--shadow-rate", "1")
		const n = 3 // requests, of two series each
		var primary []float64
		for i := range n {
			r := p.call(t, "POST", "/v1/timeseries/forecast", forecastBody(3, windowJSON(2*i), windowJSON(2*i+1)))
			if r.status != 200 || r.body["status"] != "completed" || versionHeader(t, r) != 1 {
				t.Fatalf("shadow %s: %d %s", shadow, r.status, r.raw)
			}
			for k := range 2 {
				c := forecastOutput(t, r, k)["content"].([]any)[0].(map[string]any)
				primary = append(primary, c["mean_forecast"].([]any)[0].(float64))
			}
		}
		fams := p.waitShadow(t, shadow, n)
		ok := metricWith(fams, "seqcast_shadow_requests_total", map[string]string{"model": "gold", "version": shadow, "outcome": "ok"})
		if ok.GetCounter().GetValue() != n {
			t.Errorf("shadow %s: %v ok, want %d", shadow, ok.GetCounter().GetValue(), n)
		}
		h := metricWith(fams, "seqcast_shadow_divergence", map[string]string{"model": "gold", "version": shadow}).GetHistogram()
		if h.GetSampleCount() != 2*n {
			t.Fatalf("shadow %s: divergence count %d, want %d", shadow, h.GetSampleCount(), 2*n)
		}
		var want float64
		if shadow == "2" {
			for _, v := range primary {
				want += 0.5 / math.Abs(v)
			}
		}
		if d := h.GetSampleSum(); math.Abs(d-want) > 1e-4*math.Max(1, want) || shadow == "3" && d != 0 {
			t.Errorf("shadow %s: divergence sum %v, want %v", shadow, d, want)
		} else {
			t.Logf("shadow %s: divergence sum %v over %d series", shadow, d, h.GetSampleCount())
		}
	}
}
