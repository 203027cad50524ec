package nn

import "math"

// BatchNormalization is keras.layers.BatchNormalization at inference:
// (x - moving_mean) / sqrt(moving_variance + Epsilon) * gamma + beta over the
// last axis. Weights, in Keras order: gamma (if Scale), beta (if Center),
// moving_mean, moving_variance; each of the last axis's length.
//
// Epsilon is used as given (Keras's default is 1e-3; the loader fills it).
// Prepare folds everything into out = x*a + b per channel, computed in
// float64 and rounded to float32.
type BatchNormalization struct {
	LayerName string
	Axis      int // only the last axis (-1, or rank) is supported
	Epsilon   float32
	Center    bool
	Scale     bool

	ch, size                    int
	gamma, beta, mean, variance *Param
	params                      []*Param
	a, b                        []float32
}

// LayerNormalization is keras.layers.LayerNormalization over the last axis.
// Weights: gamma (if Scale), beta (if Center).
//
// Each sample's last-axis vector is normalised with its own mean and
// (population) variance, computed in float64: (x-mean)/sqrt(var+Epsilon)
// * gamma + beta. Epsilon is used as given (Keras's default is 1e-3).
type LayerNormalization struct {
	LayerName string
	Axis      int // only the last axis
	Epsilon   float32
	Center    bool
	Scale     bool

	ch, size    int
	gamma, beta *Param
	params      []*Param
}

// lastAxis checks a Keras axis option (batch axis = 0) against a per-sample
// shape of rank r: only the last axis, -1 or r, is supported.
func lastAxis(l Layer, s Shape, axis int) error {
	if len(s) == 0 {
		return errorf(l, "input shape %v: want rank >= 1", s)
	}
	if axis != -1 && axis != len(s) {
		return errorf(l, "axis: only the last axis (-1 or %d) is supported, got %d", len(s), axis)
	}
	return nil
}

// Class returns "BatchNormalization".
func (l *BatchNormalization) Class() string { return "BatchNormalization" }

// Name returns the Keras layer name.
func (l *BatchNormalization) Name() string { return l.LayerName }

// Build checks the axis and lists the weights.
func (l *BatchNormalization) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if err := lastAxis(l, s, l.Axis); err != nil {
		return nil, err
	}
	if l.Epsilon < 0 {
		return nil, errorf(l, "epsilon: must not be negative, got %g", l.Epsilon)
	}
	l.ch, l.size = s[len(s)-1], s.Size()
	vec := func(name string) *Param { return &Param{Name: name, Shape: Shape{l.ch}} }
	l.params = nil
	if l.Scale {
		l.gamma = vec("gamma")
		l.params = append(l.params, l.gamma)
	}
	if l.Center {
		l.beta = vec("beta")
		l.params = append(l.params, l.beta)
	}
	l.mean, l.variance = vec("moving_mean"), vec("moving_variance")
	l.params = append(l.params, l.mean, l.variance)
	return s.Clone(), nil
}

// Weights returns [gamma] [beta] moving_mean moving_variance.
func (l *BatchNormalization) Weights() []*Param { return l.params }

// Prepare folds the statistics into a per-channel scale and shift.
func (l *BatchNormalization) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	a, b := make([]float32, l.ch), make([]float32, l.ch)
	for c := range a {
		v := float64(l.variance.Value[c]) + float64(l.Epsilon)
		if v <= 0 {
			return errorf(l, "moving_variance[%d] + epsilon = %g: must be positive", c, v)
		}
		s := 1 / math.Sqrt(v)
		if l.Scale {
			s *= float64(l.gamma.Value[c])
		}
		sh := -float64(l.mean.Value[c]) * s
		if l.Center {
			sh += float64(l.beta.Value[c])
		}
		a[c], b[c] = float32(s), float32(sh)
	}
	l.a, l.b = a, b
	return nil
}

// ScratchSize is 0.
func (l *BatchNormalization) ScratchSize(n int) int { return 0 }

// Forward computes x*a + b per channel.
func (l *BatchNormalization) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0][:n*l.size]
	C := l.ch
	a, b := l.a[:C], l.b[:C]
	for off := 0; off < len(x); off += C {
		src, dst := x[off:off+C], out[off:off+C]
		for c, v := range src {
			dst[c] = v*a[c] + b[c]
		}
	}
}

// Class returns "LayerNormalization".
func (l *LayerNormalization) Class() string { return "LayerNormalization" }

// Name returns the Keras layer name.
func (l *LayerNormalization) Name() string { return l.LayerName }

// Build checks the axis and lists the weights.
func (l *LayerNormalization) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if err := lastAxis(l, s, l.Axis); err != nil {
		return nil, err
	}
	if l.Epsilon < 0 {
		return nil, errorf(l, "epsilon: must not be negative, got %g", l.Epsilon)
	}
	l.ch, l.size = s[len(s)-1], s.Size()
	l.params = nil
	if l.Scale {
		l.gamma = &Param{Name: "gamma", Shape: Shape{l.ch}}
		l.params = append(l.params, l.gamma)
	}
	if l.Center {
		l.beta = &Param{Name: "beta", Shape: Shape{l.ch}}
		l.params = append(l.params, l.beta)
	}
	return s.Clone(), nil
}

// Weights returns [gamma] [beta].
func (l *LayerNormalization) Weights() []*Param { return l.params }

// Prepare checks the weights' sizes.
func (l *LayerNormalization) Prepare() error { return checkParams(l) }

// ScratchSize is 0.
func (l *LayerNormalization) ScratchSize(n int) int { return 0 }

// Forward normalises every last-axis vector of the n samples.
func (l *LayerNormalization) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0][:n*l.size]
	C := l.ch
	eps := float64(l.Epsilon)
	for off := 0; off < len(x); off += C {
		src, dst := x[off:off+C], out[off:off+C]
		var sum float64
		for _, v := range src {
			sum += float64(v)
		}
		mean := sum / float64(C)
		var ss float64
		for _, v := range src {
			d := float64(v) - mean
			ss += d * d
		}
		inv := 1 / math.Sqrt(ss/float64(C)+eps)
		for c, v := range src {
			y := (float64(v) - mean) * inv
			if l.Scale {
				y *= float64(l.gamma.Value[c])
			}
			if l.Center {
				y += float64(l.beta.Value[c])
			}
			dst[c] = float32(y)
		}
	}
}
