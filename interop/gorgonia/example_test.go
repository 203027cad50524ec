package gorgonia_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/seqcast/seqcast/interop/gorgonia"
	"github.com/seqcast/seqcast/nn"
)

// A model that sums the two features of each of its 3 time steps, run on a
// batch of two windows held in a gorgonia tensor. In a real program the model
// comes from a bundle (package weights).
func ExamplePredict() {
	m, err := nn.NewSequential("sum", nn.Shape{3, 2},
		&nn.Dense{LayerName: "dense", Units: 1},
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.SetWeights([][]float32{{1, 1}}); err != nil {
		log.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(2, 3, 2), tensor.WithBacking([]float64{
		1, 2, 3, 4, 5, 6,
		0, 1, 0, 2, 0, 3,
	}))
	y, err := gorgonia.Predict(m, x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(y.Shape(), y.Dtype(), y.Data())

	_, err = gorgonia.Predict(m, tensor.New(tensor.WithShape(3, 2), tensor.WithBacking(make([]float32, 6))))
	fmt.Println(err)
	// Output:
	// (2, 3, 1) float32 [3 7 11 1 2 3]
	// gorgonia: model "sum": input shape (3, 2): want (N, 3, 2)
}
