package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/nn"
	"github.com/seqcast/seqcast/weights"
)

// runPredict runs a model on a batch of windows, in the model's own
// (scaled) space:
//
//	seqcast predict --model DIR|MODEL.h5|MODEL.keras --input X.npy --output Y.npy
//
// A Keras file is read directly (bundle.FromKeras), as `seqcast import`
// would read it.
// X is (N, ...model input) float32 or float64; Y is written as float32
// (N, ...model output). "-" reads X from stdin or writes Y to stdout.
func runPredict(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "bundle directory (model.json, weights/, optional manifest.json), or a Keras .h5 or .keras file")
	input := fs.String("input", "", "input .npy of shape (N, ...model input), float32 or float64; - for stdin")
	output := fs.String("output", "", "output .npy, float32 (N, ...model output); - for stdout")
	batch := fs.Int("batch", 256, "samples per forward pass")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: seqcast predict --model DIR|MODEL.h5|MODEL.keras --input X.npy --output Y.npy")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *model == "" || *input == "" || *output == "" || fs.NArg() > 0 || *batch < 1 {
		fmt.Fprintln(stderr, "seqcast predict: --model, --input and --output are required (and --batch must be positive)")
		fs.Usage()
		return 2
	}
	if err := predict(*model, *input, *output, *batch, stdout); err != nil {
		fmt.Fprintf(stderr, "seqcast predict: %v\n", err)
		return 1
	}
	return 0
}

func predict(model, input, output string, batch int, stdout io.Writer) error {
	_, b, err := loadSource(model, bundle.KerasOptions{})
	if err != nil {
		return err
	}
	m := b.Model
	x, shape, err := readInput(input)
	if err != nil {
		return err
	}
	in := m.InputShape()
	if len(shape) != len(in)+1 || !nn.Shape(shape[1:]).Equal(in) {
		return fmt.Errorf("input %s has shape %s; the model wants (N, %s)", input,
			weights.FormatShape(shape), strings.Trim(weights.FormatShape(in), "(),"))
	}
	if i := weights.CheckFinite(x); i >= 0 {
		return fmt.Errorf("input %s: value %d is %v", input, i, x[i])
	}
	n := shape[0]
	outShape := m.OutputShape()
	y := make([]float32, n*outShape.Size())
	for lo := 0; lo < n; lo += batch { // n == 0 writes an empty (0, ...) array
		k := min(batch, n-lo)
		if err := m.Forward(y[lo*outShape.Size():(lo+k)*outShape.Size()], x[lo*in.Size():(lo+k)*in.Size()], k); err != nil {
			return err
		}
	}
	return writeOutput(output, y, append([]int{n}, outShape...), stdout)
}

func readInput(name string) ([]float32, []int, error) {
	if name == "-" {
		x, shape, err := weights.ReadNPY(os.Stdin)
		if err != nil {
			return nil, nil, fmt.Errorf("input (stdin): %w", err)
		}
		return x, shape, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	x, shape, err := weights.ReadNPY(f)
	if err != nil {
		return nil, nil, fmt.Errorf("input %s: %w", name, err)
	}
	return x, shape, nil
}

// writeOutput writes the .npy atomically: to a temporary file beside the
// target, renamed into place once complete.
func writeOutput(name string, y []float32, shape []int, stdout io.Writer) error {
	if name == "-" {
		return weights.WriteNPY(stdout, y, shape)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".seqcast-predict-*.npy")
	if err != nil {
		return err
	}
	werr := weights.WriteNPY(tmp, y, shape)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("output %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
