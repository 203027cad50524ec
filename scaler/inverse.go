package scaler

import "fmt"

// InvertibleInput reports whether the input scaler maps model input back to
// raw units on its own (identity, minmax, standard, robust: per-column
// affine maps); a window_zscore input has lost each window's level and
// spread, so it cannot.
func (p *Pipeline) InvertibleInput() bool {
	switch p.Input.(type) {
	case Identity, *MinMax, *Standard, *Robust:
		return true
	}
	return false
}

// InverseInput maps one window of model input x (T*F values, row-major, as
// ScaleWindow writes them) back to raw units in dst (len(dst) >= len(x)):
// the input scaler's inverse, (x - min) / scale for minmax (without
// clipping: a value beyond feature_range maps beyond the training range),
// x*scale + mean for standard, x*scale + center for robust. A window_zscore
// input scaler has no such inverse: ErrNeedsWindow. It does not allocate.
func (p *Pipeline) InverseInput(dst []float64, x []float32, F int) error {
	if F <= 0 || len(x)%F != 0 || len(dst) < len(x) {
		return fmt.Errorf("scaler: %d model inputs (into %d) for rows of %d features", len(x), len(dst), F)
	}
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = float64(v)
	}
	switch s := p.Input.(type) {
	case Identity:
		return nil
	case *MinMax:
		return s.InverseTransform(dst, dst, F)
	case *Standard:
		return s.InverseTransform(dst, dst, F)
	case *Robust:
		return s.InverseTransform(dst, dst, F)
	}
	return ErrNeedsWindow
}
