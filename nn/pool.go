package nn

// PoolKind selects max or average pooling.
type PoolKind int

const (
	MaxPool PoolKind = iota
	AvgPool
)

// Pooling1D is keras.layers.MaxPooling1D / AveragePooling1D (channels_last).
// Average pooling with "same" padding divides by the number of real
// (unpadded) elements in the window, as Keras does; max pooling ignores the
// padding. Input (T, C), output (T', C) with T' = floor((T-PoolSize)/Strides)+1
// for "valid" and ceil(T/Strides) for "same" (total padding
// max((T'-1)*Strides+PoolSize-T, 0), half of it, rounded down, on the left).
type Pooling1D struct {
	LayerName string
	Kind      PoolKind
	PoolSize  int
	Strides   int    // Keras's default is PoolSize
	Padding   string // "valid" or "same"

	inLen, ch, outLen, stride, pad int
}

// GlobalPooling1D is keras.layers.GlobalMaxPooling1D / GlobalAveragePooling1D
// (channels_last): (T, C) -> (C), or (1, C) with KeepDims.
type GlobalPooling1D struct {
	LayerName string
	Kind      PoolKind
	KeepDims  bool
	// ChannelsFirst reads a (C, T) input and pools each row over its last
	// axis (data_format="channels_first"): (C, T) -> (C), or (C, 1).
	ChannelsFirst bool

	steps, ch int
}

// Class returns "MaxPooling1D" or "AveragePooling1D".
func (l *Pooling1D) Class() string {
	if l.Kind == AvgPool {
		return "AveragePooling1D"
	}
	return "MaxPooling1D"
}

// Name returns the Keras layer name.
func (l *Pooling1D) Name() string { return l.LayerName }

// Build checks the options against a (T, C) input. Strides 0 means PoolSize
// and Padding "" means "valid".
func (l *Pooling1D) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 2 {
		return nil, errorf(l, "input shape %v: want rank 2 (steps, channels)", s)
	}
	if l.Kind != MaxPool && l.Kind != AvgPool {
		return nil, errorf(l, "unknown pooling kind %d", l.Kind)
	}
	if l.PoolSize <= 0 {
		return nil, errorf(l, "pool_size: must be positive, got %d", l.PoolSize)
	}
	l.stride = l.Strides
	if l.stride == 0 {
		l.stride = l.PoolSize
	}
	if l.stride < 0 {
		return nil, errorf(l, "strides: must be positive, got %d", l.Strides)
	}
	l.inLen, l.ch = s[0], s[1]
	switch l.Padding {
	case "", "valid":
		if l.inLen < l.PoolSize {
			return nil, errorf(l, "input shape %v: %d steps are fewer than pool_size %d with padding \"valid\"", s, l.inLen, l.PoolSize)
		}
		l.outLen = (l.inLen-l.PoolSize)/l.stride + 1
		l.pad = 0
	case "same":
		l.outLen = ceilDiv(l.inLen, l.stride)
		l.pad = max((l.outLen-1)*l.stride+l.PoolSize-l.inLen, 0) / 2
	default:
		return nil, errorf(l, "padding: want \"valid\" or \"same\", got %q", l.Padding)
	}
	return Shape{l.outLen, l.ch}, nil
}

// Weights returns nil: pooling has no weights.
func (l *Pooling1D) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Pooling1D) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Pooling1D) ScratchSize(n int) int { return 0 }

// Forward computes n samples.
func (l *Pooling1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0]
	C := l.ch
	for b := 0; b < n; b++ {
		sample := x[b*l.inLen*C : (b+1)*l.inLen*C]
		for o := 0; o < l.outLen; o++ {
			dst := out[(b*l.outLen+o)*C : (b*l.outLen+o+1)*C]
			t0 := max(o*l.stride-l.pad, 0)
			t1 := min(o*l.stride-l.pad+l.PoolSize, l.inLen)
			if l.Kind == MaxPool {
				if t1-t0 == 1 {
					copy(dst, sample[t0*C:(t0+1)*C])
					continue
				}
				maxRows(dst, sample[t0*C:(t0+1)*C], sample[(t0+1)*C:(t0+2)*C])
				for t := t0 + 2; t < t1; t++ {
					maxRows(dst, dst, sample[t*C:(t+1)*C])
				}
				continue
			}
			copy(dst, sample[t0*C:(t0+1)*C])
			for t := t0 + 1; t < t1; t++ {
				for c, v := range sample[t*C : (t+1)*C] {
					dst[c] += v
				}
			}
			cnt := float32(t1 - t0)
			for c := range dst {
				dst[c] /= cnt
			}
		}
	}
}

// Class returns "GlobalMaxPooling1D" or "GlobalAveragePooling1D".
func (l *GlobalPooling1D) Class() string {
	if l.Kind == AvgPool {
		return "GlobalAveragePooling1D"
	}
	return "GlobalMaxPooling1D"
}

// Name returns the Keras layer name.
func (l *GlobalPooling1D) Name() string { return l.LayerName }

// Build accepts a (T, C) input.
func (l *GlobalPooling1D) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 2 {
		return nil, errorf(l, "input shape %v: want rank 2 (steps, channels)", s)
	}
	if l.Kind != MaxPool && l.Kind != AvgPool {
		return nil, errorf(l, "unknown pooling kind %d", l.Kind)
	}
	l.steps, l.ch = s[0], s[1]
	if l.ChannelsFirst {
		l.steps, l.ch = s[1], s[0]
		if l.KeepDims {
			return Shape{l.ch, 1}, nil
		}
		return Shape{l.ch}, nil
	}
	if l.KeepDims {
		return Shape{1, l.ch}, nil
	}
	return Shape{l.ch}, nil
}

// Weights returns nil: pooling has no weights.
func (l *GlobalPooling1D) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *GlobalPooling1D) Prepare() error { return nil }

// ScratchSize is 0.
func (l *GlobalPooling1D) ScratchSize(n int) int { return 0 }

// Forward computes n samples (the average accumulates in float32 over time,
// as TensorFlow's reduce_mean does).
func (l *GlobalPooling1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0]
	C, T := l.ch, l.steps
	if l.ChannelsFirst {
		l.forwardRows(out, x[:n*C*T], T)
		return
	}
	for b := 0; b < n; b++ {
		sample := x[b*T*C : (b+1)*T*C]
		dst := out[b*C : (b+1)*C]
		copy(dst, sample[:C])
		if l.Kind == MaxPool {
			for t := 1; t < T; t++ {
				for c, v := range sample[t*C : (t+1)*C] {
					dst[c] = max(dst[c], v)
				}
			}
			continue
		}
		for t := 1; t < T; t++ {
			for c, v := range sample[t*C : (t+1)*C] {
				dst[c] += v
			}
		}
		cnt := float32(T)
		for c := range dst {
			dst[c] /= cnt
		}
	}
}

// forwardRows pools every run of t values of x (channels_first) into one.
func (l *GlobalPooling1D) forwardRows(out, x []float32, t int) {
	for r := 0; r*t < len(x); r++ {
		row := x[r*t : (r+1)*t]
		acc := row[0]
		for _, v := range row[1:] {
			if l.Kind == MaxPool {
				acc = max(acc, v)
			} else {
				acc += v
			}
		}
		if l.Kind == AvgPool {
			acc /= float32(t)
		}
		out[r] = acc
	}
}
