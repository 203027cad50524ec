package nn

// Bidirectional is keras.layers.Bidirectional over an LSTM, a GRU or a SimpleRNN. ForwardLayer
// and BackwardLayer are two independent layers with their own weights (ForwardLayer's
// first in get_weights() order); BackwardLayer has GoBackwards set. MergeMode is
// "concat", "sum", "ave" or "mul" (Keras's merge_mode None, which returns two
// tensors, is not supported). With ReturnSequences the backward layer's
// outputs are put back in time order before merging; without, the backward
// output is its final state (after reading step 0).
type Bidirectional struct {
	LayerName     string
	ForwardLayer  Layer // *LSTM or *GRU
	BackwardLayer Layer // *LSTM or *GRU, same class and return_sequences as Forward
	MergeMode     string

	fwd, bwd recurrent
	outRows  int // T with return_sequences, else 1
	uf, ub   int // units of each direction
	params   []*Param
}

// Class returns "Bidirectional".
func (l *Bidirectional) Class() string { return "Bidirectional" }

// Name is the Keras layer name.
func (l *Bidirectional) Name() string { return l.LayerName }

// Build validates the pair of layers, builds both on the input and returns
// the merged output shape.
func (l *Bidirectional) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	if l.ForwardLayer == nil || l.BackwardLayer == nil {
		return nil, errorf(l, "needs both a forward and a backward layer")
	}
	f, ok := l.ForwardLayer.(recurrent)
	if !ok {
		return nil, errorf(l, "forward layer %q: class %s is not LSTM, GRU or SimpleRNN", l.ForwardLayer.Name(), l.ForwardLayer.Class())
	}
	b, ok := l.BackwardLayer.(recurrent)
	if !ok {
		return nil, errorf(l, "backward layer %q: class %s is not LSTM, GRU or SimpleRNN", l.BackwardLayer.Name(), l.BackwardLayer.Class())
	}
	if f.Class() != b.Class() {
		return nil, errorf(l, "forward layer %q is %s but backward layer %q is %s: both must be the same class",
			f.Name(), f.Class(), b.Name(), b.Class())
	}
	uf, fseq, fback := f.config()
	ub, bseq, bback := b.config()
	if fseq != bseq {
		return nil, errorf(l, "forward layer %q has return_sequences=%v but backward layer %q has %v",
			f.Name(), fseq, b.Name(), bseq)
	}
	if bback == fback {
		return nil, errorf(l, "backward layer %q has go_backwards=%v: want %v (the opposite of forward layer %q)",
			b.Name(), bback, !fback, f.Name())
	}
	switch l.MergeMode {
	case "concat", "sum", "ave", "mul":
	default:
		return nil, errorf(l, "merge_mode %q is not supported (want concat, sum, ave or mul; None, which returns two tensors, is not)", l.MergeMode)
	}
	if l.MergeMode != "concat" && uf != ub {
		return nil, errorf(l, "merge_mode %q needs equal units, got forward %d and backward %d", l.MergeMode, uf, ub)
	}
	fo, err := f.Build(in)
	if err != nil {
		return nil, err
	}
	if _, err := b.Build(in); err != nil {
		return nil, err
	}
	l.fwd, l.bwd, l.uf, l.ub = f, b, uf, ub
	// Keras forces zero_output_for_mask to return_sequences on both layers.
	f.setZeroOutput(fseq)
	b.setZeroOutput(fseq)
	l.outRows = 1
	if fseq {
		l.outRows = in[0][0]
	}
	l.params = append(append([]*Param(nil), f.Weights()...), b.Weights()...)
	out := fo.Clone()
	if l.MergeMode == "concat" {
		out[len(out)-1] = uf + ub
	}
	return out, nil
}

// Weights lists the forward layer's weights, then the backward layer's.
func (l *Bidirectional) Weights() []*Param { return l.params }

// Prepare prepares both layers.
func (l *Bidirectional) Prepare() error {
	if l.fwd == nil {
		return errorf(l, "Prepare before Build")
	}
	if err := l.fwd.Prepare(); err != nil {
		return err
	}
	return l.bwd.Prepare()
}

// ScratchSize is what the larger of the two layers needs, plus one chunk
// of backward outputs when they are not concatenated straight into the
// output.
func (l *Bidirectional) ScratchSize(n int) int {
	s := max(l.fwd.ScratchSize(n), l.bwd.ScratchSize(n))
	if l.MergeMode != "concat" {
		s += min(n, rnnChunk) * l.outRows * l.ub
	}
	return s
}

// Forward runs both directions and merges them, chunk by chunk so that a
// chunk's input is still in cache when the backward layer reads it.
func (l *Bidirectional) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	l.ForwardMasked(out, ins, nil, n, scratch)
}

// ForwardMasked is Forward with a mask (n*T values, 1 kept, 0 masked), which
// both directions read.
func (l *Bidirectional) ForwardMasked(out []float32, ins [][]float32, mask []float32, n int, scratch []float32) {
	x := ins[0]
	in := len(x) / n
	width := l.uf // output values per step
	if l.MergeMode == "concat" {
		width += l.ub
	}
	for b0 := 0; b0 < n; b0 += rnnChunk {
		nb := min(rnnChunk, n-b0)
		var m []float32
		if mask != nil {
			T := len(mask) / n
			m = mask[b0*T : (b0+nb)*T]
		}
		l.chunk(out[b0*l.outRows*width:], x[b0*in:(b0+nb)*in], m, nb, scratch)
	}
}

func (l *Bidirectional) chunk(out, x, mask []float32, nb int, scratch []float32) {
	rev := l.outRows > 1
	if l.MergeMode == "concat" {
		ld := l.uf + l.ub
		l.fwd.run(out, ld, 0, false, x, mask, nb, scratch)
		l.bwd.run(out, ld, l.uf, rev, x, mask, nb, scratch)
		return
	}
	size := nb * l.outRows * l.ub
	y := scratch[:size]
	out = out[:size]
	l.fwd.run(out, l.uf, 0, false, x, mask, nb, scratch[size:])
	l.bwd.run(y, l.ub, 0, rev, x, mask, nb, scratch[size:])
	switch l.MergeMode {
	case "sum":
		for i, v := range y {
			out[i] += v
		}
	case "ave":
		for i, v := range y {
			out[i] = (out[i] + v) / 2
		}
	case "mul":
		for i, v := range y {
			out[i] *= v
		}
	}
}
