package kerasfile_test

import (
	"errors"
	"fmt"

	"github.com/seqcast/seqcast/kerasfile"
)

// Read the gold forecaster from a Keras 2.15 .keras archive.
func Example() {
	m, err := kerasfile.ReadFile("testdata/gold/gold.keras", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Format, m.KerasVersion, len(m.Weights))
	for _, w := range m.Weights[:4] {
		fmt.Println(w.Layer, w.Class, w.Name, w.Shape)
	}
	// Output:
	// keras-2.13 2.15.0 18
	// conv1d Conv1D _layer_checkpoint_dependencies/conv1d/vars/0 [3 1 64]
	// conv1d Conv1D _layer_checkpoint_dependencies/conv1d/vars/1 [64]
	// bidirectional Bidirectional _layer_checkpoint_dependencies/bidirectional/forward_layer/cell/vars/0 [64 256]
	// bidirectional Bidirectional _layer_checkpoint_dependencies/bidirectional/forward_layer/cell/vars/1 [64 256]
}

// A layer class of your own: tell the reader its weights, in get_weights()
// order, through a table passed in Options.
func ExampleTable() {
	t := kerasfile.DefaultLayers()
	t["ScaleShift"] = kerasfile.LayerSpec{
		Weights: func(config map[string]any, _ kerasfile.Table) ([]string, error) {
			return []string{"scale", "shift"}, nil
		},
	}
	delete(t, "TCN") // a table may also leave a class out: its weights are then unknown
	_, err := kerasfile.ReadFile("testdata/survey/tcn-stock/tcn_model.keras", &kerasfile.Options{Layers: t})
	var ue *kerasfile.UnsupportedClassError
	if errors.As(err, &ue) {
		fmt.Println(ue.Layer, ue.Class)
	}
	// Output:
	// tcn TCN
}
