package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

// readJSON checks the content type and size and decodes the body into dst.
// Accepted content types: application/json, any application/*+json, none at
// all, and application/x-www-form-urlencoded (what `curl -d` sends by
// default; the body is still read as JSON).
func (s *Server) readJSON(c *gin.Context, dst any) *Error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || mt == "application/x-www-form-urlencoded" ||
			(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
			return newErr(http.StatusUnsupportedMediaType, CodeMediaType, "", "content type %q: send application/json", ct)
		}
	}
	if c.Request.ContentLength > s.cfg.BodyLimit {
		return newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body of %d bytes exceeds the limit of %d bytes", c.Request.ContentLength, s.cfg.BodyLimit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.BodyLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body exceeds the limit of %d bytes", s.cfg.BodyLimit)
		}
		return newErr(http.StatusBadRequest, CodeBadRequest, "", "reading the body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return newErr(http.StatusBadRequest, CodeBadJSON, "", "empty body: send a JSON object")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// predictRequest is POST /predict's body. Values are pointers so that a JSON
// null is told apart from 0.
type predictRequest struct {
	HistoricalPrices []*float64 `json:"historical_prices"`
	Horizon          *int       `json:"horizon"`
	Model            string     `json:"model"`
	ModelVersion     *int64     `json:"model_version"`
}

// predictResponse is what a prediction returns; the cache stores it without
// "cached" and "response_time_ms", which writePrediction appends.
type predictResponse struct {
	PredictedPrice float64            `json:"predicted_price"`
	Confidence     string             `json:"confidence"`
	Interval       *serving.Interval  `json:"interval,omitempty"`
	Forecast       []float64          `json:"forecast,omitempty"`
	Intervals      []serving.Interval `json:"forecast_intervals,omitempty"`
	Model          string             `json:"model"`
	ModelVersion   int64              `json:"model_version"`
}

type batchResponse struct {
	Predictions  []predictionItem `json:"predictions"`
	Count        int              `json:"count"`
	Model        string           `json:"model"`
	ModelVersion int64            `json:"model_version"`
}

type predictionItem struct {
	PredictedPrice float64            `json:"predicted_price"`
	Confidence     string             `json:"confidence"`
	Interval       *serving.Interval  `json:"interval,omitempty"`
	Forecast       []float64          `json:"forecast,omitempty"`
	Intervals      []serving.Interval `json:"forecast_intervals,omitempty"`
}

func (s *Server) predict(c *gin.Context) {
	var req predictRequest
	if e := s.readJSON(c, &req); e != nil {
		abort(c, e)
		return
	}
	m, horizon, e := s.resolve(c, req.Model, req.ModelVersion, req.Horizon)
	if e != nil {
		abort(c, e)
		return
	}
	if req.HistoricalPrices == nil {
		abort(c, invalid("historical_prices", "required: an array of at least %d numbers", m.Window()))
		return
	}
	window, e := s.window(req.HistoricalPrices, m.Window(), "historical_prices")
	if e != nil {
		abort(c, e)
		return
	}
	s.metrics.batch.WithLabelValues("/predict").Observe(1)
	windows := [][]float64{window}
	key := cacheKey(kindOf("predict", req.Horizon), m, horizon, windows)
	body, cached, err := s.cachedCompute(c, key, func(ctx context.Context) ([]byte, error) {
		preds, err := m.Forecast(ctx, windows, horizon)
		if err != nil {
			return nil, err
		}
		p := preds[0]
		r := predictResponse{PredictedPrice: p.Value, Confidence: p.Confidence, Interval: p.Interval,
			Model: m.Name(), ModelVersion: m.Version()}
		if req.Horizon != nil {
			r.Forecast, r.Intervals = p.Forecast, p.Intervals
		}
		return json.Marshal(r)
	})
	if err != nil {
		abort(c, s.computeError(err, "historical_prices"))
		return
	}
	writePrediction(c, body, cached)
}

// batchRequest is POST /predict/batch's body.
type batchRequest struct {
	Instances    [][]*float64 `json:"instances"`
	Horizon      *int         `json:"horizon"`
	Model        string       `json:"model"`
	ModelVersion *int64       `json:"model_version"`
}

func (s *Server) predictBatch(c *gin.Context) {
	var req batchRequest
	if e := s.readJSON(c, &req); e != nil {
		abort(c, e)
		return
	}
	m, horizon, e := s.resolve(c, req.Model, req.ModelVersion, req.Horizon)
	if e != nil {
		abort(c, e)
		return
	}
	switch n := len(req.Instances); {
	case req.Instances == nil:
		abort(c, invalid("instances", "required: an array of 1 to %d windows", s.cfg.MaxBatch))
		return
	case n == 0 || n > s.cfg.MaxBatch:
		abort(c, invalid("instances", "%d windows: send 1 to %d", n, s.cfg.MaxBatch))
		return
	}
	windows := make([][]float64, len(req.Instances))
	for i, w := range req.Instances {
		var e *Error
		if windows[i], e = s.window(w, m.Window(), fmt.Sprintf("instances[%d]", i)); e != nil {
			abort(c, e)
			return
		}
	}
	s.metrics.batch.WithLabelValues("/predict/batch").Observe(float64(len(windows)))
	key := cacheKey(kindOf("batch", req.Horizon), m, horizon, windows)
	body, cached, err := s.cachedCompute(c, key, func(ctx context.Context) ([]byte, error) {
		preds, err := m.Forecast(ctx, windows, horizon)
		if err != nil {
			return nil, err
		}
		r := batchResponse{Predictions: make([]predictionItem, len(preds)), Count: len(preds), Model: m.Name(), ModelVersion: m.Version()}
		for i, p := range preds {
			it := predictionItem{PredictedPrice: p.Value, Confidence: p.Confidence, Interval: p.Interval}
			if req.Horizon != nil {
				it.Forecast, it.Intervals = p.Forecast, p.Intervals
			}
			r.Predictions[i] = it
		}
		return json.Marshal(r)
	})
	if err != nil {
		abort(c, s.computeError(err, "instances"))
		return
	}
	writePrediction(c, body, cached)
}

// resolve finds the model and checks the horizon.
func (s *Server) resolve(c *gin.Context, name string, version *int64, horizon *int) (*serving.Model, int, *Error) {
	if !s.reg.Ready() {
		return nil, 0, newErr(http.StatusServiceUnavailable, CodeNotReady, "", "models are still loading")
	}
	var v int64
	if version != nil {
		if *version <= 0 {
			return nil, 0, invalid("model_version", "must be a positive integer, got %d", *version)
		}
		v = *version
	}
	m, err := s.reg.Get(name, v)
	if err != nil {
		e := fromServing(err, "")
		if e == nil {
			e = newErr(http.StatusNotFound, CodeNotFound, "model", "%v", err)
		}
		if version != nil && strings.Contains(err.Error(), "version") {
			e.Field = "model_version"
		}
		return nil, 0, e
	}
	st := state(c)
	st.model, st.version = m.Name(), m.Version()
	h := 1
	if horizon != nil {
		h = *horizon
		if h < 1 || h > s.cfg.MaxHorizon {
			return nil, 0, invalid("horizon", "must be between 1 and %d, got %d", s.cfg.MaxHorizon, h)
		}
	}
	if !m.Univariate() {
		return nil, 0, invalid("model", "model %q takes %v windows (%d features) and gives %v: use POST /v1/models/%s:predict",
			m.Name(), m.InputShape(), m.Features(), m.OutputShape(), m.Name())
	}
	return m, h, nil
}

// window validates a client's series and returns its last n values.
func (s *Server) window(vals []*float64, n int, field string) ([]float64, *Error) {
	if len(vals) < n {
		return nil, invalid(field, "need at least %d values (the model's window), got %d", n, len(vals))
	}
	for i, p := range vals {
		switch {
		case p == nil:
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "null: want a number")
		case math.IsNaN(*p) || math.IsInf(*p, 0) || math.Abs(*p) > serving.MaxAbsValue:
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "%g is out of range: values must be finite with magnitude at most %g", *p, serving.MaxAbsValue)
		}
	}
	out := make([]float64, n)
	for i, p := range vals[len(vals)-n:] {
		out[i] = *p
	}
	return out, nil
}

// computeError maps a failed computation to its HTTP error; anything not
// caused by the input is a 500.
func (s *Server) computeError(err error, field string) *Error {
	if e := fromServing(err, field); e != nil {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return newErr(http.StatusServiceUnavailable, CodeNotReady, "", "request cancelled: %v", err)
	}
	return newErr(http.StatusInternalServerError, CodeInternal, "", "prediction failed: %v", err)
}

// cachedCompute looks key up, else computes (once for concurrent identical
// requests) and stores the result.
func (s *Server) cachedCompute(c *gin.Context, key string, compute func(context.Context) ([]byte, error)) ([]byte, bool, error) {
	st := state(c)
	ctx := c.Request.Context()
	useCache := s.cfg.CacheTTL >= 0
	if useCache {
		t0 := time.Now()
		v, ok, _ := s.cache.Get(ctx, key)
		st.cacheDur += time.Since(t0)
		if ok {
			st.cached = ptr(true)
			return v, true, nil
		}
	}
	st.cached = ptr(false)
	t0 := time.Now()
	v, err, _ := s.sf.Do(key, func() (any, error) {
		// Detached from this client's cancellation: followers share the result.
		cctx := context.WithoutCancel(ctx)
		b, err := compute(cctx)
		if err != nil {
			return nil, err
		}
		if useCache {
			t1 := time.Now()
			_ = s.cache.Set(cctx, key, b, s.cfg.CacheTTL)
			st.cacheDur += time.Since(t1)
		}
		return b, nil
	})
	st.modelDur = time.Since(t0)
	if err != nil {
		return nil, false, err
	}
	return v.([]byte), false, nil
}

// writePrediction appends "cached" and "response_time_ms" to a stored
// response object.
func writePrediction(c *gin.Context, body []byte, cached bool) {
	st := state(c)
	if len(body) < 2 || body[len(body)-1] != '}' {
		abort(c, newErr(http.StatusInternalServerError, CodeInternal, "", "corrupt cached response"))
		return
	}
	out := make([]byte, 0, len(body)+64)
	out = append(out, body[:len(body)-1]...)
	out = append(out, `,"cached":`...)
	out = strconv.AppendBool(out, cached)
	out = append(out, `,"response_time_ms":`...)
	out = strconv.AppendFloat(out, math.Round(ms(time.Since(st.start))*1000)/1000, 'f', -1, 64)
	out = append(out, '}')
	writeRaw(c, http.StatusOK, out)
}

// cacheKey covers the endpoint kind, the model's name, version and bundle
// fingerprint (model, weights, scaler, backtest), the horizon and the exact
// bits of every input value the model sees.
func cacheKey(kind string, m *serving.Model, horizon int, windows [][]float64) string {
	h := sha256.New()
	var buf [8]byte
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00%d\x00%d\x00", kind, m.Name(), m.Version(), m.Fingerprint(), horizon, len(windows))
	for _, w := range windows {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(w)))
		h.Write(buf[:])
		for _, v := range w {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			h.Write(buf[:])
		}
	}
	return "pred:" + m.Name() + ":" + strconv.FormatInt(m.Version(), 10) + ":" + hex.EncodeToString(h.Sum(nil))
}

// kindOf distinguishes responses with "forecast" (horizon given) from those
// without.
func kindOf(kind string, horizon *int) string {
	if horizon != nil {
		return kind + "+forecast"
	}
	return kind
}

func ptr[T any](v T) *T { return &v }
