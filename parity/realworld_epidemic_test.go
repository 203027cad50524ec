package parity

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/examples/positional"
	"github.com/seqcast/seqcast/internal/ref64"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/layers"
)

// TestRealWorldEpidemicTransformer: the Keras 3.6 epidemic-transformer
// fixture (PositionalEncoding -> MultiHeadAttention with 2 heads of 128 on
// 30 steps of 7 features -> LayerNormalization/Dense head) matches the
// float64 evaluation of its config within 1e-5 + 1e-5*|ref|, its user
// layer supplied by examples/positional through a layers.Set. No Keras outputs come with it.
func TestRealWorldEpidemicTransformer(t *testing.T) {
	f, m := rwKeras(t, filepath.Join(rwSurvey, "epidemic-transformer", "transformer_model_optimized.keras"), epidemicLayers.Builders())
	const n = 16
	x, xt := rwInput(30, n, 30, 7, (*rand.Rand).Float64)
	got, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	epidemicCompare(t, f, got, xt)
}

// epidemicLayers registers the author's PositionalEncoding: the layer of
// examples/positional, seqcast's example of a user's own layer.
var epidemicLayers = layers.Set{"PositionalEncoding": {Build: positional.Build}}

// epidemicCompare requires got within 1e-5 + 1e-5*|ref| of the float64
// reference on the windows xt.
func epidemicCompare(t *testing.T, f *kerasfile.Model, got []float32, xt ref64.Tensor) {
	t.Helper()
	// The reference adds the table, rounded to float32 as the layer's cast
	// does, in float64, then evaluates the rest of the config.
	tab := positional.Table(xt.Shape[1], xt.Shape[2])
	for i := range xt.Data {
		xt.Data[i] += float64(float32(tab[i%len(tab)]))
	}
	cfg, err := withoutLayer(f.Config, "positional_encoding_7")
	if err != nil {
		t.Fatal(err)
	}
	rwCompareRef(t, f, cfg, xt, got)
}

// TestRealWorldEpidemicExampleOutput: the outputs examples/positional's Example
// prints (rounded to 5 decimals) are those of the float64 reference on the
// same two windows, within 1e-5 + 1e-5*|ref| plus the rounding.
func TestRealWorldEpidemicExampleOutput(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "examples", "positional", "example_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, out, ok := strings.Cut(string(src), "// Output:\n")
	if !ok {
		t.Fatal("the Example has no Output")
	}
	var printed []float64
	for _, line := range strings.Split(out, "\n")[1:] { // after the shapes line
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "//")), 64)
		if err != nil {
			break
		}
		printed = append(printed, v)
	}
	// The Example's two windows, drawn the same way.
	const n, steps, d = 2, 30, 7
	xt := ref64.New(n, steps, d)
	for s := range n {
		for p := range steps {
			for f := range d {
				xt.Data[(s*steps+p)*d+f] = float64(float32(0.5 + 0.4*math.Sin(0.2*float64(p)+0.7*float64(f)+float64(s))))
			}
		}
	}
	if len(printed) != n {
		t.Fatalf("the Example prints %d outputs, want %d", len(printed), n)
	}
	// The rounding (at most 5e-6) must fit within the tolerance with the
	// model's own error.
	got := make([]float32, n)
	for i, v := range printed {
		got[i] = float32(v)
	}
	f, _ := rwKeras(t, filepath.Join(rwSurvey, "epidemic-transformer", "transformer_model_optimized.keras"), epidemicLayers.Builders())
	epidemicCompare(t, f, got, xt)
}
