package nn

import (
	"fmt"
	"strings"
)

// Shape is a per-sample tensor shape: the batch dimension is excluded.
type Shape []int

// Size is the number of elements in one sample.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether two shapes are identical.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// String formats the shape as Keras prints it, with the batch dimension as None.
func (s Shape) String() string {
	parts := make([]string, 0, len(s)+1)
	parts = append(parts, "None")
	for _, d := range s {
		parts = append(parts, fmt.Sprint(d))
	}
	if len(s) == 0 {
		return "(None,)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Param is one weight array of a layer, described by the layer after Build
// and filled by whoever loads the model. Value is row-major in Keras's layout
// and must hold exactly Shape.Size() values.
type Param struct {
	Name  string // Keras weight name: "kernel", "recurrent_kernel", "bias", "gamma", ...
	Shape Shape  // Keras's shape of the array, e.g. (in, 4*units) for an LSTM kernel
	Value []float32
}

// Layer is one Keras layer at inference time.
//
// The life of a layer: a loader fills its exported configuration fields;
// Build validates them against the per-sample input shapes and returns the
// output shape; Weights then lists the arrays the layer needs, in Keras's
// get_weights() order, and the loader fills their Value; Prepare checks the
// values and precomputes whatever layout Forward wants. From then on the
// layer is immutable and Forward may be called from many goroutines at once.
type Layer interface {
	// Name is the layer's Keras name (for example "bidirectional_1").
	Name() string
	// Class is the Keras class name (for example "Bidirectional").
	Class() string
	// Build checks the configuration against the input shapes (one per
	// inbound tensor) and returns the output shape. Errors name the layer,
	// the option and its value. Build is called exactly once.
	Build(in []Shape) (Shape, error)
	// Weights lists the layer's parameters in Keras's get_weights() order
	// (valid after Build). A layer without weights returns nil.
	Weights() []*Param
	// Prepare is called once after every Param's Value is set.
	Prepare() error
	// ScratchSize is how many float32s of scratch Forward needs for a batch
	// of n samples.
	ScratchSize(n int) int
	// Forward computes the output of n samples. ins[i] holds n samples of the
	// i-th input shape; out has room for n samples of the output shape;
	// scratch has at least ScratchSize(n) elements with arbitrary contents.
	// Forward must not allocate and must not keep any slice it is given.
	Forward(out []float32, ins [][]float32, n int, scratch []float32)
}

// base carries what every layer has: its Keras name.
type base struct{ name string }

func (b base) Name() string { return b.name }

// errorf builds an error that names the layer, the way every loader error reads:
// `layer "lstm_1" (LSTM): ...`.
func errorf(l Layer, format string, args ...any) error {
	return fmt.Errorf("layer %q (%s): %s", l.Name(), l.Class(), fmt.Sprintf(format, args...))
}

// wantInputs checks the number of inbound tensors.
func wantInputs(l Layer, in []Shape, n int) error {
	if len(in) != n {
		return errorf(l, "want %d input(s), got %d", n, len(in))
	}
	return nil
}

// checkParams verifies that every Param holds exactly as many values as its
// shape needs; layers call it first in Prepare.
func checkParams(l Layer) error {
	for _, p := range l.Weights() {
		if len(p.Value) != p.Shape.Size() {
			return errorf(l, "%s: want %d values for shape %v, got %d", p.Name, p.Shape.Size(), []int(p.Shape), len(p.Value))
		}
	}
	return nil
}

// ParamCount is the number of scalar parameters of a built layer, as Keras's
// summary counts them (non-trainable ones included).
func ParamCount(l Layer) int {
	n := 0
	for _, p := range l.Weights() {
		n += p.Shape.Size()
	}
	return n
}
