package nn

import (
	"fmt"
	"math"
)

// Rescaling is keras.layers.Rescaling: x*Scale + Offset, in float32.
type Rescaling struct {
	LayerName     string
	Scale, Offset float32

	size int
}

// Class returns "Rescaling".
func (l *Rescaling) Class() string { return "Rescaling" }

// Name returns the Keras layer name.
func (l *Rescaling) Name() string { return l.LayerName }

// Build takes one input of any shape.
func (l *Rescaling) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	l.size = in[0].Size()
	return in[0].Clone(), nil
}

// Weights returns nil: Rescaling has no weights.
func (l *Rescaling) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Rescaling) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Rescaling) ScratchSize(n int) int { return 0 }

// Forward computes n samples.
func (l *Rescaling) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0][:n*l.size]
	for i, v := range x {
		out[i] = float32(v*l.Scale) + l.Offset // no fused multiply-add: Keras rounds the product
	}
}

// normEpsilon is Keras's backend.epsilon(), the floor of the standard
// deviation Normalization divides by.
const normEpsilon = 1e-7

// Normalization is keras.layers.Normalization:
// (x - mean) / max(sqrt(variance), 1e-7), or with Invert
// mean + x * max(sqrt(variance), 1e-7).
//
// Axes are the kept axes, in Keras's numbering (batch = 0, negative from
// the end): the mean and variance have one value per position over them
// (their shape is the input's dims on those axes, in axis order) and are
// broadcast over the others. Empty Axes is Keras's axis=None: one mean and
// one variance for every element.
//
// The statistics come from the config (Mean and Variance, row-major, of
// shape StatsShape, broadcast against the kept dims aligned from the right
// as Keras does) or, when Mean is nil, from the layer's weights as adapt()
// left them: mean, variance and count (count is unused).
type Normalization struct {
	LayerName      string
	Axes           []int
	Mean, Variance []float64
	StatsShape     []int
	Invert         bool

	size                  int
	keep                  Shape // the kept dims, in axis order
	group                 []int // per element of a sample: its statistics' index
	mean, variance, count Param
	mu, sd                []float32 // per kept position: mean and max(sqrt(variance), eps)
}

// Class returns "Normalization".
func (l *Normalization) Class() string { return "Normalization" }

// Name returns the Keras layer name.
func (l *Normalization) Name() string { return l.LayerName }

// Build resolves the axes and, for statistics from the config, broadcasts them.
func (l *Normalization) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	shapeErr := func(reason string) error {
		return &ShapeError{Layer: l.LayerName, Class: l.Class(), Shape: s.Clone(), Reason: reason}
	}
	kept := make([]bool, len(s))
	for _, a := range l.Axes {
		p := kerasAxis(a, len(s))
		if p < 0 {
			return nil, shapeErr(axisReason("axis", a, len(s)))
		}
		kept[p] = true
	}
	reduce := make([]bool, len(s))
	l.keep = nil
	for d := range s {
		reduce[d] = !kept[d]
		if kept[d] {
			l.keep = append(l.keep, s[d])
		}
	}
	l.size = s.Size()
	l.group, _ = groupIndex(s, reduce)
	k := l.keep.Size()
	if l.Mean == nil {
		l.mean = Param{Name: "mean", Shape: l.keep.Clone()}
		l.variance = Param{Name: "variance", Shape: l.keep.Clone()}
		l.count = Param{Name: "count", Shape: Shape{}}
		return s.Clone(), nil
	}
	st := Shape(l.StatsShape)
	if len(l.Mean) != st.Size() || len(l.Variance) != st.Size() {
		return nil, errorf(l, "mean and variance: want %d values each for shape %v, got %d and %d", st.Size(), l.StatsShape, len(l.Mean), len(l.Variance))
	}
	if len(st) > len(l.keep) {
		return nil, shapeErr(fmt.Sprintf("mean of shape %v has more axes than the %d kept (axis %v)", l.StatsShape, len(l.keep), l.Axes))
	}
	off := len(l.keep) - len(st)
	for i, d := range st {
		if d != 1 && d != l.keep[off+i] {
			return nil, shapeErr(fmt.Sprintf("mean of shape %v does not broadcast to the kept dims %v", l.StatsShape, []int(l.keep)))
		}
	}
	mu, va := make([]float32, k), make([]float32, k)
	coord := make([]int, len(l.keep))
	for j := range k {
		src := 0
		for i, d := range st {
			c := coord[off+i]
			if d == 1 {
				c = 0
			}
			src = src*d + c
		}
		mu[j], va[j] = float32(l.Mean[src]), float32(l.Variance[src])
		for d := len(coord) - 1; d >= 0; d-- {
			if coord[d]++; coord[d] < l.keep[d] {
				break
			}
			coord[d] = 0
		}
	}
	l.mu, l.sd = mu, va
	return s.Clone(), nil
}

// Weights lists mean, variance and count when the statistics are weights
// (Mean is nil), else nil.
func (l *Normalization) Weights() []*Param {
	if l.Mean != nil {
		return nil
	}
	return []*Param{&l.mean, &l.variance, &l.count}
}

// Prepare takes the statistics and computes the standard deviations.
func (l *Normalization) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	if l.Mean == nil {
		l.mu = append([]float32(nil), l.mean.Value...)
		l.sd = append([]float32(nil), l.variance.Value...)
	}
	for i, v := range l.sd {
		if v < 0 || math.IsNaN(float64(v)) {
			return errorf(l, "variance %d is %g: want a value >= 0", i, v)
		}
		l.sd[i] = max(float32(math.Sqrt(float64(v))), normEpsilon)
	}
	return nil
}

// ScratchSize is 0.
func (l *Normalization) ScratchSize(n int) int { return 0 }

// Forward computes n samples.
func (l *Normalization) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	for s := 0; s < n; s++ {
		x := ins[0][s*l.size : (s+1)*l.size]
		o := out[s*l.size : (s+1)*l.size]
		if l.Invert {
			for e, v := range x {
				g := l.group[e]
				o[e] = l.mu[g] + float32(v*l.sd[g])
			}
			continue
		}
		for e, v := range x {
			g := l.group[e]
			o[e] = (v - l.mu[g]) / l.sd[g]
		}
	}
}
