package serving

import "github.com/seqcast/seqcast/scaler"

// Checking the raw routes' input: TensorFlow Serving's :predict and the Open
// Inference Protocol's infer take the model's input tensor as the network
// sees it, after the bundle's input scaler, while training_stats.json is in
// raw (pre-scaler) units. A tensor is checked in raw units: as it is without
// scaler.json, mapped back with the input scaler's inverse for a fitted
// per-column scaler (minmax, standard, robust). A per-window z-scored model
// (window_zscore, like gold) sees every window without its level and
// spread, which the tensor no longer carries: it cannot be checked, and
// adds nothing to the drift statistic.

// TensorCheckable reports whether CheckTensor checks m's input tensors: m
// has training statistics, a single input, and no scaler or an input scaler
// with an inverse of its own (not window_zscore).
func (m *Model) TensorCheckable() bool {
	if m.monitor == nil || m.MultiIO() {
		return false
	}
	switch p := m.pipe.(type) {
	case identity:
		return true
	case scalerPipeline:
		return p.p.InvertibleInput()
	}
	return false
}

// tensorWindowStack bounds the window CheckTensor maps back without
// allocating.
const tensorWindowStack = 1024

// CheckTensor checks n samples of model input x (n*Window()*Features()
// values, row-major, as Raw takes them), each mapped back to raw units, as
// CheckInput checks a window: warns[i] are sample i's statistics beyond the
// training range (warns is nil when no sample has any), drift the PSI per
// feature when one fell due, and ok whether x could be checked at all
// (TensorCheckable and a whole number of samples); when it is false, nothing
// was recorded.
func (m *Model) CheckTensor(x []float32, n int) (warns [][]InputWarning, drift []DriftValue, ok bool) {
	w := m.window * m.features
	if n <= 0 || len(x) != n*w || !m.TensorCheckable() {
		return nil, nil, false
	}
	var stack [tensorWindowStack]float64
	raw := stack[:0]
	if w > len(stack) {
		raw = make([]float64, w)
	}
	raw = raw[:w]
	var pipe *scaler.Pipeline
	if p, ok := m.pipe.(scalerPipeline); ok {
		pipe = p.p
	}
	for i := range n {
		xi := x[i*w : (i+1)*w]
		if pipe == nil {
			for k, v := range xi {
				raw[k] = float64(v)
			}
		} else if err := pipe.InverseInput(raw, xi, m.features); err != nil {
			return nil, nil, false // not reached: TensorCheckable said it inverts
		}
		ws, d := m.monitor.observe(raw, m.features, nil)
		if d != nil {
			drift = d
		}
		if len(ws) > 0 {
			if warns == nil {
				warns = make([][]InputWarning, n)
			}
			warns[i] = ws
		}
	}
	return warns, drift, true
}
