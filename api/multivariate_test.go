package api

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"

	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// airQuality is a real Keras 3 CNN-Bi-LSTM (24 hours x 7 sensors -> CO) with
// its sklearn MinMax scalers as scaler.json, and the raw windows and
// predictions its notebook printed.
const airQuality = "../parity/testdata/fixtures/airquality-cnn-bilstm"

// readFloats reads a float64 or float32 .npy file as float64 (exactly).
func readFloats(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v []float64
	if err := npyio.Read(bytes.NewReader(b), &v); err == nil {
		return v
	}
	var v32 []float32
	if err := npyio.Read(bytes.NewReader(b), &v32); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, x := range v32 {
		v = append(v, float64(x))
	}
	return v
}

// TestMultivariateKerasPrinted serves the air-quality bundle next to gold
// and reproduces, through HTTP, what Keras printed for six raw windows: the
// bundle's input scaler applied to raw sensor units, the output scaler
// inverted.
func TestMultivariateKerasPrinted(t *testing.T) {
	reg := serving.NewRegistry(serving.Options{Batch: serving.BatchOptions{Enabled: true, Window: 100e3, MaxBatch: 8}},
		serving.Embedded("gold", 0, models.Gold()),
		serving.BundleDir("airquality", 0, filepath.Join(airQuality, "bundles", "cnn_bilstm_model")))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, reg, nil)
	raw := readFloats(t, filepath.Join(airQuality, "x_printed_raw.npy"))
	want := readFloats(t, filepath.Join(airQuality, "keras_printed_predictions.npy"))
	const T, F = 24, 7
	if len(raw) != len(want)*T*F {
		t.Fatalf("%d raw values for %d predictions", len(raw), len(want))
	}
	windows := make([][][]float64, len(want))
	for i := range windows {
		windows[i] = make([][]float64, T)
		for r := range T {
			windows[i][r] = raw[(i*T+r)*F : (i*T+r+1)*F]
		}
	}
	check := func(what string, got any, want float64) {
		t.Helper()
		g, ok := got.(float64)
		if !ok || math.Abs(g-want) > 1e-6*math.Abs(want) {
			t.Errorf("%s: got %v, Keras printed %v", what, got, want)
		}
	}
	for i, w := range windows {
		r := ts.do("POST", "/predict", `{"model":"airquality","window":`+jsonOf(w)+`}`)
		if r.Code != 200 {
			t.Fatalf("window %d: %d %s", i, r.Code, r.Body)
		}
		check("predicted_price", r.body["predicted_price"], want[i])
		outs, _ := r.body["outputs"].([]any)
		if len(outs) != 1 || r.body["confidence"] != "low" || r.body["model"] != "airquality" || r.body["cached"] != false {
			t.Fatalf("window %d: %v", i, r.body)
		}
		check("outputs[0]", outs[0], want[i])
		// A longer history: only the last 24 rows count (and hit the cache).
		longer := append([][]float64{make([]float64, F)}, w...)
		if r := ts.do("POST", "/predict", `{"model":"airquality","window":`+jsonOf(longer)+`}`); r.body["cached"] != true {
			t.Fatalf("window %d with an extra leading row: %d %v", i, r.Code, r.body)
		}
	}
	r := ts.do("POST", "/predict/batch", `{"model":"airquality","instances":`+jsonOf(windows)+`}`)
	if r.Code != 200 || r.body["count"] != float64(len(want)) {
		t.Fatalf("batch: %d %s", r.Code, r.Body)
	}
	for i, p := range r.body["predictions"].([]any) {
		check("batch predicted_price", p.(map[string]any)["predicted_price"], want[i])
	}
	// A univariate model takes windows of one-feature rows too.
	gold := make([][]float64, 60)
	prices := prices(60, 3)
	for i := range gold {
		gold[i] = []float64{prices[i]}
	}
	r1 := ts.do("POST", "/predict", predictBody(prices, ""))
	r2 := ts.do("POST", "/predict", `{"window":`+jsonOf(gold)+`}`)
	if r1.Code != 200 || r2.Code != 200 || r1.body["predicted_price"] != r2.body["predicted_price"] {
		t.Fatalf("gold as prices %v, as a window %v", r1.body, r2.body)
	}

	ok := jsonOf(windows[0])
	for _, tc := range []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"prices to a multivariate model", "/predict", `{"model":"airquality","historical_prices":[1,2,3]}`, 422, "model"},
		{"univariate instances", "/predict/batch", `{"model":"airquality","instances":[[1,2,3]]}`, 422, "model"},
		{"both", "/predict", `{"model":"airquality","historical_prices":[1],"window":` + ok + `}`, 422, "window"},
		{"horizon", "/predict", `{"model":"airquality","horizon":2,"window":` + ok + `}`, 422, "horizon"},
		{"too few rows", "/predict", `{"model":"airquality","window":[[1,2,3,4,5,6,7]]}`, 422, "window"},
		{"short row", "/predict", `{"model":"airquality","window":[[1],` + ok[1:] + `}`, 422, "window[0]"},
		{"null", "/predict", `{"model":"airquality","window":` + strings.Replace(ok, "[[", "[[null,1,2,3,4,5,6],[", 1) + `}`, 422, "window[0][0]"},
		{"absurd", "/predict", `{"model":"airquality","window":` + strings.Replace(ok, "[[", "[[1e13,1,2,3,4,5,6],[", 1) + `}`, 422, "window[0][0]"},
		{"string", "/predict", `{"model":"airquality","window":[["x"]]}`, 422, "window[0][0]"},
		{"batch bad row", "/predict/batch", `{"model":"airquality","instances":[` + ok + `,[[1]]]}`, 422, "instances[1][0]"},
		{"batch empty window", "/predict/batch", `{"model":"airquality","instances":[[[]]]}`, 422, "instances[0][0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("POST", tc.path, tc.body)
			if r.Code != tc.status || r.errField("code") != CodeInvalid || r.errField("field") != tc.field {
				t.Fatalf("got %d %v, want %d field %q", r.Code, r.body, tc.status, tc.field)
			}
		})
	}
}
