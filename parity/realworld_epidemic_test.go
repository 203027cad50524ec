package parity

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/seqcast/seqcast/internal/ref64"
	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/nn"
)

// posEncoding is the epidemic-transformer author's PositionalEncoding (see
// the fixture's README): x + sin/cos table, the table computed in float64
// and rounded to float32. It exists here only to reach the model's
// MultiHeadAttention; it is not seqcast's API for user layers.
type posEncoding struct {
	name string
	t, d int
	tab  []float32
}

func (l *posEncoding) Name() string  { return l.name }
func (l *posEncoding) Class() string { return "PositionalEncoding" }
func (l *posEncoding) Build(in []nn.Shape) (nn.Shape, error) {
	l.t, l.d = in[0][0], in[0][1]
	l.tab = make([]float32, l.t*l.d)
	for i, v := range posTable(l.t, l.d) {
		l.tab[i] = float32(v)
	}
	return in[0].Clone(), nil
}
func (l *posEncoding) Weights() []*nn.Param  { return nil }
func (l *posEncoding) Prepare() error        { return nil }
func (l *posEncoding) ScratchSize(n int) int { return 0 }
func (l *posEncoding) Forward(out []float32, ins [][]float32, n int, _ []float32) {
	for i := range out[:n*l.t*l.d] {
		out[i] = ins[0][i] + l.tab[i%(l.t*l.d)]
	}
}

// posTable is the sinusoidal table in float64.
func posTable(t, d int) []float64 {
	tab := make([]float64, t*d)
	for p := 0; p < t; p++ {
		for i := 0; i < d; i++ {
			a := float64(p) / math.Pow(10000, float64(2*(i/2))/float64(d))
			if i%2 == 0 {
				tab[p*d+i] = math.Sin(a)
			} else {
				tab[p*d+i] = math.Cos(a)
			}
		}
	}
	return tab
}

// TestRealWorldEpidemicTransformer: the Keras 3.6 epidemic-transformer
// fixture (PositionalEncoding -> MultiHeadAttention with 2 heads of 128 on
// 30 steps of 7 features -> LayerNormalization/Dense head) matches the
// float64 evaluation of its config within 1e-5 + 1e-5*|ref|, its user
// layer supplied by a test-local builder. No Keras outputs come with it.
func TestRealWorldEpidemicTransformer(t *testing.T) {
	path := filepath.Join("..", "kerasfile", "testdata", "survey", "epidemic-transformer", "transformer_model_optimized.keras")
	f, err := kerasfile.ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := kerasconfig.Default()
	b["PositionalEncoding"] = func(c *kerasconfig.LayerConfig) (nn.Layer, error) {
		return &posEncoding{name: c.Name()}, nil
	}
	m, _, err := kerasconfig.Parse(f.Config, kerasconfig.Options{KerasVersion: f.KerasVersion, Builders: b})
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
	const n = 16
	r := rand.New(rand.NewPCG(30, 7))
	x := make([]float32, n*30*7)
	xt := ref64.New(n, 30, 7)
	for i := range x {
		x[i] = float32(r.Float64())
		xt.Data[i] = float64(x[i])
	}
	got, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	// The reference adds the table in float64 after rounding it to float32,
	// as the layer's cast does, then evaluates the rest of the config.
	tab := posTable(30, 7)
	for i := range xt.Data {
		xt.Data[i] += float64(float32(tab[i%len(tab)]))
	}
	cfg, err := withoutLayer(f.Config, "positional_encoding_7")
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	want, err := evalModel(cfg, xt, func(layer, name string, shape []int) ref64.Tensor {
		w := f.Weights[k]
		k++
		tt := ref64.New(shape...)
		if len(w.Data) != len(tt.Data) {
			t.Fatalf("weight %d %s %s: %v, want %v", k-1, layer, name, w.Shape, shape)
		}
		for i, v := range w.Data {
			tt.Data[i] = float64(v)
		}
		return tt
	})
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, w := range want.Data {
		worst = math.Max(worst, math.Abs(float64(got[i])-w)/(absTol+relTol*math.Abs(w)))
	}
	if !(worst <= 1) {
		t.Errorf("worst err/tol %.3g", worst)
	}
	t.Logf("%d windows, worst err/tol %.3g", n, worst)
}
