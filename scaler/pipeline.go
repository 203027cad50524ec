package scaler

import (
	"fmt"
	"math"
)

// MaxFeatures bounds the number of features per time step, so that
// ScaleWindow can scale a row in a small stack buffer without allocating.
const MaxFeatures = 1024

// Pipeline is a parsed scaler.json: Input scales every window before the
// model, Output's inverse maps the model's output back.
type Pipeline struct {
	Window        int
	Input, Output Scaler
}

// State carries what the output inverse needs from the window the output
// was computed from: the mean and sigma (population std + epsilon) of the
// output scaler's target feature. It is zero unless Output is a WindowZScore.
type State struct {
	Mu, Sigma float64
}

// NewPipeline assembles a Pipeline; nil scalers are identities.
func NewPipeline(window int, in, out Scaler) (*Pipeline, error) {
	if window <= 0 {
		return nil, fmt.Errorf("scaler: window %d must be positive", window)
	}
	if in == nil {
		in = Identity{}
	}
	if out == nil {
		out = Identity{}
	}
	return &Pipeline{Window: window, Input: in, Output: out}, nil
}

// Check validates the pipeline against a model taking windows of T steps of
// F features and giving W outputs per window.
func (p *Pipeline) Check(T, F, W int) error {
	if T != p.Window {
		return fmt.Errorf("scaler: window is %d, the model takes %d time steps", p.Window, T)
	}
	if F > MaxFeatures {
		return fmt.Errorf("scaler: %d features per step, at most %d supported", F, MaxFeatures)
	}
	if err := p.Input.Check(F); err != nil {
		return fmt.Errorf("scaler: input: %w", err)
	}
	if z, ok := p.Output.(*WindowZScore); ok {
		if z.TargetFeature >= F {
			return fmt.Errorf("scaler: output: window_zscore target_feature %d: the model has %d input features", z.TargetFeature, F)
		}
		if err := checkCols(KindWindowZScore, W, 0, z.Features); err != nil {
			return fmt.Errorf("scaler: output: %w", err)
		}
		return nil
	}
	if err := p.Output.Check(p.outWidth(W)); err != nil {
		return fmt.Errorf("scaler: output: %w", err)
	}
	return nil
}

// outWidth is the row width the output scaler sees: a one-feature scaler
// without a column list is applied to every column (reshape(-1, 1)).
func (p *Pipeline) outWidth(W int) int {
	if p.Output.NumParams() == 1 && !hasFeatures(p.Output) {
		return 1
	}
	return W
}

func hasFeatures(s Scaler) bool {
	switch s := s.(type) {
	case *MinMax:
		return s.Features != nil
	case *Standard:
		return s.Features != nil
	case *Robust:
		return s.Features != nil
	case *WindowZScore:
		return s.Features != nil
	}
	return false
}

// ScaleWindow validates one raw window (T*F values, row-major: time steps,
// then features), scales it into dst (T*F float32 model inputs) and returns
// the State its output inverse needs. Every raw value must be finite, and so
// must every scaled value as a float32. Call Check once beforehand.
func (p *Pipeline) ScaleWindow(dst []float32, raw []float64, T, F int) (State, error) {
	n := T * F
	if T != p.Window || F <= 0 || len(raw) != n || len(dst) < n {
		return State{}, fmt.Errorf("scaler: window of %d values for %dx%d (pipeline window %d) into %d", len(raw), T, F, p.Window, len(dst))
	}
	if F > MaxFeatures {
		return State{}, fmt.Errorf("scaler: %d features per step, at most %d supported", F, MaxFeatures)
	}
	for i, v := range raw {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return State{}, fmt.Errorf("scaler: value at step %d, feature %d is not finite (%v)", i/F, i%F, v)
		}
	}
	var st State
	if z, ok := p.Output.(*WindowZScore); ok {
		st.Mu, st.Sigma = z.Stats(raw, F, z.TargetFeature)
	}
	if z, ok := p.Input.(*WindowZScore); ok {
		nf := F
		if z.Features != nil {
			nf = len(z.Features)
			var scaled [MaxFeatures]bool
			for _, j := range z.Features {
				scaled[j] = true
			}
			for i, v := range raw { // columns the scaler leaves alone
				if !scaled[i%F] {
					if err := put(dst, i, v, F); err != nil {
						return State{}, err
					}
				}
			}
		}
		for k := range nf {
			j := col(z.Features, k)
			mu, sigma := z.Stats(raw, F, j)
			for r := j; r < n; r += F {
				v := float64(raw[r]-mu) / sigma
				if err := put(dst, r, v, F); err != nil {
					return State{}, err
				}
			}
		}
		return st, nil
	}
	var buf [MaxFeatures]float64 // one row at a time on the stack: no allocation per call
	row := buf[:F]
	for r := 0; r < n; r += F {
		if err := transformRow(p.Input, row, raw[r:r+F]); err != nil {
			return State{}, err
		}
		for j, v := range row {
			if err := put(dst, r+j, v, F); err != nil {
				return State{}, err
			}
		}
	}
	return st, nil
}

// transformRow calls the concrete Transform so that escape analysis keeps
// dst on the caller's stack; other Scaler implementations get a heap copy.
func transformRow(s Scaler, dst, src []float64) error {
	w := len(src)
	switch s := s.(type) {
	case Identity:
		copy(dst, src)
		return nil
	case *MinMax:
		return s.Transform(dst, src, w)
	case *Standard:
		return s.Transform(dst, src, w)
	case *Robust:
		return s.Transform(dst, src, w)
	}
	tmp := make([]float64, w)
	err := s.Transform(tmp, src, w)
	copy(dst, tmp)
	return err
}

// put stores v as float32 at dst[i], refusing values float32 cannot hold.
func put(dst []float32, i int, v float64, F int) error {
	f := float32(v)
	if f-f != 0 { // Inf or NaN
		return notFinite(i, v, F)
	}
	dst[i] = f
	return nil
}

func notFinite(i int, v float64, F int) error {
	return fmt.Errorf("scaler: scaled value at step %d, feature %d is not finite in float32 (%v)", i/F, i%F, v)
}

// InverseOutput maps one window's model output back to original units.
func (p *Pipeline) InverseOutput(y []float32, st State) []float64 {
	dst := make([]float64, len(y))
	p.InverseOutputInto(dst, y, st)
	return dst
}

// InverseOutputInto is InverseOutput into dst (len(dst) >= len(y)); it does
// not allocate.
func (p *Pipeline) InverseOutputInto(dst []float64, y []float32, st State) {
	dst = dst[:len(y)]
	for i, v := range y {
		dst[i] = float64(v)
	}
	switch s := p.Output.(type) {
	case Identity:
	case *WindowZScore:
		s.Inverse(dst, dst, len(y), st.Mu, st.Sigma)
	default:
		// Check guaranteed the width; these inverses cannot fail.
		_ = s.InverseTransform(dst, dst, p.outWidth(len(y)))
	}
}

// ScaleBatch scales n windows (raw: n*T*F values with T = p.Window) into
// dst, the model's input. It does not allocate.
func (p *Pipeline) ScaleBatch(dst []float32, raw []float64, n, F int) error {
	w := p.Window * F
	if len(raw) != n*w || len(dst) < n*w {
		return fmt.Errorf("scaler: %d raw values (into %d) for %d windows of %dx%d", len(raw), len(dst), n, p.Window, F)
	}
	for i := range n {
		if _, err := p.ScaleWindow(dst[i*w:(i+1)*w], raw[i*w:(i+1)*w], p.Window, F); err != nil {
			return fmt.Errorf("window %d: %w", i, err)
		}
	}
	return nil
}

// InverseBatch maps n model outputs y (n*W values) back to original units in
// dst, given the raw windows they were computed from (needed by a
// window_zscore output scaler). It does not allocate.
func (p *Pipeline) InverseBatch(dst []float64, y []float32, raw []float64, n, F int) error {
	if n <= 0 || len(y)%n != 0 || len(dst) < len(y) {
		return fmt.Errorf("scaler: %d outputs (into %d) for %d windows", len(y), len(dst), n)
	}
	W := len(y) / n
	w := p.Window * F
	z, zs := p.Output.(*WindowZScore)
	if zs && len(raw) != n*w {
		return fmt.Errorf("scaler: %d raw values for %d windows of %dx%d", len(raw), n, p.Window, F)
	}
	for i := range n {
		var st State
		if zs {
			st.Mu, st.Sigma = z.Stats(raw[i*w:(i+1)*w], F, z.TargetFeature)
		}
		p.InverseOutputInto(dst[i*W:(i+1)*W], y[i*W:(i+1)*W], st)
	}
	return nil
}
