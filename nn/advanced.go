package nn

import "math"

// ActivationLayer is keras.layers.Activation.
type ActivationLayer struct {
	LayerName  string
	Activation Activation

	size, last int
}

// ReLU is keras.layers.ReLU: x >= Threshold ? x : NegativeSlope*(x-Threshold),
// capped at MaxValue when HasMax.
//
// Precisely, as Keras computes it: the positive part is x when x >
// Threshold, else 0 (max(x, 0) when Threshold is 0), clipped to
// [0, MaxValue] when HasMax; NegativeSlope*max(Threshold-x, 0) is then
// subtracted.
type ReLU struct {
	LayerName     string
	MaxValue      float32
	HasMax        bool
	NegativeSlope float32
	Threshold     float32

	size int
}

// LeakyReLU is keras.layers.LeakyReLU (alpha in Keras 2, negative_slope in
// Keras 3; default 0.3): x > 0 ? x : Alpha*x. The loader fills the default;
// the zero value is a plain ReLU.
type LeakyReLU struct {
	LayerName string
	Alpha     float32

	size int
}

// ELU is keras.layers.ELU (alpha default 1): x > 0 ? x : Alpha*(exp(x)-1).
// The loader fills the default.
type ELU struct {
	LayerName string
	Alpha     float32

	size int
}

// PReLU is keras.layers.PReLU. Weight: alpha, of the input's per-sample shape
// with every axis in SharedAxes (1-based, as Keras numbers them with the
// batch axis as 0) set to 1. Forward: x > 0 ? x : alpha*x, alpha broadcast
// over the shared axes.
type PReLU struct {
	LayerName  string
	SharedAxes []int

	in     Shape
	alpha  *Param
	params []*Param
	full   []float32 // alpha broadcast to one whole sample, built by Prepare
}

// Class returns "Activation".
func (l *ActivationLayer) Class() string { return "Activation" }

// Name returns the Keras layer name.
func (l *ActivationLayer) Name() string { return l.LayerName }

// Build accepts any shape; softmax-like activations work on the last axis.
func (l *ActivationLayer) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	l.size, l.last = s.Size(), 1
	if len(s) > 0 {
		l.last = s[len(s)-1]
	}
	return s.Clone(), nil
}

// Weights returns nil.
func (l *ActivationLayer) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *ActivationLayer) Prepare() error { return nil }

// ScratchSize is 0.
func (l *ActivationLayer) ScratchSize(n int) int { return 0 }

// Forward copies the input and applies the activation in place.
func (l *ActivationLayer) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	out = out[:n*l.size]
	copy(out, ins[0][:n*l.size])
	l.Activation.Apply(out, l.last)
}

// Class returns "ReLU".
func (l *ReLU) Class() string { return "ReLU" }

// Name returns the Keras layer name.
func (l *ReLU) Name() string { return l.LayerName }

// Build checks the options.
func (l *ReLU) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	if l.HasMax && l.MaxValue < 0 {
		return nil, errorf(l, "max_value: must not be negative, got %g", l.MaxValue)
	}
	if l.NegativeSlope < 0 {
		return nil, errorf(l, "negative_slope: must not be negative, got %g", l.NegativeSlope)
	}
	l.size = in[0].Size()
	return in[0].Clone(), nil
}

// Weights returns nil.
func (l *ReLU) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *ReLU) Prepare() error { return nil }

// ScratchSize is 0.
func (l *ReLU) ScratchSize(n int) int { return 0 }

// Forward computes n samples.
func (l *ReLU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0][:n*l.size]
	out = out[:len(x)]
	thr, slope, mx := l.Threshold, l.NegativeSlope, l.MaxValue
	if thr == 0 && slope == 0 {
		// The common cases, branch-free.
		if l.HasMax {
			for i, v := range x {
				out[i] = min(max(v, 0), mx)
			}
		} else {
			for i, v := range x {
				out[i] = max(v, 0)
			}
		}
		return
	}
	for i, v := range x {
		var p float32
		if thr != 0 {
			if v > thr {
				p = v // may be negative when Threshold < x < 0, as in Keras
			}
		} else {
			p = max(v, 0)
		}
		if l.HasMax {
			p = min(max(p, 0), mx)
		}
		if slope != 0 && v < thr {
			p -= slope * (thr - v)
		}
		out[i] = p
	}
}

// Class returns "LeakyReLU".
func (l *LeakyReLU) Class() string { return "LeakyReLU" }

// Name returns the Keras layer name.
func (l *LeakyReLU) Name() string { return l.LayerName }

// Build accepts any shape.
func (l *LeakyReLU) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	l.size = in[0].Size()
	return in[0].Clone(), nil
}

// Weights returns nil.
func (l *LeakyReLU) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *LeakyReLU) Prepare() error { return nil }

// ScratchSize is 0.
func (l *LeakyReLU) ScratchSize(n int) int { return 0 }

// Forward computes n samples.
func (l *LeakyReLU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0][:n*l.size]
	out = out[:len(x)]
	alpha := l.Alpha
	for i, v := range x {
		out[i] = max(v, 0) + alpha*min(v, 0)
	}
}

// Class returns "ELU".
func (l *ELU) Class() string { return "ELU" }

// Name returns the Keras layer name.
func (l *ELU) Name() string { return l.LayerName }

// Build accepts any shape.
func (l *ELU) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	l.size = in[0].Size()
	return in[0].Clone(), nil
}

// Weights returns nil.
func (l *ELU) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *ELU) Prepare() error { return nil }

// ScratchSize is 0.
func (l *ELU) ScratchSize(n int) int { return 0 }

// Forward computes n samples (exp(x)-1 as float64 Expm1).
func (l *ELU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0][:n*l.size]
	out = out[:len(x)]
	a := float64(l.Alpha)
	for i, v := range x {
		if v > 0 {
			out[i] = v
		} else {
			out[i] = float32(a * math.Expm1(float64(v)))
		}
	}
}

// Class returns "PReLU".
func (l *PReLU) Class() string { return "PReLU" }

// Name returns the Keras layer name.
func (l *PReLU) Name() string { return l.LayerName }

// Build checks SharedAxes and describes alpha.
func (l *PReLU) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) == 0 {
		return nil, errorf(l, "input shape %v: want rank >= 1", s)
	}
	as := s.Clone()
	for _, ax := range l.SharedAxes {
		if ax < 1 || ax > len(s) {
			return nil, errorf(l, "shared_axes %v: axis %d out of range 1..%d for input shape %v", l.SharedAxes, ax, len(s), s)
		}
		as[ax-1] = 1
	}
	l.in = s.Clone()
	l.alpha = &Param{Name: "alpha", Shape: as}
	l.params = []*Param{l.alpha}
	return s.Clone(), nil
}

// Weights returns alpha.
func (l *PReLU) Weights() []*Param { return l.params }

// Prepare broadcasts alpha to the whole per-sample shape.
func (l *PReLU) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	as := l.alpha.Shape
	full := make([]float32, l.in.Size())
	idx := make([]int, len(l.in)) // multi-index into the input shape
	for i := range full {
		// alpha's flat index: shared axes contribute 0.
		k := 0
		for d, v := range idx {
			if as[d] == 1 {
				v = 0
			}
			k = k*as[d] + v
		}
		full[i] = l.alpha.Value[k]
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < l.in[d] {
				break
			}
			idx[d] = 0
		}
	}
	l.full = full
	return nil
}

// ScratchSize is 0.
func (l *PReLU) ScratchSize(n int) int { return 0 }

// Forward computes n samples.
func (l *PReLU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	size := len(l.full)
	for b := 0; b < n; b++ {
		x, o := ins[0][b*size:(b+1)*size], out[b*size:(b+1)*size]
		alpha := l.full[:len(x)]
		for i, v := range x {
			o[i] = max(v, 0) + alpha[i]*min(v, 0)
		}
	}
}
