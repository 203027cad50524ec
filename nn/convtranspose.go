package nn

// Conv1DTranspose is keras.layers.Conv1DTranspose (channels_last). Weights:
// kernel (KernelSize, Filters, in_channels), as Keras stores it, then bias
// (Filters) when UseBias.
//
// Input (T, C), output (L, Filters). With k = DilationRate*(KernelSize-1)+1
// and s = Strides, L is (Keras's deconv_output_length)
//
//	valid:  T*s + max(k - s, 0)           (OutputPadding -1: none)
//	same:   T*s
//	with OutputPadding p >= 0: (T-1)*s + k - 2*pad + p, pad = 0 (valid) or k/2 (same)
//
// and every input step i adds x[i]·kernel[j]ᵀ to output position
// i*s + j*DilationRate - before, for j < KernelSize, where before is 0 for
// valid and, for same, half (rounded down) of max((T-1)*s + k - L, 0): the
// gradient of the Conv1D that maps L steps to T with that padding, which is
// what TensorFlow's conv1d_transpose computes.
type Conv1DTranspose struct {
	LayerName     string
	Filters       int
	KernelSize    int
	Strides       int
	DilationRate  int
	Padding       string // "valid" or "same"
	OutputPadding int    // -1: None (Keras's default)
	UseBias       bool
	Activation    Activation

	inLen, inCh, outLen, before int
	params                      []*Param
	taps                        []rhs // kernel[j] transposed to (C, Filters), one per tap
}

// Class returns "Conv1DTranspose".
func (l *Conv1DTranspose) Class() string { return "Conv1DTranspose" }

// Name is the Keras layer name.
func (l *Conv1DTranspose) Name() string { return l.LayerName }

// Build checks the options and returns (L, Filters).
func (l *Conv1DTranspose) Build(in []Shape) (Shape, error) {
	T, C, err := seqInput(l, in)
	if err != nil {
		return nil, err
	}
	if l.Filters < 1 || l.KernelSize < 1 || l.Strides < 1 || l.DilationRate < 1 {
		return nil, errorf(l, "filters, kernel_size, strides and dilation_rate must be positive")
	}
	if l.KernelSize > maxSteps || l.DilationRate > maxSteps/l.KernelSize || l.Strides > maxSteps/T ||
		l.Filters > maxSteps || l.OutputPadding > maxSteps {
		return nil, errorf(l, "kernel_size %d, dilation_rate %d, strides %d or filters %d is too large (the output would pass %d steps)",
			l.KernelSize, l.DilationRate, l.Strides, l.Filters, maxSteps)
	}
	s, k := l.Strides, l.DilationRate*(l.KernelSize-1)+1
	var L int
	switch {
	case l.Padding != "valid" && l.Padding != "same":
		return nil, errorf(l, "padding %q is not supported (want valid or same)", l.Padding)
	case l.OutputPadding >= 0:
		if l.OutputPadding >= s {
			return nil, errorf(l, "output_padding %d must be smaller than strides %d", l.OutputPadding, s)
		}
		pad := 0
		if l.Padding == "same" {
			pad = k / 2
		}
		L = (T-1)*s + k - 2*pad + l.OutputPadding
	case l.Padding == "valid":
		L = T*s + max(k-s, 0)
	default:
		L = T * s
	}
	if L < 1 {
		return nil, errorf(l, "output length %d for %d input steps: want at least 1", L, T)
	}
	l.before = 0
	if l.Padding == "same" {
		l.before = max((T-1)*s+k-L, 0) / 2
	}
	l.inLen, l.inCh, l.outLen = T, C, L
	l.params = []*Param{{Name: "kernel", Shape: Shape{l.KernelSize, l.Filters, C}}}
	if l.UseBias {
		l.params = append(l.params, &Param{Name: "bias", Shape: Shape{l.Filters}})
	}
	return Shape{L, l.Filters}, nil
}

// Weights returns kernel and (with UseBias) bias.
func (l *Conv1DTranspose) Weights() []*Param { return l.params }

// Prepare transposes each kernel tap to (C, Filters).
func (l *Conv1DTranspose) Prepare() error {
	if l.params == nil {
		return errorf(l, "Prepare before Build")
	}
	if err := checkParams(l); err != nil {
		return err
	}
	K, F, C := l.KernelSize, l.Filters, l.inCh
	src := l.params[0].Value
	w := make([]float32, K*C*F)
	for j := 0; j < K; j++ {
		for f := 0; f < F; f++ {
			for c := 0; c < C; c++ {
				w[(j*C+c)*F+f] = src[(j*F+f)*C+c]
			}
		}
	}
	taps := make([]rhs, K)
	for j := range taps {
		taps[j] = newRHS(w[j*C*F:(j+1)*C*F], C, F)
	}
	l.taps = taps
	return nil
}

// ScratchSize is 0.
func (l *Conv1DTranspose) ScratchSize(n int) int { return 0 }

// Forward adds, for every kernel tap, the product of the input steps with
// that tap into the output rows they reach (strides rows apart).
func (l *Conv1DTranspose) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	T, C, L, F := l.inLen, l.inCh, l.outLen, l.Filters
	x := ins[0]
	out = out[:n*L*F]
	if l.UseBias {
		b := l.params[1].Value
		for r := 0; r < n*L; r++ {
			copy(out[r*F:(r+1)*F], b)
		}
	} else {
		clear(out)
	}
	st, d := l.Strides, l.DilationRate
	for s := 0; s < n; s++ {
		y := out[s*L*F : (s+1)*L*F]
		xs := x[s*T*C : (s+1)*T*C]
		for j, w := range l.taps {
			// Input steps i0..i1 land on output rows i*st + j*d - before,
			// st rows apart: one product per tap.
			off := j*d - l.before
			i0 := 0
			if off < 0 {
				i0 = (-off + st - 1) / st
			}
			i1 := min(T-1, (L-1-off)/st)
			if L-1-off < 0 || i0 > i1 {
				continue
			}
			w.mulAdd(i1-i0+1, xs[i0*C:], C, y[(i0*st+off)*F:], st*F)
		}
	}
	l.Activation.Apply(out, F)
}
