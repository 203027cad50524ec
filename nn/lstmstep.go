package nn

//go:generate go run asm_gen.go

// One sample at a time, an LSTM's recurrence is a chain of small steps: a
// GEMV of the previous output with the recurrent kernel, then the gate math,
// which the next GEMV waits for. lstmSeq runs that chain step by step with
// the fused kernel lstmStep, which keeps the gate sums in registers.
//
// With AVX-512 the step kernels read the recurrent kernel in rows
// (packRows): each unit block's four gates for one input unit are one
// contiguous row, so a step streams its block front to back. In panels (the
// layout of the batched GEMMs) the 16 panels of a 64-unit block are 4 KiB
// apart, all on the same L1 set; on an AMD EPYC (Zen 4, 32 KiB L1) that made
// a step 1.6x slower. Layers of 16, 32 or 64 units run all their steps in
// one call (lstmSeqR, runSeq), 16 units at a time: the gate math of one
// block runs while the next block's sums are computed, and steps take the
// blocks first to last, then last to first, so that the blocks a step ends
// with (the part of a 64 KiB kernel still in L1) are the ones the next step
// starts with. On the EPYC that took the gold model's batch-1 pass from 85
// (the step kernels alone) to 74 cpu-us.
//
// Every path adds the rows of U first to last and computes the gates with
// the same instructions, so a sample's outputs are the same bits alone and
// in a batch (TestGoldBatchBitExact). Reversing the row order of every
// other step instead would reuse L1 as well but round the sums differently.
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

// seqScratch is the scratch an lstmSeq or runSeq takes.
func (l *LSTM) seqScratch() int { return l.steps*(l.g+l.up) + 3*l.up + l.g }

// seqKernel reports whether a lone sample without a mask runs through the
// whole-sequence kernel lstmSeqR (runSeq): with AVX-512, sigmoid/tanh, and
// 16, 32 or 64 units (no padding); Prepare packs us then.
func (l *LSTM) seqKernel() bool {
	return l.us != nil
}

// runSeq is run for one sample without a mask when seqKernel holds: every
// step in one call of lstmSeqR, outputs where run puts them.
func (l *LSTM) runSeq(dst []float32, ldo, off int, revOut bool, x []float32, scratch []float32) {
	T, g, up := l.steps, l.g, l.up
	z := scratch[:T*g]
	c := scratch[T*g:][:up]
	gs := scratch[T*g+up:][:g]
	hb := scratch[T*g+up+g:][:T*up] // every step's output, without return_sequences
	l.project(z, x, 1)
	clear(c)
	zp, zs := &z[0], 4*g
	if l.GoBackwards {
		zp, zs = &z[(T-1)*g], -4*g
	}
	hp, hs := &hb[0], 4*up
	if l.ReturnSequences {
		_ = dst[(T-1)*ldo+off+up-1] // every output row
		p0, ps := 0, ldo
		if revOut {
			p0, ps = T-1, -ldo
		}
		hp, hs = &dst[p0*ldo+off], 4*ps
	}
	_ = l.us[up*g-1]
	switch up {
	case 64:
		lstmSeqR64(T, zp, zs, &l.us[0], &c[0], hp, hs, &gs[0])
	case 32:
		lstmSeqR32(T, zp, zs, &l.us[0], &c[0], hp, hs, &gs[0])
	default:
		lstmSeqR16(T, zp, zs, &l.us[0], &c[0], hp, hs, &gs[0])
	}
	if !l.ReturnSequences {
		copy(dst[off:][:up], hb[(T-1)*up:])
	}
}

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
	lstmStep(k, s.h, l.u, l.ur, s.z[t*l.g:][:l.g], s.c, s.hn, l.up)
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
// cell update of lstmGatesFast from c into c and hn. U is the recurrent
// kernel (k rows), packed twice: u in panels (packPanels), which the split
// path reads, and ur in rows (packRows), which the AVX-512 kernels read.
// hn must not overlap h. z may be overwritten.
func lstmStep(k int, h, u, ur, z, c, hn []float32, up int) {
	_ = z[4*up-1]
	_ = c[up-1]
	_ = hn[up-1]
	if !haveAVX512 {
		lstmStepSplit(k, h, u, z, c, hn, up)
		return
	}
	hp := &hn[0] // not read when k == 0
	if k > 0 {
		_ = h[k-1]
		_ = ur[k*4*up-1]
		hp = &h[0]
	}
	for ub := 0; ub < up; {
		w := stepBlock(up - ub)
		lstmStepRows(w, k, hp, &ur[k*4*ub], up, &z[ub], &c[ub], &hn[ub])
		ub += w
	}
}

// stepBlock is the width of the unit block that starts rem units before
// the end of the padded units (rem a positive multiple of panelWidth): 64
// while at least 64 are left, then 32, then 16.
func stepBlock(rem int) int {
	switch {
	case rem >= 64:
		return 64
	case rem >= 32:
		return 32
	}
	return 16
}

// lstmStepRows runs the step kernel for a block of w units (u the block's
// rows, z, c and hn its first unit).
func lstmStepRows(w int, k int, h, u *float32, up int, z, c, hn *float32) {
	switch w {
	case 64:
		lstmStepR64(k, h, u, up, z, c, hn)
	case 32:
		lstmStepR32(k, h, u, up, z, c, hn)
	default:
		lstmStepR16(k, h, u, up, z, c, hn)
	}
}

// packRows returns the (k, 4*up) gate-padded recurrent kernel p (rows of
// the i, f, c, o blocks of up columns) in the layout of the AVX-512 step
// kernels: for each unit block of stepBlock, in order, its k rows of the
// four gates' columns for those units, so that a block is one contiguous
// stream of k*4*w values starting at k*4*ub.
func packRows(p []float32, k, up int) []float32 {
	return packRowBlocks(p, k, up, stepBlock)
}

// packSeqRows is packRows for lstmSeqR, in blocks of 16 units.
func packSeqRows(p []float32, k, up int) []float32 {
	return packRowBlocks(p, k, up, func(int) int { return panelWidth })
}

// packRowBlocks is packRows in blocks of block(units left) units.
func packRowBlocks(p []float32, k, up int, block func(rem int) int) []float32 {
	g := 4 * up
	dst := make([]float32, k*g)
	for ub := 0; ub < up; {
		w := block(up - ub)
		blk := dst[k*4*ub:][:k*4*w]
		for r := 0; r < k; r++ {
			for q := 0; q < 4; q++ {
				copy(blk[(r*4+q)*w:][:w], p[r*g+q*up+ub:][:w])
			}
		}
		ub += w
	}
	return dst
}

// lstmStepRowsGo is the AVX-512 step kernels' computation in Go, on the
// same layout (packRows) and in the same order: their portable twin.
func lstmStepRowsGo(k int, h, ur, z, c, hn []float32, up int) {
	for ub := 0; ub < up; {
		w := stepBlock(up - ub)
		blk := ur[k*4*ub:][:k*4*w]
		for r := 0; r < k; r++ {
			hr := h[r]
			for q := 0; q < 4; q++ {
				zq := z[q*up+ub:][:w]
				for j, v := range blk[(r*4+q)*w:][:w] {
					zq[j] += hr * v
				}
			}
		}
		ub += w
	}
	lstmGatesGo(z, c, hn, up)
}

// lstmStepSplit is lstmStep as the GEMV (gemmAcc) and the cell update
// (lstmGatesFast) one after the other: without AVX-512, or in Go.
func lstmStepSplit(k int, h, u, z, c, hn []float32, up int) {
	if k > 0 {
		gemmAcc(1, 4*up, k, h, k, u, z, 4*up)
	}
	lstmGatesFast(z, c, hn, up)
}
