package serving

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seqcast/seqcast/nn"
)

// MaxAbsValue bounds every value a client may send: anything larger in
// magnitude is rejected as absurd before it reaches a model.
const MaxAbsValue = 1e12

// Errors a caller can tell apart with errors.Is. ErrInput and its wrappers are
// the client's fault (bad window length, values out of range, a model whose
// shape does not fit the request); anything else is the server's.
var (
	ErrInput        = errors.New("invalid input")
	ErrNotFound     = errors.New("not found")
	ErrUnsupported  = errors.New("unsupported by this model")
	ErrNonFinite    = errors.New("the model produced a non-finite value for this input")
	ErrNotAvailable = errors.New("model not available")
)

// InputError is an ErrInput that says where the offending value is: Field
// names an argument ("horizon"), or is empty for the windows, and Index is
// the position inside the windows, outermost first (window, step, feature;
// empty: the whole argument). The HTTP layer turns both into a JSON path of
// its request.
type InputError struct {
	Field string
	Index []int
	Msg   string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	for i, k := range e.Index {
		if i == 0 {
			b.WriteString("window ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(k))
	}
	if b.Len() == 0 {
		return e.Msg
	}
	return b.String() + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInput) true for every InputError.
func (e *InputError) Is(target error) bool { return target == ErrInput }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// indexErr is an InputError at a position inside the windows.
func indexErr(index []int, format string, args ...any) error {
	return &InputError{Index: index, Msg: fmt.Sprintf(format, args...)}
}

// Prediction is the forecast for one window, in the units of the series.
type Prediction struct {
	// Value is the next step's forecast (Forecast[0]).
	Value float64 `json:"value"`
	// Forecast holds every step up to the requested horizon.
	Forecast []float64 `json:"forecast"`
	// Interval brackets Value from the backtest's error quantiles; nil when
	// the bundle has no backtest.json.
	Interval *Interval `json:"interval,omitempty"`
	// Intervals bracket each step of Forecast (widening with the step).
	Intervals []Interval `json:"intervals,omitempty"`
	// Confidence is "high", "medium" or "low" from Interval's width relative
	// to Value ("low" without a backtest).
	Confidence string `json:"confidence"`
	// Outputs is every output of the model for the window, in original
	// units (set by PredictWindows; Value is Outputs[0]).
	Outputs []float64 `json:"outputs,omitempty"`
}

// Interval is a prediction interval at a nominal coverage Level.
type Interval struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	Level float64 `json:"level"`
}

// ForwardObserver is told about every forward pass a Model runs.
type ForwardObserver func(model string, version int64, batch int, d time.Duration)

// Model is one loaded, self-tested bundle. It is immutable and safe for
// concurrent use.
type Model struct {
	name        string
	version     int64
	fingerprint string
	origin      string
	loadedAt    time.Time

	net      *nn.Model
	window   int // T, or S*T for an input of (S, T, F) (window.go)
	features int // F
	outSize  int // per-sample output size
	pipe     pipeline
	backtest *Backtest
	monitor  *monitor // nil without training_stats.json
	observe  ForwardObserver
	keras    string
	batch    *batcher   // nil: every pass runs on its own
	adm      *Admission // shared by the registry's models; nil admits at once

	// A model with several inputs or outputs (multiio.go) runs only
	// through RawMulti; window and features then describe its first input.
	inputs, outputs []Tensor
}

// Name is the model's name (the registry key, e.g. "gold").
func (m *Model) Name() string { return m.name }

// Version is the model's version number (the TF Serving version directory).
func (m *Model) Version() int64 { return m.version }

// Window is how many time steps one forecast consumes: the model's T, or
// S*T for a model whose input is (S, T, F) subsequences (window.go).
func (m *Model) Window() int { return m.window }

// Features is the number of input features per time step (the model's F).
func (m *Model) Features() int { return m.features }

// OutputShape is the model's per-sample output shape.
func (m *Model) OutputShape() nn.Shape { return m.net.OutputShape() }

// InputShape is the model's per-sample input shape as the network takes it:
// (T, F), or (S, T, F) for a model served on windows of S*T steps.
func (m *Model) InputShape() nn.Shape { return m.net.InputShape() }

// Fingerprint is a SHA-256 over every file of the bundle that changes an
// answer (model, weights, scaler, backtest): caches key on it.
func (m *Model) Fingerprint() string { return m.fingerprint }

// Origin says where the bundle was loaded from.
func (m *Model) Origin() string { return m.origin }

// LoadedAt is when the bundle finished loading.
func (m *Model) LoadedAt() time.Time { return m.loadedAt }

// Backtest is the bundle's backtest summary, or nil.
func (m *Model) Backtest() *Backtest { return m.backtest }

// ParamCount is the network's number of parameters.
func (m *Model) ParamCount() int { return m.net.ParamCount() }

// Univariate reports whether the model maps a window of one series to the
// next value of that series, the shape /predict and recursive forecasting
// need.
func (m *Model) Univariate() bool { return m.features == 1 && m.outSize == 1 && !m.MultiIO() }

// Forecast predicts horizon steps ahead for each window. A window may be
// longer than Window(): only its last Window() values are used. Every
// window's steps go through the network together: one forward pass per step
// for the whole batch.
func (m *Model) Forecast(ctx context.Context, windows [][]float64, horizon int) ([]Prediction, error) {
	if !m.Univariate() {
		return nil, fmt.Errorf("%w: model %q takes %d feature(s) per step and gives %d output(s); use the raw TF Serving endpoint",
			ErrUnsupported, m.name, m.features, m.outSize)
	}
	if horizon < 1 {
		return nil, inputErr("horizon", "must be at least 1, got %d", horizon)
	}
	n := len(windows)
	if n == 0 {
		return nil, inputErr("", "no windows")
	}
	T := m.window
	cur := make([]float64, n*T)
	for i, w := range windows {
		if len(w) < T {
			return nil, indexErr([]int{i}, "need at least %d values, got %d", T, len(w))
		}
		off := len(w) - T
		for j, v := range w[off:] {
			if !valueOK(v) {
				return nil, indexErr([]int{i, off + j}, "value %g is out of range (finite, magnitude at most %g)", v, MaxAbsValue)
			}
		}
		copy(cur[i*T:], w[off:])
	}
	release, err := m.adm.Admit(ctx, m.name, n, horizon)
	if err != nil {
		return nil, err
	}
	defer release()
	preds := make([]Prediction, n)
	for i := range preds {
		preds[i].Forecast = make([]float64, 0, horizon)
	}
	x := make([]float32, n*T)
	y := make([]float32, n)
	out := make([]float64, n)
	for step := 0; step < horizon; step++ {
		if err := ctx.Err(); err != nil {
			return nil, m.adm.stopped(ctx, m.name, n*horizon, err)
		}
		if err := m.pipe.scaleInput(x, cur, n); err != nil {
			// The pipeline was checked at load: what fails now is the values
			// (a scaled value float32 cannot hold).
			return nil, &InputError{Msg: fmt.Sprintf("the values cannot be scaled for model %q (step %d): %v", m.name, step+1, err)}
		}
		if err := m.forward(ctx, y, x, n); err != nil {
			return nil, m.adm.stopped(ctx, m.name, n*horizon, err)
		}
		if err := m.pipe.inverseOutput(out, y, cur, n); err != nil {
			return nil, fmt.Errorf("serving: model %q: %w", m.name, err)
		}
		for i, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w (window %d, step %d)", ErrNonFinite, i, step+1)
			}
			preds[i].Forecast = append(preds[i].Forecast, v)
		}
		if step+1 < horizon { // slide every window one step, appending the forecast
			for i := 0; i < n; i++ {
				w := cur[i*T : (i+1)*T]
				copy(w, w[1:])
				w[T-1] = out[i]
			}
		}
	}
	for i := range preds {
		p := &preds[i]
		p.Value = p.Forecast[0]
		if m.backtest != nil {
			p.Intervals = make([]Interval, len(p.Forecast))
			for s, v := range p.Forecast {
				p.Intervals[s] = m.backtest.interval(v, s+1)
			}
			iv := p.Intervals[0]
			p.Interval = &iv
			p.Confidence = m.backtest.confidence(iv, p.Value)
		} else {
			p.Confidence = "low"
		}
	}
	return preds, nil
}

// PredictWindows predicts from multivariate windows in raw units: each
// window is rows*Features() values, row-major (time steps, then features),
// with at least Window() rows, of which the last Window() are used. The
// bundle's input scaler is applied and the output scaler inverted, so every
// Prediction carries all of the model's outputs in Outputs and the first in
// Value (with an interval and label from backtest.json when the model has a
// single output). horizon > 1 (a recursive forecast) needs a univariate
// model, whose windows are then forecast as with Forecast.
func (m *Model) PredictWindows(ctx context.Context, windows [][]float64, horizon int) ([]Prediction, error) {
	n := len(windows)
	if n == 0 {
		return nil, inputErr("", "no windows")
	}
	T, F := m.window, m.features
	for i, w := range windows {
		if len(w)%F != 0 || len(w)/F < T {
			return nil, indexErr([]int{i}, "need at least %d rows of %d features, got %d values", T, F, len(w))
		}
	}
	if m.Univariate() {
		preds, err := m.Forecast(ctx, windows, horizon)
		for i := range preds {
			preds[i].Outputs = []float64{preds[i].Value}
		}
		return preds, err
	}
	if horizon != 1 {
		return nil, inputErr("horizon", "a recursive forecast needs a univariate model; model %q takes %d features and gives %d outputs", m.name, F, m.outSize)
	}
	release, err := m.adm.Admit(ctx, m.name, n, 1)
	if err != nil {
		return nil, err
	}
	defer release()
	w := T * F
	raw := make([]float64, n*w)
	for i, win := range windows {
		off := len(win) - w
		for j, v := range win[off:] {
			if !valueOK(v) {
				return nil, indexErr([]int{i, (off + j) / F, j % F}, "value %g is out of range (finite, magnitude at most %g)", v, MaxAbsValue)
			}
		}
		copy(raw[i*w:], win[off:])
	}
	x := make([]float32, n*w)
	if err := m.pipe.scaleInput(x, raw, n); err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("the values cannot be scaled for model %q: %v", m.name, err)}
	}
	y := make([]float32, n*m.outSize)
	if err := m.forward(ctx, y, x, n); err != nil {
		return nil, m.adm.stopped(ctx, m.name, n, err)
	}
	out := make([]float64, n*m.outSize)
	if err := m.pipe.inverseOutput(out, y, raw, n); err != nil {
		return nil, fmt.Errorf("serving: model %q: %w", m.name, err)
	}
	preds := make([]Prediction, n)
	for i := range preds {
		o := out[i*m.outSize : (i+1)*m.outSize : (i+1)*m.outSize]
		for k, v := range o {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w (window %d, output %d)", ErrNonFinite, i, k)
			}
		}
		p := &preds[i]
		p.Outputs, p.Value, p.Forecast = o, o[0], o[:1:1]
		p.Confidence = "low"
		if m.backtest != nil && m.outSize == 1 {
			iv := m.backtest.interval(p.Value, 1)
			p.Interval, p.Intervals = &iv, []Interval{iv}
			p.Confidence = m.backtest.confidence(iv, p.Value)
		}
	}
	return preds, nil
}

// Raw runs the network on n samples of already-preprocessed model input (what
// TensorFlow Serving's predict API takes) and returns n*OutputShape().Size()
// raw outputs.
func (m *Model) Raw(ctx context.Context, x []float32, n int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.MultiIO() {
		return nil, fmt.Errorf("%w: model %q has %d inputs and %d outputs: run it through RawMulti", ErrUnsupported, m.name, len(m.inputs), len(m.outputs))
	}
	if want := n * m.window * m.features; len(x) != want || n <= 0 {
		return nil, inputErr("", "want %d samples of shape %v, got %d values", n, []int(m.net.InputShape()), len(x))
	}
	for i, v := range x {
		if !valueOK(float64(v)) {
			return nil, indexErr([]int{i / (m.window * m.features)}, "values must be finite with magnitude at most %g", MaxAbsValue)
		}
	}
	release, err := m.adm.Admit(ctx, m.name, n, 1)
	if err != nil {
		return nil, err
	}
	defer release()
	y := make([]float32, n*m.outSize)
	if err := m.forward(ctx, y, x, n); err != nil {
		return nil, m.adm.stopped(ctx, m.name, n, err)
	}
	for _, v := range y {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, ErrNonFinite
		}
	}
	return y, nil
}

// forward runs the network on n samples, through the version's batch queue
// when batching is on and the pass is small. A large pass runs in pieces of
// ctxChunk samples and stops between two when ctx ends (the client went
// away, or the deadline passed): nobody would read its answer.
func (m *Model) forward(ctx context.Context, y, x []float32, n int) error {
	if err := m.net.CheckIDs(x, n); err != nil { // before a batch merges it with others
		if ie := m.idErr(err); ie != nil {
			return ie
		}
		return err
	}
	if m.batch != nil && m.batch.admits(n) {
		return m.batch.do(ctx, y, x, n)
	}
	if n <= ctxChunk {
		return m.forwardDirect(y, x, n)
	}
	t0 := time.Now()
	in := len(x) / n
	for i := 0; i < n; i += ctxChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(ctxChunk, n-i)
		if err := m.net.Forward(y[i*m.outSize:(i+k)*m.outSize], x[i*in:(i+k)*in], k); err != nil {
			return fmt.Errorf("serving: model %q version %d: %w", m.name, m.version, err)
		}
	}
	if m.observe != nil {
		m.observe(m.name, m.version, n, time.Since(t0))
	}
	return nil
}

// ctxChunk is how many samples a large pass runs between two checks of its
// context (a few milliseconds of work for the gold model); a sample's output
// does not depend on its batch, so the pieces give the same bits.
const ctxChunk = 256

// Batching reports whether this version merges small forward passes.
func (m *Model) Batching() bool { return m.batch != nil }

func (m *Model) forwardDirect(y, x []float32, n int) error {
	t0 := time.Now()
	if err := m.net.Forward(y, x, n); err != nil {
		return fmt.Errorf("serving: model %q version %d: %w", m.name, m.version, err)
	}
	if m.observe != nil {
		m.observe(m.name, m.version, n, time.Since(t0))
	}
	return nil
}

// valueOK reports whether a client value is finite and not absurd.
func valueOK(x float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) <= MaxAbsValue
}
