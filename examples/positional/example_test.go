package positional_test

import (
	"fmt"
	"math"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/examples/positional"
	"github.com/seqcast/seqcast/layers"
	"github.com/seqcast/seqcast/weights"
)

// Load the epidemic transformer, whose first layer is the author's own
// PositionalEncoding, by registering that class in a layers.Set and
// passing the Set to the loaders; then forecast two windows. The outputs
// agree with an independent float64 evaluation of the model within
// 1e-5 (parity's TestRealWorldEpidemicExampleOutput checks the printed values).
func Example() {
	custom := layers.Set{
		// No weights: Build alone. A layer with weights also lists their
		// names in get_weights() order, e.g. Weights: []string{"kernel", "bias"}.
		"PositionalEncoding": {Build: positional.Build},
	}
	const file = "../../kerasfile/testdata/survey/epidemic-transformer/transformer_model_optimized.keras"
	b, err := bundle.FromKeras(file, bundle.KerasOptions{Layers: custom})
	if err != nil {
		fmt.Println(err)
		return
	}
	wb, err := weights.LoadFSWith(b.FS(), weights.LoadOptions{Layers: custom})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := wb.Model
	fmt.Println("input", m.InputShape(), "output", m.OutputShape())

	// Two windows of 30 days of 7 features.
	const n, t, d = 2, 30, 7
	x := make([]float32, n*t*d)
	for s := range n {
		for p := range t {
			for f := range d {
				x[(s*t+p)*d+f] = float32(0.5 + 0.4*math.Sin(0.2*float64(p)+0.7*float64(f)+float64(s)))
			}
		}
	}
	y, err := m.Predict(x, n)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range y {
		fmt.Printf("%.5f\n", v)
	}
	// Output:
	// input (None, 30, 7) output (None, 1)
	// 0.66562
	// 0.66844
}
