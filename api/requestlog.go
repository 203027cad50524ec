package api

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

// sampleRequestLog says whether this request gets a "prediction" log line
// (Config.RequestLogRate): one comparison when the log is off.
func (s *Server) sampleRequestLog() bool {
	r := s.cfg.RequestLogRate
	return r > 0 && (r >= 1 || rand.Float64() < r)
}

// loggedPrediction is one window's answer in a "prediction" log line. The
// JSON routes (/predict, /predict/batch, /v1/timeseries/forecast) give
// Value, Interval (nil without a backtest) and Forecast (the steps, when the
// request asked for a horizon); the tensor routes (TF Serving :predict, OIP
// infer) give Outputs, the model's outputs for the instance, and no Value.
type loggedPrediction struct {
	Value    float64
	Interval *serving.Interval
	Forecast []float64
	Outputs  []float64
}

// MarshalJSON writes "value" only when there are no Outputs (a tensor
// route has no single predicted value).
func (p loggedPrediction) MarshalJSON() ([]byte, error) {
	type out struct {
		Value    *float64          `json:"value,omitempty"`
		Interval *serving.Interval `json:"interval,omitempty"`
		Forecast []float64         `json:"forecast,omitempty"`
		Outputs  []float64         `json:"outputs,omitempty"`
	}
	o := out{Interval: p.Interval, Forecast: p.Forecast, Outputs: p.Outputs}
	if p.Outputs == nil {
		o.Value = &p.Value
	}
	return json.Marshal(o)
}

// predictionsLogged is what a log line takes from computed predictions;
// withHorizon keeps their forecast steps (the request asked for a horizon).
func predictionsLogged(preds []serving.Prediction, withHorizon bool) []loggedPrediction {
	out := make([]loggedPrediction, len(preds))
	for i, p := range preds {
		out[i] = loggedPrediction{Value: p.Value, Interval: p.Interval}
		if withHorizon {
			out[i].Forecast = p.Forecast
		}
	}
	return out
}

// answerLogged is what a log line takes from an encoded /predict or
// /predict/batch answer: a cached one, or one another request computed
// (its predictions are not at hand). Read only for a sampled line.
func answerLogged(body []byte) []loggedPrediction {
	type one struct {
		PredictedPrice *float64          `json:"predicted_price"`
		Interval       *serving.Interval `json:"interval"`
		Forecast       []float64         `json:"forecast"`
	}
	var a struct {
		one
		Predictions []one `json:"predictions"`
	}
	if json.Unmarshal(body, &a) != nil {
		return nil
	}
	items := a.Predictions
	if a.PredictedPrice != nil {
		items = []one{a.one}
	}
	out := make([]loggedPrediction, 0, len(items))
	for _, it := range items {
		if it.PredictedPrice == nil {
			return nil
		}
		out = append(out, loggedPrediction{Value: *it.PredictedPrice, Interval: it.Interval, Forecast: it.Forecast})
	}
	return out
}

// inputHash is the FNV-1a 64-bit hash of the windows' float64 bits (little
// endian, window after window, each in request order), as 16 hex digits:
// equal inputs have equal hashes whatever their JSON spelling.
func inputHash(windows ...[]float64) string {
	h := fnv.New64a()
	var b [8]byte
	for _, w := range windows {
		for _, v := range w {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	var sum [8]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// logRequest writes the sampled request log line of one answered prediction request.
func (s *Server) logRequest(c *gin.Context, m *serving.Model, route string, windows [][]float64, preds []loggedPrediction, warns []inputWarning, cached bool) {
	st := state(c)
	ctx := c.Request.Context()
	if !s.cfg.Logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	single := route == "/predict" && len(windows) == 1 && len(preds) <= 1
	lo, hi := math.Inf(1), math.Inf(-1)
	length, lengths := 0, []int(nil)
	for i, w := range windows {
		for _, v := range w {
			lo, hi = min(lo, v), max(hi, v)
		}
		if i == 0 {
			length = len(w)
		} else if len(w) != length && lengths == nil {
			lengths = make([]int, len(windows))
			for j := range windows {
				lengths[j] = len(windows[j])
			}
		}
	}
	input := make([]any, 0, 8)
	input = append(input, slog.Int("windows", len(windows)), slog.Int("length", length))
	if lengths != nil {
		input = append(input, slog.Any("lengths", lengths))
	}
	input = append(input, slog.Int("features", m.Features()))
	if len(windows) > 0 && length > 0 {
		input = append(input, slog.Float64("min", lo), slog.Float64("max", hi))
	}
	input = append(input, slog.String("hash", inputHash(windows...)))
	if s.cfg.RequestLogValues {
		if single {
			input = append(input, slog.Any("values", windows[0]))
		} else {
			input = append(input, slog.Any("values", windows))
		}
	}
	attrs := make([]slog.Attr, 0, 13)
	attrs = append(attrs,
		slog.String("request_id", st.id),
		slog.String("route", route),
		slog.String("model", m.Name()),
		slog.Int64("model_version", m.Version()),
		slog.Group("input", input...),
	)
	if len(preds) > 0 && preds[0].Outputs == nil {
		attrs = append(attrs, slog.Int("horizon", max(1, len(preds[0].Forecast))))
	}
	if single {
		if len(preds) == 1 {
			p := preds[0]
			attrs = append(attrs, slog.Float64("prediction", p.Value))
			if p.Interval != nil {
				attrs = append(attrs, slog.Group("interval",
					slog.Float64("lower", p.Interval.Lower), slog.Float64("upper", p.Interval.Upper), slog.Float64("level", p.Interval.Level)))
			}
			if len(p.Forecast) > 0 {
				attrs = append(attrs, slog.Any("forecast", p.Forecast))
			}
		}
	} else {
		if preds == nil {
			preds = []loggedPrediction{}
		}
		attrs = append(attrs, slog.Any("predictions", preds))
	}
	if warns == nil {
		warns = []inputWarning{}
	}
	attrs = append(attrs,
		slog.Any("warnings", warns),
		slog.Bool("cached", cached),
		slog.Float64("latency_ms", math.Round(ms(time.Since(st.start))*1000)/1000),
	)
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "prediction", attrs...)
}
