package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"

	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/jsoncodec"
	"github.com/seqcast/seqcast/serving"
)

type (
	predictResponse = jsoncodec.PredictResponse
	batchResponse   = jsoncodec.BatchResponse
	predictionItem  = jsoncodec.Item
)

// bounds is what model m takes from one request, for the decoders.
func (s *Server) bounds(m *serving.Model) jsoncodec.Bounds {
	return jsoncodec.Bounds{Steps: m.Window(), Features: m.Features(), MaxCount: s.cfg.MaxBatch, MaxAbs: serving.MaxAbsValue}
}

// body reads the request body and decodes its object with decode (one of
// jsoncodec's Decode*); the arrays in the result are slices of the body, so
// call release only once they are read.
func body[T any](s *Server, c *gin.Context, decode func([]byte) (T, error)) (req T, release func(), e *Error) {
	b, release, e := s.readBody(c)
	if e != nil {
		return req, nil, e
	}
	req, err := decode(b)
	if err != nil {
		release()
		return req, nil, decodeError(err)
	}
	return req, release, nil
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
	req, release, e := body(s, c, jsoncodec.DecodePredict)
	if e != nil {
		abort(c, e)
		return
	}
	window, m, horizon, field, e := s.predictInput(c, &req)
	release()
	if e != nil {
		abort(c, e)
		return
	}
	m = s.route(c, m, [][]float64{window})
	setModelVersionHeader(c, m)
	s.predictOne(c, m, req.Horizon, horizon, window, field)
}

// predictInput resolves the model a /predict body names and reads its one
// window: "historical_prices" (a univariate series) or "window" (raw
// multivariate rows); field says which.
func (s *Server) predictInput(c *gin.Context, req *jsoncodec.Predict) ([]float64, *serving.Model, int, string, *Error) {
	m, horizon, e := s.resolve(c, req.Model, req.ModelVersion, req.Horizon)
	if e != nil {
		return nil, nil, 0, "", e
	}
	var window []float64
	var err error
	if !jsoncodec.Absent(req.Window) {
		if !jsoncodec.Absent(req.HistoricalPrices) {
			return nil, nil, 0, "", invalid("window", "send either historical_prices or window, not both")
		}
		if e := recursiveOK(m, horizon); e != nil {
			return nil, nil, 0, "", e
		}
		window, err = jsoncodec.Rows(req.Window, "window", s.bounds(m))
		return window, m, horizon, "window", inputError(err)
	}
	if e := univariateOnly(m); e != nil {
		return nil, nil, 0, "", e
	}
	if jsoncodec.Absent(req.HistoricalPrices) {
		return nil, nil, 0, "", invalid("historical_prices", "required: an array of at least %d numbers", m.Window())
	}
	window, err = jsoncodec.Series(req.HistoricalPrices, "historical_prices", s.bounds(m))
	return window, m, horizon, "historical_prices", inputError(err)
}

// predictOne answers POST /predict for one validated window, through the
// cache: field is the request field the window came from ("historical_prices"
// for a univariate series, "window" for raw multivariate rows) and picks the
// model path and the cache key's kind.
func (s *Server) predictOne(c *gin.Context, m *serving.Model, reqHorizon *int, horizon int, window []float64, field string) {
	multi := field == "window"
	kind := kindPredict
	if multi {
		kind = kindWindow
	}
	s.metrics.observeRequestBatch("/predict", 1)
	windows := [][]float64{window}
	warns, e := s.checkInput(c, m, windows, field)
	if e != nil {
		abort(c, e)
		return
	}
	key := cacheKey(kind.with(reqHorizon != nil), m, horizon, windows)
	var computed []serving.Prediction // this request's own computation, for the request log
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
		computed = preds
		s.metrics.watch.observePredictions(m, preds)
		s.shadowRun(c, m, windows, horizon, multi, preds)
		return jsoncodec.EncodePrediction(&predictResponse{Item: item(preds[0], reqHorizon != nil, multi), Model: m.Name(), ModelVersion: m.Version()})
	})
	if err != nil {
		abort(c, s.computeError(err, field))
		return
	}
	s.writePrediction(c, withWarnings(body, warns), cached)
	if s.sampleRequestLog() {
		// A slice of its own: windows passed on would escape (an allocation
		// on every request, sampled or not).
		s.logRequest(c, m, "/predict", [][]float64{window}, loggedAnswer(computed, reqHorizon != nil, body), warns, cached)
	}
}

// loggedAnswer is what the request log takes from an answer: the
// predictions this request computed, else (a cached answer, or one a
// concurrent identical request computed) those of its encoded body.
func loggedAnswer(computed []serving.Prediction, withHorizon bool, body []byte) []loggedPrediction {
	if computed != nil {
		return predictionsLogged(computed, withHorizon)
	}
	return answerLogged(body)
}

func (s *Server) predictBatch(c *gin.Context) {
	req, release, e := body(s, c, jsoncodec.DecodeBatch)
	if e != nil {
		abort(c, e)
		return
	}
	windows, multi, m, horizon, e := s.batchInput(c, &req)
	release()
	if e != nil {
		abort(c, e)
		return
	}
	m = s.route(c, m, windows)
	setModelVersionHeader(c, m)
	s.metrics.observeRequestBatch("/predict/batch", len(windows))
	warns, e := s.checkInput(c, m, windows, "instances")
	if e != nil {
		abort(c, e)
		return
	}
	kind := kindBatch
	if multi {
		kind = kindBatchWindow
	}
	key := cacheKey(kind.with(req.Horizon != nil), m, horizon, windows)
	withHorizon := req.Horizon != nil
	var computed []serving.Prediction // this request's own computation, for the request log
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
		computed = preds
		s.metrics.watch.observePredictions(m, preds)
		s.shadowRun(c, m, windows, horizon, multi, preds)
		r := batchResponse{Predictions: make([]predictionItem, len(preds)), Count: len(preds), Model: m.Name(), ModelVersion: m.Version()}
		for i, p := range preds {
			r.Predictions[i] = item(p, withHorizon, multi)
		}
		return jsoncodec.EncodeBatch(&r)
	})
	if err != nil {
		abort(c, s.computeError(err, "instances"))
		return
	}
	s.writePrediction(c, withWarnings(body, warns), cached)
	if s.sampleRequestLog() {
		s.logRequest(c, m, "/predict/batch", windows, loggedAnswer(computed, withHorizon, body), warns, cached)
	}
}

// batchInput resolves the model a /predict/batch body names and reads its
// windows: univariate series, or multivariate rows (multi).
func (s *Server) batchInput(c *gin.Context, req *jsoncodec.Batch) ([][]float64, bool, *serving.Model, int, *Error) {
	m, horizon, e := s.resolve(c, req.Model, req.ModelVersion, req.Horizon)
	if e != nil {
		return nil, false, nil, 0, e
	}
	if jsoncodec.Absent(req.Instances) {
		return nil, false, nil, 0, invalid("instances", "required: an array of 1 to %d windows", s.cfg.MaxBatch)
	}
	multi := jsoncodec.Multivariate(req.Instances)
	if !multi {
		if e := univariateOnly(m); e != nil {
			return nil, false, nil, 0, e
		}
	} else if e := recursiveOK(m, horizon); e != nil {
		return nil, false, nil, 0, e
	}
	windows, err := jsoncodec.Windows(req.Instances, "instances", multi, s.bounds(m))
	return windows, multi, m, horizon, inputError(err)
}

// univariateOnly refuses a model that does not map one series to its next
// value for historical_prices and univariate instances.
func univariateOnly(m *serving.Model) *Error {
	if m.Univariate() {
		return nil
	}
	return invalid("model", "model %q takes windows of %d steps of %d features (input %v) and gives %v: send \"window\" (rows of %d features) to POST /predict, or instances of such windows to /predict/batch",
		m.Name(), m.Window(), m.Features(), m.InputShape(), m.OutputShape(), m.Features())
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
func (s *Server) resolve(c *gin.Context, bodyModel string, bodyVer jsoncodec.Version, horizon *int) (*serving.Model, int, *Error) {
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
	st.model, st.version, st.pinned = m.Name(), m.Version(), ref.set()
	if m.MultiIO() {
		return nil, 0, multiIORefusal(m)
	}
	h := 1
	if horizon != nil {
		h = *horizon
		if h < 1 || h > s.cfg.MaxHorizon {
			return nil, 0, invalid("horizon", "must be between 1 and %d, got %d", s.cfg.MaxHorizon, h)
		}
	}
	return m, h, nil
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
	useCache := s.cfg.CacheTTL > 0
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
	if d, ok := ctx.Deadline(); ok { // the leader's deadline bounds the work (admission control)
		var cancelCause context.CancelFunc
		cctx, cancelCause = context.WithDeadline(cctx, d)
		stopDeadline := cancel
		cancel = func() { cancelCause(); stopDeadline() }
	}
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
func cacheKey(kind kind, m *serving.Model, horizon int, windows [][]float64) string {
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

// kind is the endpoint kind a cache key covers: responses of different
// shapes for the same windows never share an entry.
type kind string

const (
	kindPredict     kind = "predict"      // POST /predict, historical_prices
	kindWindow      kind = "window"       // POST /predict, window
	kindBatch       kind = "batch"        // POST /predict/batch, univariate
	kindBatchWindow kind = "batch-window" // POST /predict/batch, multivariate
)

// with distinguishes responses with "forecast" (horizon given) from those
// without.
func (k kind) with(forecast bool) kind {
	if forecast {
		return k + "+forecast"
	}
	return k
}
