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

// Parse a config alone to see what a model needs before any weights exist.
func ExampleParseConfig() {
	config := []byte(`{"class_name": "Sequential", "config": {"name": "tiny", "layers": [
		{"class_name": "InputLayer", "config": {"batch_shape": [null, 12, 2], "name": "in"}},
		{"class_name": "LSTM", "config": {"name": "lstm", "units": 4}},
		{"class_name": "Dense", "config": {"name": "dense", "units": 1}}]}}`)
	m, info, err := weights.ParseConfig(config, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Dialect, "keras3:", info.Keras3)
	for i, w := range m.Weights() {
		fmt.Printf("weights/%03d.npy  %s %s %s\n", i, w.Layer, w.Name, weights.FormatShape(w.Shape))
	}
	// Output:
	// keras3 keras3: true
	// weights/000.npy  lstm kernel (2, 16)
	// weights/001.npy  lstm recurrent_kernel (4, 16)
	// weights/002.npy  lstm bias (16,)
	// weights/003.npy  dense kernel (4, 1)
	// weights/004.npy  dense bias (1,)
}
