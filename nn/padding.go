package nn

// The 1-D reshaping layers on a (T, F) input: ZeroPadding1D, Cropping1D and
// UpSampling1D, as keras.layers defines them.

// ZeroPadding1D is keras.layers.ZeroPadding1D: Left zero steps before the
// sequence and Right after it: (T, F) -> (Left+T+Right, F).
type ZeroPadding1D struct {
	LayerName   string
	Left, Right int

	steps, feat int
}

// Cropping1D is keras.layers.Cropping1D: drops Left steps at the start and
// Right at the end: (T, F) -> (T-Left-Right, F).
type Cropping1D struct {
	LayerName   string
	Left, Right int

	steps, feat int
}

// UpSampling1D is keras.layers.UpSampling1D: repeats each step Size times:
// (T, F) -> (T*Size, F).
type UpSampling1D struct {
	LayerName string
	Size      int

	steps, feat int
}

// maxSteps bounds the steps a sequence layer may make, far above any real
// model and far below an int overflow (the loader bounds activations
// further, kerasconfig.MaxActivations).
const maxSteps = 1 << 30

// seqInput checks a single (T, F) input.
func seqInput(l Layer, in []Shape) (int, int, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return 0, 0, err
	}
	if len(in[0]) != 2 {
		return 0, 0, errorf(l, "input must be 3-D (None, steps, features), got %v", in[0])
	}
	return in[0][0], in[0][1], nil
}

// Class returns "ZeroPadding1D".
func (l *ZeroPadding1D) Class() string { return "ZeroPadding1D" }

// Name is the Keras layer name.
func (l *ZeroPadding1D) Name() string { return l.LayerName }

// Build returns (Left+T+Right, F).
func (l *ZeroPadding1D) Build(in []Shape) (Shape, error) {
	var err error
	if l.steps, l.feat, err = seqInput(l, in); err != nil {
		return nil, err
	}
	if l.Left < 0 || l.Right < 0 || l.Left > maxSteps || l.Right > maxSteps {
		return nil, errorf(l, "padding (%d, %d): want non-negative integers up to %d", l.Left, l.Right, maxSteps)
	}
	return Shape{l.Left + l.steps + l.Right, l.feat}, nil
}

// Weights returns nil.
func (l *ZeroPadding1D) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *ZeroPadding1D) Prepare() error { return nil }

// ScratchSize is 0.
func (l *ZeroPadding1D) ScratchSize(n int) int { return 0 }

// Forward copies each sample between its zero pads.
func (l *ZeroPadding1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	F, in := l.feat, l.steps*l.feat
	o := (l.Left + l.steps + l.Right) * F
	for s := 0; s < n; s++ {
		dst := out[s*o : (s+1)*o]
		clear(dst[:l.Left*F])
		copy(dst[l.Left*F:], ins[0][s*in:(s+1)*in])
		clear(dst[l.Left*F+in:])
	}
}

// Class returns "Cropping1D".
func (l *Cropping1D) Class() string { return "Cropping1D" }

// Name is the Keras layer name.
func (l *Cropping1D) Name() string { return l.LayerName }

// Build returns (T-Left-Right, F).
func (l *Cropping1D) Build(in []Shape) (Shape, error) {
	var err error
	if l.steps, l.feat, err = seqInput(l, in); err != nil {
		return nil, err
	}
	if l.Left < 0 || l.Right < 0 || l.Left+l.Right >= l.steps {
		return nil, errorf(l, "cropping (%d, %d): want non-negative integers that leave at least one of the %d steps", l.Left, l.Right, l.steps)
	}
	return Shape{l.steps - l.Left - l.Right, l.feat}, nil
}

// Weights returns nil.
func (l *Cropping1D) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *Cropping1D) Prepare() error { return nil }

// ScratchSize is 0.
func (l *Cropping1D) ScratchSize(n int) int { return 0 }

// Forward copies the kept steps.
func (l *Cropping1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	F, in := l.feat, l.steps*l.feat
	o := (l.steps - l.Left - l.Right) * F
	for s := 0; s < n; s++ {
		copy(out[s*o:(s+1)*o], ins[0][s*in+l.Left*F:])
	}
}

// Class returns "UpSampling1D".
func (l *UpSampling1D) Class() string { return "UpSampling1D" }

// Name is the Keras layer name.
func (l *UpSampling1D) Name() string { return l.LayerName }

// Build returns (T*Size, F).
func (l *UpSampling1D) Build(in []Shape) (Shape, error) {
	var err error
	if l.steps, l.feat, err = seqInput(l, in); err != nil {
		return nil, err
	}
	if l.Size < 1 || l.Size > maxSteps/l.steps {
		return nil, errorf(l, "size %d: want a positive integer that keeps %d steps at most %d", l.Size, l.steps, maxSteps)
	}
	return Shape{l.steps * l.Size, l.feat}, nil
}

// Weights returns nil.
func (l *UpSampling1D) Weights() []*Param { return nil }

// Prepare does nothing.
func (l *UpSampling1D) Prepare() error { return nil }

// ScratchSize is 0.
func (l *UpSampling1D) ScratchSize(n int) int { return 0 }

// Forward repeats every step Size times.
func (l *UpSampling1D) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	F := l.feat
	x := ins[0]
	for r := 0; r < n*l.steps; r++ {
		row := x[r*F : (r+1)*F]
		for k := 0; k < l.Size; k++ {
			copy(out[(r*l.Size+k)*F:], row)
		}
	}
}
