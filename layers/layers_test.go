package layers_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/layers"
	"github.com/seqcast/seqcast/nn"
	"github.com/seqcast/seqcast/weights"
)

// scale multiplies each feature by its weight gamma (shape (features,)):
// a custom layer with weights.
type scale struct {
	name  string
	t, f  int
	gamma nn.Param
}

func buildScale(c *kerasconfig.LayerConfig) (nn.Layer, error) { return &scale{name: c.Name()}, nil }

func (l *scale) Name() string  { return l.name }
func (l *scale) Class() string { return "Scale" }
func (l *scale) Build(in []nn.Shape) (nn.Shape, error) {
	l.t, l.f = in[0][0], in[0][1]
	l.gamma = nn.Param{Name: "gamma", Shape: nn.Shape{l.f}}
	return in[0].Clone(), nil
}
func (l *scale) Weights() []*nn.Param  { return []*nn.Param{&l.gamma} }
func (l *scale) Prepare() error        { return nil }
func (l *scale) ScratchSize(n int) int { return 0 }
func (l *scale) Forward(out []float32, ins [][]float32, n int, _ []float32) {
	for i := range out[:n*l.t*l.f] {
		out[i] = ins[0][i] * l.gamma.Value[i%l.f]
	}
}

// scaleH5 writes, with h5py, a Keras 2 .h5 of InputLayer (3, 2) -> Scale
// (gamma = [2, -1]): a class of the author's own, with weights.
const scaleH5 = `
import h5py, json, sys, numpy as np
cfg = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3, 2], "dtype": "float32", "name": "in"}},
    {"class_name": "Scale", "config": {"name": "scale", "trainable": True}}]}}
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["backend"] = "tensorflow"; f.attrs["keras_version"] = "2.4.0"; f.attrs["model_config"] = json.dumps(cfg)
    g = f.create_group("model_weights"); g.attrs["backend"] = "tensorflow"; g.attrs["keras_version"] = "2.4.0"
    g.attrs["layer_names"] = np.array([b"scale"])
    d = g.create_group("scale"); d.attrs["weight_names"] = np.array([b"scale/gamma:0"])
    d.create_group("scale").create_dataset("gamma:0", data=np.array([2, -1], np.float32))
`

// TestSetWeightedLayer: a custom class with weights loads from a .h5 when
// the Set names its weights, and computes with them; without an entry the
// file is refused naming the class, the supported list and package layers;
// an entry whose weight names differ from the file's is refused too.
func TestSetWeightedLayer(t *testing.T) {
	const python = "/usr/bin/python3"
	path := filepath.Join(t.TempDir(), "scale.h5")
	if out, err := exec.Command(python, "-c", scaleH5, path).CombinedOutput(); err != nil {
		t.Fatalf("%s with h5py is needed to write the file: %v\n%s", python, err, out)
	}
	load := func(set layers.Set) (*weights.Bundle, error) {
		b, err := bundle.FromKeras(path, bundle.KerasOptions{Layers: set})
		if err != nil {
			return nil, err
		}
		return weights.LoadFSWith(b.FS(), weights.LoadOptions{Layers: set})
	}

	wb, err := load(layers.Set{"Scale": {Build: buildScale, Weights: []string{"gamma"}}})
	if err != nil {
		t.Fatal(err)
	}
	y, err := wb.Model.Predict([]float32{1, 1, 2, 2, 3, 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, -1, 4, -2, 6, -3}; !slices.Equal(y, want) {
		t.Errorf("got %v, want %v", y, want)
	}

	for _, tc := range []struct {
		name string
		set  layers.Set
		want []string
	}{
		{"no entry", nil, []string{"class Scale", "(supported: Activation, ", "package github.com/seqcast/seqcast/layers"}},
		{"no weights named", layers.Set{"Scale": {Build: buildScale}}, []string{"scale", "Scale"}},
		{"other names", layers.Set{"Scale": {Build: buildScale, Weights: []string{"kernel"}}}, []string{"scale", "gamma"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.set)
			if err == nil {
				t.Fatal("loaded")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var ul *bundle.UnsupportedLayerError
			if tc.set == nil && (!errors.As(err, &ul) || ul.Class != "Scale") {
				t.Errorf("error %v: want a *bundle.UnsupportedLayerError for class Scale", err)
			}
		})
	}
}

// TestSetTables: a Set adds to fresh built-in tables without changing
// what Default returns, keys a registered name's kerasfile entry by its
// class, and a nil Set is the built-in tables.
func TestSetTables(t *testing.T) {
	set := layers.Set{
		"Custom>Scale":       {Build: buildScale, Weights: []string{"gamma"}},
		"PositionalEncoding": {Build: buildScale},
	}
	b := set.Builders()
	for _, c := range []string{"Custom>Scale", "PositionalEncoding", "Dense", "LSTM"} {
		if b[c] == nil {
			t.Errorf("Builders lacks %s", c)
		}
	}
	if d := kerasconfig.Default(); d["Custom>Scale"] != nil || len(d)+2 != len(b) {
		t.Errorf("Default has %d classes, the Set's table %d: want 2 more, Default unchanged", len(d), len(b))
	}
	tab := set.Table()
	names, ok, err := tab.WeightNames(map[string]any{"class_name": "Scale", "config": map[string]any{}})
	if !ok || err != nil || !slices.Equal(names, []string{"gamma"}) {
		t.Errorf("Table: Scale's weights %v %v %v, want [gamma]", names, ok, err)
	}
	if names, ok, _ := tab.WeightNames(map[string]any{"class_name": "PositionalEncoding"}); !ok || len(names) != 0 {
		t.Errorf("Table: PositionalEncoding's weights %v %v, want none", names, ok)
	}
	if len(kerasfile.DefaultLayers())+2 != len(tab) {
		t.Errorf("Table has %d classes, want DefaultLayers' %d + 2", len(tab), len(kerasfile.DefaultLayers()))
	}
	if got := set.Classes(); !slices.Equal(got, []string{"Custom>Scale", "PositionalEncoding"}) {
		t.Errorf("Classes %v", got)
	}
	var none layers.Set
	if !slices.Equal(none.Builders().Classes(), kerasconfig.Default().Classes()) {
		t.Error("a nil Set's Builders differ from Default")
	}
}
