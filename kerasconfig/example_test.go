package kerasconfig_test

import (
	"fmt"
	"log"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/nn"
)

// Parse a config alone to see what a model needs before any weights exist.
func ExampleParse() {
	config := []byte(`{"class_name": "Sequential", "config": {"name": "tiny", "layers": [
		{"class_name": "InputLayer", "config": {"batch_shape": [null, 12, 2], "name": "in"}},
		{"class_name": "LSTM", "config": {"name": "lstm", "units": 4}},
		{"class_name": "Dense", "config": {"name": "dense", "units": 1}}]}}`)
	m, info, err := kerasconfig.Parse(config, kerasconfig.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Dialect, "keras3:", info.Keras3)
	for i, w := range m.Weights() {
		fmt.Printf("weights/%03d.npy  %s %s %v\n", i, w.Layer, w.Name, []int(w.Shape))
	}
	// Output:
	// keras3 keras3: true
	// weights/000.npy  lstm kernel [2 16]
	// weights/001.npy  lstm recurrent_kernel [4 16]
	// weights/002.npy  lstm bias [16]
	// weights/003.npy  dense kernel [4 1]
	// weights/004.npy  dense bias [1]
}

// A program adds a class to its own copy of the table and passes it to
// Parse; nothing global changes. Here a Lambda layer, whose Python code
// seqcast cannot run, is built as the identity its author knows it is.
func ExampleBuilders() {
	config := []byte(`{"class_name": "Sequential", "config": {"name": "m", "layers": [
		{"class_name": "InputLayer", "config": {"batch_shape": [null, 12, 2], "name": "in"}},
		{"class_name": "Lambda", "config": {"name": "lambda", "function": "identity"}},
		{"class_name": "Dense", "config": {"name": "dense", "units": 1}}]}}`)

	_, _, err := kerasconfig.Parse(config, kerasconfig.Options{File: "model.json"})
	fmt.Println(err != nil)

	builders := kerasconfig.Default()
	builders["Lambda"] = func(c *kerasconfig.LayerConfig) (nn.Layer, error) {
		if _, err := c.Str("function", ""); err != nil {
			return nil, err
		}
		return &nn.Identity{LayerName: c.Name(), ClassName: c.Class()}, nil
	}
	m, _, err := kerasconfig.Parse(config, kerasconfig.Options{File: "model.json", Builders: builders})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Nodes()[0].Layer.Class(), m.OutputShape())
	// Output:
	// true
	// Lambda (None, 12, 1)
}
