package serving

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/nn"
	"github.com/seqcast/seqcast/weights"
)

// MaxTensorRank bounds the per-sample rank of a multi-IO model's inputs
// and outputs that the service takes and gives (a time-series input is
// (T, F); a head is (k) or (T, k)).
const MaxTensorRank = 3

// Tensor is one named input or output of a model: Keras's name for it (the
// input or output layer's name, what TensorFlow Serving's signature would
// call it) and its per-sample shape.
type Tensor struct {
	Name  string
	Shape nn.Shape
}

// MultiIO reports whether the model has several inputs or outputs: it then
// runs only through RawMulti (TensorFlow Serving's named inputs and
// outputs), not through Forecast, PredictWindows or Raw.
func (m *Model) MultiIO() bool { return m.net.MultiIO() }

// Inputs lists a multi-IO model's inputs in the model's order (nil for a
// single-input, single-output model).
func (m *Model) Inputs() []Tensor { return m.inputs }

// Outputs lists a multi-IO model's outputs in the model's order (nil for a
// single-input, single-output model).
func (m *Model) Outputs() []Tensor { return m.outputs }

// newMultiIO builds the served model of a bundle whose network has several
// inputs or outputs. A scaler.json is refused: it describes one (T, F)
// input and one output.
func newMultiIO(ctx context.Context, b *bundle.Bundle, wb *weights.Bundle, name string, version int64, obs ForwardObserver) (*Model, error) {
	net := wb.Model
	if _, ok := b.File(ScalerFile); ok {
		return nil, fmt.Errorf("%s: the model has %d inputs and %d outputs; a scaler applies to a model with one (T, F) input and one output",
			ScalerFile, len(net.InputShapes()), len(net.OutputShapes()))
	}
	m := &Model{
		name:        name,
		version:     version,
		fingerprint: b.Fingerprint(),
		origin:      b.Origin(),
		net:         net,
		pipe:        identity{},
		observe:     obs,
	}
	inNames, outNames := wb.Info.InputNames, wb.Info.OutputNames
	for j, s := range net.InputShapes() {
		if len(s) > MaxTensorRank {
			return nil, fmt.Errorf("model input %q has shape %v: the service takes inputs of at most %d dimensions per sample", inNames[j], s, MaxTensorRank)
		}
		m.inputs = append(m.inputs, Tensor{Name: inNames[j], Shape: s})
	}
	for j, s := range net.OutputShapes() {
		if len(s) > MaxTensorRank {
			return nil, fmt.Errorf("model output %q has shape %v: the service gives outputs of at most %d dimensions per sample", outNames[j], s, MaxTensorRank)
		}
		m.outputs = append(m.outputs, Tensor{Name: outNames[j], Shape: s})
	}
	if in := m.inputs[0].Shape; len(in) == 2 {
		m.window, m.features = in[0], in[1]
	}
	m.outSize = m.outputs[0].Shape.Size()
	if data, ok := b.File(BacktestFile); ok {
		bt, err := ParseBacktest(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", BacktestFile, err)
		}
		m.backtest = bt
	}
	m.observe = nil
	for _, n := range []int{1, 8} {
		xs := make([][]float32, len(m.inputs))
		for j, t := range m.inputs {
			xs[j] = make([]float32, n*t.Shape.Size())
		}
		if _, err := m.RawMulti(ctx, xs, n); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	m.observe = obs
	m.loadedAt = time.Now()
	return m, nil
}

// RawMulti runs the network on n samples of every input (xs[j] holds n
// samples of Inputs()[j], in the model's order) and returns each output's n
// samples, in order. A value out of range is an InputError whose Field is
// the input's name. It works for single-IO models too.
func (m *Model) RawMulti(ctx context.Context, xs [][]float32, n int) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ins, outs := m.net.InputShapes(), m.net.OutputShapes()
	if len(xs) != len(ins) || n <= 0 {
		return nil, inputErr("", "want %d samples of each of the model's %d inputs, got %d inputs", n, len(ins), len(xs))
	}
	for j, s := range ins {
		size := s.Size()
		if len(xs[j]) != n*size {
			return nil, inputErr(m.inputName(j), "want %d samples of shape %v, got %d values", n, []int(s), len(xs[j]))
		}
		for i, v := range xs[j] {
			if !valueOK(float64(v)) {
				return nil, &InputError{Field: m.inputName(j), Index: []int{i / size}, Msg: fmt.Sprintf("values must be finite with magnitude at most %g", MaxAbsValue)}
			}
		}
	}
	release, err := m.adm.Admit(ctx, m.name, n, 1)
	if err != nil {
		return nil, err
	}
	defer release()
	ys := make([][]float32, len(outs))
	for j, s := range outs {
		ys[j] = make([]float32, n*s.Size())
	}
	t0 := time.Now()
	if err := m.net.ForwardMulti(ys, xs, n); err != nil {
		if ie := m.idErr(err); ie != nil {
			return nil, ie
		}
		return nil, fmt.Errorf("serving: model %q version %d: %w", m.name, m.version, err)
	}
	if m.observe != nil {
		m.observe(m.name, m.version, n, time.Since(t0))
	}
	for _, y := range ys {
		for _, v := range y {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, ErrNonFinite
			}
		}
	}
	return ys, nil
}

// idErr turns an Embedding's refused id (*nn.IndexError) into an
// InputError naming the input and the sample; nil for any other error.
func (m *Model) idErr(err error) error {
	var ie *nn.IndexError
	if !errors.As(err, &ie) {
		return nil
	}
	// The HTTP layer shows Field alone when it is set: the message names the sample.
	return &InputError{Field: m.inputName(ie.Input), Index: []int{ie.Sample}, Msg: fmt.Sprintf("sample %d: %s", ie.Sample, ie.Reason())}
}

func (m *Model) inputName(j int) string {
	if j < len(m.inputs) {
		return m.inputs[j].Name
	}
	return ""
}
