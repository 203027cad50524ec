package weights_test

import (
	"fmt"
	"log"
	"os"

	"github.com/seqcast/seqcast/weights"
)

// Load a bundle and run its model on a batch of windows.
func ExampleLoad() {
	b, err := weights.Load("../testdata/bench/gold")
	if err != nil {
		log.Fatal(err)
	}
	m := b.Model
	fmt.Println("Keras", b.KerasVersion, "params", m.ParamCount())
	fmt.Println("input", m.InputShape(), "output", m.OutputShape())

	f, err := os.Open("../testdata/bench/gold/input.npy")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	x, shape, err := weights.ReadNPY(f)
	if err != nil {
		log.Fatal(err)
	}
	y, err := m.Predict(x, shape[0])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d windows -> %d forecasts\n", shape[0], len(y))
	// Output:
	// Keras 2.15.0 params 108577
	// input (None, 60, 1) output (None, 1)
	// 64 windows -> 64 forecasts
}
