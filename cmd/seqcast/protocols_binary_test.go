package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/weights"
)

// The Open Inference Protocol (KServe v2) and KServe's time-series forecast
// API through the built binary over loopback.

// oipSpecRequest is the inference request example of the OIP REST
// specification (kserve/open-inference-protocol,
// specification/protocol/inference_rest.md), verbatim.
const oipSpecRequest = `{
  "id" : "42",
  "inputs" : [
    {
      "name" : "input0",
      "shape" : [ 2, 2 ],
      "datatype" : "UINT32",
      "data" : [ 1, 2, 3, 4 ]
    },
    {
      "name" : "input1",
      "shape" : [ 3 ],
      "datatype" : "BOOL",
      "data" : [ true ]
    }
  ],
  "outputs" : [
    {
      "name" : "output0"
    }
  ]
}`

// tsSpecRequest is the request example of KServe's time-series forecast API
// (kserve/website, docs/reference/time_series/api.md), verbatim.
const tsSpecRequest = `{
  "model": "timesfm",
  "inputs": [
    {
      "type": "univariate_time_series",
      "name": "stock_price",
      "series": [120, 122, 125, 127, 130, 133, 135],
      "frequency": "D",
      "start_timestamp": "2025-06-05T13:10:00Z"
    },
    {
      "type": "univariate_time_series",
      "name": "humidity",
      "series": [33, 34, 35, 36, 37],
      "frequency": "H",
      "start_timestamp": "2025-06-05T13:10:00Z"
    }
  ],
  "options": {
    "horizon": 4,
    "quantiles": [0.1, 0.5, 0.9],
    "other_options": "value"
  },
  "metadata": {
    "request_id": "user_defined_request_id",
    "other_data": "value"
  },
  "other_properties": "value"
}`

// extrapolatorBundle writes a bundle in dir: a window of 5 steps,
// Flatten -> Dense(1) with kernel [0, 0, 0, -1, 2] on the window z-scored
// by its scaler, so that it forecasts 2*x[t] - x[t-1] in the series' own
// units (a linear extrapolation commutes with the z-score), and a backtest
// of level 0.8 giving the 0.1, 0.5 and 0.9 quantiles at steps 1 to 4 (and
// 0.25 at step 1 only).
func extrapolatorBundle(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"model.json": `{"class_name": "Sequential", "config": {"name": "extrapolator", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 1], "dtype": "float32", "name": "series"}},
 {"class_name": "Flatten", "config": {"name": "flatten", "data_format": "channels_last"}},
 {"class_name": "Dense", "config": {"name": "dense", "units": 1, "activation": "linear", "use_bias": true}}]},
 "keras_version": "2.15.0", "backend": "tensorflow"}`,
		"scaler.json": `{"format": "seqcast-scaler/1", "window": 5, "input": {"kind": "window_zscore", "epsilon": 1e-08},
 "output": {"kind": "window_zscore", "epsilon": 1e-08, "target_feature": 0}}`,
		"backtest.json": `{"format": "seqcast-backtest/1", "level": 0.8, "n": 100,
 "relative_error_quantiles": {"0.1": -0.02, "0.25": -0.01, "0.5": 0.001, "0.9": 0.03},
 "recursive_horizons": {
  "2": {"relative_error_quantiles": {"0.1": -0.03, "0.5": 0.002, "0.9": 0.04}},
  "3": {"relative_error_quantiles": {"0.1": -0.04, "0.5": 0.003, "0.9": 0.05}},
  "4": {"relative_error_quantiles": {"0.1": -0.05, "0.5": 0.004, "0.9": 0.06}}}}`,
	}
	if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range []struct {
		data  []float32
		shape []int
	}{{[]float32{0, 0, 0, -1, 2}, []int{5, 1}}, {[]float32{0}, []int{1}}} {
		var b bytes.Buffer
		if err := weights.WriteNPY(&b, w.data, w.shape); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "weights", fmt.Sprintf("%03d.npy", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// protocolModels is a models dir serving the gold bench model (two
// versions, as versionedModelsDir), the survey's two-input two-output
// model as "twoio", and the extrapolator as "timesfm" (the model the
// forecast spec's example names).
func protocolModels(t *testing.T) string {
	t.Helper()
	root := versionedModelsDir(t)
	if err := os.CopyFS(filepath.Join(root, "twoio", "1"), os.DirFS(twoLSTM)); err != nil {
		t.Fatal(err)
	}
	extrapolatorBundle(t, filepath.Join(root, "timesfm", "1"))
	return root
}

// oipErr checks an answer has the protocol's error shape, {"error": "..."}
// and nothing else, with status and a message holding want.
func oipErr(t *testing.T, what string, r reply, status int, want string) {
	t.Helper()
	msg, ok := r.body["error"].(string)
	if r.status != status || !ok || len(r.body) != 1 || !strings.Contains(msg, want) {
		t.Errorf("%s: %d %s, want %d {\"error\": \"...%s...\"}", what, r.status, r.raw, status, want)
	}
}

func TestOpenInferenceProtocolBinary(t *testing.T) {
	p := startBinary(t, nil, "--models-dir", protocolModels(t), "--body-limit", "200000")

	// Server metadata, liveness, readiness.
	if r := p.call(t, "GET", "/v2", ""); r.status != 200 || r.body["name"] != "seqcast" || r.body["version"] != version || r.raw == "" || !strings.Contains(r.raw, `"extensions":[]`) {
		t.Errorf("GET /v2: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "GET", "/v2/health/live", ""); r.status != 200 || r.raw != `{"live":true}` {
		t.Errorf("live: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "GET", "/v2/health/ready", ""); r.status != 200 || r.raw != `{"ready":true}` {
		t.Errorf("ready: %d %s", r.status, r.raw)
	}

	// Model metadata and readiness, with and without a version.
	for _, path := range []string{"/v2/models/gold", "/v2/models/gold/versions/2"} {
		r := p.call(t, "GET", path, "")
		want := `{"inputs":[{"name":"input","datatype":"FP32","shape":[-1,60,1]}],"name":"gold","outputs":[{"name":"output","datatype":"FP32","shape":[-1,1]}],"platform":"seqcast_keras","versions":["1","2"]}`
		if r.status != 200 || r.raw != want {
			t.Errorf("%s: %d %s\nwant %s", path, r.status, r.raw, want)
		}
	}
	if r := p.call(t, "GET", "/v2/models/twoio", ""); r.status != 200 ||
		!strings.Contains(r.raw, `"inputs":[{"name":"prices","datatype":"FP32","shape":[-1,8,2]},{"name":"weather","datatype":"FP32","shape":[-1,5,3]}]`) ||
		!strings.Contains(r.raw, `"outputs":[{"name":"quantiles","datatype":"FP32","shape":[-1,3]},{"name":"mean","datatype":"FP32","shape":[-1,1]}]`) {
		t.Errorf("twoio metadata: %d %s", r.status, r.raw)
	}
	for _, path := range []string{"/v2/models/gold/ready", "/v2/models/gold/versions/1/ready"} {
		if r := p.call(t, "GET", path, ""); r.status != 200 || r.raw != `{"name":"gold","ready":true}` {
			t.Errorf("%s: %d %s", path, r.status, r.raw)
		}
	}
	oipErr(t, "unknown model", p.call(t, "GET", "/v2/models/nope", ""), 404, `model "nope" is not served`)
	oipErr(t, "unknown version", p.call(t, "GET", "/v2/models/gold/versions/7/ready", ""), 404, "has no version 7")
	oipErr(t, "no route", p.call(t, "GET", "/v2/models/gold/explain", ""), 404, "no route")
	oipErr(t, "wrong method", p.call(t, "DELETE", "/v2/models/gold/infer", ""), 405, "not allowed")

	// Inference: version 2 answers 0.5 more than version 1 (its output
	// bias); FP32, FP64 and integer data, flat and nested, give the same.
	w := make([]float64, 60)
	for i := range w {
		w[i] = math.Round((0.3+0.2*math.Sin(float64(i)/5))*1e4) / 1e4
	}
	flat, _ := json.Marshal(w)
	nested := make([][]float64, 60)
	for i := range nested {
		nested[i] = []float64{w[i]}
	}
	nestedJSON, _ := json.Marshal([][][]float64{nested})
	infer := func(path, dtype, data string) reply {
		t.Helper()
		return p.call(t, "POST", path, `{"id":"a1","inputs":[{"name":"input","shape":[1,60,1],"datatype":"`+dtype+`","data":`+data+`}]}`, "Content-Type", "application/json")
	}
	v1 := infer("/v2/models/gold/versions/1/infer", "FP32", string(flat))
	v2 := infer("/v2/models/gold/infer", "FP32", string(flat))
	out := func(r reply) float64 {
		t.Helper()
		var b struct {
			Outputs []struct {
				Name, Datatype string
				Shape          []int
				Data           []float64
			}
		}
		if r.status != 200 || json.Unmarshal([]byte(r.raw), &b) != nil || len(b.Outputs) != 1 || b.Outputs[0].Name != "output" ||
			b.Outputs[0].Datatype != "FP32" || !reflect.DeepEqual(b.Outputs[0].Shape, []int{1, 1}) || len(b.Outputs[0].Data) != 1 {
			t.Fatalf("infer: %d %s", r.status, r.raw)
		}
		return b.Outputs[0].Data[0]
	}
	if v1.body["model_name"] != "gold" || v1.body["model_version"] != "1" || v1.body["id"] != "a1" || v2.body["model_version"] != "2" {
		t.Errorf("infer: %s / %s", v1.raw, v2.raw)
	}
	y1, y2 := out(v1), out(v2)
	if d := y2 - y1; math.Abs(d-0.5) > 1e-5 {
		t.Errorf("version 2 answers %v, version 1 %v: want 0.5 more", y2, y1)
	}
	if r := infer("/v2/models/gold/infer", "FP64", string(nestedJSON)); out(r) != y2 {
		t.Errorf("FP64 nested: %s, want %v", r.raw, y2)
	}
	ints := make([]int, 60)
	for i := range ints {
		ints[i] = i % 7
	}
	intJSON, _ := json.Marshal(ints)
	asFloats := strings.ReplaceAll(string(intJSON), ",", ".0,")
	asFloats = strings.Replace(asFloats, "]", ".0]", 1)
	want := out(infer("/v2/models/gold/infer", "FP32", asFloats))
	for _, dt := range []string{"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"} {
		if got := out(infer("/v2/models/gold/infer", dt, string(intJSON))); got != want {
			t.Errorf("%s: %v, want %v (the same integers as FP32)", dt, got, want)
		}
	}
	// TF Serving's route and this one run the same raw forward pass.
	tf := p.call(t, "POST", "/v1/models/gold:predict", `{"instances":[`+string(flat)+`]}`)
	var tfb struct{ Predictions [][]float64 }
	if err := json.Unmarshal([]byte(tf.raw), &tfb); err != nil || len(tfb.Predictions) != 1 || tfb.Predictions[0][0] != y2 {
		t.Errorf("TF Serving answers %s, OIP %v", tf.raw, y2)
	}

	// Multi-input: the survey model by input name (in another order than the
	// model's), one output asked for, checked against TF.js's outputs.
	x0, s0 := readNPY(t, filepath.Join(twoLSTM, "input_0.npy"))
	x1, s1 := readNPY(t, filepath.Join(twoLSTM, "input_1.npy"))
	e0, es0 := readNPY(t, filepath.Join(twoLSTM, "expected_0.npy"))
	e1, es1 := readNPY(t, filepath.Join(twoLSTM, "expected_1.npy"))
	tensor := func(name string, x []float32, shape []int) string {
		b, _ := json.Marshal(map[string]any{"name": name, "shape": shape, "datatype": "FP32", "data": x})
		return string(b)
	}
	r := p.call(t, "POST", "/v2/models/twoio/infer", `{"inputs":[`+tensor("weather", x1, s1)+`,`+tensor("prices", x0, s0)+`]}`)
	var multi struct {
		ID      *string `json:"id"`
		Outputs []struct {
			Name  string
			Shape []int
			Data  []float32
		}
	}
	if err := json.Unmarshal([]byte(r.raw), &multi); err != nil || r.status != 200 || len(multi.Outputs) != 2 || multi.ID != nil {
		t.Fatalf("twoio: %d %s", r.status, r.raw)
	}
	closeTo(t, "quantiles", multi.Outputs[0].Data, multi.Outputs[0].Shape, e0, es0)
	closeTo(t, "mean", multi.Outputs[1].Data, multi.Outputs[1].Shape, e1, es1)
	r = p.call(t, "POST", "/v2/models/twoio/infer", `{"id":"42","inputs":[`+tensor("prices", x0, s0)+`,`+tensor("weather", x1, s1)+`],"outputs":[{"name":"mean"}]}`)
	if err := json.Unmarshal([]byte(r.raw), &multi); err != nil || len(multi.Outputs) != 1 || multi.Outputs[0].Name != "mean" || *multi.ID != "42" {
		t.Fatalf("twoio, output mean: %d %s", r.status, r.raw)
	}
	closeTo(t, "mean alone", multi.Outputs[0].Data, multi.Outputs[0].Shape, e1, es1)

	// The specification's example request, as written, to a model with
	// other inputs: 400 with the protocol's error naming what is wrong; and
	// its inputs given the model's names: input1's shape [3] holds 3
	// values where the example gives one.
	oipErr(t, "spec example", p.call(t, "POST", "/v2/models/twoio/infer", oipSpecRequest), 400, `inputs[0].name: "input0" is not an input of model "twoio"`)
	renamed := strings.NewReplacer(`"input0"`, `"prices"`, `"input1"`, `"weather"`).Replace(oipSpecRequest)
	oipErr(t, "spec example renamed", p.call(t, "POST", "/v2/models/twoio/infer", renamed), 400, `inputs[0].shape: [2 2]: input "prices" takes shape [N, 8, 2]`)

	// Errors: the spec's 400 for a request it cannot serve (seqcast's 422).
	for _, tc := range []struct{ body, want string }{
		{`{"inputs":[]}`, `inputs: required`},
		{`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"BYTES","data":["a"]}]}`, `inputs[0].datatype: "BYTES" is not supported`},
		{`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":[1,2]}]}`, `inputs[0].data: 2 elements`},
		{`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"INT8","data":` + strings.Replace(string(intJSON), "[0,", "[300,", 1) + `}]}`, `inputs[0].data[0]: 300 is out of the range of INT8`},
		{`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"INT32","data":` + strings.Replace(string(intJSON), "[0,", "[1.5,", 1) + `}]}`, `inputs[0].data[0]: 1.5 is not an integer (INT32)`},
		{`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":[[` + string(flat) + `]]}]}`, `inputs[0].data[0][0]: more than 1 elements: the model takes 1 here`},
		{`{"inputs":[{"name":"input","shape":[2,60,1],"datatype":"FP32","data":` + string(flat) + `}]}`, `inputs[0].data: 60 elements: shape (2, 60, 1) holds 120`},
		{`{"inputs":[{"name":"input","shape":[1,60],"datatype":"FP32","data":` + string(flat) + `}]}`, `inputs[0].shape: [1 60]: input "input" takes shape [N, 60, 1]`},
		{`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":` + string(flat) + `}],"outputs":[{"name":"nope"}]}`, `outputs[0].name: "nope" is not an output`},
		{`{"id":42,"inputs":[]}`, `id: cannot use number`},
		{`{"inputs":[`, `malformed JSON`},
		{`{"parameters":{"binary_data_output":true},"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":` + string(flat) + `}]}`, `binary tensor data extension is not supported`},
	} {
		oipErr(t, tc.body[:min(len(tc.body), 80)], p.call(t, "POST", "/v2/models/gold/infer", tc.body), 400, tc.want)
	}
	oipErr(t, "infer unknown model", p.call(t, "POST", "/v2/models/nope/infer", `{"inputs":[]}`), 404, "not served")
	oipErr(t, "too large", p.call(t, "POST", "/v2/models/gold/infer", `{"inputs":[{"name":"input","data":[`+strings.Repeat("1,", 150000)+`1]}]}`), 413, "exceeds the limit")
	oipErr(t, "media type", p.call(t, "POST", "/v2/models/gold/infer", `{}`, "Content-Type", "application/octet-stream"), 415, "send application/json")
	// Other routes keep seqcast's error shape.
	if r := p.call(t, "GET", "/v1/models/nope", ""); r.status != 404 || r.errField("code") != "not_found" {
		t.Errorf("TF Serving's error shape changed: %d %s", r.status, r.raw)
	}
}

// TestOpenInferenceProtocolMiddlewareErrors: the shared middleware's
// answers (401, 429) on /v2 take the protocol's shape; elsewhere seqcast's.
func TestOpenInferenceProtocolMiddlewareErrors(t *testing.T) {
	p := startBinary(t, []string{"SEQCAST_API_KEYS=k1"}, "--model", gold, "--rate-limit", "1", "--rate-burst", "3")
	oipErr(t, "no key", p.call(t, "GET", "/v2/models/gold", ""), 401, "a valid API key is required")
	if r := p.call(t, "GET", "/v2/models/gold", "", "X-API-Key", "k1"); r.status != 200 {
		t.Errorf("with the key: %d %s", r.status, r.raw)
	}
	var last reply
	for i := 0; i < 5; i++ {
		last = p.call(t, "GET", "/v2/health/ready", "", "X-API-Key", "k1")
	}
	oipErr(t, "rate limited", last, 429, "rate limit")
	if last.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After: %v", last.header)
	}
	if r := p.call(t, "GET", "/v1/models/gold", "", "X-API-Key", "k1"); r.status != 429 || r.errField("code") != "rate_limited" {
		t.Errorf("429 outside /v2: %d %s", r.status, r.raw)
	}
}

// TestOpenInferenceProtocolShed: work that cannot be done before the
// request's deadline (X-Request-Timeout) is a 503 in the protocol's shape.
func TestOpenInferenceProtocolShed(t *testing.T) {
	p := startBinary(t, nil, "--model", gold)
	body := `{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":` + series() + `}]}`
	oipErr(t, "deadline", p.call(t, "POST", "/v2/models/gold/infer", body, "X-Request-Timeout", "1ns"), 503, "")
	oipErr(t, "bad X-Request-Timeout", p.call(t, "POST", "/v2/models/gold/infer", body, "X-Request-Timeout", "soon"), 400, "X-Request-Timeout")
	if r := p.call(t, "POST", "/v2/models/gold/infer", body); r.status != 200 {
		t.Errorf("without a deadline: %d %s", r.status, r.raw)
	}
}

// tsReply is a forecast response.
type tsReply struct {
	ID        string `json:"id"`
	CreatedAt int64  `json:"created_at"`
	Status    string `json:"status"`
	Model     string `json:"model"`
	Cached    bool   `json:"cached"`
	Outputs   []struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Status  string `json:"status"`
		Content []struct {
			Type           string               `json:"type"`
			Name           string               `json:"name"`
			MeanForecast   []float64            `json:"mean_forecast"`
			Frequency      string               `json:"frequency"`
			StartTimestamp string               `json:"start_timestamp"`
			Quantiles      map[string][]float64 `json:"quantiles"`
		} `json:"content"`
		Error *struct {
			Code, Message, Param, Type string
		} `json:"error"`
	} `json:"outputs"`
}

func near(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-3 {
			return false
		}
	}
	return true
}

func TestTimeseriesForecastBinary(t *testing.T) {
	p := startBinary(t, nil, "--models-dir", protocolModels(t))
	forecast := func(body string) (reply, tsReply) {
		t.Helper()
		r := p.call(t, "POST", "/v1/timeseries/forecast", body, "Content-Type", "application/json")
		var ts tsReply
		if r.status == 200 {
			if err := json.Unmarshal([]byte(r.raw), &ts); err != nil {
				t.Fatalf("%s: %v", r.raw, err)
			}
		}
		return r, ts
	}

	// The spec's example request: the extrapolator forecasts 2*x[t]-x[t-1]
	// from its last 5 values; the forecast starts one step per observed
	// value after the input's start (7 days; 5 hours), as the spec's
	// example response does.
	r, ts := forecast(tsSpecRequest)
	if r.status != 200 || ts.Status != "completed" || ts.Model != "timesfm" || !strings.HasPrefix(ts.ID, "resp_") || ts.CreatedAt == 0 || len(ts.Outputs) != 2 || ts.Cached {
		t.Fatalf("spec example: %d %s", r.status, r.raw)
	}
	if !strings.Contains(r.raw, `"error":null`) {
		t.Errorf("spec example lacks \"error\": null: %s", r.raw)
	}
	for i, want := range []struct {
		name, freq, start string
		mean              []float64
		rel               map[string][]float64
	}{
		{"stock_price", "D", "2025-06-12T13:10:00Z", []float64{137, 139, 141, 143}, nil},
		{"humidity", "H", "2025-06-05T18:10:00Z", []float64{38, 39, 40, 41}, nil},
	} {
		o := ts.Outputs[i]
		if o.Type != "time_series_forecast" || o.Status != "completed" || o.Error != nil || len(o.Content) != 1 || !strings.HasPrefix(o.ID, "ts_") {
			t.Fatalf("output %d: %+v", i, o)
		}
		c := o.Content[0]
		if c.Type != "univariate_time_series" || c.Name != want.name || c.Frequency != want.freq || c.StartTimestamp != want.start || !near(c.MeanForecast, want.mean) {
			t.Errorf("output %d: %+v, want %s %s from %s: %v", i, c, want.name, want.freq, want.start, want.mean)
		}
		// The backtest's relative-error quantiles at each step: q(v) = v + |v|*rel.
		for q, rels := range map[string][]float64{"0.1": {-0.02, -0.03, -0.04, -0.05}, "0.5": {0.001, 0.002, 0.003, 0.004}, "0.9": {0.03, 0.04, 0.05, 0.06}} {
			exp := make([]float64, 4)
			for h, v := range c.MeanForecast {
				exp[h] = v + math.Abs(v)*rels[h]
			}
			if !near(c.Quantiles[q], exp) {
				t.Errorf("output %d quantile %s: %v, want %v", i, q, c.Quantiles[q], exp)
			}
		}
	}

	// The same request again: from the cache, the same forecasts.
	r2, ts2 := forecast(tsSpecRequest)
	if !ts2.Cached || !reflect.DeepEqual(ts2.Outputs[0].Content, ts.Outputs[0].Content) || !reflect.DeepEqual(ts2.Outputs[1].Content, ts.Outputs[1].Content) {
		t.Errorf("second call: %s\nfirst: %s", r2.raw, r.raw)
	}

	// Several series, one bad in each way: the good ones are answered, each
	// bad one has status "error" and its error; the request is "partial".
	body := `{"model":"timesfm","options":{"horizon":3,"quantiles":[0.1,0.9]},"inputs":[
 {"type":"univariate_time_series","name":"a","series":[1,2,3,4,5],"frequency":"MONTH","start_timestamp":"2024-01-31"},
 {"type":"univariate_time_series","name":"b","series":[10,20,30,40,50,60],"frequency":"W","start_timestamp":"2025-01-01T00:00:00+02:00"},
 {"type":"univariate_time_series","name":"c","series":[1,2,3,4,5],"frequency":"fortnight"},
 {"type":"univariate_time_series","name":"d","series":[1,2,3],"frequency":"D"},
 {"type":"multivariate_time_series","name":"e","series":[[1],[2],[3],[4],[5]],"frequency":"D"},
 {"type":"univariate_time_series","name":"f","series":[1,2,3,4,5],"frequency":"Q","start_timestamp":"yesterday"},
 {"type":"matrix","name":"g","series":[1,2,3,4,5],"frequency":"D"},
 {"type":"univariate_time_series","name":"h","series":[100,101,102,103,104],"frequency":"Y"}]}`
	r, ts = forecast(body)
	if r.status != 200 || ts.Status != "partial" || len(ts.Outputs) != 8 {
		t.Fatalf("multi-series: %d %s", r.status, r.raw)
	}
	good := map[int]struct {
		start string
		mean  []float64
	}{
		0: {"2024-06-30", []float64{6, 7, 8}},                   // 5 months after January 31: June's last day
		1: {"2025-02-12T00:00:00+02:00", []float64{70, 80, 90}}, // 6 weeks
		7: {"", []float64{105, 106, 107}},                       // no start_timestamp: none
	}
	for i, g := range good {
		o := ts.Outputs[i]
		if o.Status != "completed" || len(o.Content) != 1 || o.Content[0].StartTimestamp != g.start || !near(o.Content[0].MeanForecast, g.mean) || len(o.Content[0].Quantiles) != 2 {
			t.Errorf("series %d: %+v, want start %q mean %v", i, o, g.start, g.mean)
		}
	}
	for i, want := range map[int][2]string{
		2: {"inputs[2].frequency", `"fortnight": want one of S, T, H, D, W, M, Q, Y`},
		3: {"inputs[3].series", "need at least 5 values (the model's window), got 3"},
		4: {"options.horizon", "horizon 3 is more than that pass gives (at most 1)"},
		5: {"inputs[5].start_timestamp", `"yesterday": want an ISO 8601 timestamp`},
		6: {"inputs[6].type", `"matrix": want "univariate_time_series" or "multivariate_time_series"`},
	} {
		o := ts.Outputs[i]
		if o.Status != "error" || len(o.Content) != 0 || o.Error == nil || o.Error.Param != want[0] || !strings.Contains(o.Error.Message, want[1]) || o.Error.Code == "" || o.Error.Type == "" {
			t.Errorf("series %d: %+v, want error at %s: %s", i, o, want[0], want[1])
		}
	}

	// A multivariate series gets horizon 1 (with quantiles at step 1).
	r, ts = forecast(`{"model":"timesfm","options":{"horizon":1,"quantiles":[0.25]},"inputs":[{"type":"multivariate_time_series","name":"m","series":[[1],[2],[3],[4],[5]],"frequency":"S","start_timestamp":"2025-06-05T13:10:59Z"}]}`)
	if r.status != 200 || ts.Status != "completed" || !near(ts.Outputs[0].Content[0].MeanForecast, []float64{6}) || ts.Outputs[0].Content[0].StartTimestamp != "2025-06-05T13:11:04Z" ||
		!near(ts.Outputs[0].Content[0].Quantiles["0.25"], []float64{6 - 0.06}) {
		t.Errorf("multivariate: %d %s", r.status, r.raw)
	}

	// A quantile the backtest does not give at every step asked is that
	// series' error, not a guess: 0.25 is measured at step 1 only.
	r, ts = forecast(`{"model":"timesfm","options":{"horizon":2,"quantiles":[0.1,0.25]},"inputs":[{"type":"univariate_time_series","name":"u","series":[1,2,3,4,5],"frequency":"D"}]}`)
	if r.status != 200 || ts.Status != "error" || ts.Outputs[0].Error == nil || ts.Outputs[0].Error.Param != "options.quantiles[1]" ||
		!strings.Contains(ts.Outputs[0].Error.Message, "does not give quantile 0.25 at step 2 (it gives 0.1, 0.5, 0.9 there; 0.1, 0.9 at every step)") {
		t.Errorf("unknown quantile: %d %s", r.status, r.raw)
	}

	// The gold model's backtest: 0.05 and 0.95 at every step, more at step 1.
	r, ts = forecast(`{"model":"gold","options":{"horizon":1,"quantiles":[0.05,0.25,0.5,0.75,0.95]},"inputs":[{"type":"univariate_time_series","name":"g","series":` + series() + `,"frequency":"D"}]}`)
	if r.status != 200 || ts.Status != "error" || !strings.Contains(r.raw, "has no backtest") {
		t.Errorf("bench gold (no backtest): %d %s", r.status, r.raw)
	}

	// Request-wide errors are seqcast's 4xx.
	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"model":"nope","inputs":[{}],"options":{"horizon":1}}`, 404, "model"},
		{`{"inputs":[{}],"options":{"horizon":1}}`, 422, "model"},
		{`{"model":"timesfm","inputs":[],"options":{"horizon":1}}`, 422, "inputs"},
		{`{"model":"timesfm","inputs":[{"name":"a"}]}`, 422, "options.horizon"},
		{`{"model":"timesfm","inputs":[{"name":"a"}],"options":{"horizon":0}}`, 422, "options.horizon"},
		{`{"model":"timesfm","inputs":[{"name":"a"}],"options":{"horizon":1,"quantiles":[1.5]}}`, 422, "options.quantiles[0]"},
		{`{"model":"timesfm","inputs":[{"name":"a"},{"name":"a"}],"options":{"horizon":1}}`, 422, "inputs[1].name"},
		{`{"model":"twoio","inputs":[{"name":"a"}],"options":{"horizon":1}}`, 422, "model"},
	} {
		r, _ := forecast(tc.body)
		if r.status != tc.status || r.errField("field") != tc.field {
			t.Errorf("%s: %d %s, want %d field %s", tc.body, r.status, r.raw, tc.status, tc.field)
		}
	}
}

// TestTimeseriesForecastGoldBacktest: the embedded gold model (scaler and
// backtest) forecasts like /predict and gives its backtest's quantiles.
func TestTimeseriesForecastGoldBacktest(t *testing.T) {
	p := startBinary(t, nil)
	prices := make([]string, 60)
	for i := range prices {
		prices[i] = strconv.FormatFloat(1900+20*math.Sin(float64(i)/5), 'f', 2, 64)
	}
	s := "[" + strings.Join(prices, ",") + "]"
	pr := p.call(t, "POST", "/predict", `{"historical_prices":`+s+`,"horizon":3}`)
	var pred struct {
		Forecast  []float64
		Intervals []struct{ Lower, Upper float64 } `json:"forecast_intervals"`
	}
	if err := json.Unmarshal([]byte(pr.raw), &pred); err != nil || len(pred.Forecast) != 3 {
		t.Fatalf("/predict: %d %s", pr.status, pr.raw)
	}
	r := p.call(t, "POST", "/v1/timeseries/forecast", `{"model":"gold","options":{"horizon":3,"quantiles":[0.05,0.95]},"inputs":[{"type":"univariate_time_series","name":"gold","series":`+s+`,"frequency":"D"}]}`)
	var ts tsReply
	if err := json.Unmarshal([]byte(r.raw), &ts); err != nil || ts.Status != "completed" {
		t.Fatalf("forecast: %d %s", r.status, r.raw)
	}
	c := ts.Outputs[0].Content[0]
	lo, hi := make([]float64, 3), make([]float64, 3)
	for i, iv := range pred.Intervals {
		lo[i], hi[i] = iv.Lower, iv.Upper
	}
	if !reflect.DeepEqual(c.MeanForecast, pred.Forecast) || !reflect.DeepEqual(c.Quantiles["0.05"], lo) || !reflect.DeepEqual(c.Quantiles["0.95"], hi) {
		t.Errorf("forecast %+v\n/predict %s", c, pr.raw)
	}
	// More quantiles at step 1 only.
	r = p.call(t, "POST", "/v1/timeseries/forecast", `{"model":"gold","options":{"horizon":1,"quantiles":[0.25,0.5,0.75]},"inputs":[{"type":"univariate_time_series","name":"gold","series":`+s+`,"frequency":"D"}]}`)
	if !strings.Contains(r.raw, `"status":"completed"`) || !strings.Contains(r.raw, `"0.25":[`) {
		t.Errorf("step-1 quantiles: %s", r.raw)
	}
	r = p.call(t, "POST", "/v1/timeseries/forecast", `{"model":"gold","options":{"horizon":2,"quantiles":[0.5]},"inputs":[{"type":"univariate_time_series","name":"gold","series":`+s+`,"frequency":"D"}]}`)
	if !strings.Contains(r.raw, "does not give quantile 0.5 at step 2 (it gives 0.05, 0.95 there") {
		t.Errorf("step-2 median: %s", r.raw)
	}
}
