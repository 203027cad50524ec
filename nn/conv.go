package nn

// Conv1D is keras.layers.Conv1D (channels_last, groups=1). Weights: kernel
// (KernelSize, in_channels, Filters), then bias (Filters) when UseBias.
//
// Input (T, C), output (T', Filters) where T' is
//
//	valid:  floor((T - DilationRate*(KernelSize-1) - 1) / Strides) + 1
//	same:   ceil(T / Strides), padded with total = max((T'-1)*Strides +
//	        (KernelSize-1)*DilationRate + 1 - T, 0) zeros, total/2 on the left
//	causal: DilationRate*(KernelSize-1) zeros on the left, then valid, so
//	        ceil(T / Strides)
//
// Strides and DilationRate of 0 mean 1, Padding "" means "valid". Keras's
// groups != 1 and data_format "channels_first" are not supported; the loader
// rejects them before building a Conv1D.
//
// Forward lowers the convolution to im2col patches in scratch (at most
// convChunkRows output rows at a time) and one GEMM per chunk; a pointwise
// convolution (KernelSize 1, stride 1) multiplies the input directly. A
// convolution with a small receptive field (KernelSize*in_channels at most
// smallConvK) skips both: each output row is the bias plus KernelSize*C
// broadcast products with rows of the kernel, read straight from the input
// where the window lies inside it, with a ReLU activation fused.
type Conv1D struct {
	LayerName    string
	Filters      int
	KernelSize   int
	Strides      int
	DilationRate int
	Padding      string // "valid", "same" or "causal"
	UseBias      bool
	Activation   Activation

	inLen, inCh, outLen   int
	stride, dilation, pad int // pad: zeros on the left
	kernel, bias          *Param
	params                []*Param
	w                     rhs // the (K*C, F) kernel, laid out by Prepare

	small    bool      // direct path (smallGemmBias), see Forward; set by Build
	zeroBias []float32 // the bias of the direct path without UseBias
	fuseReLU bool      // the direct path applies the ReLU activation
}

// smallConvK is the largest KernelSize*in_channels that Forward computes
// directly instead of through im2col and a GEMM.
const smallConvK = 32

// convChunkRows bounds the im2col scratch: output rows lowered at once.
const convChunkRows = 256

// Class returns "Conv1D".
func (l *Conv1D) Class() string { return "Conv1D" }

// Name returns the Keras layer name.
func (l *Conv1D) Name() string { return l.LayerName }

// Build checks the options against a (T, C) input.
func (l *Conv1D) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 2 {
		return nil, errorf(l, "input shape %v: want rank 2 (steps, channels)", s)
	}
	if l.Filters <= 0 {
		return nil, errorf(l, "filters: must be positive, got %d", l.Filters)
	}
	if l.KernelSize <= 0 {
		return nil, errorf(l, "kernel_size: must be positive, got %d", l.KernelSize)
	}
	l.stride, l.dilation = defaultOne(l.Strides), defaultOne(l.DilationRate)
	if l.stride < 1 {
		return nil, errorf(l, "strides: must be positive, got %d", l.Strides)
	}
	if l.dilation < 1 {
		return nil, errorf(l, "dilation_rate: must be positive, got %d", l.DilationRate)
	}
	l.inLen, l.inCh = s[0], s[1]
	span := l.dilation*(l.KernelSize-1) + 1 // receptive field of one output
	switch l.Padding {
	case "", "valid":
		l.pad = 0
		if l.inLen < span {
			return nil, errorf(l, "input shape %v: %d steps are fewer than the kernel's span %d (kernel_size %d, dilation_rate %d) with padding \"valid\"",
				s, l.inLen, span, l.KernelSize, l.dilation)
		}
		l.outLen = (l.inLen-span)/l.stride + 1
	case "same":
		l.outLen = ceilDiv(l.inLen, l.stride)
		l.pad = max((l.outLen-1)*l.stride+span-l.inLen, 0) / 2
	case "causal":
		l.outLen = ceilDiv(l.inLen, l.stride)
		l.pad = span - 1
	default:
		return nil, errorf(l, "padding: want \"valid\", \"same\" or \"causal\", got %q", l.Padding)
	}
	l.kernel = &Param{Name: "kernel", Shape: Shape{l.KernelSize, l.inCh, l.Filters}}
	l.params = []*Param{l.kernel}
	if l.UseBias {
		l.bias = &Param{Name: "bias", Shape: Shape{l.Filters}}
		l.params = append(l.params, l.bias)
	}
	l.small = l.KernelSize*l.inCh <= smallConvK
	l.fuseReLU = l.small && l.Activation.Name == "relu"
	l.zeroBias = nil
	if l.small && !l.UseBias {
		l.zeroBias = make([]float32, l.Filters)
	}
	return Shape{l.outLen, l.Filters}, nil
}

// Weights returns kernel and, with UseBias, bias.
func (l *Conv1D) Weights() []*Param { return l.params }

// Prepare checks the weights' sizes and lays out the kernel, whose Keras
// layout (K, C, F) is the (K*C, F) matrix of the im2col product.
func (l *Conv1D) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	if l.small {
		return nil
	}
	l.w = newRHS(l.kernel.Value, l.KernelSize*l.inCh, l.Filters)
	return nil
}

// pointwise reports whether the input rows are already the patches.
func (l *Conv1D) pointwise() bool { return l.KernelSize == 1 && l.stride == 1 }

// ScratchSize is the im2col buffer: up to convChunkRows rows of K*C values.
func (l *Conv1D) ScratchSize(n int) int {
	if l.small {
		if o0, o1 := l.inPlaceRows(); o1-o0 == l.outLen {
			return 0
		}
		return l.KernelSize * l.inCh // one patch at a time
	}
	if l.pointwise() {
		return 0
	}
	return min(n*l.outLen, convChunkRows) * l.KernelSize * l.inCh
}

// Forward computes n samples.
func (l *Conv1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0]
	if l.small {
		l.forwardSmall(out, x, n, scratch)
		return
	}
	F, K, C := l.Filters, l.KernelSize, l.inCh
	rows := n * l.outLen
	out = out[:rows*F]
	if l.UseBias {
		fillRows(out, l.bias.Value)
	} else {
		clear(out)
	}
	if l.pointwise() {
		l.w.mulAdd(rows, x, C, out, F)
		l.Activation.Apply(out, F)
		return
	}
	kc := K * C
	for r0 := 0; r0 < rows; r0 += convChunkRows {
		r1 := min(r0+convChunkRows, rows)
		patches := scratch[:(r1-r0)*kc]
		for r := r0; r < r1; r++ {
			b, o := r/l.outLen, r%l.outLen
			sample := x[b*l.inLen*C : (b+1)*l.inLen*C]
			row := patches[(r-r0)*kc : (r-r0+1)*kc]
			t := o*l.stride - l.pad
			for k := 0; k < K; k, t = k+1, t+l.dilation {
				dst := row[k*C : (k+1)*C]
				if t < 0 || t >= l.inLen {
					clear(dst)
				} else {
					copy(dst, sample[t*C:(t+1)*C])
				}
			}
		}
		l.w.mulAdd(r1-r0, patches, kc, out[r0*F:], F)
	}
	l.Activation.Apply(out, F)
}

// inPlaceRows is the range [o0, o1) of output rows whose window lies
// inside the input, contiguous (DilationRate 1).
func (l *Conv1D) inPlaceRows() (o0, o1 int) {
	if l.dilation != 1 {
		return 0, 0
	}
	o0 = min(ceilDiv(l.pad, l.stride), l.outLen)
	if last := l.inLen + l.pad - l.KernelSize; last >= 0 {
		o1 = min(last/l.stride+1, l.outLen)
	}
	return o0, max(o1, o0)
}

// forwardSmall is Forward with smallGemmBias: the output rows whose window
// lies inside the input (with DilationRate 1) read it in place as rows of
// K*C values, stride*C apart; the others (padding, dilation) gather their
// patch into scratch first.
func (l *Conv1D) forwardSmall(out, x []float32, n int, scratch []float32) {
	F, K, C := l.Filters, l.KernelSize, l.inCh
	kc := K * C
	bias := l.zeroBias
	if l.UseBias {
		bias = l.bias.Value
	}
	o0, o1 := l.inPlaceRows()
	var patch []float32
	if o1-o0 < l.outLen {
		patch = scratch[:kc]
	}
	for b := 0; b < n; b++ {
		sample := x[b*l.inLen*C : (b+1)*l.inLen*C]
		dst := out[b*l.outLen*F : (b+1)*l.outLen*F]
		if o1 > o0 {
			smallGemmBias(o1-o0, F, kc, sample[(o0*l.stride-l.pad)*C:], l.stride*C, l.kernel.Value, dst[o0*F:], F, bias, l.fuseReLU)
		}
		for o := 0; o < l.outLen; o++ {
			if o == o0 && o1 > o0 {
				o = o1 - 1
				continue
			}
			t := o*l.stride - l.pad
			for k := 0; k < K; k, t = k+1, t+l.dilation {
				tap := patch[k*C : (k+1)*C]
				if t < 0 || t >= l.inLen {
					clear(tap)
				} else {
					copy(tap, sample[t*C:(t+1)*C])
				}
			}
			smallGemmBias(1, F, kc, patch, kc, l.kernel.Value, dst[o*F:], F, bias, l.fuseReLU)
		}
	}
	if !l.fuseReLU {
		l.Activation.Apply(out[:n*l.outLen*F], F)
	}
}

func defaultOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
