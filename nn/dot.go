package nn

import "math"

// Dot is keras.layers.Dot: the dot product of two inputs' samples along one
// axis of each, as Keras's batch_dot computes it. The output holds the first
// input's remaining axes followed by the second's, in order; when both
// inputs are vectors (no axis remains) it is Shape{1}, as Keras expands it.
//
// Axes uses Keras's numbering, in which the batch axis is 0: Axes[0] is the
// first input's axis and Axes[1] the second's; a negative axis counts from
// the end (-1 is the last axis). The batch axis cannot be contracted.
//
// With Normalize each input is first divided by its L2 norm along its axis,
// the norm floored at NormEpsilon (Keras 2's tf.linalg.l2_normalize floors
// the squared norm at 1e-12, so 1e-6; Keras 3's ops.normalize floors the
// norm at backend.epsilon(), 1e-7). A zero NormEpsilon means 1e-7.
type Dot struct {
	LayerName   string
	Axes        [2]int
	Normalize   bool
	NormEpsilon float32

	k            int    // length of the contracted axis
	outer, inner [2]int // per input: product of the dims before / after the axis
	in           [2]int // per input: per-sample size
	size         int    // per-sample output size
}

// Class returns "Dot".
func (l *Dot) Class() string { return "Dot" }

// Name returns the Keras layer name.
func (l *Dot) Name() string { return l.LayerName }

// Build resolves the axes against the two input shapes.
func (l *Dot) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 2); err != nil {
		return nil, err
	}
	var out Shape
	for i, s := range in {
		r := len(s) + 1 // Keras's rank, with the batch axis
		a := l.Axes[i]
		if a < 0 {
			a += r
		}
		if a <= 0 || a >= r {
			return nil, &ShapeError{Layer: l.LayerName, Class: l.Class(), Input: i, Shape: s.Clone(),
				Reason: axisReason("axes", l.Axes[i], len(s))}
		}
		p := a - 1
		if i == 1 && s[p] != l.k {
			return nil, &ShapeError{Layer: l.LayerName, Class: l.Class(), Input: 1, Shape: s.Clone(),
				Reason: "its axis " + itoa(l.Axes[1]) + " has " + itoa(s[p]) + " elements, the first input's axis " + itoa(l.Axes[0]) + " has " + itoa(l.k) + ": they must match"}
		}
		l.k = s[p]
		l.outer[i], l.inner[i], l.in[i] = s[:p].Size(), s[p+1:].Size(), s.Size()
		out = append(append(out, s[:p]...), s[p+1:]...)
	}
	if len(out) == 0 {
		out = Shape{1}
	}
	l.size = out.Size()
	return out, nil
}

// Weights returns nil: Dot has no weights.
func (l *Dot) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Dot) Prepare() error { return nil }

// ScratchSize is room for the normalized inputs when Normalize is set.
func (l *Dot) ScratchSize(n int) int {
	if !l.Normalize {
		return 0
	}
	return l.in[0] + l.in[1]
}

// Forward computes n samples.
func (l *Dot) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	for s := 0; s < n; s++ {
		x := ins[0][s*l.in[0] : (s+1)*l.in[0]]
		y := ins[1][s*l.in[1] : (s+1)*l.in[1]]
		if l.Normalize {
			nx, ny := scratch[:l.in[0]], scratch[l.in[0]:l.in[0]+l.in[1]]
			l.l2(nx, x, 0)
			l.l2(ny, y, 1)
			x, y = nx, ny
		}
		l.product(out[s*l.size:(s+1)*l.size], x, y)
	}
}

// product writes one sample's dot products, a matrix product per block:
// the output's rows are the first input's remaining positions (o0, i0),
// its columns the second's (o1, i1). An input whose axis is its last
// (inner 1) is one k-column matrix over all its positions; otherwise each
// of its outer positions is a k-row block.
func (l *Dot) product(o, x, y []float32) {
	k, rb := l.k, l.outer[1]*l.inner[1]
	clear(o)
	rowGroups, m, transA, lda, aStride := l.outer[0], l.inner[0], true, l.inner[0], k*l.inner[0]
	if l.inner[0] == 1 {
		rowGroups, m, transA, lda, aStride = 1, l.outer[0], false, k, 0
	}
	colGroups, n, transB, ldb, bStride := l.outer[1], l.inner[1], false, l.inner[1], k*l.inner[1]
	if l.inner[1] == 1 {
		colGroups, n, transB, ldb, bStride = 1, l.outer[1], true, k, 0
	}
	for g0 := range rowGroups {
		for g1 := range colGroups {
			gemm(transA, transB, m, n, k, x[g0*aStride:], lda, y[g1*bStride:], ldb, o[g0*m*rb+g1*n:], rb)
		}
	}
}

// l2 writes src divided by its L2 norm along input i's axis into dst.
func (l *Dot) l2(dst, src []float32, i int) {
	eps := l.NormEpsilon
	if eps == 0 {
		eps = 1e-7
	}
	k, inner := l.k, l.inner[i]
	for o := 0; o < l.outer[i]; o++ {
		for c := 0; c < inner; c++ {
			b := o*k*inner + c
			var ss float32
			for t := 0; t < k; t++ {
				v := src[b+t*inner]
				ss += v * v
			}
			norm := max(float32(math.Sqrt(float64(ss))), eps)
			for t := 0; t < k; t++ {
				dst[b+t*inner] = src[b+t*inner] / norm
			}
		}
	}
}
