package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seqcast/seqcast/serving"
)

// What the model has seen: every request window is checked against the
// model's training_stats.json (serving.Model.CheckInput); out-of-range
// statistics are counted, logged and returned as "warnings" (or refused with
// 422 under OutOfRangeReject), the drift PSI is exported as a gauge, and
// computed predictions feed histograms of values and relative interval
// widths.

// Config.OutOfRange values.
const (
	OutOfRangeWarn   = "warn"
	OutOfRangeReject = "reject"
)

// modelWatch is the model-level metrics.
type modelWatch struct {
	outOfRange *prometheus.CounterVec
	drift      *prometheus.GaugeVec
	threshold  *prometheus.GaugeVec
	value      *prometheus.HistogramVec
	width      *prometheus.HistogramVec

	mu  sync.RWMutex
	obs map[modelLabels]predObservers
}

type predObservers struct{ value, width prometheus.Observer }

func newModelWatch(reg prometheus.Registerer) *modelWatch {
	w := &modelWatch{
		outOfRange: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqcast_out_of_range_total",
			Help: "Request windows with a statistic beyond the training range (training_stats.json, widened by its margin), by model and feature.",
		}, []string{"model", "feature"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqcast_input_drift_psi",
			Help: "Population stability index of the last 1,000 distinct request windows (drift.windows of training_stats.json when smaller) against the training deciles, by model, version and feature (updated every 100 distinct windows once the ring is full).",
		}, []string{"model", "version", "feature"}),
		threshold: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqcast_input_drift_threshold",
			Help: "The PSI above which seqcast_input_drift_psi is a drift: max(0.25, the largest PSI of the training windows' own blocks, from training_stats.json), by model, version and feature.",
		}, []string{"model", "version", "feature"}),
		value: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqcast_prediction_value",
			Help:    "Computed next-step predictions (cache misses), by model and version.",
			Buckets: prometheus.ExponentialBucketsRange(0.01, 1e6, 25),
		}, []string{"model", "version"}),
		width: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqcast_interval_width",
			Help:    "Relative width (upper - lower) / |prediction| of computed next-step prediction intervals (cache misses), by model and version.",
			Buckets: prometheus.ExponentialBucketsRange(0.001, 4, 16),
		}, []string{"model", "version"}),
		obs: map[modelLabels]predObservers{},
	}
	reg.MustRegister(w.outOfRange, w.drift, w.threshold, w.value, w.width)
	return w
}

// observePredictions records computed predictions.
func (w *modelWatch) observePredictions(m *serving.Model, preds []serving.Prediction) {
	k := modelLabels{m.Name(), m.Version()}
	w.mu.RLock()
	o, ok := w.obs[k]
	w.mu.RUnlock()
	if !ok {
		v := strconv.FormatInt(k.version, 10)
		o = predObservers{w.value.WithLabelValues(k.model, v), w.width.WithLabelValues(k.model, v)}
		w.mu.Lock()
		if len(w.obs) < maxCachedChildren {
			w.obs[k] = o
		}
		w.mu.Unlock()
	}
	for _, p := range preds {
		o.value.Observe(p.Value)
		if iv := p.Interval; iv != nil && p.Value != 0 {
			o.width.Observe((iv.Upper - iv.Lower) / math.Abs(p.Value))
		}
	}
}

// inputWarning is one entry of a response's "warnings".
type inputWarning struct {
	Field   string   `json:"field"`
	Feature string   `json:"feature"`
	Value   *float64 `json:"value"` // null when not a finite number
	Reason  string   `json:"reason"`
}

// checkInput checks windows (from the request field field; a batch's
// windows are field[i]) against m's training statistics: the warnings to
// return, or a 422 under OutOfRangeReject.
func (s *Server) checkInput(c *gin.Context, m *serving.Model, windows [][]float64, field string) ([]inputWarning, *Error) {
	if m.TrainingStats() == nil {
		return nil, nil
	}
	var out []inputWarning
	for i, win := range windows {
		warns, drift := m.CheckInput(win)
		s.setDrift(m, drift)
		if len(warns) == 0 {
			continue
		}
		f := field
		if len(windows) > 1 || field == "instances" {
			f = field + "[" + strconv.Itoa(i) + "]"
		}
		var e *Error
		if out, e = s.outOfRange(c, m, f, warns, out); e != nil {
			return nil, e
		}
	}
	return out, nil
}

// setDrift exports drift values of m, when one fell due.
func (s *Server) setDrift(m *serving.Model, drift []serving.DriftValue) {
	if drift == nil {
		return
	}
	v := strconv.FormatInt(m.Version(), 10)
	for _, d := range drift {
		s.metrics.watch.drift.WithLabelValues(m.Name(), v, d.Feature).Set(d.PSI)
		s.metrics.watch.threshold.WithLabelValues(m.Name(), v, d.Feature).Set(d.Threshold)
	}
}

// outOfRange counts and logs one window's (request field f's) warnings and
// appends them to out, or refuses the request under OutOfRangeReject.
func (s *Server) outOfRange(c *gin.Context, m *serving.Model, f string, warns []serving.InputWarning, out []inputWarning) ([]inputWarning, *Error) {
	for _, w := range warns {
		s.metrics.watch.outOfRange.WithLabelValues(m.Name(), w.Feature).Inc()
		s.cfg.Logger.LogAttrs(c.Request.Context(), slog.LevelWarn, "input out of range",
			slog.String("request_id", state(c).id), slog.String("model", m.Name()), slog.Int64("model_version", m.Version()),
			slog.String("field", f), slog.String("feature", w.Feature), slog.String("value", strconv.FormatFloat(w.Value, 'g', -1, 64)),
			slog.Float64("train_min", w.Min), slog.Float64("train_max", w.Max), slog.String("reason", w.Reason))
		if s.cfg.OutOfRange == OutOfRangeReject {
			return nil, invalid(f, "out of range for model %s version %d (%s): %s", m.Name(), m.Version(), w.Feature, w.Reason)
		}
		iw := inputWarning{Field: f, Feature: w.Feature, Reason: w.Reason}
		if v := w.Value; !math.IsNaN(v) && !math.IsInf(v, 0) {
			iw.Value = &v
		}
		out = append(out, iw)
	}
	return out, nil
}

// withWarnings adds "warnings" to an encoded answer (its closing brace
// last); body is not modified.
func withWarnings(body []byte, warns []inputWarning) []byte {
	if len(warns) == 0 || len(body) < 2 || body[len(body)-1] != '}' {
		return body
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(warns) != nil {
		return body
	}
	list := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	out := make([]byte, 0, len(body)+len(list)+16)
	out = append(out, body[:len(body)-1]...)
	out = append(out, `,"warnings":`...)
	out = append(out, list...)
	return append(out, '}')
}
