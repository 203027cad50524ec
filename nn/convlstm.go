package nn

// ConvLSTM2D is keras.layers.ConvLSTM2D (channels_last, stateful=false,
// return_state=false): an LSTM whose input and recurrent transformations
// are 2-D convolutions. Per-sample input (T, rows, cols, C); output
// (rows', cols', Filters), or (T, rows', cols', Filters) with
// ReturnSequences. Weights: kernel (kr, kc, C, 4*Filters), recurrent_kernel
// (kr, kc, Filters, 4*Filters), bias (4*Filters) when UseBias; gate column
// blocks in Keras's order i, f, c, o.
//
// With OneD it is keras.layers.ConvLSTM1D (Keras >= 2.6): per-sample input
// (T, steps, C), kernel (k, C, 4*Filters), recurrent_kernel (k, Filters,
// 4*Filters), output (steps', Filters) or (T, steps', Filters). That is the
// 2-D layer over rows = 1 with a (1, k) kernel, which has the same memory
// layout; the loader sets KernelSize, Strides and DilationRate to (1, k),
// (1, s), (1, d).
//
// The cell, as Keras's ConvLSTMCell (and TF.js's ConvLSTM2DCell) computes
// it, for ra = RecurrentActivation and act = Activation:
//
//	z = conv(x_t, kernel; Strides, Padding, DilationRate) + bias
//	  + conv(h, recurrent_kernel; stride 1, padding "same", no dilation)
//	i, f, o = ra(z_i), ra(z_f), ra(z_o)
//	c = f*c + i*act(z_c);  h = o*act(c)
//
// with h and c, of shape (rows', cols', Filters), starting at zero. Padding
// "same" pads total = max((out-1)*stride + span - in, 0) zeros per axis,
// total/2 before, as TensorFlow does. With GoBackwards the steps are read
// from the last to the first and, with ReturnSequences, the outputs stay in
// processing order, as Keras returns them. Keras refuses strides > 1 with
// dilation_rate > 1, and so does Build.
//
// Forward lowers both convolutions to im2col patches in scratch and one
// matrix product each per step, for a chunk of samples at a time (the
// recurrent layers' packed-panel assembly kernels when the CPU has them and
// 4*Filters is a multiple of the panel width, else gonum's).
type ConvLSTM2D struct {
	LayerName           string
	OneD                bool // keras.layers.ConvLSTM1D: see the type's comment
	Filters             int
	KernelSize          [2]int // rows, cols
	Strides             [2]int // 0 means 1
	DilationRate        [2]int // 0 means 1
	Padding             string // "valid" (or "") or "same"
	UseBias             bool
	ReturnSequences     bool
	GoBackwards         bool
	Activation          Activation // Keras default tanh
	RecurrentActivation Activation // Keras 2 default hard_sigmoid, Keras 3 sigmoid

	steps, rows, cols, ch int // input (T, rows, cols, C)
	orows, ocols          int // output positions per step
	stride, dil           [2]int
	pad                   [2]int // input conv: zeros before, per axis
	rpad                  [2]int // recurrent conv (same, stride 1): zeros before
	chunk                 int    // samples per pass (bounds the scratch)
	kernel, rec, bias     *Param
	params                []*Param
	w, u                  convRHS // (kr*kc*C, 4f) and (kr*kc*f, 4f)
	raKind, actKind       actKind
}

// convLSTMChunkRows bounds the rows (samples x output positions) of one
// pass's pre-activations and patches.
const convLSTMChunkRows = 256

// Class returns "ConvLSTM2D", or "ConvLSTM1D" with OneD.
func (l *ConvLSTM2D) Class() string {
	if l.OneD {
		return "ConvLSTM1D"
	}
	return "ConvLSTM2D"
}

// Name is the Keras layer name.
func (l *ConvLSTM2D) Name() string { return l.LayerName }

// Build checks the (T, rows, cols, C) input ((T, steps, C) with OneD) and
// returns the output shape.
func (l *ConvLSTM2D) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if l.OneD {
		if len(s) != 3 {
			return nil, errorf(l, "input shape %v: want rank 3 (time steps, steps, channels)", s)
		}
		if l.KernelSize[0] != 1 || defaultOne(l.Strides[0]) != 1 || defaultOne(l.DilationRate[0]) != 1 {
			return nil, errorf(l, "kernel_size, strides and dilation_rate: a 1-D layer's row axis must be 1")
		}
		s = Shape{s[0], 1, s[1], s[2]}
	} else if len(s) != 4 {
		return nil, errorf(l, "input shape %v: want rank 4 (time steps, rows, cols, channels)", s)
	}
	for _, d := range s {
		if d <= 0 {
			return nil, errorf(l, "input shape %v: every dimension must be known and positive", in[0])
		}
	}
	if l.Filters <= 0 {
		return nil, errorf(l, "filters: must be positive, got %d", l.Filters)
	}
	strided, dilated := false, false
	for a := 0; a < 2; a++ {
		if l.KernelSize[a] <= 0 {
			return nil, errorf(l, "kernel_size: must be positive, got %v", l.KernelSize)
		}
		l.stride[a], l.dil[a] = defaultOne(l.Strides[a]), defaultOne(l.DilationRate[a])
		if l.stride[a] < 1 {
			return nil, errorf(l, "strides: must be positive, got %v", l.Strides)
		}
		if l.dil[a] < 1 {
			return nil, errorf(l, "dilation_rate: must be positive, got %v", l.DilationRate)
		}
		strided = strided || l.stride[a] > 1
		dilated = dilated || l.dil[a] > 1
	}
	if strided && dilated {
		return nil, errorf(l, "strides %v with dilation_rate %v: strides > 1 is incompatible with dilation_rate > 1 (Keras refuses it too)", l.Strides, l.DilationRate)
	}
	l.steps, l.rows, l.cols, l.ch = s[0], s[1], s[2], s[3]
	var out [2]int
	for a, n := range []int{l.rows, l.cols} {
		span := l.dil[a]*(l.KernelSize[a]-1) + 1
		switch l.Padding {
		case "", "valid":
			if n < span {
				return nil, errorf(l, "input shape %v: %d positions on axis %d are fewer than the kernel's span %d with padding \"valid\"", in[0], n, a, span)
			}
			l.pad[a] = 0
			out[a] = (n-span)/l.stride[a] + 1
		case "same":
			out[a] = ceilDiv(n, l.stride[a])
			l.pad[a] = max((out[a]-1)*l.stride[a]+span-n, 0) / 2
		default:
			return nil, errorf(l, "padding: want \"valid\" or \"same\", got %q", l.Padding)
		}
		l.rpad[a] = (l.KernelSize[a] - 1) / 2
	}
	l.orows, l.ocols = out[0], out[1]
	f := l.Filters
	ks := Shape{l.KernelSize[0], l.KernelSize[1]}
	if l.OneD {
		ks = Shape{l.KernelSize[1]}
	}
	l.kernel = &Param{Name: "kernel", Shape: append(ks.Clone(), l.ch, 4*f)}
	l.rec = &Param{Name: "recurrent_kernel", Shape: append(ks.Clone(), f, 4*f)}
	l.params = []*Param{l.kernel, l.rec}
	if l.UseBias {
		l.bias = &Param{Name: "bias", Shape: Shape{4 * f}}
		l.params = append(l.params, l.bias)
	}
	l.chunk = max(1, convLSTMChunkRows/(l.orows*l.ocols))
	o := Shape{l.orows, l.ocols, f}
	if l.OneD {
		o = Shape{l.ocols, f}
	}
	if l.ReturnSequences {
		o = append(Shape{l.steps}, o...)
	}
	return o, nil
}

// Weights returns kernel, recurrent_kernel and (with UseBias) bias.
func (l *ConvLSTM2D) Weights() []*Param { return l.params }

// Prepare lays out both kernels as the matrices of the im2col products.
func (l *ConvLSTM2D) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	kk, f := l.KernelSize[0]*l.KernelSize[1], l.Filters
	l.w = newConvRHS(l.kernel.Value, kk*l.ch, 4*f)
	l.u = newConvRHS(l.rec.Value, kk*f, 4*f)
	l.raKind, l.actKind = kindOf(l.RecurrentActivation), kindOf(l.Activation)
	return nil
}

// ScratchSize is, for one chunk of samples, the pre-activations (rows of
// 4*Filters), the h and c states and the larger of the two patch matrices.
func (l *ConvLSTM2D) ScratchSize(n int) int {
	rows := min(n, l.chunk) * l.orows * l.ocols
	kk := l.KernelSize[0] * l.KernelSize[1]
	return rows * (4*l.Filters + 2*l.Filters + kk*max(l.ch, l.Filters))
}

// Forward runs the layer on n samples.
func (l *ConvLSTM2D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0]
	inSize := l.steps * l.rows * l.cols * l.ch
	outSize := l.orows * l.ocols * l.Filters
	if l.ReturnSequences {
		outSize *= l.steps
	}
	for b0 := 0; b0 < n; b0 += l.chunk {
		nb := min(l.chunk, n-b0)
		l.run(out[b0*outSize:(b0+nb)*outSize], x[b0*inSize:(b0+nb)*inSize], nb, scratch)
	}
}

// run computes nb <= chunk samples.
func (l *ConvLSTM2D) run(out, x []float32, nb int, scratch []float32) {
	f, P := l.Filters, l.orows*l.ocols
	G, rows := 4*f, nb*P
	kr, kc := l.KernelSize[0], l.KernelSize[1]
	kkc, kkf := kr*kc*l.ch, kr*kc*f
	z := scratch[:rows*G]
	h := scratch[rows*G:][:rows*f]
	c := scratch[rows*G+rows*f:][:rows*f]
	patches := scratch[rows*(G+2*f):][:rows*max(kkc, kkf)]
	clear(h)
	clear(c)
	step := l.rows * l.cols * l.ch
	for s := 0; s < l.steps; s++ {
		t := s
		if l.GoBackwards {
			t = l.steps - 1 - s
		}
		if l.UseBias {
			fillRows(z, l.bias.Value)
		} else {
			clear(z)
		}
		for b := 0; b < nb; b++ {
			xt := x[(b*l.steps+t)*step:][:step]
			im2col2D(patches[b*P*kkc:][:P*kkc], xt, l.rows, l.cols, l.ch, l.orows, l.ocols, kr, kc, l.stride, l.dil, l.pad)
		}
		l.w.mulAdd(rows, patches, kkc, z, G)
		if s > 0 { // h is zero before the first step
			for b := 0; b < nb; b++ {
				im2col2D(patches[b*P*kkf:][:P*kkf], h[b*P*f:][:P*f], l.orows, l.ocols, f, l.orows, l.ocols, kr, kc, [2]int{1, 1}, [2]int{1, 1}, l.rpad)
			}
			l.u.mulAdd(rows, patches, kkf, z, G)
		}
		for r := 0; r < rows; r++ {
			l.gates(z[r*G:][:G], c[r*f:][:f], h[r*f:][:f])
		}
		if l.ReturnSequences {
			for b := 0; b < nb; b++ {
				copy(out[(b*l.steps+s)*P*f:][:P*f], h[b*P*f:][:P*f])
			}
		}
	}
	if !l.ReturnSequences {
		copy(out[:rows*f], h)
	}
}

// gates is the cell update of one position; z (4*Filters) is overwritten.
func (l *ConvLSTM2D) gates(z, c, h []float32) {
	f := l.Filters
	lstmCell(z[:f], z[f:2*f], z[2*f:3*f], z[3*f:4*f], c[:f], h,
		l.Activation, l.actKind, l.RecurrentActivation, l.raKind)
}

// im2col2D writes the patches of one (rows, cols, ch) image: one row of
// kr*kc*ch values, in the kernel's (i, j, channel) order, per output
// position (orows x ocols), zeros where the window leaves the image.
func im2col2D(dst, src []float32, rows, cols, ch, orows, ocols, kr, kc int, stride, dil, pad [2]int) {
	k := kr * kc * ch
	for or := 0; or < orows; or++ {
		for oc := 0; oc < ocols; oc++ {
			row := dst[(or*ocols+oc)*k:][:k]
			for i := 0; i < kr; i++ {
				r := or*stride[0] - pad[0] + i*dil[0]
				for j := 0; j < kc; j++ {
					d := row[(i*kc+j)*ch:][:ch]
					q := oc*stride[1] - pad[1] + j*dil[1]
					if r < 0 || r >= rows || q < 0 || q >= cols {
						clear(d)
						continue
					}
					copy(d, src[(r*cols+q)*ch:][:ch])
				}
			}
		}
	}
}

// convRHS is a constant (k, n) right-hand matrix for c += a·B: packed in
// panels for gemmAcc's assembly kernels (AVX2+FMA or AVX-512) when n is a
// multiple of panelWidth, else an rhs (gonum's Sgemm, which outruns
// gemmAcc's pure-Go fallback).
type convRHS struct {
	k, n   int
	packed []float32
	r      rhs
}

func newConvRHS(b []float32, k, n int) convRHS {
	if n%panelWidth == 0 && haveAVX2FMA {
		p := make([]float32, k*n)
		packPanels(p, b, k, n, n)
		return convRHS{k: k, n: n, packed: p}
	}
	return convRHS{k: k, n: n, r: newRHS(b, k, n)}
}

// mulAdd computes c += a·B for m rows of a (stride lda) and c (stride ldc).
func (w convRHS) mulAdd(m int, a []float32, lda int, c []float32, ldc int) {
	if w.packed != nil {
		gemmAcc(m, w.n, w.k, a, lda, w.packed, c, ldc)
		return
	}
	w.r.mulAdd(m, a, lda, c, ldc)
}
