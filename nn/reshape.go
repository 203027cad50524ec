package nn

// Flatten is keras.layers.Flatten: (d1, d2, ...) -> (d1*d2*...).
type Flatten struct {
	LayerName string

	size int
}

// Reshape is keras.layers.Reshape; one dimension of Target may be -1.
// Target excludes the batch dimension, as in Keras's target_shape.
type Reshape struct {
	LayerName string
	Target    []int

	size int
}

// RepeatVector is keras.layers.RepeatVector: (F) -> (N, F).
type RepeatVector struct {
	LayerName string
	N         int

	feat int
}

// Identity stands for every layer that does nothing at inference: Dropout,
// SpatialDropout1D, GaussianNoise, GaussianDropout, ActivityRegularization.
// ClassName is the Keras class it stands for. Forward copies its input.
type Identity struct {
	LayerName string
	ClassName string

	size int
}

// Class returns "Flatten".
func (l *Flatten) Class() string { return "Flatten" }

// Name returns the Keras layer name.
func (l *Flatten) Name() string { return l.LayerName }

// Build returns the one-dimensional shape of the same size.
func (l *Flatten) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	l.size = in[0].Size()
	return Shape{l.size}, nil
}

// Weights returns nil.
func (l *Flatten) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Flatten) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Flatten) ScratchSize(n int) int { return 0 }

// Forward copies the data: the row-major layout does not change.
func (l *Flatten) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	copy(out[:n*l.size], ins[0][:n*l.size])
}

// Class returns "Reshape".
func (l *Reshape) Class() string { return "Reshape" }

// Name returns the Keras layer name.
func (l *Reshape) Name() string { return l.LayerName }

// Build resolves the -1 dimension, if any, and checks the sizes agree.
func (l *Reshape) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	if len(l.Target) == 0 {
		return nil, errorf(l, "target_shape: empty")
	}
	l.size = in[0].Size()
	out := Shape(append([]int(nil), l.Target...))
	unknown, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d == -1:
			return nil, errorf(l, "target_shape %v: at most one dimension may be -1", l.Target)
		case d <= 0:
			return nil, errorf(l, "target_shape %v: dimension %d must be positive or -1, got %d", l.Target, i, d)
		default:
			known *= d
		}
	}
	if unknown >= 0 {
		if l.size%known != 0 {
			return nil, errorf(l, "target_shape %v: input shape %v has %d values, not a multiple of %d", l.Target, in[0], l.size, known)
		}
		out[unknown] = l.size / known
	} else if known != l.size {
		return nil, errorf(l, "target_shape %v: has %d values, input shape %v has %d", l.Target, known, in[0], l.size)
	}
	return out, nil
}

// Weights returns nil.
func (l *Reshape) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Reshape) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Reshape) ScratchSize(n int) int { return 0 }

// Forward copies the data: the row-major layout does not change.
func (l *Reshape) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	copy(out[:n*l.size], ins[0][:n*l.size])
}

// Class returns "RepeatVector".
func (l *RepeatVector) Class() string { return "RepeatVector" }

// Name returns the Keras layer name.
func (l *RepeatVector) Name() string { return l.LayerName }

// Build accepts an (F) input.
func (l *RepeatVector) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) != 1 {
		return nil, errorf(l, "input shape %v: want rank 1 (features)", in[0])
	}
	if l.N <= 0 {
		return nil, errorf(l, "n: must be positive, got %d", l.N)
	}
	l.feat = in[0][0]
	return Shape{l.N, l.feat}, nil
}

// Weights returns nil.
func (l *RepeatVector) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *RepeatVector) Prepare() error { return nil }

// ScratchSize is 0.
func (l *RepeatVector) ScratchSize(n int) int { return 0 }

// Forward repeats each sample's vector N times.
func (l *RepeatVector) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	F := l.feat
	for b := 0; b < n; b++ {
		src := ins[0][b*F : (b+1)*F]
		fillRows(out[b*l.N*F:(b+1)*l.N*F], src)
	}
}

// Class returns the Keras class it stands for ("Identity" if unset).
func (l *Identity) Class() string {
	if l.ClassName == "" {
		return "Identity"
	}
	return l.ClassName
}

// Name returns the Keras layer name.
func (l *Identity) Name() string { return l.LayerName }

// Build returns the input shape.
func (l *Identity) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	l.size = in[0].Size()
	return in[0].Clone(), nil
}

// Weights returns nil.
func (l *Identity) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Identity) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Identity) ScratchSize(n int) int { return 0 }

// Forward copies the input.
func (l *Identity) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	copy(out[:n*l.size], ins[0][:n*l.size])
}
