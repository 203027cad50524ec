package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"math"

	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

// predictRequest is POST /predict's body. Values are pointers so that a JSON
// null is told apart from 0. A univariate model takes historical_prices; any
// model takes window (rows of features, raw units).
type predictRequest struct {
	HistoricalPrices []*float64   `json:"historical_prices"`
	Window           [][]*float64 `json:"window"`
	Horizon          *int         `json:"horizon"`
	Model            string       `json:"model"`
	ModelVersion     jsonVersion  `json:"model_version"`
}

// decodePredict reads POST /predict's body: the fast decoder for the usual
// shape, encoding/json for everything else (and for every error).
func (s *Server) decodePredict(c *gin.Context) (predictRequest, *Error) {
	var req predictRequest
	body, release, e := s.readBody(c)
	if e != nil {
		return req, e
	}
	defer release()
	if fastPredict(body, &req) {
		return req, nil
	}
	req = predictRequest{}
	return req, unmarshal(body, &req)
}

func unmarshal(body []byte, dst any) *Error {
	if err := json.Unmarshal(body, dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// predictResponse is what a prediction returns; the cache stores it without
// "cached" and "response_time_ms", which writePrediction appends.
type predictResponse struct {
	predictionItem
	Model        string `json:"model"`
	ModelVersion int64  `json:"model_version"`
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
	Outputs        []float64          `json:"outputs,omitempty"`
}

// item is one prediction as the API returns it: the forecast steps only when
// a horizon was asked for, every model output only for window requests.
func item(p serving.Prediction, withHorizon, withOutputs bool) predictionItem {
	it := predictionItem{PredictedPrice: p.Value, Confidence: p.Confidence, Interval: p.Interval}
	if withHorizon {
		it.Forecast, it.Intervals = p.Forecast, p.Intervals
	}
	if withOutputs {
		it.Outputs = p.Outputs
	}
	return it
}

func (s *Server) predict(c *gin.Context) {
	req, e := s.decodePredict(c)
	if e != nil {
		abort(c, e)
		return
	}
	m, horizon, e := s.resolve(c, req.Model, req.ModelVersion, req.Horizon)
	if e != nil {
		abort(c, e)
		return
	}
	if req.Window != nil {
		s.predictWindow(c, m, horizon, &req)
		return
	}
	if e := univariateOnly(m); e != nil {
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
	s.predictOne(c, m, &req, horizon, window, "historical_prices")
}

// predictWindow serves POST /predict with "window": one multivariate window
// in raw units.
func (s *Server) predictWindow(c *gin.Context, m *serving.Model, horizon int, req *predictRequest) {
	if req.HistoricalPrices != nil {
		abort(c, invalid("window", "send either historical_prices or window, not both"))
		return
	}
	if e := recursiveOK(m, horizon); e != nil {
		abort(c, e)
		return
	}
	window, e := s.rows(req.Window, m.Window(), m.Features(), "window")
	if e != nil {
		abort(c, e)
		return
	}
	s.predictOne(c, m, req, horizon, window, "window")
}

// predictOne answers POST /predict for one validated window, through the
// cache: field is the request field the window came from ("historical_prices"
// for a univariate series, "window" for raw multivariate rows) and picks the
// model path and the cache key's kind.
func (s *Server) predictOne(c *gin.Context, m *serving.Model, req *predictRequest, horizon int, window []float64, field string) {
	multi := field == "window"
	kind := "predict"
	if multi {
		kind = "window"
	}
	s.metrics.observeRequestBatch("/predict", 1)
	windows := [][]float64{window}
	key := cacheKey(kindOf(kind, req.Horizon), m, horizon, windows)
	body, cached, err := s.cachedCompute(c, key, func(ctx context.Context) ([]byte, error) {
		var preds []serving.Prediction
		var err error
		if multi {
			preds, err = m.PredictWindows(ctx, windows, horizon)
		} else {
			preds, err = m.Forecast(ctx, windows, horizon)
		}
		if err != nil {
			return nil, err
		}
		return encodePrediction(&predictResponse{item(preds[0], req.Horizon != nil, multi), m.Name(), m.Version()})
	})
	if err != nil {
		abort(c, s.computeError(err, field))
		return
	}
	s.writePrediction(c, body, cached)
}

// batchRequest is POST /predict/batch's body: instances are univariate
// windows (arrays of numbers) or, in Windows, multivariate ones (arrays of
// rows).
type batchRequest struct {
	Instances    [][]*float64   `json:"instances"`
	Windows      [][][]*float64 `json:"-"`
	Horizon      *int           `json:"horizon"`
	Model        string         `json:"model"`
	ModelVersion jsonVersion    `json:"model_version"`
}

// batchRequest3 is batchRequest with multivariate instances, for
// encoding/json.
type batchRequest3 struct {
	Instances    [][][]*float64 `json:"instances"`
	Horizon      *int           `json:"horizon"`
	Model        string         `json:"model"`
	ModelVersion jsonVersion    `json:"model_version"`
}

// decodeBatch reads POST /predict/batch's body (see decodePredict). Instances
// that are arrays of arrays of arrays are multivariate windows.
func (s *Server) decodeBatch(c *gin.Context) (batchRequest, *Error) {
	var req batchRequest
	body, release, e := s.readBody(c)
	if e != nil {
		return req, e
	}
	defer release()
	if fastBatch(body, &req) {
		return req, nil
	}
	req = batchRequest{}
	err := json.Unmarshal(body, &req)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "instances" && te.Value == "array" {
		var r3 batchRequest3
		if err3 := json.Unmarshal(body, &r3); err3 == nil {
			return batchRequest{Windows: r3.Instances, Horizon: r3.Horizon, Model: r3.Model, ModelVersion: r3.ModelVersion}, nil
		}
	}
	if err != nil {
		return req, decodeError(err)
	}
	return req, nil
}

func (s *Server) predictBatch(c *gin.Context) {
	req, e := s.decodeBatch(c)
	if e != nil {
		abort(c, e)
		return
	}
	m, horizon, e := s.resolve(c, req.Model, req.ModelVersion, req.Horizon)
	if e != nil {
		abort(c, e)
		return
	}
	multi := req.Windows != nil
	if !multi {
		if e := univariateOnly(m); e != nil {
			abort(c, e)
			return
		}
	} else if e := recursiveOK(m, horizon); e != nil {
		abort(c, e)
		return
	}
	n := len(req.Instances)
	if multi {
		n = len(req.Windows)
	}
	switch {
	case req.Instances == nil && !multi:
		abort(c, invalid("instances", "required: an array of 1 to %d windows", s.cfg.MaxBatch))
		return
	case n == 0 || n > s.cfg.MaxBatch:
		abort(c, invalid("instances", "%d windows: send 1 to %d", n, s.cfg.MaxBatch))
		return
	}
	windows := make([][]float64, n)
	for i := range windows {
		var e *Error
		if multi {
			windows[i], e = s.rows(req.Windows[i], m.Window(), m.Features(), "instances["+strconv.Itoa(i)+"]")
		} else {
			windows[i], e = s.window(req.Instances[i], m.Window(), "instances["+strconv.Itoa(i)+"]")
		}
		if e != nil {
			abort(c, e)
			return
		}
	}
	s.metrics.observeRequestBatch("/predict/batch", len(windows))
	kind := "batch"
	if multi {
		kind = "batch-window"
	}
	key := cacheKey(kindOf(kind, req.Horizon), m, horizon, windows)
	body, cached, err := s.cachedCompute(c, key, func(ctx context.Context) ([]byte, error) {
		var preds []serving.Prediction
		var err error
		if multi {
			preds, err = m.PredictWindows(ctx, windows, horizon)
		} else {
			preds, err = m.Forecast(ctx, windows, horizon)
		}
		if err != nil {
			return nil, err
		}
		r := batchResponse{Predictions: make([]predictionItem, len(preds)), Count: len(preds), Model: m.Name(), ModelVersion: m.Version()}
		for i, p := range preds {
			r.Predictions[i] = item(p, req.Horizon != nil, multi)
		}
		return encodeBatch(&r)
	})
	if err != nil {
		abort(c, s.computeError(err, "instances"))
		return
	}
	s.writePrediction(c, body, cached)
}

// univariateOnly refuses a model that does not map one series to its next
// value for historical_prices and univariate instances.
func univariateOnly(m *serving.Model) *Error {
	if m.Univariate() {
		return nil
	}
	return invalid("model", "model %q takes %v windows (%d features) and gives %v: send \"window\" (rows of %d features) to POST /predict, or instances of such windows to /predict/batch",
		m.Name(), m.InputShape(), m.Features(), m.OutputShape(), m.Features())
}

// recursiveOK refuses a multi-step horizon for a model whose output is not
// the next value of its one input series.
func recursiveOK(m *serving.Model, horizon int) *Error {
	if horizon > 1 && !m.Univariate() {
		return invalid("horizon", "a recursive forecast (horizon > 1) needs a univariate model; model %q takes %d features and gives %v",
			m.Name(), m.Features(), m.OutputShape())
	}
	return nil
}

// resolve finds the model the request names (body and query string, see
// modelSpec) and checks the horizon.
func (s *Server) resolve(c *gin.Context, bodyModel string, bodyVer jsonVersion, horizon *int) (*serving.Model, int, *Error) {
	name, ref, e := modelSpec(c, bodyModel, bodyVer)
	if e != nil {
		return nil, 0, e
	}
	if !s.reg.Ready() {
		return nil, 0, newErr(http.StatusServiceUnavailable, CodeNotReady, "", "models are still loading")
	}
	m, e := s.lookup(name, ref)
	if e != nil {
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

// rows validates a client's multivariate window (at least n rows of f
// values) and returns its last n rows, flat.
func (s *Server) rows(win [][]*float64, n, f int, field string) ([]float64, *Error) {
	if len(win) < n {
		return nil, invalid(field, "need at least %d rows of %d features (the model's window), got %d rows", n, f, len(win))
	}
	for i, r := range win {
		if len(r) != f {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "%d features: the model takes %d", len(r), f)
		}
		for j, p := range r {
			switch {
			case p == nil:
				return nil, invalid(fmt.Sprintf("%s[%d][%d]", field, i, j), "null: want a number")
			case math.IsNaN(*p) || math.IsInf(*p, 0) || math.Abs(*p) > serving.MaxAbsValue:
				return nil, invalid(fmt.Sprintf("%s[%d][%d]", field, i, j), "%g is out of range: values must be finite with magnitude at most %g", *p, serving.MaxAbsValue)
			}
		}
	}
	out := make([]float64, 0, n*f)
	for _, r := range win[len(win)-n:] {
		for _, p := range r {
			out = append(out, *p)
		}
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
			st.setCached(true)
			return v, true, nil
		}
	}
	st.setCached(false)
	t0 := time.Now()
	v, err := s.flights.do(ctx, key, func(cctx context.Context) ([]byte, error) {
		b, err := compute(cctx)
		if err != nil {
			return nil, err
		}
		if useCache {
			t1 := time.Now()
			_ = s.cache.Set(context.WithoutCancel(cctx), key, b, s.cfg.CacheTTL)
			st.cacheDur += time.Since(t1)
		}
		return b, nil
	})
	st.modelDur = time.Since(t0)
	if err != nil {
		return nil, false, err
	}
	return v, false, nil
}

// flights runs one computation per key for concurrent identical requests
// (singleflight) and cancels it once every request waiting for it is gone,
// so that a prediction nobody waits for leaves the batch queue.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done     chan struct{}
	val      []byte
	err      error
	waiters  int // guarded by flights.mu
	canceled bool
	cancel   context.CancelFunc
}

// leave drops one waiter; the last one out cancels the computation.
func (fs *flights) leave(f *flight) {
	fs.mu.Lock()
	f.waiters--
	if f.waiters == 0 && !f.canceled {
		f.canceled = true
		f.cancel()
	}
	fs.mu.Unlock()
}

func (fs *flights) do(ctx context.Context, key string, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	fs.mu.Lock()
	if f, ok := fs.m[key]; ok && !f.canceled {
		f.waiters++
		fs.mu.Unlock()
		select {
		case <-f.done:
			return f.val, f.err
		case <-ctx.Done():
			fs.leave(f)
			return nil, ctx.Err()
		}
	}
	// Lead: the computation runs here, detached from this client's
	// cancellation (followers share it) but cancelled when every waiter,
	// this one included, has gone.
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	if fs.m == nil {
		fs.m = map[string]*flight{}
	}
	fs.m[key] = f
	fs.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { fs.leave(f) })
	completed := false
	defer func() { // also when fn panics: the waiters get an error, not a hang
		if !completed {
			f.val, f.err = nil, errors.New("the computation failed (panic)")
		}
		stop()
		fs.mu.Lock()
		if fs.m[key] == f {
			delete(fs.m, key)
		}
		fs.mu.Unlock()
		close(f.done)
		cancel()
	}()
	f.val, f.err = fn(cctx)
	completed = true
	return f.val, f.err
}

// writePrediction appends "cached" and "response_time_ms" to a stored
// response object.
func (s *Server) writePrediction(c *gin.Context, body []byte, cached bool) {
	st := state(c)
	if len(body) < 2 || body[len(body)-1] != '}' {
		abort(c, newErr(http.StatusInternalServerError, CodeInternal, "", "corrupt cached response"))
		return
	}
	bp, _ := s.outs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	out := (*bp)[:0]
	out = append(out, body[:len(body)-1]...)
	out = append(out, `,"cached":`...)
	out = strconv.AppendBool(out, cached)
	out = append(out, `,"response_time_ms":`...)
	out = strconv.AppendFloat(out, math.Round(ms(time.Since(st.start))*1000)/1000, 'f', -1, 64)
	out = append(out, '}')
	writeRaw(c, http.StatusOK, out) // copies out into the connection's buffer
	if cap(out) <= maxPooledBody {
		*bp = out[:0]
		s.outs.Put(bp)
	}
}

// cacheKey covers the endpoint kind, the model's name, version and bundle
// fingerprint (model, weights, scaler, backtest), the horizon and the exact
// bits of every input value the model sees: the SHA-256 of
// "kind\0name\0version\0fingerprint\0horizon\0count\0" followed, for every
// window, by its length and its values' float64 bits (little endian).
func cacheKey(kind string, m *serving.Model, horizon int, windows [][]float64) string {
	var stack [1024]byte
	b := stack[:0]
	b = append(b, kind...)
	b = append(b, 0)
	b = append(b, m.Name()...)
	b = append(b, 0)
	b = strconv.AppendInt(b, m.Version(), 10)
	b = append(b, 0)
	b = append(b, m.Fingerprint()...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(horizon), 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(len(windows)), 10)
	b = append(b, 0)
	for _, w := range windows {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(w)))
		for _, v := range w {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	sum := sha256.Sum256(b)
	var k [128]byte
	key := append(k[:0], "pred:"...)
	key = append(key, m.Name()...)
	key = append(key, ':')
	key = strconv.AppendInt(key, m.Version(), 10)
	key = append(key, ':')
	key = hex.AppendEncode(key, sum[:])
	return string(key)
}

// kindOf distinguishes responses with "forecast" (horizon given) from those
// without.
func kindOf(kind string, horizon *int) string {
	if horizon != nil {
		return kind + "+forecast"
	}
	return kind
}
