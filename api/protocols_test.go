package api

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

func TestOIPRoutesAndErrorShape(t *testing.T) {
	ts := newServer(t, nil, func(c *Config) { c.APIKeys = []string{"k"}; c.BodyLimit = 4096 })
	key := []string{"X-API-Key", "k"}
	for _, tc := range []struct {
		method, path, body string
		hdr                []string
		status             int
		want               string // the exact body, or the "error" string's part
	}{
		{"GET", "/v2", "", key, 200, `{"extensions":[],"name":"seqcast","version":"test"}`},
		{"GET", "/v2/health/live", "", key, 200, `{"live":true}`},
		{"GET", "/v2/health/ready", "", key, 200, `{"ready":true}`},
		{"GET", "/v2/models/gold/ready", "", key, 200, `{"name":"gold","ready":true}`},
		{"GET", "/v2/models/gold/versions/1/ready", "", key, 200, `{"name":"gold","ready":true}`},
		{"GET", "/v2/models/gold", "", key, 200, `{"inputs":[{"name":"input","datatype":"FP32","shape":[-1,60,1]}],"name":"gold","outputs":[{"name":"output","datatype":"FP32","shape":[-1,1]}],"platform":"seqcast_keras","versions":["1"]}`},
		{"GET", "/v2/models/gold", "", nil, 401, "a valid API key is required"},
		{"GET", "/v2/models/gold/versions/x1/ready", "", key, 400, `"x1" is not a version number`},
		{"GET", "/v2/models/gold/versions/3/ready", "", key, 404, `model "gold" has no version 3`},
		{"GET", "/v2/models/gold/versions/0", "", key, 400, `model_version: "0" (path): want a positive integer`},
		{"POST", "/v2/models/gold/infer", `{"inputs":[{"name":"input","data":[` + strings.Repeat("1,", 3000) + `1]}]}`, key, 413, "exceeds the limit"},
		{"POST", "/v2/models/gold/infer", `{"inputs":[{"name":"x"}]}`, key, 400, `inputs[0].name: "x" is not an input of model "gold"; its inputs are "input" FP32 [-1, 60, 1]`},
		{"POST", "/v2/models/gold/infer", `{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32"}]}`, key, 400, "inputs[0].data: required"},
		{"POST", "/v2/models/gold/infer", `{"inputs":[{"name":"input","shape":[0,60,1],"datatype":"FP32","data":[]}]}`, key, 400, "inputs[0].shape: batch of 0"},
		{"POST", "/v2/models/gold/infer", `{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","parameters":{"binary_data_size":240},"data":[]}]}`, key, 400, "binary tensor data extension"},
		{"PUT", "/v2", "", key, 405, "method PUT not allowed"},
	} {
		r := ts.do(tc.method, tc.path, tc.body, tc.hdr...)
		got := strings.TrimSpace(r.Body.String())
		if r.Code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Code, got, tc.status)
			continue
		}
		if tc.status == 200 {
			if got != tc.want {
				t.Errorf("%s %s: %s\nwant %s", tc.method, tc.path, got, tc.want)
			}
			continue
		}
		msg, ok := r.body["error"].(string)
		if !ok || len(r.body) != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s: %s, want {\"error\": \"...%s...\"}", tc.method, tc.path, got, tc.want)
		}
	}
	// Outside /v2 the error shape is seqcast's.
	if r := ts.do("GET", "/v1/models/gold", ""); r.Code != 401 || r.errField("code") != CodeUnauthorized {
		t.Errorf("401 outside /v2: %d %s", r.Code, r.Body)
	}
	if r := ts.do("GET", "/v2x", "", key...); r.Code != 404 || r.errField("code") != CodeNotFound {
		t.Errorf("/v2x is not under /v2: %d %s", r.Code, r.Body)
	}
}

func TestOIPReadyWhileDraining(t *testing.T) {
	ts := newServer(t, nil, nil)
	ts.SetDraining(true)
	r := ts.do("GET", "/v2/health/ready", "")
	if r.Code != http.StatusServiceUnavailable || r.body["ready"] != false || r.body["error"] != "server is draining" {
		t.Errorf("draining: %d %s", r.Code, r.Body)
	}
	if r := ts.do("GET", "/v2/health/live", ""); r.Code != 200 {
		t.Errorf("live while draining: %d", r.Code)
	}
}

func TestOIPInferMatchesTFServing(t *testing.T) {
	ts := newServer(t, nil, nil)
	w := jsonOf(prices(60, 0))
	oip := ts.do("POST", "/v2/models/gold/infer", `{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP64","data":`+w+`}]}`)
	tf := ts.do("POST", "/v1/models/gold:predict", `{"instances":[`+w+`]}`)
	outs, _ := oip.body["outputs"].([]any)
	if oip.Code != 200 || len(outs) != 1 || oip.body["id"] != nil {
		t.Fatalf("infer: %d %s", oip.Code, oip.Body)
	}
	data := outs[0].(map[string]any)["data"].([]any)
	pred := tf.body["predictions"].([]any)[0].([]any)
	if data[0] != pred[0] {
		t.Errorf("OIP %v, TF Serving %v", data, pred)
	}
}

func TestForecastStart(t *testing.T) {
	for _, tc := range []struct {
		start, freq string
		n           int
		want        string
	}{
		{"2025-06-05T13:10:00Z", "D", 7, "2025-06-12T13:10:00Z"},
		{"2025-06-05T13:10:00Z", "H", 5, "2025-06-05T18:10:00Z"},
		{"2025-06-05T13:10:00Z", "T", 90, "2025-06-05T14:40:00Z"},
		{"2025-06-05T13:10:00.5Z", "S", 1, "2025-06-05T13:10:01.5Z"},
		{"2025-06-05T13:10:00", "MINUTE", 1, "2025-06-05T13:11:00"},
		{"2025-06-05", "H", 25, "2025-06-06T01:00:00"},
		{"2024-01-31", "M", 1, "2024-02-29"},
		{"2023-01-31", "MONTH", 1, "2023-02-28"},
		{"2024-01-31", "M", 3, "2024-04-30"},
		{"2024-11-30T00:00:00+05:30", "Q", 1, "2025-02-28T00:00:00+05:30"},
		{"2024-02-29", "Y", 1, "2025-02-28"},
		{"2024-02-29", "YEAR", 4, "2028-02-29"},
		{"2025-01-01", "W", 2, "2025-01-15"},
		{"2025-03-29T12:00:00+01:00", "DAY", 1, "2025-03-30T12:00:00+01:00"},
	} {
		step, ok := frequencyStep(tc.freq)
		if !ok {
			t.Fatalf("frequency %s refused", tc.freq)
		}
		got, e := forecastStart(tc.start, step, tc.n, "p")
		if e != nil || got != tc.want {
			t.Errorf("%s + %d %s = %q (%v), want %q", tc.start, tc.n, tc.freq, got, e, tc.want)
		}
	}
	for _, f := range []string{"d", "Day", "MS", "", "2D"} {
		if _, ok := frequencyStep(f); ok {
			t.Errorf("frequency %q accepted", f)
		}
	}
	step, _ := frequencyStep("S")
	if _, e := forecastStart("9999-12-31T23:59:59Z", step, 1, "p"); e == nil || !strings.Contains(e.Message, "year 10000") {
		t.Errorf("past year 9999: %+v", e)
	}
	if _, e := forecastStart("2025-06-05T13:10:00Z", step, math.MaxInt, "p"); e == nil {
		t.Error("an overflowing duration was accepted")
	}
}

func TestForecastRoute(t *testing.T) {
	ts := newServer(t, nil, nil)
	p := jsonOf(prices(70, 0))
	body := `{"model":"gold","options":{"horizon":3,"quantiles":[0.05,0.95]},"inputs":[
 {"type":"univariate_time_series","name":"a","series":` + p + `,"frequency":"D","start_timestamp":"2025-01-01"},
 {"type":"univariate_time_series","name":"b","series":[1,2],"frequency":"D"}]}`
	r := ts.do("POST", "/v1/timeseries/forecast", body)
	if r.Code != 200 || r.body["status"] != tsPartial || r.body["cached"] != false {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	outs := r.body["outputs"].([]any)
	a, b := outs[0].(map[string]any), outs[1].(map[string]any)
	c := a["content"].([]any)[0].(map[string]any)
	if a["status"] != tsCompleted || c["start_timestamp"] != "2025-03-12" || len(c["mean_forecast"].([]any)) != 3 {
		t.Errorf("series a: %v", a)
	}
	if b["status"] != tsError || b["error"].(map[string]any)["param"] != "inputs[1].series" {
		t.Errorf("series b: %v", b)
	}
	// /predict computes the same forecast.
	pr := ts.do("POST", "/predict", `{"historical_prices":`+p+`,"horizon":3}`)
	if jsonOf(pr.body["forecast"]) != jsonOf(c["mean_forecast"]) {
		t.Errorf("forecast %v, /predict %v", c["mean_forecast"], pr.body["forecast"])
	}
	if r := ts.do("POST", "/v1/timeseries/forecast", body); r.body["cached"] != true || jsonOf(r.body["outputs"].([]any)[0].(map[string]any)["content"]) != jsonOf(a["content"]) {
		t.Errorf("second call: %s", r.Body)
	}
	// Another set of good series is another cache entry.
	if r := ts.do("POST", "/v1/timeseries/forecast", strings.Replace(body, `"horizon":3`, `"horizon":2`, 1)); r.body["cached"] != false {
		t.Errorf("horizon 2 answered from horizon 3's entry: %s", r.Body)
	}
}

// TestProtocolsBeforeLoad: while models load, /v2 answers 503 in the
// protocol's shape and the forecast route in seqcast's.
func TestProtocolsBeforeLoad(t *testing.T) {
	reg := serving.NewRegistry(serving.Options{}, serving.Embedded("gold", 0, models.Gold()))
	ts := newServer(t, reg, nil)
	for _, path := range []string{"/v2/models/gold", "/v2/models/gold/ready"} {
		if r := ts.do("GET", path, ""); r.Code != 503 || r.body["error"] != "models are still loading" {
			t.Errorf("%s: %d %s", path, r.Code, r.Body)
		}
	}
	if r := ts.do("POST", "/v2/models/gold/infer", `{"inputs":[]}`); r.Code != 503 || r.body["error"] != "models are still loading" {
		t.Errorf("infer: %d %s", r.Code, r.Body)
	}
	if r := ts.do("GET", "/v2/health/ready", ""); r.Code != 503 || r.body["ready"] != false {
		t.Errorf("ready: %d %s", r.Code, r.Body)
	}
	if r := ts.do("GET", "/v2/health/live", ""); r.Code != 200 {
		t.Errorf("live: %d %s", r.Code, r.Body)
	}
	if r := ts.do("POST", "/v1/timeseries/forecast", `{"model":"gold","inputs":[{}],"options":{"horizon":1}}`); r.Code != 503 || r.errField("code") != CodeNotReady {
		t.Errorf("forecast: %d %s", r.Code, r.Body)
	}
}
