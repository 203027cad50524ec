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

// loggedAnswer is what a "prediction" log line takes from the response body
// (the same bytes whether computed or cached).
type loggedAnswer struct {
	PredictedPrice *float64          `json:"predicted_price"`
	Interval       *serving.Interval `json:"interval"`
	Forecast       []float64         `json:"forecast"`
	Warnings       json.RawMessage   `json:"warnings"`
}

// inputHash is the FNV-1a 64-bit hash of the window's float64 bits (little
// endian, in request order), as 16 hex digits: equal windows have equal
// hashes whatever their JSON spelling.
func inputHash(window []float64) string {
	h := fnv.New64a()
	var b [8]byte
	for _, v := range window {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	var sum [8]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// logPrediction writes the sampled request log line of one answered
// POST /predict (docs/api.md, "Request log").
func (s *Server) logPrediction(c *gin.Context, m *serving.Model, window []float64, horizon int, body []byte, cached bool) {
	st := state(c)
	ctx := c.Request.Context()
	if !s.cfg.Logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range window {
		lo, hi = min(lo, v), max(hi, v)
	}
	input := []any{
		slog.Int("length", len(window)),
		slog.Int("features", m.Features()),
		slog.Float64("min", lo),
		slog.Float64("max", hi),
		slog.String("hash", inputHash(window)),
	}
	if s.cfg.RequestLogValues {
		input = append(input, slog.Any("values", window))
	}
	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs,
		slog.String("request_id", st.id),
		slog.String("model", m.Name()),
		slog.Int64("model_version", m.Version()),
		slog.Group("input", input...),
		slog.Int("horizon", horizon),
	)
	var a loggedAnswer
	if err := json.Unmarshal(body, &a); err == nil {
		if a.PredictedPrice != nil {
			attrs = append(attrs, slog.Float64("prediction", *a.PredictedPrice))
		}
		if a.Interval != nil {
			attrs = append(attrs, slog.Group("interval",
				slog.Float64("lower", a.Interval.Lower), slog.Float64("upper", a.Interval.Upper), slog.Float64("level", a.Interval.Level)))
		}
		if len(a.Forecast) > 0 {
			attrs = append(attrs, slog.Any("forecast", a.Forecast))
		}
		if len(a.Warnings) > 0 && string(a.Warnings) != "null" {
			attrs = append(attrs, slog.Any("warnings", a.Warnings))
		}
	}
	if a.Warnings == nil || string(a.Warnings) == "null" {
		attrs = append(attrs, slog.Any("warnings", []string{}))
	}
	attrs = append(attrs,
		slog.Bool("cached", cached),
		slog.Float64("latency_ms", math.Round(ms(time.Since(st.start))*1000)/1000),
	)
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "prediction", attrs...)
}
