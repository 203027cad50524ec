package nn

// SimpleRNN is keras.layers.SimpleRNN. Weights: kernel (in, u),
// recurrent_kernel (u, u), bias (u) when UseBias. The cell, with h
// starting at zero:
//
//	h = act(x·kernel + h·recurrent_kernel + bias)
//
// GoBackwards, ReturnSequences, ZeroOutputForMask and masks behave as for
// LSTM, and it runs inside Bidirectional like LSTM and GRU.
type SimpleRNN struct {
	LayerName         string
	Units             int
	ReturnSequences   bool
	GoBackwards       bool
	UseBias           bool
	Activation        Activation // Keras default tanh
	ZeroOutputForMask bool
	// Stateful records Keras's stateful=True. seqcast computes every call
	// from a zero state, which is what Keras computes for a freshly loaded
	// model or after reset_states(); the batch size is not fixed.
	Stateful bool

	rnnCore
}

// Class returns "SimpleRNN".
func (l *SimpleRNN) Class() string { return "SimpleRNN" }

// Name is the Keras layer name.
func (l *SimpleRNN) Name() string { return l.LayerName }

func (l *SimpleRNN) config() (int, bool, bool) { return l.Units, l.ReturnSequences, l.GoBackwards }

func (l *SimpleRNN) setZeroOutput(z bool) { l.ZeroOutputForMask = z }

// Build checks the (T, F) input and returns (Units) or (T, Units).
func (l *SimpleRNN) Build(in []Shape) (Shape, error) {
	var bias Shape
	if l.UseBias {
		bias = Shape{l.Units}
	}
	return l.buildCore(l, in, l.Units, 1, l.ReturnSequences, bias)
}

// Weights returns kernel, recurrent_kernel and (with UseBias) bias.
func (l *SimpleRNN) Weights() []*Param { return l.params }

// Prepare packs the weights into padded panels.
func (l *SimpleRNN) Prepare() error {
	if err := l.prepareCore(l, l.Units); err != nil {
		return err
	}
	l.bi = make([]float32, l.g)
	if l.UseBias {
		l.bi = l.pad(l.params[2].Value, 1, l.Units)
	}
	l.actKind = kindOf(l.Activation)
	return nil
}

// ScratchSize is the chunk's pre-activations and its h state.
func (l *SimpleRNN) ScratchSize(n int) int {
	nb := min(n, rnnChunk)
	return nb*l.steps*l.g + nb*l.up
}

// Forward runs the layer on n samples.
func (l *SimpleRNN) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	l.run(out, l.Units, 0, false, ins[0], nil, n, scratch)
}

// ForwardMasked runs the layer on n samples with a mask (n*T values, 1
// kept, 0 masked): masked steps keep the previous state.
func (l *SimpleRNN) ForwardMasked(out []float32, ins [][]float32, mask []float32, n int, scratch []float32) {
	l.run(out, l.Units, 0, false, ins[0], mask, n, scratch)
}

func (l *SimpleRNN) run(dst []float32, ldo, off int, revOut bool, x, mask []float32, n int, scratch []float32) {
	l.runChunks(l, l.ReturnSequences, dst, ldo, off, revOut, x, mask, n, scratch)
}

// chunk runs nb <= rnnChunk samples.
func (l *SimpleRNN) chunk(dst []float32, ldo, off int, revOut bool, x, mask []float32, nb int, scratch []float32) {
	T, g, up, u := l.steps, l.g, l.up, l.Units
	z := scratch[:nb*T*g]
	hs := scratch[nb*T*g:][:nb*up]
	l.project(z, x, nb)
	clear(hs)
	for s := 0; s < T; s++ {
		t := s
		if l.GoBackwards {
			t = T - 1 - s
		}
		if s > 0 { // h is zero before the first step
			gemmAcc(nb, g, u, hs, up, l.u, z[t*g:], T*g)
		}
		p := s
		if revOut {
			p = T - 1 - s
		}
		for b := 0; b < nb; b++ {
			h := hs[b*up:][:u]
			masked := l.masked(mask, b, t)
			if !masked {
				zr := z[(b*T+t)*g:][:u]
				applyAct(l.Activation, l.actKind, zr)
				copy(h, zr)
			}
			if l.ReturnSequences {
				emitStep(dst[(b*T+p)*ldo+off:][:u], h, masked, l.ZeroOutputForMask)
			}
		}
	}
	if !l.ReturnSequences {
		last := l.lastStep(l.GoBackwards)
		for b := 0; b < nb; b++ {
			emitStep(dst[b*ldo+off:][:u], hs[b*up:][:u], l.masked(mask, b, last), l.ZeroOutputForMask)
		}
	}
}
