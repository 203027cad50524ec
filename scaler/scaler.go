package scaler

import (
	"errors"
	"fmt"
	"math"
)

// Kind names as they appear in scaler.json.
const (
	KindIdentity     = "identity"
	KindMinMax       = "minmax"
	KindStandard     = "standard"
	KindRobust       = "robust"
	KindWindowZScore = "window_zscore"
)

// ErrNeedsWindow is returned by WindowZScore.InverseTransform: the inverse
// needs the statistics of the window the output was computed from (see
// Pipeline.InverseOutputInto).
var ErrNeedsWindow = errors.New("scaler: window_zscore inverse needs the window's statistics")

// Scaler transforms rows of width columns (row-major, len(src) a multiple of
// width). dst and src may be the same slice. Transform and InverseTransform
// assume Check(width) returned nil.
type Scaler interface {
	// Kind is the scaler.json kind.
	Kind() string
	// NumParams is the number of per-feature parameters (0 for scalers
	// without any, which apply to any width).
	NumParams() int
	// Check reports whether the scaler applies to rows of width columns.
	Check(width int) error
	Transform(dst, src []float64, width int) error
	InverseTransform(dst, src []float64, width int) error
}

// Identity leaves values unchanged.
type Identity struct{}

// MinMax is scikit-learn's MinMaxScaler.
type MinMax struct {
	FeatureRange     [2]float64
	Clip             bool
	DataMin, DataMax []float64 // informational; Scale and Min do the work
	Scale, Min       []float64
	Features         []int
}

// Standard is scikit-learn's StandardScaler. Mean nil means with_mean=False,
// Scale nil means with_std=False.
type Standard struct {
	Mean, Scale []float64
	Features    []int
}

// Robust is scikit-learn's RobustScaler. Center nil means
// with_centering=False, Scale nil means with_scaling=False.
type Robust struct {
	Center, Scale []float64
	Features      []int
}

// WindowZScore normalises each window by its own per-feature mean and
// population standard deviation (+ Epsilon). As an output scaler it maps y
// back with the statistics of input feature TargetFeature of the same window.
type WindowZScore struct {
	Epsilon       float64
	Features      []int
	TargetFeature int
}

// Kind implements Scaler.
func (Identity) Kind() string { return KindIdentity }

// Kind implements Scaler.
func (*MinMax) Kind() string { return KindMinMax }

// Kind implements Scaler.
func (*Standard) Kind() string { return KindStandard }

// Kind implements Scaler.
func (*Robust) Kind() string { return KindRobust }

// Kind implements Scaler.
func (*WindowZScore) Kind() string { return KindWindowZScore }

// NumParams implements Scaler.
func (Identity) NumParams() int { return 0 }

// NumParams implements Scaler.
func (s *MinMax) NumParams() int { return len(s.Scale) }

// NumParams implements Scaler.
func (s *Standard) NumParams() int { return max(len(s.Mean), len(s.Scale)) }

// NumParams implements Scaler.
func (s *Robust) NumParams() int { return max(len(s.Center), len(s.Scale)) }

// NumParams implements Scaler.
func (s *WindowZScore) NumParams() int { return 0 }

// Check implements Scaler.
func (Identity) Check(width int) error { return checkWidth(width) }

// Check implements Scaler.
func (s *MinMax) Check(width int) error {
	return checkCols(KindMinMax, width, s.NumParams(), s.Features)
}

// Check implements Scaler.
func (s *Standard) Check(width int) error {
	return checkCols(KindStandard, width, s.NumParams(), s.Features)
}

// Check implements Scaler.
func (s *Robust) Check(width int) error {
	return checkCols(KindRobust, width, s.NumParams(), s.Features)
}

// Check implements Scaler.
func (s *WindowZScore) Check(width int) error {
	if err := checkCols(KindWindowZScore, width, 0, s.Features); err != nil {
		return err
	}
	if s.TargetFeature < 0 || s.TargetFeature >= width {
		return fmt.Errorf("scaler: window_zscore target_feature %d: window has %d features", s.TargetFeature, width)
	}
	return nil
}

func checkWidth(width int) error {
	if width <= 0 {
		return fmt.Errorf("scaler: width %d must be positive", width)
	}
	return nil
}

// checkCols validates a parameter vector of n values (n == 0: no
// parameters) against rows of width columns and an optional column list.
func checkCols(kind string, width, n int, features []int) error {
	if err := checkWidth(width); err != nil {
		return err
	}
	if features == nil {
		if n != 0 && n != width {
			return fmt.Errorf("scaler: %s has %d features, data has %d", kind, n, width)
		}
		return nil
	}
	if n != 0 && n != len(features) {
		return fmt.Errorf("scaler: %s has %d features but lists %d in features", kind, n, len(features))
	}
	for _, j := range features {
		if j < 0 || j >= width {
			return fmt.Errorf("scaler: %s features: index %d out of range for %d columns", kind, j, width)
		}
	}
	return nil
}

// Transform implements Scaler.
func (Identity) Transform(dst, src []float64, width int) error {
	copy(dst, src)
	return nil
}

// InverseTransform implements Scaler.
func (Identity) InverseTransform(dst, src []float64, width int) error {
	copy(dst, src)
	return nil
}

// Each loop below writes every element of a row as dst = f(src) with the
// parameter index k of its column. Explicit float64 conversions keep the
// compiler from fusing a multiply and an add (the Go spec allows fusion
// otherwise), so every step rounds once, as numpy does.

// Transform implements Scaler: X*scale + min, then clip.
func (s *MinMax) Transform(dst, src []float64, width int) error {
	lo, hi := s.FeatureRange[0], s.FeatureRange[1]
	for r := 0; r+width <= len(src); r += width {
		in, out := src[r:r+width], dst[r:r+width]
		copy(out, in)
		for k := range s.Scale {
			j := col(s.Features, k)
			v := float64(in[j]*s.Scale[k]) + s.Min[k]
			if s.Clip {
				v = min(max(v, lo), hi)
			}
			out[j] = v
		}
	}
	return nil
}

// InverseTransform implements Scaler: (X - min) / scale.
func (s *MinMax) InverseTransform(dst, src []float64, width int) error {
	for r := 0; r+width <= len(src); r += width {
		in, out := src[r:r+width], dst[r:r+width]
		copy(out, in)
		for k := range s.Scale {
			j := col(s.Features, k)
			out[j] = float64(in[j]-s.Min[k]) / s.Scale[k]
		}
	}
	return nil
}

// Transform implements Scaler: (X - mean) / scale.
func (s *Standard) Transform(dst, src []float64, width int) error {
	centreScale(dst, src, width, s.Features, s.Mean, s.Scale)
	return nil
}

// InverseTransform implements Scaler: X*scale + mean.
func (s *Standard) InverseTransform(dst, src []float64, width int) error {
	uncentreScale(dst, src, width, s.Features, s.Mean, s.Scale)
	return nil
}

// Transform implements Scaler: (X - center) / scale.
func (s *Robust) Transform(dst, src []float64, width int) error {
	centreScale(dst, src, width, s.Features, s.Center, s.Scale)
	return nil
}

// InverseTransform implements Scaler: X*scale + center.
func (s *Robust) InverseTransform(dst, src []float64, width int) error {
	uncentreScale(dst, src, width, s.Features, s.Center, s.Scale)
	return nil
}

func col(features []int, k int) int {
	if features == nil {
		return k
	}
	return features[k]
}

func centreScale(dst, src []float64, width int, features []int, centre, scale []float64) {
	n := max(len(centre), len(scale))
	if n == 0 {
		copy(dst, src)
		return
	}
	for r := 0; r+width <= len(src); r += width {
		in, out := src[r:r+width], dst[r:r+width]
		copy(out, in)
		for k := 0; k < n; k++ {
			j := col(features, k)
			v := in[j]
			if centre != nil {
				v = float64(v - centre[k])
			}
			if scale != nil {
				v = float64(v / scale[k])
			}
			out[j] = v
		}
	}
}

func uncentreScale(dst, src []float64, width int, features []int, centre, scale []float64) {
	n := max(len(centre), len(scale))
	if n == 0 {
		copy(dst, src)
		return
	}
	for r := 0; r+width <= len(src); r += width {
		in, out := src[r:r+width], dst[r:r+width]
		copy(out, in)
		for k := 0; k < n; k++ {
			j := col(features, k)
			v := in[j]
			if scale != nil {
				v = float64(v * scale[k])
			}
			if centre != nil {
				v = float64(v + centre[k])
			}
			out[j] = v
		}
	}
}

// Stats returns the mean and the population standard deviation plus
// Epsilon of column j over the rows of one window (len(src) = T*width), as
// numpy's x.mean(axis) and x.std(axis) + epsilon.
func (s *WindowZScore) Stats(src []float64, width, j int) (mu, sigma float64) {
	t := len(src) / width
	var sum float64
	for r := j; r < len(src); r += width {
		sum += src[r]
	}
	mu = sum / float64(t)
	var ss float64
	for r := j; r < len(src); r += width {
		d := src[r] - mu
		ss += float64(d * d)
	}
	return mu, math.Sqrt(ss/float64(t)) + s.Epsilon
}

// Transform implements Scaler: src is one whole window of T rows.
func (s *WindowZScore) Transform(dst, src []float64, width int) error {
	copy(dst, src)
	n := width
	if s.Features != nil {
		n = len(s.Features)
	}
	for k := 0; k < n; k++ {
		j := col(s.Features, k)
		mu, sigma := s.Stats(src, width, j)
		for r := j; r < len(src); r += width {
			dst[r] = float64(src[r]-mu) / sigma
		}
	}
	return nil
}

// InverseTransform implements Scaler; it always fails: use Inverse with the
// window's statistics.
func (s *WindowZScore) InverseTransform(dst, src []float64, width int) error {
	return ErrNeedsWindow
}

// Inverse maps model outputs back with a window's statistics: y*sigma + mu
// on the columns in Features (all when nil).
func (s *WindowZScore) Inverse(dst, src []float64, width int, mu, sigma float64) {
	copy(dst, src)
	if s.Features == nil {
		for i, v := range src {
			dst[i] = float64(v*sigma) + mu
		}
		return
	}
	for r := 0; r+width <= len(src); r += width {
		for _, j := range s.Features {
			dst[r+j] = float64(src[r+j]*sigma) + mu
		}
	}
}
