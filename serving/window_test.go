package serving

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/seqcast/seqcast/weights"
)

// The subsequence CNN-LSTM goldens (TF.js, parity/testdata/golden): per
// sample input (S, T, F), served on windows of S*T steps.
const (
	cnnLSTMMulti = "../parity/testdata/golden/timedistributed_cnn_lstm_k2_12"            // (3, 4, 2) -> (1)
	cnnLSTMSeq   = "../parity/testdata/golden/timedistributed_cnn_lstm_k3"               // (3, 4, 2) -> (3, 2)
	cnnLSTMUni   = "../parity/testdata/golden/timedistributed_cnn_lstm_univariate_k2_15" // (2, 3, 1) -> (1)
	// The tutorial's ConvLSTM2D forecaster: (S, 1, T, F), served on S*T steps.
	convLSTMUni = "../parity/testdata/golden/convlstm2d_tutorial_k2_12" // (2, 1, 3, 1) -> (1)
	convLSTMK3  = "../parity/testdata/golden/convlstm2d_tutorial_k3"    // (2, 1, 3, 1) -> (1)
)

func TestSubsequenceModelsRawMatchGoldens(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		dir           string
		window, feats int
		in            []int
		univariate    bool
	}{
		{cnnLSTMMulti, 12, 2, []int{3, 4, 2}, false},
		{cnnLSTMSeq, 12, 2, []int{3, 4, 2}, false},
		{cnnLSTMUni, 6, 1, []int{2, 3, 1}, true},
		{convLSTMUni, 6, 1, []int{2, 1, 3, 1}, true},
		{convLSTMK3, 6, 1, []int{2, 1, 3, 1}, true},
	} {
		t.Run(tc.dir[strings.LastIndexByte(tc.dir, '/')+1:], func(t *testing.T) {
			m, err := LoadDir(ctx, tc.dir, "cnnlstm", 1)
			if err != nil {
				t.Fatal(err)
			}
			if m.Window() != tc.window || m.Features() != tc.feats || !m.InputShape().Equal(tc.in) || m.Univariate() != tc.univariate {
				t.Fatalf("window %d features %d input %v univariate %v; want %d, %d, %v, %v",
					m.Window(), m.Features(), m.InputShape(), m.Univariate(), tc.window, tc.feats, tc.in, tc.univariate)
			}
			x, xs := readNPY(t, tc.dir+"/input.npy")
			want, _ := readNPY(t, tc.dir+"/expected.npy")
			y, err := m.Raw(ctx, x, xs[0])
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for i := range y {
				d := math.Abs(float64(y[i] - want[i]))
				tol := 1e-5 + 1e-5*math.Abs(float64(want[i]))
				worst = max(worst, d/tol)
				if d > tol {
					t.Errorf("output %d: got %g, golden %g", i, y[i], want[i])
				}
			}
			t.Logf("%d outputs, worst err/tol %.3g", len(y), worst)

			// The window routes: PredictWindows on each sample's S*T rows
			// (longer windows keep their last S*T rows) gives Raw's outputs.
			per := len(x) / xs[0]
			wins := make([][]float64, xs[0])
			for i := range wins {
				w := make([]float64, tc.feats, tc.feats+per) // one extra row in front
				for _, v := range x[i*per : (i+1)*per] {
					w = append(w, float64(v))
				}
				wins[i] = w
			}
			preds, err := m.PredictWindows(ctx, wins, 1)
			if err != nil {
				t.Fatal(err)
			}
			out := len(y) / xs[0]
			for i, p := range preds {
				for k, v := range p.Outputs {
					if v != float64(y[i*out+k]) {
						t.Errorf("window %d output %d: PredictWindows %g, Raw %g", i, k, v, y[i*out+k])
					}
				}
			}
		})
	}
}

// A univariate (S, T, 1) model forecasts from S*T prices: each step is Raw
// on the last S*T values of the series, the network splitting them into S
// subsequences again.
func TestSubsequenceForecastIsRawOnTheWindow(t *testing.T) {
	ctx := context.Background()
	m, err := LoadDir(ctx, cnnLSTMUni, "uni", 1)
	if err != nil {
		t.Fatal(err)
	}
	series := []float64{0.4, -0.3, 0.95, 1.24, 1.39, -0.7, 1.4}
	const horizon = 3
	p, err := m.Forecast(ctx, [][]float64{series}, horizon)
	if err != nil {
		t.Fatal(err)
	}
	cur := append([]float64(nil), series[1:]...) // the last S*T = 6 values
	for step := 0; step < horizon; step++ {
		x := make([]float32, len(cur))
		for i, v := range cur {
			x[i] = float32(v)
		}
		y, err := m.Raw(ctx, x, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := p[0].Forecast[step]; got != float64(y[0]) {
			t.Errorf("step %d: Forecast %g, Raw on %v %g", step+1, got, cur, y[0])
		}
		cur = append(cur[1:], float64(y[0]))
	}
	if _, err := m.Forecast(ctx, [][]float64{series[:5]}, 1); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "at least 6 values") {
		t.Errorf("5 values: %v, want an InputError asking for 6", err)
	}

	// scaler.json's window is S*T; a window of T is refused.
	sc := `{"format":"seqcast-scaler/1","window":6,
 "input": {"kind":"minmax","feature_range":[0,1],"clip":false,"data_min":[-2],"data_max":[2],"scale":[0.25],"min":[0.5]},
 "output":{"kind":"minmax","feature_range":[0,1],"clip":false,"data_min":[-2],"data_max":[2],"scale":[0.25],"min":[0.5]}}`
	ms, err := LoadFS(ctx, bundleFS(t, cnnLSTMUni, map[string]string{ScalerFile: sc}), "uni", 1, nil)
	if err != nil {
		t.Fatalf("scaler of window 6: %v", err)
	}
	ps, err := ms.Forecast(ctx, [][]float64{series}, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 6)
	for i, v := range series[1:] {
		x[i] = float32(v*0.25 + 0.5)
	}
	y, err := ms.Raw(ctx, x, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := (float64(y[0]) - 0.5) / 0.25; math.Abs(ps[0].Value-want) > 1e-6 {
		t.Errorf("scaled forecast %g, want Raw on the scaled window, inverted, %g", ps[0].Value, want)
	}
	if _, err := LoadFS(ctx, bundleFS(t, cnnLSTMUni, map[string]string{ScalerFile: strings.Replace(sc, `"window":6`, `"window":3`, 1)}), "uni", 1, nil); err == nil {
		t.Error("a scaler of window 3 (T, not S*T) loaded")
	}
}

// rank4Bundle is Input (2, 3, 4, 1) -> Flatten -> Dense(1): a per-sample
// input of rank 4, which no window describes.
func rank4Bundle(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{"model.json": {Data: []byte(`{"class_name": "Sequential", "config": {"name": "rank4", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2, 3, 4, 1], "dtype": "float32", "name": "cube"}},
 {"class_name": "Flatten", "config": {"name": "flatten", "data_format": "channels_last"}},
 {"class_name": "Dense", "config": {"name": "dense", "units": 1, "activation": "linear", "use_bias": true}}]},
 "keras_version": "2.15.0", "backend": "tensorflow"}`)}}
	for i, w := range []struct {
		n     int
		shape []int
	}{{24, []int{24, 1}}, {1, []int{1}}} {
		var b bytes.Buffer
		if err := weights.WriteNPY(&b, make([]float32, w.n), w.shape); err != nil {
			t.Fatal(err)
		}
		fsys[fmt.Sprintf("weights/%03d.npy", i)] = &fstest.MapFile{Data: b.Bytes()}
	}
	return fsys
}

func TestRank4InputRefused(t *testing.T) {
	_, err := LoadFS(context.Background(), rank4Bundle(t), "rank4", 1, nil)
	var se *InputShapeError
	if !errors.As(err, &se) || !se.Shape.Equal([]int{2, 3, 4, 1}) {
		t.Fatalf("got %v, want an InputShapeError for (2, 3, 4, 1)", err)
	}
	for _, want := range []string{"(None, 2, 3, 4, 1)", "(time steps, features)", "(subsequences, steps, features)", "(subsequences, 1, steps, features)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
}

func TestWindowShape(t *testing.T) {
	for _, tc := range []struct {
		in           []int
		steps, feats int
		ok           bool
	}{
		{[]int{60, 1}, 60, 1, true},
		{[]int{3, 4, 2}, 12, 2, true},
		{[]int{2, 3, 1}, 6, 1, true},
		{[]int{8}, 0, 0, false},
		{[]int{}, 0, 0, false},
		{[]int{2, 3, 4, 1}, 0, 0, false},
		{[]int{2, 1, 3, 1}, 6, 1, true},  // ConvLSTM2D: (S, 1, T, F)
		{[]int{3, 1, 4, 2}, 12, 2, true}, // multivariate
		{[]int{2, 2, 3, 1}, 0, 0, false}, // two rows: not a window
		{[]int{2, 1, 3, 1, 1}, 0, 0, false},
	} {
		steps, feats, err := WindowShape(tc.in)
		if (err == nil) != tc.ok || steps != tc.steps || feats != tc.feats {
			t.Errorf("WindowShape(%v) = %d, %d, %v", tc.in, steps, feats, err)
		}
	}
}
