package nn

import "math"

// Softmax is keras.layers.Softmax: exp(x - max) / sum(exp(x - max)) over
// Axes, taken together when there are several (Keras computes
// exp(x - logsumexp(x, axes)) then, which is the same function). Axes uses
// Keras's numbering (batch = 0, negative from the end); empty means -1.
// A mask is refused (Keras 3 adds -1e9 at masked positions; seqcast does
// not pass a mask to this layer).
type Softmax struct {
	LayerName string
	Axes      []int

	size   int
	groups int   // number of independent softmaxes per sample
	group  []int // per element of a sample: its softmax's index
}

// Class returns "Softmax".
func (l *Softmax) Class() string { return "Softmax" }

// Name returns the Keras layer name.
func (l *Softmax) Name() string { return l.LayerName }

// Build resolves the axes.
func (l *Softmax) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	axes := l.Axes
	if len(axes) == 0 {
		axes = []int{-1}
	}
	reduce := make([]bool, len(s))
	for _, a := range axes {
		p := kerasAxis(a, len(s))
		if p < 0 {
			return nil, &ShapeError{Layer: l.LayerName, Class: l.Class(), Shape: s.Clone(), Reason: axisReason("axis", a, len(s))}
		}
		reduce[p] = true
	}
	l.size = s.Size()
	l.group, l.groups = groupIndex(s, reduce)
	return s.Clone(), nil
}

// groupIndex maps each element of a sample of shape s to the index of its
// position over the axes not in reduce (row-major over those axes), and
// returns how many such positions there are.
func groupIndex(s Shape, reduce []bool) ([]int, int) {
	idx := make([]int, s.Size())
	coord := make([]int, len(s))
	groups := 1
	for d := range s {
		if !reduce[d] {
			groups *= s[d]
		}
	}
	for e := range idx {
		g := 0
		for d := range s {
			if !reduce[d] {
				g = g*s[d] + coord[d]
			}
		}
		idx[e] = g
		for d := len(s) - 1; d >= 0; d-- {
			if coord[d]++; coord[d] < s[d] {
				break
			}
			coord[d] = 0
		}
	}
	return idx, groups
}

// Weights returns nil: Softmax has no weights.
func (l *Softmax) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Softmax) Prepare() error { return nil }

// ScratchSize is each softmax's maximum and sum.
func (l *Softmax) ScratchSize(n int) int { return 2 * l.groups }

// Forward computes n samples.
func (l *Softmax) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	mx, sum := scratch[:l.groups], scratch[l.groups:2*l.groups]
	for s := 0; s < n; s++ {
		x := ins[0][s*l.size : (s+1)*l.size]
		o := out[s*l.size : (s+1)*l.size]
		for g := range mx {
			mx[g] = float32(math.Inf(-1))
		}
		clear(sum)
		for e, v := range x {
			g := l.group[e]
			mx[g] = max(mx[g], v)
		}
		for e, v := range x {
			g := l.group[e]
			ev := float32(math.Exp(float64(v - mx[g])))
			o[e] = ev
			sum[g] += ev
		}
		for e := range o {
			o[e] /= sum[l.group[e]]
		}
	}
}
