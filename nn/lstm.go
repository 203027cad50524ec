package nn

// LSTM is keras.layers.LSTM (stateful=false, return_state=false). Weights:
// kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u) when UseBias; gate
// column blocks in Keras's order i, f, c, o. With GoBackwards the input is
// read from the last step to the first, and with ReturnSequences the outputs
// stay in processing order (reversed time), as Keras returns them.
//
// The cell, for ra = RecurrentActivation and act = Activation:
//
//	z = x·kernel + h·recurrent_kernel + bias
//	i, f, o = ra(z_i), ra(z_f), ra(z_o)
//	c = f*c + i*act(z_c);  h = o*act(c)
//
// with h and c starting at zero.
type LSTM struct {
	LayerName           string
	Units               int
	ReturnSequences     bool
	GoBackwards         bool
	UseBias             bool
	Activation          Activation // Keras default tanh
	RecurrentActivation Activation // Keras default sigmoid
	// ZeroOutputForMask: with a mask and ReturnSequences, masked steps
	// output zeros instead of the previous output (Keras's
	// zero_output_for_mask; Bidirectional sets it to ReturnSequences).
	ZeroOutputForMask bool
	// Stateful records Keras's stateful=True. seqcast computes every call
	// from a zero state, which is what Keras computes for a freshly loaded
	// model or after reset_states(); the batch size is not fixed.
	Stateful bool

	rnnCore
	ur []float32 // recurrent kernel in rows (packRows) for lstmStep, with AVX-512
	us []float32 // the same for lstmSeqR (packSeqRows), when seqKernel
}

// Class returns "LSTM".
func (l *LSTM) Class() string { return "LSTM" }

// Name is the Keras layer name.
func (l *LSTM) Name() string { return l.LayerName }

func (l *LSTM) config() (int, bool, bool) { return l.Units, l.ReturnSequences, l.GoBackwards }

func (l *LSTM) setZeroOutput(z bool) { l.ZeroOutputForMask = z }

// Build checks the (T, F) input and returns (Units) or (T, Units).
func (l *LSTM) Build(in []Shape) (Shape, error) {
	var bias Shape
	if l.UseBias {
		bias = Shape{4 * l.Units}
	}
	return l.buildCore(l, in, l.Units, 4, l.ReturnSequences, bias)
}

// Weights returns kernel, recurrent_kernel and (with UseBias) bias.
func (l *LSTM) Weights() []*Param { return l.params }

// Prepare packs the weights into padded gate blocks.
func (l *LSTM) Prepare() error {
	if err := l.prepareCore(l, l.Units); err != nil {
		return err
	}
	l.bi = make([]float32, l.g)
	if l.UseBias {
		l.bi = l.pad(l.params[2].Value, 1, l.Units)
	}
	l.setSkipZero()
	l.raKind, l.actKind = kindOf(l.RecurrentActivation), kindOf(l.Activation)
	l.ur, l.us = nil, nil
	if haveAVX512 && l.fastGates() {
		p := l.pad(l.params[1].Value, l.Units, l.Units)
		l.ur = packRows(p, l.Units, l.up)
		if l.Units == l.up && l.up <= 64 {
			l.us = packSeqRows(p, l.Units, l.up)
		}
	}
	return nil
}

// ScratchSize is the chunk's pre-activations plus its h and c states.
// A lone sample with sigmoid/tanh runs step by step (lstmSeq), or in one
// kernel call (runSeq).
func (l *LSTM) ScratchSize(n int) int {
	nb := min(n, rnnChunk)
	s := nb*l.steps*l.g + 2*nb*l.up
	if l.fastGates() {
		s = max(s, l.seqScratch())
	}
	return s
}

// Forward runs the layer on n samples.
func (l *LSTM) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	l.run(out, l.Units, 0, false, ins[0], nil, n, scratch)
}

// ForwardMasked runs the layer on n samples with a mask (n*T values, 1
// kept, 0 masked): masked steps keep the previous state.
func (l *LSTM) ForwardMasked(out []float32, ins [][]float32, mask []float32, n int, scratch []float32) {
	l.run(out, l.Units, 0, false, ins[0], mask, n, scratch)
}

func (l *LSTM) run(dst []float32, ldo, off int, revOut bool, x, mask []float32, n int, scratch []float32) {
	l.runChunks(l, l.ReturnSequences, dst, ldo, off, revOut, x, mask, n, scratch)
}

// chunk runs nb <= rnnChunk samples.
func (l *LSTM) chunk(dst []float32, ldo, off int, revOut bool, x, mask []float32, nb int, scratch []float32) {
	if nb == 1 && mask == nil && l.seqKernel() {
		l.runSeq(dst, ldo, off, revOut, x, scratch)
		return
	}
	if nb == 1 && l.fastGates() {
		s := l.newSeq(dst, ldo, off, revOut, x, scratch)
		for i := 0; i < l.steps; i++ {
			if t := s.time(i); l.masked(mask, 0, t) {
				s.skip(i)
			} else {
				s.step(i)
			}
		}
		s.finish()
		if !l.ReturnSequences && l.ZeroOutputForMask && l.masked(mask, 0, l.lastStep(l.GoBackwards)) {
			clear(dst[off:][:l.Units])
		}
		return
	}
	T, g, up, u := l.steps, l.g, l.up, l.Units
	z := scratch[:nb*T*g]
	hs := scratch[nb*T*g:][:nb*up]
	cs := scratch[nb*T*g+nb*up:][:nb*up]
	l.project(z, x, nb)
	clear(hs)
	clear(cs)
	fast := l.fastGates()
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
			zr := z[(b*T+t)*g:][:g]
			c := cs[b*up:][:up]
			h := hs[b*up:][:up]
			if l.masked(mask, b, t) {
				if l.ReturnSequences {
					emitStep(dst[(b*T+p)*ldo+off:][:u], h[:u], true, l.ZeroOutputForMask)
				}
				continue
			}
			if fast {
				lstmGatesFast(zr, c, h, up)
			} else {
				l.gates(zr, c, h)
			}
			if l.ReturnSequences {
				copy(dst[(b*T+p)*ldo+off:][:u], h[:u])
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

// gates is the cell update for arbitrary activations; z is overwritten.
func (l *LSTM) gates(z, c, h []float32) {
	u, up := l.Units, l.up
	lstmCell(z[:u], z[up:up+u], z[2*up:2*up+u], z[3*up:3*up+u], c[:u], h,
		l.Activation, l.actKind, l.RecurrentActivation, l.raKind)
}

// lstmCell is Keras's LSTM cell update from the gate pre-activations zi, zf,
// zc, zo (len(c) each, overwritten): c = f*c + i*g, h = o*act(c). LSTM and
// ConvLSTM2D share it.
func lstmCell(zi, zf, zc, zo, c, h []float32, act Activation, ak actKind, rec Activation, rk actKind) {
	applyAct(rec, rk, zi)
	applyAct(rec, rk, zf)
	applyAct(act, ak, zc)
	applyAct(rec, rk, zo)
	for j := range c {
		cj := zf[j]*c[j] + zi[j]*zc[j]
		c[j] = cj
		zc[j] = cj
	}
	applyAct(act, ak, zc)
	for j := range c {
		h[j] = zo[j] * zc[j]
	}
}

// time is the input step that processing step i reads.
func (s *lstmSeq) time(i int) int {
	if s.l.GoBackwards {
		return s.l.steps - 1 - i
	}
	return i
}

// skip is processing step i when it is masked: the state stays, and with
// return_sequences the step outputs the previous output (or zeros).
func (s *lstmSeq) skip(i int) {
	l := s.l
	if !l.ReturnSequences {
		return
	}
	p := i
	if s.rev {
		p = l.steps - 1 - i
	}
	emitStep(s.dst[p*s.ldo+s.off:][:l.Units], s.h[:l.Units], true, l.ZeroOutputForMask)
}
