package nn

// MergeOp selects what a Merge layer does with its inputs.
type MergeOp int

const (
	Concatenate MergeOp = iota
	Add
	Subtract // exactly two inputs: first - second
	Multiply
	Average
	Maximum // element-wise maximum of the inputs
	Minimum // element-wise minimum of the inputs
)

// Merge is keras.layers.Concatenate / Add / Subtract / Multiply / Average /
// Maximum / Minimum.
// Concatenate joins along Axis (negative counts from the end, Keras's default
// -1; the batch axis is not countable); the others need equal shapes.
//
// Axis uses Keras's numbering, in which the batch axis is 0: Axis -1 is the
// last axis and a positive Axis a is per-sample axis a-1 (Axis 1 is the first
// per-sample axis, so for (T, F) inputs Axis 1 joins along time and Axis 2 or
// -1 along features). Axis 0 (the batch) is rejected. No broadcasting: the
// element-wise ops need identical shapes, and Concatenate identical shapes
// except along Axis.
type Merge struct {
	LayerName string
	Op        MergeOp
	Axis      int

	size  int   // per-sample output size
	outer int   // Concatenate: per-sample product of the dims before the axis
	inner []int // Concatenate: per input, product of its dims from the axis on
}

// Class returns "Concatenate", "Add", "Subtract", "Multiply", "Average",
// "Maximum" or "Minimum".
func (l *Merge) Class() string {
	if l.Op < Concatenate || l.Op > Minimum {
		return "Merge"
	}
	return [...]string{"Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}[l.Op]
}

// Name returns the Keras layer name.
func (l *Merge) Name() string { return l.LayerName }

// Build checks the inputs' count and shapes.
func (l *Merge) Build(in []Shape) (Shape, error) {
	if l.Op < Concatenate || l.Op > Minimum {
		return nil, errorf(l, "unknown merge op %d", l.Op)
	}
	if l.Op == Subtract {
		if err := wantInputs(l, in, 2); err != nil {
			return nil, err
		}
	} else if len(in) < 1 {
		return nil, errorf(l, "want at least 1 input, got 0")
	}
	if l.Op == Concatenate {
		return l.buildConcat(in)
	}
	for i, s := range in[1:] {
		if !s.Equal(in[0]) {
			return nil, errorf(l, "input %d has shape %v, input 0 has %v: shapes must match", i+1, s, in[0])
		}
	}
	l.size = in[0].Size()
	return in[0].Clone(), nil
}

func (l *Merge) buildConcat(in []Shape) (Shape, error) {
	r := len(in[0])
	if r == 0 {
		return nil, errorf(l, "input 0 has shape %v: cannot concatenate scalars", in[0])
	}
	ax := l.Axis
	switch {
	case ax < 0 && ax >= -r:
		ax += r
	case ax >= 1 && ax <= r:
		ax--
	default:
		return nil, errorf(l, "axis: %d is out of range for inputs of shape %v (want -%d..-1 or 1..%d)", l.Axis, in[0], r, r)
	}
	out := in[0].Clone()
	out[ax] = 0
	l.inner = make([]int, len(in))
	for i, s := range in {
		if len(s) != r {
			return nil, errorf(l, "input %d has shape %v, input 0 has %v: ranks differ", i, s, in[0])
		}
		for d := range s {
			if d != ax && s[d] != in[0][d] {
				return nil, errorf(l, "input %d has shape %v, input 0 has %v: shapes must match except on axis %d", i, s, in[0], l.Axis)
			}
		}
		out[ax] += s[ax]
		l.inner[i] = s[ax:].Size()
	}
	l.outer = in[0][:ax].Size()
	l.size = out.Size()
	return out, nil
}

// Weights returns nil: merge layers have no weights.
func (l *Merge) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Merge) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Merge) ScratchSize(n int) int { return 0 }

// Forward computes n samples.
func (l *Merge) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	total := n * l.size
	out = out[:total]
	switch l.Op {
	case Concatenate:
		off := 0
		for o := 0; o < n*l.outer; o++ {
			for i, w := range l.inner {
				copy(out[off:off+w], ins[i][o*w:(o+1)*w])
				off += w
			}
		}
	case Add, Average:
		copy(out, ins[0][:total])
		for _, x := range ins[1:] {
			for j, v := range x[:total] {
				out[j] += v
			}
		}
		if l.Op == Average {
			k := float32(len(ins))
			for j := range out {
				out[j] /= k
			}
		}
	case Subtract:
		a, b := ins[0][:total], ins[1][:total]
		for j := range out {
			out[j] = a[j] - b[j]
		}
	case Multiply:
		copy(out, ins[0][:total])
		for _, x := range ins[1:] {
			for j, v := range x[:total] {
				out[j] *= v
			}
		}
	case Maximum:
		copy(out, ins[0][:total])
		for _, x := range ins[1:] {
			for j, v := range x[:total] {
				out[j] = max(out[j], v)
			}
		}
	case Minimum:
		copy(out, ins[0][:total])
		for _, x := range ins[1:] {
			for j, v := range x[:total] {
				out[j] = min(out[j], v)
			}
		}
	}
}
