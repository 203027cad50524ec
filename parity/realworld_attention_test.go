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
)

// rwRetailTransformer is the retail-transformer fixture (Keras 3.10 .keras,
// MIT licence, LICENSE and README beside it), kept once in the repository
// under kerasfile/testdata/survey.
var rwRetailTransformer = filepath.Join("..", "kerasfile", "testdata", "survey", "retail-transformer", "transformer_model.keras")

// TestRealWorldRetailTransformer: the Keras 3.10 transformer encoder (two
// MultiHeadAttention blocks, LayerNormalization, Dense feed-forward, a
// channels_first GlobalAveragePooling1D head) read from its .keras file
// with kerasfile, built with kerasconfig and run with nn must match the
// float64 evaluation of its config (internal/ref64) on 32 seeded windows
// within 1e-5 + 1e-5*|ref|. No Keras outputs come with the file.
func TestRealWorldRetailTransformer(t *testing.T) {
	f, err := kerasfile.ReadFile(rwRetailTransformer, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, info, err := kerasconfig.Parse(f.Config, kerasconfig.Options{KerasVersion: f.KerasVersion})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Keras3 || !slices.Equal([]int(m.InputShape()), []int{7, 32}) {
		t.Fatalf("Keras3 %v, input %v", info.Keras3, m.InputShape())
	}
	arrays := make([][]float32, len(f.Weights))
	for i, w := range f.Weights {
		arrays[i] = w.Data
	}
	if err := m.SetWeights(arrays); err != nil {
		t.Fatal(err)
	}
	const n = 32
	r := rand.New(rand.NewPCG(12, 2026))
	x := make([]float32, n*7*32)
	xt := ref64.New(n, 7, 32)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		xt.Data[i] = float64(x[i])
	}
	got, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	want, err := evalModel(f.Config, xt, func(layer, name string, shape []int) ref64.Tensor {
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
	t.Logf("%d windows, worst err/tol %.3g, max|ref| %.3g", n, worst, maxAbs)
}
