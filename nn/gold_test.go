package nn

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"codeberg.org/sbinet/npyio"
)

// goldDir is the canonical CNN-Bi-LSTM forecaster with TF.js outputs.
const goldDir = "../testdata/bench/gold"

// readNpy reads a float32 .npy file and its shape.
func readNpy(tb testing.TB, path string) ([]float32, []int) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var v []float32
	if err := r.Read(&v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return v, r.Header.Descr.Shape
}

// goldModel builds testdata/bench/gold/model.json by hand (Conv1D, MaxPooling1D,
// two Bidirectional LSTMs, Dropout, two Dense) and loads its weights.
func goldModel(tb testing.TB) *Model {
	tb.Helper()
	relu, tanh, sig := MustActivation("relu", false), MustActivation("tanh", false), MustActivation("sigmoid", false)
	lstm := func(name string, units int, seq, back bool) *LSTM {
		return &LSTM{LayerName: name, Units: units, ReturnSequences: seq, GoBackwards: back, UseBias: true,
			Activation: tanh, RecurrentActivation: sig}
	}
	m, err := NewSequential("sequential", Shape{60, 1},
		&Conv1D{LayerName: "conv1d", Filters: 64, KernelSize: 3, Strides: 1, DilationRate: 1, Padding: "valid", UseBias: true, Activation: relu},
		&Pooling1D{LayerName: "max_pooling1d", Kind: MaxPool, PoolSize: 2, Strides: 2, Padding: "valid"},
		&Bidirectional{LayerName: "bidirectional", MergeMode: "concat",
			ForwardLayer: lstm("forward_lstm", 64, true, false), BackwardLayer: lstm("backward_lstm", 64, true, true)},
		&Bidirectional{LayerName: "bidirectional_1", MergeMode: "concat",
			ForwardLayer: lstm("forward_lstm_1", 32, false, false), BackwardLayer: lstm("backward_lstm_1", 32, false, true)},
		&Identity{LayerName: "dropout", ClassName: "Dropout"},
		&Dense{LayerName: "dense", Units: 16, UseBias: true, Activation: relu},
		&Dense{LayerName: "dense_1", Units: 1, UseBias: true},
	)
	if err != nil {
		tb.Fatal(err)
	}
	refs := m.Weights()
	arrays := make([][]float32, len(refs))
	for i, r := range refs {
		v, shape := readNpy(tb, filepath.Join(goldDir, "weights", fmt.Sprintf("%03d.npy", i)))
		if !Shape(shape).Equal(r.Shape) {
			tb.Fatalf("weight %d (%s %s): file shape %v, layer wants %v", i, r.Layer, r.Name, shape, []int(r.Shape))
		}
		arrays[i] = v
	}
	if err := m.SetWeights(arrays); err != nil {
		tb.Fatal(err)
	}
	return m
}

// goldInput returns input.npy (n, 60, 1) and its batch size.
func goldInput(tb testing.TB) ([]float32, int) {
	x, shape := readNpy(tb, filepath.Join(goldDir, "input.npy"))
	return x, shape[0]
}

// TestGoldForecaster checks the whole forecaster against TF.js's outputs.
func TestGoldForecaster(t *testing.T) {
	m := goldModel(t)
	if got := m.ParamCount(); got != 3*64+64+2*(64*256+64*256+256)+2*(128*128+32*128+128)+64*16+16+16+1 {
		t.Errorf("ParamCount = %d", got)
	}
	x, n := goldInput(t)
	want, _ := readNpy(t, filepath.Join(goldDir, "expected.npy"))
	got, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= 1e-5+1e-5*math.Abs(float64(want[i]))) {
			t.Errorf("sample %d: got %.8g, want %.8g (|err| %.3g)", i, got[i], want[i], d)
		}
		worst = max(worst, d)
	}
	t.Logf("max |err| vs TF.js over %d samples: %.3g", n, worst)

	// One sample at a time gives the same numbers as the batch.
	one := make([]float32, 1)
	for _, i := range []int{0, n / 2, n - 1} {
		if err := m.Forward(one, x[i*60:(i+1)*60], 1); err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(one[0] - got[i])); d > 1e-6 {
			t.Errorf("sample %d alone: %v, in batch: %v", i, one[0], got[i])
		}
	}

	// Concurrent callers share the model and get the same numbers.
	var wg sync.WaitGroup
	errs := make(chan string, 4*n)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			const b = 8
			out := make([]float32, b)
			for rep := 0; rep < 3; rep++ {
				i0 := (g*b + rep*13) % (n - b)
				if err := m.Forward(out, x[i0*60:(i0+b)*60], b); err != nil {
					errs <- err.Error()
					return
				}
				for i, v := range out {
					if d := math.Abs(float64(v - got[i0+i])); d > 1e-6 {
						errs <- fmt.Sprintf("goroutine %d: sample %d: %v, want %v", g, i0+i, v, got[i0+i])
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	// Model.Forward allocates nothing at steady state.
	dst := make([]float32, n)
	for _, b := range []int{1, n} {
		if a := testing.AllocsPerRun(5, func() { _ = m.Forward(dst[:b], x[:b*60], b) }); a != 0 {
			t.Errorf("batch %d: %v allocs per Model.Forward", b, a)
		}
	}
}
