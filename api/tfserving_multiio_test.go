package api

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
	"github.com/seqcast/seqcast/weights"
)

const (
	twoLSTMDir     = "../parity/testdata/golden/multi_io_two_lstm_k2_15"  // prices (8, 2), weather (5, 3) -> quantiles (3), mean (1)
	sharedInputDir = "../parity/testdata/golden/multi_io_shared_input_k3" // window (9, 2) -> trend (2), level (1)
)

func readNPYFile(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, shape, err := weights.ReadNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	return x, shape
}

// nested turns a flat (N, ...shape) array into nested lists, as JSON sends it.
func nested(x []float32, shape []int) any {
	if len(shape) == 1 {
		out := make([]float64, shape[0])
		for i := range out {
			out[i] = float64(x[i])
		}
		return out
	}
	k := len(x) / shape[0]
	out := make([]any, shape[0])
	for i := range out {
		out[i] = nested(x[i*k:(i+1)*k], shape[1:])
	}
	return out
}

// flatten reads nested JSON lists of numbers back into a flat slice.
func flatten(v any, dst []float64) []float64 {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			dst = flatten(e, dst)
		}
	case float64:
		dst = append(dst, v)
	}
	return dst
}

func closeAll(t *testing.T, what string, got []float64, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - float64(want[i])); d > 1e-5+1e-5*math.Abs(float64(want[i])) {
			t.Errorf("%s: value %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func multiIOServer(t *testing.T) *testServer {
	t.Helper()
	reg := serving.NewRegistry(serving.Options{}, serving.Embedded("gold", 0, models.Gold()),
		serving.BundleDir("twolstm", 0, twoLSTMDir), serving.BundleDir("shared", 0, sharedInputDir))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newServer(t, reg, nil)
}

// TestTFServingNamedTensors: a two-input, two-output model through
// TensorFlow Serving's columnar and row formats, against TF.js's outputs.
func TestTFServingNamedTensors(t *testing.T) {
	ts := multiIOServer(t)
	p, ps := readNPYFile(t, filepath.Join(twoLSTMDir, "input_0.npy"))
	w, wsh := readNPYFile(t, filepath.Join(twoLSTMDir, "input_1.npy"))
	q, _ := readNPYFile(t, filepath.Join(twoLSTMDir, "expected_0.npy"))
	m, _ := readNPYFile(t, filepath.Join(twoLSTMDir, "expected_1.npy"))
	n := ps[0]

	cols := map[string]any{"weather": nested(w, wsh), "prices": nested(p, ps)}
	r := ts.do("POST", "/v1/models/twolstm:predict", `{"inputs":`+jsonOf(cols)+`}`)
	if r.Code != 200 {
		t.Fatalf("columnar: %d %s", r.Code, r.Body)
	}
	outs, _ := r.body["outputs"].(map[string]any)
	closeAll(t, "outputs.quantiles", flatten(outs["quantiles"], nil), q)
	closeAll(t, "outputs.mean", flatten(outs["mean"], nil), m)
	if len(outs) != 2 {
		t.Errorf("outputs has %d members, want quantiles and mean: %v", len(outs), outs)
	}

	pn, wn := nested(p, ps).([]any), nested(w, wsh).([]any)
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{"prices": pn[i], "weather": wn[i]}
	}
	r = ts.do("POST", "/v1/models/twolstm:predict", `{"signature_name":"serving_default","instances":`+jsonOf(rows)+`}`)
	if r.Code != 200 {
		t.Fatalf("row: %d %s", r.Code, r.Body)
	}
	preds, _ := r.body["predictions"].([]any)
	if len(preds) != n {
		t.Fatalf("row: %d predictions, want %d", len(preds), n)
	}
	var gq, gm []float64
	for _, one := range preds {
		o, _ := one.(map[string]any)
		gq, gm = flatten(o["quantiles"], gq), flatten(o["mean"], gm)
	}
	closeAll(t, "predictions[].quantiles", gq, q)
	closeAll(t, "predictions[].mean", gm, m)

	// A single-input model with two outputs takes the unnamed list too.
	x, xs := readNPYFile(t, filepath.Join(sharedInputDir, "input_0.npy"))
	tr, _ := readNPYFile(t, filepath.Join(sharedInputDir, "expected_0.npy"))
	lv, _ := readNPYFile(t, filepath.Join(sharedInputDir, "expected_1.npy"))
	r = ts.do("POST", "/v1/models/shared:predict", `{"instances":`+jsonOf(nested(x, xs))+`}`)
	if r.Code != 200 {
		t.Fatalf("shared, unnamed instances: %d %s", r.Code, r.Body)
	}
	gq, gm = nil, nil
	for _, one := range r.body["predictions"].([]any) {
		o, _ := one.(map[string]any)
		gq, gm = flatten(o["trend"], gq), flatten(o["level"], gm)
	}
	closeAll(t, "shared trend", gq, tr)
	closeAll(t, "shared level", gm, lv)

	// Metadata names every input and output.
	r = ts.do("GET", "/v1/models/twolstm/metadata", "")
	sig := jsonOf(r.body["metadata"])
	for _, want := range []string{`"prices":{`, `"weather":{`, `"quantiles":{`, `"mean":{`, `"serving_default_weather:0"`} {
		if !strings.Contains(sig, want) {
			t.Errorf("metadata lacks %s: %s", want, sig)
		}
	}
}

func TestMultiIOErrors(t *testing.T) {
	ts := multiIOServer(t)
	p8 := [][]float64{{1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}}
	w5 := [][]float64{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}}
	body := func(v any) string { return jsonOf(v) }
	for _, tc := range []struct {
		name, path, body string
		field, msg       string
	}{
		{"predict refuses", "/predict", `{"model":"twolstm","historical_prices":[1,2,3,4,5,6,7,8,9]}`, "model", "POST /v1/models/twolstm:predict"},
		{"batch refuses", "/predict/batch", `{"model":"twolstm","instances":[[1,2,3]]}`, "model", "prices (N, 8, 2), weather (N, 5, 3)"},
		{"missing input", "/v1/models/twolstm:predict", body(map[string]any{"inputs": map[string]any{"prices": [][][]float64{p8}}}), "inputs", `input "weather" is missing`},
		{"unknown input", "/v1/models/twolstm:predict", body(map[string]any{"inputs": map[string]any{"prices": [][][]float64{p8}, "weather": [][][]float64{w5}, "wind": 1}}), "inputs", `"wind" is not an input`},
		{"wrong steps", "/v1/models/twolstm:predict", body(map[string]any{"inputs": map[string]any{"prices": [][][]float64{p8[:7]}, "weather": [][][]float64{w5}}}), "inputs.prices[0]", "7 elements: the model takes 8"},
		{"different N", "/v1/models/twolstm:predict", body(map[string]any{"inputs": map[string]any{"prices": [][][]float64{p8, p8}, "weather": [][][]float64{w5}}}), "inputs.weather", "every input needs the same number"},
		{"unnamed for two inputs", "/v1/models/twolstm:predict", body(map[string]any{"instances": [][][]float64{p8}}), "instances", "name them"},
		{"both formats", "/v1/models/twolstm:predict", `{"instances":[{}],"inputs":{}}`, "inputs", "not both"},
		{"neither", "/v1/models/twolstm:predict", `{}`, "instances", `{"inputs": {"prices": [...]`},
		{"row missing input", "/v1/models/twolstm:predict", body(map[string]any{"instances": []any{map[string]any{"prices": p8}}}), "instances[0]", `input "weather" is missing`},
		{"row value too large", "/v1/models/twolstm:predict", strings.Replace(body(map[string]any{"instances": []any{map[string]any{"prices": p8, "weather": w5}}}), "[1,2,3]", "[1,2,3e300]", 1), "instances[0].weather[0][2]", "out of range"},
		{"row empty", "/v1/models/twolstm:predict", `{"instances":[]}`, "instances", "0 instances"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("POST", tc.path, tc.body)
			if r.Code != 422 || r.errField("field") != tc.field || !strings.Contains(r.errField("message"), tc.msg) {
				t.Errorf("%d field %q message %q; want 422, %q, %q", r.Code, r.errField("field"), r.errField("message"), tc.field, tc.msg)
			}
		})
	}
	// Over the batch bound: refused before the samples are read.
	many := make([]any, ts.cfg.MaxBatch+1)
	for i := range many {
		many[i] = map[string]any{"prices": p8, "weather": w5}
	}
	r := ts.do("POST", "/v1/models/twolstm:predict", `{"instances":`+jsonOf(many)+`}`)
	if r.Code != 422 || !strings.Contains(r.errField("message"), "more than") {
		t.Errorf("%d instances: %d %s", len(many), r.Code, r.Body)
	}
}
