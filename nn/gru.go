package nn

// GRU is keras.layers.GRU. Weights: kernel (in, 3u), recurrent_kernel
// (u, 3u), then bias: (2, 3u) with ResetAfter (row 0 input bias, row 1
// recurrent bias), else (3u). Gate order z, r, h.
//
// With ResetAfter (the Keras 2 TF2 and Keras 3 default), for
// ra = RecurrentActivation and act = Activation:
//
//	xz = x·kernel + b_in;  rz = h·recurrent_kernel + b_rec
//	z = ra(xz_z + rz_z);  r = ra(xz_r + rz_r)
//	hh = act(xz_h + r*rz_h);  h = z*h + (1-z)*hh
//
// Without it the reset gate applies before the product:
// hh = act(x·W_h + (r*h)·U_h + b_h).
type GRU struct {
	LayerName           string
	Units               int
	ReturnSequences     bool
	GoBackwards         bool
	UseBias             bool
	ResetAfter          bool
	Activation          Activation
	RecurrentActivation Activation
	// ZeroOutputForMask is as for LSTM.
	ZeroOutputForMask bool
	// Stateful records Keras's stateful=True. seqcast computes every call
	// from a zero state, which is what Keras computes for a freshly loaded
	// model or after reset_states(); the batch size is not fixed.
	Stateful bool

	rnnCore
}

// Class returns "GRU".
func (l *GRU) Class() string { return "GRU" }

// Name is the Keras layer name.
func (l *GRU) Name() string { return l.LayerName }

func (l *GRU) config() (int, bool, bool) { return l.Units, l.ReturnSequences, l.GoBackwards }

func (l *GRU) setZeroOutput(z bool) { l.ZeroOutputForMask = z }

// Build checks the (T, F) input and returns (Units) or (T, Units).
func (l *GRU) Build(in []Shape) (Shape, error) {
	var bias Shape
	if l.UseBias {
		bias = Shape{3 * l.Units}
		if l.ResetAfter {
			bias = Shape{2, 3 * l.Units}
		}
	}
	return l.buildCore(l, in, l.Units, 3, l.ReturnSequences, bias)
}

// Weights returns kernel, recurrent_kernel and (with UseBias) bias.
func (l *GRU) Weights() []*Param { return l.params }

// Prepare packs the weights into padded gate blocks.
func (l *GRU) Prepare() error {
	if err := l.prepareCore(l, l.Units); err != nil {
		return err
	}
	l.bi, l.br = make([]float32, l.g), make([]float32, l.g)
	if l.UseBias {
		b := l.params[2].Value
		l.bi = l.pad(b[:3*l.Units], 1, l.Units)
		if l.ResetAfter {
			l.br = l.pad(b[3*l.Units:], 1, l.Units)
		}
	}
	l.raKind, l.actKind = kindOf(l.RecurrentActivation), kindOf(l.Activation)
	return nil
}

// ScratchSize is the chunk's pre-activations, its h state, and either the
// recurrent products (ResetAfter) or r*h.
func (l *GRU) ScratchSize(n int) int {
	nb := min(n, rnnChunk)
	extra := nb * l.up
	if l.ResetAfter {
		extra = nb * l.g
	}
	return nb*l.steps*l.g + nb*l.up + extra
}

// Forward runs the layer on n samples.
func (l *GRU) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	l.run(out, l.Units, 0, false, ins[0], nil, n, scratch)
}

// ForwardMasked runs the layer on n samples with a mask (n*T values, 1
// kept, 0 masked): masked steps keep the previous state.
func (l *GRU) ForwardMasked(out []float32, ins [][]float32, mask []float32, n int, scratch []float32) {
	l.run(out, l.Units, 0, false, ins[0], mask, n, scratch)
}

func (l *GRU) run(dst []float32, ldo, off int, revOut bool, x, mask []float32, n int, scratch []float32) {
	l.runChunks(l, l.ReturnSequences, dst, ldo, off, revOut, x, mask, n, scratch)
}

// chunk runs nb <= rnnChunk samples.
func (l *GRU) chunk(dst []float32, ldo, off int, revOut bool, x, mask []float32, nb int, scratch []float32) {
	T, g, up, u := l.steps, l.g, l.up, l.Units
	z := scratch[:nb*T*g]
	hs := scratch[nb*T*g:][:nb*up]
	extra := scratch[nb*T*g+nb*up:]
	l.project(z, x, nb)
	clear(hs)
	for s := 0; s < T; s++ {
		t := s
		if l.GoBackwards {
			t = T - 1 - s
		}
		if l.ResetAfter {
			rz := extra[:nb*g]
			for b := 0; b < nb; b++ {
				copy(rz[b*g:(b+1)*g], l.br)
			}
			if s > 0 {
				gemmAcc(nb, g, u, hs, up, l.u, rz, g)
			}
			for b := 0; b < nb; b++ {
				if !l.masked(mask, b, t) {
					l.stepAfter(z[(b*T+t)*g:][:g], rz[b*g:][:g], hs[b*up:][:u])
				}
			}
		} else {
			rh := extra[:nb*up]
			if s > 0 {
				gemmAcc(nb, 2*up, u, hs, up, l.u, z[t*g:], T*g)
			}
			for b := 0; b < nb; b++ {
				zr := z[(b*T+t)*g:][:g]
				zz, zrr := zr[:u], zr[up:up+u]
				applyAct(l.RecurrentActivation, l.raKind, zz)
				applyAct(l.RecurrentActivation, l.raKind, zrr)
				h := hs[b*up:][:u]
				r := rh[b*up:][:u]
				for j := range r {
					r[j] = zrr[j] * h[j]
				}
			}
			if s > 0 {
				gemmAcc(nb, up, u, rh, up, l.u[2*up*u:], z[t*g+2*up:], T*g)
			}
			for b := 0; b < nb; b++ {
				if l.masked(mask, b, t) {
					continue
				}
				zr := z[(b*T+t)*g:][:g]
				zz, hh := zr[:u], zr[2*up:2*up+u]
				applyAct(l.Activation, l.actKind, hh)
				h := hs[b*up:][:u]
				for j := range h {
					h[j] = zz[j]*h[j] + (1-zz[j])*hh[j]
				}
			}
		}
		if l.ReturnSequences {
			p := s
			if revOut {
				p = T - 1 - s
			}
			for b := 0; b < nb; b++ {
				emitStep(dst[(b*T+p)*ldo+off:][:u], hs[b*up:][:u], l.masked(mask, b, t), l.ZeroOutputForMask)
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

// stepAfter is one reset_after cell update of one sample: xz holds the
// input pre-activations (z, r, h blocks), rz the recurrent ones; both are
// overwritten. h (u values) is updated in place.
func (l *GRU) stepAfter(xz, rz, h []float32) {
	u, up := l.Units, l.up
	zz, zr, zh := xz[:u], xz[up:up+u], xz[2*up:2*up+u]
	rzz, rzr, rzh := rz[:u], rz[up:up+u], rz[2*up:2*up+u]
	for j := range zz {
		zz[j] += rzz[j]
		zr[j] += rzr[j]
	}
	applyAct(l.RecurrentActivation, l.raKind, zz)
	applyAct(l.RecurrentActivation, l.raKind, zr)
	for j := range zh {
		zh[j] += zr[j] * rzh[j]
	}
	applyAct(l.Activation, l.actKind, zh)
	for j := range h {
		h[j] = zz[j]*h[j] + (1-zz[j])*zh[j]
	}
}
