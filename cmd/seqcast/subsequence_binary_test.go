package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/serving"
)

// The subsequence CNN-LSTM of the time-series tutorials (per-sample input
// (S, T, F)) through the built binary: the raw tensor routes take (N, S, T,
// F), the window routes S*T steps; every answer is the TF.js golden's.
const (
	cnnLSTMMultiDir = "../../parity/testdata/golden/timedistributed_cnn_lstm_k2_12"            // (3, 4, 2) -> (1)
	cnnLSTMUniDir   = "../../parity/testdata/golden/timedistributed_cnn_lstm_univariate_k2_15" // (2, 3, 1) -> (1)
)

// nestJSON writes flat row-major data of the given shape as nested lists.
func nestJSON(data []float32, shape []int) string {
	if len(shape) == 0 {
		return fmt.Sprint(data[0])
	}
	k := len(data) / shape[0]
	parts := make([]string, shape[0])
	for i := range parts {
		parts[i] = nestJSON(data[i*k:(i+1)*k], shape[1:])
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// nearGolden reports whether got is within 1e-5 + 1e-5*|want| of want.
func nearGolden(got float64, want float32) bool {
	return math.Abs(got-float64(want)) <= 1e-5+1e-5*math.Abs(float64(want))
}

func TestServeSubsequenceCNNLSTM(t *testing.T) {
	root := t.TempDir()
	for name, dir := range map[string]string{"multi": cnnLSTMMultiDir, "uni": cnnLSTMUniDir} {
		if err := os.CopyFS(filepath.Join(root, name, "1"), os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	p := startBinary(t, nil, "--models-dir", root)
	const ct = "application/json"

	for _, tc := range []struct {
		name, dir string
		shape     []int // per sample (S, T, F)
	}{
		{"multi", cnnLSTMMultiDir, []int{3, 4, 2}},
		{"uni", cnnLSTMUniDir, []int{2, 3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, xs := readNPY(t, filepath.Join(tc.dir, "input.npy"))
			want, _ := readNPY(t, filepath.Join(tc.dir, "expected.npy"))
			n, S, T, F := xs[0], tc.shape[0], tc.shape[1], tc.shape[2]
			per := S * T * F
			sdims := fmt.Sprintf("%d, %d, %d", S, T, F)

			// Metadata: the network's (S, T, F); the window is S*T.
			checkServedShape(t, p, tc.name, sdims, S*T, F)
			wantOIP := fmt.Sprintf(`"inputs":[{"name":"input","datatype":"FP32","shape":[-1,%d,%d,%d]}]`, S, T, F)
			if r := p.call(t, "GET", "/v2/models/"+tc.name, ""); r.status != 200 || !strings.Contains(r.raw, wantOIP) {
				t.Errorf("OIP metadata: %d %s, want %s", r.status, r.raw, wantOIP)
			}

			// TF Serving :predict: (N, S, T, F) nested lists, row and columnar.
			checkTFPredict(t, p, tc.name, nestJSON(x, xs), want, n)
			// (N, S*T, F), the window's shape, is not the tensor's.
			r := p.call(t, "POST", "/v1/models/"+tc.name+":predict", `{"instances":`+nestJSON(x, []int{n, S * T, F})+`}`, "Content-Type", ct)
			if r.status != 422 || r.errField("code") != "invalid_input" || !strings.HasPrefix(r.errField("field"), "instances[0]") ||
				!strings.Contains(r.errField("message"), "(N, "+sdims+")") {
				t.Errorf(":predict (N, S*T, F): %d %s, want 422 naming (N, %s)", r.status, r.raw, sdims)
			}
			if r := p.call(t, "POST", "/v1/models/"+tc.name+":predict", `{}`, "Content-Type", ct); r.status != 422 || !strings.Contains(r.errField("message"), "(N, "+sdims+")") {
				t.Errorf(":predict without instances: %d %s", r.status, r.raw)
			}

			// OIP infer: shape [N, S, T, F], flat data.
			flat, _ := json.Marshal(x)
			r = p.call(t, "POST", "/v2/models/"+tc.name+"/infer",
				fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,%s],"datatype":"FP32","data":%s}]}`, n, sdims, flat), "Content-Type", ct)
			var ob struct {
				Outputs []struct {
					Shape []int
					Data  []float64
				}
			}
			if r.status != 200 || json.Unmarshal([]byte(r.raw), &ob) != nil || len(ob.Outputs) != 1 || len(ob.Outputs[0].Data) != n {
				t.Fatalf("infer: %d %s", r.status, r.raw)
			}
			for i, v := range ob.Outputs[0].Data {
				if !nearGolden(v, want[i]) {
					t.Errorf("infer sample %d: %g, golden %g", i, v, want[i])
				}
			}
			r = p.call(t, "POST", "/v2/models/"+tc.name+"/infer",
				fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,%d,%d],"datatype":"FP32","data":%s}]}`, n, S*T, F, flat), "Content-Type", ct)
			if msg, _ := r.body["error"].(string); r.status != 400 || !strings.Contains(msg, fmt.Sprintf("[N, %s]", sdims)) {
				t.Errorf("infer [N, S*T, F]: %d %s, want 400 naming [N, %s]", r.status, r.raw, sdims)
			}

			// /predict and /predict/batch: a window of S*T steps; univariate
			// as historical_prices (S*T prices), else window (S*T rows).
			var wins []string
			for i := 0; i < n; i++ {
				if F == 1 {
					wins = append(wins, nestJSON(x[i*per:(i+1)*per], []int{S * T}))
				} else {
					wins = append(wins, nestJSON(x[i*per:(i+1)*per], []int{S * T, F}))
				}
			}
			key := "window"
			if F == 1 {
				key = "historical_prices"
			}
			checkWindowRoutes(t, p, tc.name, key, wins, want)
			// A window of T steps (one subsequence) is too short.
			short := nestJSON(x[:T*F], []int{T, F})
			if F == 1 {
				short = nestJSON(x[:T], []int{T})
			}
			if r := p.call(t, "POST", "/predict", fmt.Sprintf(`{"model":%q,%q:%s}`, tc.name, key, short), "Content-Type", ct); r.status != 422 {
				t.Errorf("/predict with %d steps: %d %s, want 422", T, r.status, r.raw)
			}
		})
	}

	// Prices for the two-feature model: the refusal gives the window to send.
	r0 := p.call(t, "POST", "/predict", `{"model":"multi","historical_prices":[1,2,3,4,5,6,7,8,9,10,11,12]}`, "Content-Type", ct)
	if r0.status != 422 || !strings.Contains(r0.errField("message"), "windows of 12 steps of 2 features (input (None, 3, 4, 2))") {
		t.Errorf("historical_prices for the 2-feature model: %d %s", r0.status, r0.raw)
	}

	// The univariate model forecasts recursively over its S*T = 6 prices,
	// on the forecast route too.
	r := p.call(t, "POST", "/v1/timeseries/forecast", `{"model":"uni","inputs":[{"type":"univariate_time_series","name":"a","frequency":"D",`+
		`"series":[0.4,-0.3,0.95,1.24,1.39,-0.7,1.4]}],"options":{"horizon":3}}`, "Content-Type", ct)
	if r.status != 200 || !strings.Contains(r.raw, `"status":"completed"`) {
		t.Errorf("timeseries forecast: %d %s", r.status, r.raw)
	}
	h3 := p.call(t, "POST", "/predict", `{"model":"uni","historical_prices":[0.4,-0.3,0.95,1.24,1.39,-0.7,1.4],"horizon":3}`, "Content-Type", ct)
	fc, _ := h3.body["forecast"].([]any)
	if h3.status != 200 || len(fc) != 3 {
		t.Fatalf("/predict horizon 3: %d %s", h3.status, h3.raw)
	}
	if !strings.Contains(r.raw, fmt.Sprint(fc[2])) {
		t.Errorf("timeseries forecast %s does not carry /predict's third step %v", r.raw, fc[2])
	}
}

// tfTensorInfoJSON is a TF Serving metadata tensor as read back.
type tfTensorInfoJSON struct {
	TensorShape struct {
		Dim []struct {
			Size string `json:"size"`
		} `json:"dim"`
	} `json:"tensor_shape"`
}

// seqcast inspect names the served window; training_stats.json imported
// from a CSV is over windows of S*T steps, and the bundle loads with it.
func TestSubsequenceInspectAndTrainStats(t *testing.T) {
	code, stdout, stderr := runCmd("inspect", cnnLSTMUniDir)
	if code != 0 || !strings.Contains(stdout, "Input shape: (None, 2, 3, 1)\nServed window: 6 steps of 1 feature(s) (2 subsequences of 3 steps)\n") {
		t.Errorf("inspect: exit %d\n%s%s", code, stdout, stderr)
	}
	dir := filepath.Join(t.TempDir(), "uni")
	if err := os.CopyFS(dir, os.DirFS(cnnLSTMUniDir)); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("price\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "%g\n", 100+10*math.Sin(float64(i)/5))
	}
	csvPath := filepath.Join(t.TempDir(), "train.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := readSource(dir, bundle.KerasOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := importTrainingStats(b, []int{2, 3, 1}, csvPath, "price")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, serving.TrainingStatsFile), stats, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := serving.LoadDir(context.Background(), dir, "uni", 1)
	if err != nil {
		t.Fatal(err)
	}
	if ts := m.TrainingStats(); ts == nil || ts.Window != 6 {
		t.Errorf("training stats %+v, want windows of 6", ts)
	}
	if _, err := importTrainingStats(b, []int{2, 3, 4, 1}, csvPath, "price"); err == nil || !strings.Contains(err.Error(), "(None, 2, 3, 4, 1)") {
		t.Errorf("rank 4: %v, want the shape named", err)
	}
}
