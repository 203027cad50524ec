package serving

// pipeline is the bundle's preprocessing (scaler.json) as serving uses it:
// windows in, model input out, model output back to the series' units.
type pipeline interface {
	// scaleInput writes n windows of raw values (n*T*F, row-major) into x as
	// model input.
	scaleInput(x []float32, raw []float64, n int) error
	// inverseOutput maps n model outputs y back to original units in dst,
	// given the raw windows they were computed from (per-window scalers need
	// the window's statistics).
	inverseOutput(dst []float64, y []float32, raw []float64, n int) error
}

// identity is the pipeline of a bundle without scaler.json.
type identity struct{}

func (identity) scaleInput(x []float32, raw []float64, n int) error {
	for i, v := range raw {
		x[i] = float32(v)
	}
	return nil
}

func (identity) inverseOutput(dst []float64, y []float32, raw []float64, n int) error {
	for i, v := range y {
		dst[i] = float64(v)
	}
	return nil
}
