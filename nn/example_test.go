package nn_test

import (
	"fmt"
	"log"

	"github.com/seqcast/seqcast/nn"
)

// A tiny forecaster built by hand: a causal convolution over 4 steps of one
// feature, global average pooling and a dense head. Weights are given in
// Keras's get_weights() order.
func Example() {
	relu, err := nn.NewActivation("relu", false)
	if err != nil {
		log.Fatal(err)
	}
	m, err := nn.NewSequential("tiny", nn.Shape{4, 1},
		&nn.Conv1D{LayerName: "conv1d", Filters: 2, KernelSize: 2, Padding: "causal", UseBias: true, Activation: relu},
		&nn.GlobalPooling1D{LayerName: "gap", Kind: nn.AvgPool},
		&nn.Dense{LayerName: "dense", Units: 1, UseBias: true},
	)
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range m.Weights() {
		fmt.Println(w.Layer, w.Name, []int(w.Shape))
	}
	err = m.SetWeights([][]float32{
		{0, 1, 1, -1}, // conv kernel (2, 1, 2): filter 0 = x[t], filter 1 = x[t-1] - x[t]
		{0, 0.5},      // conv bias
		{1, 2},        // dense kernel (2, 1)
		{0.25},        // dense bias
	})
	if err != nil {
		log.Fatal(err)
	}
	// Two windows: a rising and a falling series. Both average 2.5 in
	// filter 0; only the falling one drives filter 1 (relu(x[t-1]-x[t]+0.5)
	// averages 1.125), so the outputs are 2.5+0.25 and 2.5+2*1.125+0.25.
	y, err := m.Predict([]float32{1, 2, 3, 4, 4, 3, 2, 1}, 2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.ParamCount(), y)
	// Output:
	// conv1d kernel [2 1 2]
	// conv1d bias [2]
	// dense kernel [2 1]
	// dense bias [1]
	// 9 [2.75 5]
}
