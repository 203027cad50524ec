package parity

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/seqcast/seqcast/kerasconfig"
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
	b := kerasconfig.Default()
	b["PositionalEncoding"] = func(c *kerasconfig.LayerConfig) (nn.Layer, error) {
		return &posEncoding{name: c.Name()}, nil
	}
	f, m := rwKeras(t, filepath.Join(rwSurvey, "epidemic-transformer", "transformer_model_optimized.keras"), b)
	const n = 16
	x, xt := rwInput(30, n, 30, 7, (*rand.Rand).Float64)
	got, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	// The reference adds the table, rounded to float32 as the layer's cast
	// does, in float64, then evaluates the rest of the config.
	tab := posTable(30, 7)
	for i := range xt.Data {
		xt.Data[i] += float64(float32(tab[i%len(tab)]))
	}
	cfg, err := withoutLayer(f.Config, "positional_encoding_7")
	if err != nil {
		t.Fatal(err)
	}
	rwCompareRef(t, f, cfg, xt, got)
}
