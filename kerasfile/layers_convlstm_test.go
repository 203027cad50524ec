package kerasfile_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/kerasfile"
)

// writeGoldenFiles writes the ConvLSTM and subsequence CNN-LSTM goldens as
// Keras files (tools/tests/keras_layouts.py write_golden_files) into a
// temporary directory. A missing /usr/bin/python3 or h5py is a failure.
func writeGoldenFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	const script = `import sys; sys.path[:0] = ["../tools", "../tools/tests"]
import keras_layouts as kl
kl.write_golden_files(sys.argv[1], "../parity/testdata/golden")`
	if out, err := exec.Command(python, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("%s keras_layouts.write_golden_files: %v\n%s\n(needs /usr/bin/python3 with numpy and h5py: apt-get install python3-h5py)", python, err, out)
	}
	return dir
}

// TestConvLSTMFiles: the ConvLSTM2D and ConvLSTM1D tutorial goldens, and
// the subsequence CNN-LSTM ones, in the layouts Keras 2 .h5, Keras 2.13
// .keras, Keras 3 legacy .h5 and Keras 3 .keras give them, read as their weights in get_weights()
// order; without the ConvLSTM entries the table refuses them by class.
func TestConvLSTMFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("-short runs no Python")
	}
	dir := writeGoldenFiles(t)
	cases := []struct {
		file  string
		class string // the ConvLSTM class, "" for the CNN-LSTM
		names []string
		shape []int // the first weight's
	}{
		{"convlstm2d_tutorial_k2_12.h5", "ConvLSTM2D", []string{"conv_lst_m2d/kernel:0", "conv_lst_m2d/recurrent_kernel:0", "conv_lst_m2d/bias:0", "dense/kernel:0", "dense/bias:0"}, []int{1, 2, 1, 256}},
		{"convlstm2d_tutorial_k3.h5", "ConvLSTM2D", []string{"sequential/conv_lst_m2d/conv_lstm_cell/kernel", "sequential/conv_lst_m2d/conv_lstm_cell/recurrent_kernel", "sequential/conv_lst_m2d/conv_lstm_cell/bias", "sequential/dense/kernel", "sequential/dense/bias"}, []int{1, 2, 1, 256}},
		{"convlstm2d_tutorial_k3.keras", "ConvLSTM2D", []string{"layers/conv_lstm2d/cell/vars/0", "layers/conv_lstm2d/cell/vars/1", "layers/conv_lstm2d/cell/vars/2", "layers/dense/vars/0", "layers/dense/vars/1"}, []int{1, 2, 1, 256}},
		// Keras 2.13-2.15 key the class with Keras 2's snake_case, conv_lst_m2d
		// (the layers are renamed my_*: they are mapped by class).
		{"convlstm2d_tutorial_k2_13.keras", "ConvLSTM2D", []string{"_layer_checkpoint_dependencies/conv_lst_m2d/cell/vars/0", "_layer_checkpoint_dependencies/conv_lst_m2d/cell/vars/1", "_layer_checkpoint_dependencies/conv_lst_m2d/cell/vars/2", "_layer_checkpoint_dependencies/dense/vars/0", "_layer_checkpoint_dependencies/dense/vars/1"}, []int{1, 2, 1, 256}},
		{"convlstm1d_tutorial_k2_12.h5", "ConvLSTM1D", []string{"conv_lst_m1d/kernel:0", "conv_lst_m1d/recurrent_kernel:0", "conv_lst_m1d/bias:0", "dense/kernel:0", "dense/bias:0"}, []int{2, 1, 256}},
		{"convlstm1d_tutorial_k3.keras", "ConvLSTM1D", []string{"layers/conv_lstm1d/cell/vars/0", "layers/conv_lstm1d/cell/vars/1", "layers/conv_lstm1d/cell/vars/2", "layers/dense/vars/0", "layers/dense/vars/1"}, []int{2, 1, 256}},
		{"timedistributed_cnn_lstm_k2_12.h5", "", []string{"time_distributed/kernel:0", "time_distributed/bias:0", "lstm/lstm_cell/kernel:0", "lstm/lstm_cell/recurrent_kernel:0", "lstm/lstm_cell/bias:0", "dense/kernel:0", "dense/bias:0"}, []int{2, 2, 4}},
		{"timedistributed_cnn_lstm_k2_13.keras", "", []string{"_layer_checkpoint_dependencies/time_distributed/layer/vars/0", "_layer_checkpoint_dependencies/time_distributed/layer/vars/1",
			"_layer_checkpoint_dependencies/lstm/cell/vars/0", "_layer_checkpoint_dependencies/lstm/cell/vars/1", "_layer_checkpoint_dependencies/lstm/cell/vars/2",
			"_layer_checkpoint_dependencies/dense/vars/0", "_layer_checkpoint_dependencies/dense/vars/1"}, []int{2, 2, 4}},
		{"timedistributed_cnn_lstm_k3.keras", "", []string{"layers/time_distributed/layer/vars/0", "layers/time_distributed/layer/vars/1",
			"layers/bidirectional/forward_layer/cell/vars/0", "layers/bidirectional/forward_layer/cell/vars/1", "layers/bidirectional/forward_layer/cell/vars/2",
			"layers/bidirectional/backward_layer/cell/vars/0", "layers/bidirectional/backward_layer/cell/vars/1", "layers/bidirectional/backward_layer/cell/vars/2",
			"layers/time_distributed_2/layer/vars/0", "layers/time_distributed_2/layer/vars/1"}, []int{2, 2, 3}},
		{"timedistributed_cnn_lstm_k3.h5", "", []string{"sequential/time_distributed/conv1d/kernel", "sequential/time_distributed/conv1d/bias",
			"sequential/bidirectional/forward_lstm/lstm_cell/kernel", "sequential/bidirectional/forward_lstm/lstm_cell/recurrent_kernel", "sequential/bidirectional/forward_lstm/lstm_cell/bias",
			"sequential/bidirectional/backward_lstm/lstm_cell/kernel", "sequential/bidirectional/backward_lstm/lstm_cell/recurrent_kernel", "sequential/bidirectional/backward_lstm/lstm_cell/bias",
			"sequential/time_distributed_2/dense/kernel", "sequential/time_distributed_2/dense/bias"}, []int{2, 2, 3}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			m, err := kerasfile.ReadFile(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range m.Weights {
				got = append(got, w.Name)
			}
			if !slices.Equal(got, c.names) {
				t.Fatalf("weights\n%q\nwant\n%q", got, c.names)
			}
			if s := m.Weights[0].Shape; !slices.Equal(s, c.shape) {
				t.Errorf("first weight's shape %v, want %v", s, c.shape)
			}
			if c.class == "" {
				return
			}
			table := kerasfile.DefaultLayers()
			delete(table, c.class)
			_, err = kerasfile.ReadFile(path, &kerasfile.Options{Layers: table})
			var ue *kerasfile.UnsupportedClassError
			if !errors.As(err, &ue) || ue.Class != c.class {
				t.Fatalf("without a %s entry: %v, want an UnsupportedClassError naming it", c.class, err)
			}
		})
	}
}

// TestConvLSTMMissingBias: a .keras whose ConvLSTM2D (use_bias true) has
// no bias in its cell/vars is refused, naming the layer and the count.
func TestConvLSTMMissingBias(t *testing.T) {
	if testing.Short() {
		t.Skip("-short runs no Python")
	}
	dir := t.TempDir()
	const script = `import sys; sys.path[:0] = ["../tools", "../tools/tests"]
import keras_layouts as kl
c, v, l = kl.golden_model("../parity/testdata/golden/convlstm2d_tutorial_k3")
def drop(f):
    del f["layers/conv_lstm2d/cell/vars/2"]
kl.write_golden_keras3_zip(sys.argv[1], c, v, l, mutate=drop)`
	path := filepath.Join(dir, "nobias.keras")
	if out, err := exec.Command(python, "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, err := kerasfile.ReadFile(path, nil)
	var ke *kerasfile.Error
	if !errors.As(err, &ke) || ke.Layer != "conv_lst_m2d" || ke.Class != "ConvLSTM2D" || !strings.Contains(err.Error(), "3 weight arrays, file has 2") {
		t.Fatalf("got %v, want a *kerasfile.Error naming layer conv_lst_m2d (ConvLSTM2D) and 3 arrays for 2", err)
	}
	t.Log(err)
}
