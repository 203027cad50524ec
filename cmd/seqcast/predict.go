package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
//
// A model with several inputs takes one --input per model input, in the
// model's order, or a single .npz holding one array per input, keyed by the
// input layer's name (numpy.savez(f, prices=..., weather=...)). A model
// with several outputs writes one --output per model output, in order, or a
// single .npz keyed by the output layer's name. Every array has the same N.
func runPredict(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "bundle directory (model.json, weights/, optional manifest.json), or a Keras .h5 or .keras file")
	var inputs, outputs fileList
	fs.Var(&inputs, "input", "input .npy of shape (N, ...model input), float32 or float64; - for stdin.\n"+
		"Repeat once per model input, in order, or give one .npz keyed by input name")
	fs.Var(&outputs, "output", "output .npy, float32 (N, ...model output); - for stdout.\n"+
		"Repeat once per model output, in order, or give one .npz (keyed by output name)")
	batch := fs.Int("batch", 256, "samples per forward pass")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: seqcast predict --model DIR|MODEL.h5|MODEL.keras --input X.npy [--input X2.npy ...] --output Y.npy [--output Y2.npy ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *model == "" || len(inputs) == 0 || len(outputs) == 0 || fs.NArg() > 0 || *batch < 1 {
		fmt.Fprintln(stderr, "seqcast predict: --model, --input and --output are required (and --batch must be positive)")
		fs.Usage()
		return 2
	}
	if err := predict(*model, inputs, outputs, *batch, stdout); err != nil {
		fmt.Fprintf(stderr, "seqcast predict: %v\n", err)
		return 1
	}
	return 0
}

// fileList is a repeatable file flag.
type fileList []string

func (l *fileList) String() string { return strings.Join(*l, ",") }

func (l *fileList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// isNPZ reports whether a file name is an .npz archive.
func isNPZ(name string) bool { return strings.EqualFold(filepath.Ext(name), ".npz") }

func predict(model string, inputs, outputs []string, batch int, stdout io.Writer) error {
	_, b, err := loadSource(model, bundle.KerasOptions{})
	if err != nil {
		return err
	}
	m := b.Model
	inNames, outNames := ioNames(b)
	ins, outs := m.InputShapes(), m.OutputShapes()
	xs, sources, err := readInputs(inputs, inNames, ins)
	if err != nil {
		return err
	}
	n := -1
	for j, in := range ins {
		x, shape := xs[j].data, xs[j].shape
		if len(shape) != len(in)+1 || !nn.Shape(shape[1:]).Equal(in) {
			what := ""
			if len(ins) > 1 {
				what = fmt.Sprintf(" (model input %d, %q)", j, inNames[j])
			}
			return fmt.Errorf("input %s%s has shape %s; the model wants (N, %s)", sources[j], what,
				weights.FormatShape(shape), strings.Trim(weights.FormatShape(in), "(),"))
		}
		if n >= 0 && shape[0] != n {
			return fmt.Errorf("input %s has %d samples and input %s %d: every input needs the same N", sources[j], shape[0], sources[0], n)
		}
		n = shape[0]
		if i := weights.CheckFinite(x); i >= 0 {
			return fmt.Errorf("input %s: value %d is %v", sources[j], i, x[i])
		}
	}
	if err := checkOutputs(outputs, outNames); err != nil {
		return err
	}
	ys := make([][]float32, len(outs))
	for j, out := range outs {
		ys[j] = make([]float32, n*out.Size())
	}
	xk, yk := make([][]float32, len(ins)), make([][]float32, len(outs))
	for lo := 0; lo < n; lo += batch { // n == 0 writes empty (0, ...) arrays
		k := min(batch, n-lo)
		for j, in := range ins {
			xk[j] = xs[j].data[lo*in.Size() : (lo+k)*in.Size()]
		}
		for j, out := range outs {
			yk[j] = ys[j][lo*out.Size() : (lo+k)*out.Size()]
		}
		if err := m.ForwardMulti(yk, xk, k); err != nil {
			return err
		}
	}
	arrays := make([]namedArray, len(outs))
	for j, out := range outs {
		arrays[j] = namedArray{name: outNames[j], data: ys[j], shape: append([]int{n}, out...)}
	}
	if len(outputs) == 1 && isNPZ(outputs[0]) {
		return writeNPZ(outputs[0], arrays)
	}
	for j, a := range arrays {
		if err := writeOutput(outputs[j], a.data, a.shape, stdout); err != nil {
			return err
		}
	}
	return nil
}

// ioNames names the model's inputs and outputs as Keras does: the input and
// output layers' names (a Sequential model's input layer, and its last
// layer).
func ioNames(b *weights.Bundle) (in, out []string) {
	in, out = b.Info.InputNames, b.Info.OutputNames
	if len(in) == 0 {
		in = []string{b.Info.InputName}
	}
	if len(out) == 0 {
		nodes := b.Model.Nodes()
		out = []string{nodes[len(nodes)-1].Layer.Name()}
	}
	return in, out
}

// namedArray is one array of an .npz, or of one of several .npy files.
type namedArray struct {
	name  string
	data  []float32
	shape []int
}

// readInputs reads one array per model input: one .npy (or stdin) per
// --input, in order, or a single .npz keyed by input name. It returns the
// arrays and where each came from, for errors.
func readInputs(files, names []string, ins []nn.Shape) ([]namedArray, []string, error) {
	if len(files) == 1 && isNPZ(files[0]) {
		arrays, err := readNPZ(files[0], names)
		if err != nil {
			return nil, nil, err
		}
		sources := make([]string, len(arrays))
		for j, a := range arrays {
			sources[j] = fmt.Sprintf("%s[%q]", files[0], a.name)
		}
		return arrays, sources, nil
	}
	if len(files) != len(ins) {
		return nil, nil, fmt.Errorf("the model has %d input(s), %s, and %d --input were given: give one .npy per input, in this order, or one .npz keyed by input name",
			len(ins), describeIO(names, ins), len(files))
	}
	stdin := 0
	arrays := make([]namedArray, len(files))
	for j, name := range files {
		if name == "-" {
			if stdin++; stdin > 1 {
				return nil, nil, errors.New("--input - (stdin) may be given once")
			}
		} else if isNPZ(name) {
			return nil, nil, fmt.Errorf("input %s: an .npz holds every input and is given alone", name)
		}
		x, shape, err := readInput(name)
		if err != nil {
			return nil, nil, err
		}
		arrays[j] = namedArray{name: names[j], data: x, shape: shape}
	}
	return arrays, files, nil
}

// describeIO lists names with their per-sample shapes: "prices (N, 8, 2), weather (N, 5, 3)".
func describeIO(names []string, shapes []nn.Shape) string {
	parts := make([]string, len(shapes))
	for j, s := range shapes {
		parts[j] = fmt.Sprintf("%s (N, %s)", names[j], strings.Trim(weights.FormatShape(s), "(),"))
	}
	return strings.Join(parts, ", ")
}

// checkOutputs checks the --output files against the model's outputs before
// any work is done.
func checkOutputs(files, names []string) error {
	if len(files) == 1 && isNPZ(files[0]) {
		for j, name := range names {
			if slices.Contains(names[:j], name) {
				return fmt.Errorf("output %s: two model outputs are named %q: give one .npy per output instead", files[0], name)
			}
		}
		return nil
	}
	if len(files) != len(names) {
		return fmt.Errorf("the model has %d output(s), %s, and %d --output were given: give one .npy per output, in this order, or one .npz",
			len(names), strings.Join(names, ", "), len(files))
	}
	stdout := 0
	for _, f := range files {
		if f == "-" {
			if stdout++; stdout > 1 {
				return errors.New("--output - (stdout) may be given once")
			}
		} else if isNPZ(f) {
			return fmt.Errorf("output %s: an .npz holds every output and is given alone", f)
		}
	}
	return nil
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

// writeOutput writes the .npy atomically (writeAtomic), or to stdout for "-".
func writeOutput(name string, y []float32, shape []int, stdout io.Writer) error {
	if name == "-" {
		return weights.WriteNPY(stdout, y, shape)
	}
	return writeAtomic(name, func(w io.Writer) error { return weights.WriteNPY(w, y, shape) })
}

// writeAtomic writes a file through write: to a temporary file beside the
// target, renamed into place once complete.
func writeAtomic(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".seqcast-predict-*"+filepath.Ext(name))
	if err != nil {
		return err
	}
	werr := write(tmp)
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
