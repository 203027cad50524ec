package nn

//go:generate go run asm_gen.go

// One sample at a time, an LSTM's recurrence is a chain of small steps: a
// GEMV of the previous output with the recurrent kernel, then the gate math,
// which the next GEMV waits for. lstmSeq runs that chain step by step with
// the fused kernel lstmStep, which keeps the gate sums in registers.
//
// Bidirectional runs its two directions one after the other. Alternating
// their steps (two independent dependency chains) was measured on the gold
// model and is no faster for its second layer (2 x 16 KiB of recurrent
// kernels, which fit in L1 together) and 22% slower for its first (2 x 64
// KiB: each direction evicts the other's kernel from L1 at every step).
// At 64 units the step is bound by streaming the 64 KiB kernel from L2;
// computing the backward projection in tiles between the forward steps
// (to use the idle FMA ports) was 7% slower too, its kernel evicting more of
// the recurrent one.

// lstmSeq is one sample going through an LSTM step by step.
type lstmSeq struct {
	l        *LSTM
	z        []float32 // T rows of g pre-activations: x·kernel + bias
	h, hn    []float32 // previous and next output (up values), swapped every step
	c        []float32 // cell state (up values)
	dst      []float32
	ldo, off int
	rev      bool
}

// seqScratch is the scratch an lstmSeq takes.
func (l *LSTM) seqScratch() int { return l.steps*l.g + 3*l.up }

// fastGates reports whether the cell has the sigmoid/tanh kernels (valid
// after Build).
func (l *LSTM) fastGates() bool {
	return kindOf(l.RecurrentActivation) == actSigmoid && kindOf(l.Activation) == actTanh
}

// newSeq projects one sample x and returns it ready for its first step;
// outputs go where run would put them (see recurrent.run).
func (l *LSTM) newSeq(dst []float32, ldo, off int, revOut bool, x []float32, scratch []float32) lstmSeq {
	T, g, up := l.steps, l.g, l.up
	s := lstmSeq{l: l, dst: dst, ldo: ldo, off: off, rev: revOut}
	s.z = scratch[:T*g]
	s.h = scratch[T*g:][:up]
	s.hn = scratch[T*g+up:][:up]
	s.c = scratch[T*g+2*up:][:up]
	l.project(s.z, x, 1)
	clear(s.h)
	clear(s.c)
	return s
}

// step runs processing step i (0, 1, ... in order).
func (s *lstmSeq) step(i int) {
	l := s.l
	T, u := l.steps, l.Units
	t := i
	if l.GoBackwards {
		t = T - 1 - i
	}
	k := u
	if i == 0 { // h is zero before the first step
		k = 0
	}
	lstmStep(k, s.h, l.u, s.z[t*l.g:][:l.g], s.c, s.hn, l.up)
	s.h, s.hn = s.hn, s.h
	if l.ReturnSequences {
		p := i
		if s.rev {
			p = T - 1 - i
		}
		copy(s.dst[p*s.ldo+s.off:][:u], s.h[:u])
	}
}

// finish writes the last output of a layer without return_sequences.
func (s *lstmSeq) finish() {
	if !s.l.ReturnSequences {
		copy(s.dst[s.off:][:s.l.Units], s.h[:s.l.Units])
	}
}

// lstmStep is one sigmoid/tanh LSTM step of one sample: with z the step's
// pre-activations (4*up values, i, f, c, o blocks), z += h[0:k]·U, then the
// cell update of lstmGatesFast from c into c and hn. U is the packed
// recurrent kernel (k rows); hn must not overlap h. z may be overwritten.
func lstmStep(k int, h, u, z, c, hn []float32, up int) {
	_ = z[4*up-1]
	_ = c[up-1]
	_ = hn[up-1]
	if k > 0 {
		_ = h[k-1]
		_ = u[k*4*up-1]
	}
	if !haveAVX512 {
		lstmStepSplit(k, h, u, z, c, hn, up)
		return
	}
	hp := &hn[0] // not read when k == 0
	if k > 0 {
		hp = &h[0]
	}
	ps := k * panelWidth
	for ub := 0; ub < up; {
		switch {
		case up-ub >= 64:
			lstmStep64(k, hp, &u[ub/panelWidth*ps], ps, up, &z[ub], &c[ub], &hn[ub])
			ub += 64
		case up-ub >= 32:
			lstmStep32(k, hp, &u[ub/panelWidth*ps], ps, up, &z[ub], &c[ub], &hn[ub])
			ub += 32
		default:
			lstmStep16(k, hp, &u[ub/panelWidth*ps], ps, up, &z[ub], &c[ub], &hn[ub])
			ub += 16
		}
	}
}

// lstmStepSplit is lstmStep as the GEMV (gemmAcc) and the cell update
// (lstmGatesFast) one after the other: without AVX-512, or in Go.
func lstmStepSplit(k int, h, u, z, c, hn []float32, up int) {
	if k > 0 {
		gemmAcc(1, 4*up, k, h, k, u, z, 4*up)
	}
	lstmGatesFast(z, c, hn, up)
}
