package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tutorial's ConvLSTM2D forecaster (per-sample input (S, 1, T, F): 2
// subsequences of one row of 3 steps of 1 feature) through the built
// binary: TF Serving :predict and OIP infer take the real 5-D tensor (N, S,
// 1, T, F), /predict and /predict/batch S*T prices; every answer is the
// TF.js golden's.
const (
	convLSTMK2Dir = "../../parity/testdata/golden/convlstm2d_tutorial_k2_12"
	convLSTMK3Dir = "../../parity/testdata/golden/convlstm2d_tutorial_k3"
)

func TestServeConvLSTM2D(t *testing.T) {
	root := t.TempDir()
	for name, dir := range map[string]string{"convlstm": convLSTMK2Dir, "convlstm3": convLSTMK3Dir} {
		if err := os.CopyFS(filepath.Join(root, name, "1"), os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	p := startBinary(t, nil, "--models-dir", root)
	const ct = "application/json"
	const S, T, F = 2, 3, 1
	sdims := "2, 1, 3, 1"

	for name, dir := range map[string]string{"convlstm": convLSTMK2Dir, "convlstm3": convLSTMK3Dir} {
		t.Run(name, func(t *testing.T) {
			x, xs := readNPY(t, filepath.Join(dir, "input.npy"))
			want, _ := readNPY(t, filepath.Join(dir, "expected.npy"))
			n := xs[0]
			if got := fmt.Sprint(xs); got != "[5 2 1 3 1]" {
				t.Fatalf("input.npy shape %s", got)
			}

			// Metadata: the network's (S, 1, T, F); the window is S*T.
			checkServedShape(t, p, name, sdims, S*T, F)
			// TF Serving :predict: the (N, S, 1, T, F) tensor, row and columnar.
			checkTFPredict(t, p, name, nestJSON(x, xs), want, n)
			// (N, S, T, F) without the row axis is not the tensor's shape.
			r := p.call(t, "POST", "/v1/models/"+name+":predict", `{"instances":`+nestJSON(x, []int{n, S, T, F})+`}`, "Content-Type", ct)
			if r.status != 422 || r.errField("code") != "invalid_input" || !strings.HasPrefix(r.errField("field"), "instances[0]") ||
				!strings.Contains(r.errField("message"), "(N, "+sdims+") (batch, subsequences, rows, steps, features)") {
				t.Errorf(":predict (N, S, T, F): %d %s, want 422 naming (N, %s)", r.status, r.raw, sdims)
			}

			// OIP infer: shape [N, S, 1, T, F], flat data.
			flat, _ := json.Marshal(x)
			r = p.call(t, "POST", "/v2/models/"+name+"/infer",
				fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,%s],"datatype":"FP32","data":%s}]}`, n, sdims, flat), "Content-Type", ct)
			var ob struct {
				Outputs []struct{ Data []float64 }
			}
			if r.status != 200 || json.Unmarshal([]byte(r.raw), &ob) != nil || len(ob.Outputs) != 1 || len(ob.Outputs[0].Data) != n {
				t.Fatalf("infer: %d %s", r.status, r.raw)
			}
			for i, v := range ob.Outputs[0].Data {
				if !nearGolden(v, want[i]) {
					t.Errorf("infer sample %d: %g, golden %g", i, v, want[i])
				}
			}

			// /predict and /predict/batch: historical_prices of S*T prices.
			per := S * T * F
			var wins []string
			for i := 0; i < n; i++ {
				wins = append(wins, nestJSON(x[i*per:(i+1)*per], []int{S * T}))
			}
			checkWindowRoutes(t, p, name, "historical_prices", wins, want)
			// T prices (one subsequence) are too few.
			if r := p.call(t, "POST", "/predict", fmt.Sprintf(`{"model":%q,"historical_prices":[1,2,3]}`, name), "Content-Type", ct); r.status != 422 {
				t.Errorf("/predict with %d prices: %d %s, want 422", T, r.status, r.raw)
			}
		})
	}
}

// checkServedShape checks a model's TF Serving metadata: the input tensor's
// dims (-1, sdims) and the served window of window steps of feats features.
func checkServedShape(t *testing.T, p *proc, name, sdims string, window, feats int) {
	t.Helper()
	r := p.call(t, "GET", "/v1/models/"+name+"/metadata", "")
	var md struct {
		Metadata struct {
			SignatureDef struct {
				SignatureDef map[string]struct {
					Inputs map[string]tfTensorInfoJSON `json:"inputs"`
				} `json:"signature_def"`
			} `json:"signature_def"`
		} `json:"metadata"`
		Seqcast struct{ Window, Features int } `json:"seqcast"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &md) != nil {
		t.Fatalf("metadata: %d %s", r.status, r.raw)
	}
	var dims []string
	for _, d := range md.Metadata.SignatureDef.SignatureDef["serving_default"].Inputs["input"].TensorShape.Dim {
		dims = append(dims, d.Size)
	}
	if got := strings.Join(dims, ", "); got != "-1, "+sdims || md.Seqcast.Window != window || md.Seqcast.Features != feats {
		t.Errorf("metadata: input dims (%s), window %d, features %d; want (-1, %s), %d, %d", got, md.Seqcast.Window, md.Seqcast.Features, sdims, window, feats)
	}
}

// checkTFPredict posts the model's raw tensor (nested JSON of n samples) to
// :predict as instances and as inputs; each sample's one output must be
// the golden's.
func checkTFPredict(t *testing.T, p *proc, name, tensor string, want []float32, n int) {
	t.Helper()
	for _, field := range []string{"instances", "inputs"} {
		r := p.call(t, "POST", "/v1/models/"+name+":predict", `{"`+field+`":`+tensor+`}`, "Content-Type", "application/json")
		var b struct{ Predictions [][]float64 }
		if r.status != 200 || json.Unmarshal([]byte(r.raw), &b) != nil || len(b.Predictions) != n {
			t.Fatalf(":predict %s: %d %s", field, r.status, r.raw)
		}
		for i, pr := range b.Predictions {
			if len(pr) != 1 || !nearGolden(pr[0], want[i]) {
				t.Errorf(":predict %s sample %d: %v, golden %g", field, i, pr, want[i])
			}
		}
	}
}

// checkWindowRoutes posts each window (key "window" or "historical_prices")
// to /predict and all of them to /predict/batch; the prices must be the
// golden's.
func checkWindowRoutes(t *testing.T, p *proc, name, key string, wins []string, want []float32) {
	t.Helper()
	const ct = "application/json"
	for i, w := range wins {
		r := p.call(t, "POST", "/predict", fmt.Sprintf(`{"model":%q,%q:%s}`, name, key, w), "Content-Type", ct)
		v, ok := r.body["predicted_price"].(float64)
		if r.status != 200 || !ok || !nearGolden(v, want[i]) {
			t.Errorf("/predict %s sample %d: %d %s, golden %g", key, i, r.status, r.raw, want[i])
		}
	}
	r := p.call(t, "POST", "/predict/batch", fmt.Sprintf(`{"model":%q,"instances":[%s]}`, name, strings.Join(wins, ",")), "Content-Type", ct)
	var bb struct {
		Predictions []struct {
			PredictedPrice float64 `json:"predicted_price"`
		}
	}
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &bb) != nil || len(bb.Predictions) != len(wins) {
		t.Fatalf("/predict/batch: %d %s", r.status, r.raw)
	}
	for i, pr := range bb.Predictions {
		if !nearGolden(pr.PredictedPrice, want[i]) {
			t.Errorf("/predict/batch sample %d: %g, golden %g", i, pr.PredictedPrice, want[i])
		}
	}
}
