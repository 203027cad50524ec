package parity

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/seqcast/seqcast/internal/ref64"
	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/nn"
)

// The transformer fixtures (Keras 3 .keras files with MIT licences, their
// LICENSE and README beside them) are kept once in the repository, under
// kerasfile/testdata/survey. No Keras outputs come with them: nn must
// match the float64 evaluation of their config (attention_eval_test.go).
var rwSurvey = filepath.Join("..", "kerasfile", "testdata", "survey")

// rwKeras reads a .keras file with kerasfile, builds it with kerasconfig
// (builders nil: the default table) and sets its weights.
func rwKeras(t *testing.T, path string, builders kerasconfig.Builders) (*kerasfile.Model, *nn.Model) {
	t.Helper()
	f, err := kerasfile.ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := kerasconfig.Parse(f.Config, kerasconfig.Options{KerasVersion: f.KerasVersion, Builders: builders})
	if err != nil {
		t.Fatal(err)
	}
	arrays := make([][]float32, len(f.Weights))
	for i, w := range f.Weights {
		arrays[i] = w.Data
	}
	if err := m.SetWeights(arrays); err != nil {
		t.Fatal(err)
	}
	return f, m
}

// rwInput draws n windows of shape (t, d) from a seeded source, as float32
// and as their float64 twin.
func rwInput(seed uint64, n, t, d int, draw func(*rand.Rand) float64) ([]float32, ref64.Tensor) {
	r := rand.New(rand.NewPCG(seed, 2026))
	x := make([]float32, n*t*d)
	xt := ref64.New(n, t, d)
	for i := range x {
		x[i] = float32(draw(r))
		xt.Data[i] = float64(x[i])
	}
	return x, xt
}

// rwCompareRef evaluates config on xt with the file's weights, in order
// (each checked against the layer and shape the evaluator asks for), and
// requires got within 1e-5 + 1e-5*|ref|.
func rwCompareRef(t *testing.T, f *kerasfile.Model, config []byte, xt ref64.Tensor, got []float32) {
	t.Helper()
	rwCompareEval(t, f, evalModel, config, xt, got)
}

// rwCompareEval is rwCompareRef with another float64 evaluator (the TCN's).
func rwCompareEval(t *testing.T, f *kerasfile.Model, eval func([]byte, ref64.Tensor, weightSource) (ref64.Tensor, error),
	config []byte, xt ref64.Tensor, got []float32) {
	t.Helper()
	k := 0
	want, err := eval(config, xt, func(layer, name string, shape []int) ref64.Tensor {
		if k >= len(f.Weights) {
			t.Fatalf("the reference wants more than the file's %d weights", len(f.Weights))
		}
		w := f.Weights[k]
		k++
		if w.Layer != layer || !slices.Equal(w.Shape, shape) {
			t.Fatalf("weight %d: file has %s %v, the reference wants %s %s %v", k-1, w.Layer, w.Shape, layer, name, shape)
		}
		tt := ref64.New(shape...)
		for i, v := range w.Data {
			tt.Data[i] = float64(v)
		}
		return tt
	})
	if err != nil {
		t.Fatal(err)
	}
	if k != len(f.Weights) {
		t.Fatalf("the reference used %d of %d weights", k, len(f.Weights))
	}
	worst, maxAbs := 0.0, 0.0
	for i, w := range want.Data {
		worst = math.Max(worst, math.Abs(float64(got[i])-w)/(absTol+relTol*math.Abs(w)))
		maxAbs = math.Max(maxAbs, math.Abs(w))
	}
	if !(worst <= 1) {
		t.Errorf("worst err/tol %.3g (tolerance 1e-5 + 1e-5*|ref|)", worst)
	}
	t.Logf("%d outputs, worst err/tol %.3g, max|ref| %.3g", len(want.Data), worst, maxAbs)
}

// TestRealWorldRetailTransformer: the Keras 3.10 transformer encoder (two
// MultiHeadAttention blocks, LayerNormalization, Dense feed-forward, a
// channels_first GlobalAveragePooling1D head) on 32 seeded windows.
func TestRealWorldRetailTransformer(t *testing.T) {
	f, m := rwKeras(t, filepath.Join(rwSurvey, "retail-transformer", "transformer_model.keras"), nil)
	if !slices.Equal([]int(m.InputShape()), []int{7, 32}) {
		t.Fatalf("input %v", m.InputShape())
	}
	const n = 32
	x, xt := rwInput(12, n, 7, 32, (*rand.Rand).NormFloat64)
	got, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	rwCompareRef(t, f, f.Config, xt, got)
}
