package api

import (
	"errors"
	"math"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seqcast/seqcast/serving"
)

// Shadow queue bounds: one worker and a few requests waiting, so a shadow
// version costs at most one core's share of work and never the primary's
// admission capacity; more is dropped and counted.
const (
	shadowQueue   = 16
	shadowWorkers = 1
)

// shadowState is the server's shadow runner, started on the first shadow
// request (most servers never have one), and its metrics.
type shadowState struct {
	once     sync.Once
	run      *serving.Shadower
	requests *prometheus.CounterVec
	diverge  *prometheus.HistogramVec
}

// initShadow registers the shadow metrics.
func (s *Server) initShadow() error {
	s.shadow = &shadowState{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqcast_shadow_requests_total",
			Help: "Shadow requests by model, shadow version and outcome (ok, error: the shadow failed; dropped: its queue was full).",
		}, []string{"model", "version", "outcome"}),
		diverge: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqcast_shadow_divergence",
			Help:    "Relative difference |shadow - primary| / max(|primary|, 1e-9) of each window's predicted value, by model and shadow version.",
			Buckets: []float64{0, 1e-6, 1e-5, 1e-4, 1e-3, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1},
		}, []string{"model", "version"}),
	}
	for _, col := range []prometheus.Collector{s.shadow.requests, s.shadow.diverge} {
		if err := s.metrics.reg.Register(col); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// ObserveShadow counts a shadow request's outcome (serving.ShadowObserver).
func (st *shadowState) ObserveShadow(model string, version int64, outcome string, div []float64) {
	v := strconv.FormatInt(version, 10)
	st.requests.WithLabelValues(model, v, outcome).Inc()
	if len(div) > 0 {
		h := st.diverge.WithLabelValues(model, v)
		for _, d := range div {
			h.Observe(d)
		}
	}
}

// closeShadow stops the shadow runner, if it started.
func (s *Server) closeShadow() {
	if s.shadow == nil {
		return
	}
	s.shadow.once.Do(func() {}) // a later request starts nothing
	s.shadow.run.Close()
}

// shadowRun queues windows, which m (the primary) answered with preds, to
// also run on m's shadow version when the request named no version, m is
// its model's default version, it has one, and this request is in the
// sample. It never blocks.
func (s *Server) shadowRun(c *gin.Context, m *serving.Model, windows [][]float64, horizon int, multi bool, preds []serving.Prediction) {
	if sm := s.shadowOf(c, m); sm != nil {
		s.shadow.run.Submit(sm, windows, horizon, multi, preds)
	}
}

// shadowOf is m's shadow version when this request should also run on it
// (it named no version, m is the default version, the sample says so),
// with the shadow runner started; nil otherwise.
func (s *Server) shadowOf(c *gin.Context, m *serving.Model) *serving.Model {
	if s.shadow == nil || state(c).pinned {
		return nil
	}
	sm := s.reg.ShadowOf(m)
	if sm == nil {
		return nil
	}
	s.shadow.once.Do(func() {
		s.shadow.run = serving.NewShadower(shadowQueue, shadowWorkers, s.cfg.RequestTimeout, s.shadow)
	})
	return sm
}

// shadowRaw queues a tensor route's request (xs: the model input tensors of
// n samples), which m answered with ys (its raw outputs), to also run on m's
// shadow version, under the same conditions as shadowRun. It never blocks.
func (s *Server) shadowRaw(c *gin.Context, m *serving.Model, xs [][]float32, n int, ys [][]float32) {
	if sm := s.shadowOf(c, m); sm != nil {
		s.shadow.run.SubmitRaw(sm, xs, n, ys)
	}
}

// routeTensors is route for a tensor route's request: the canary takes a
// share of inputs by a hash of all of its input tensors.
func (s *Server) routeTensors(c *gin.Context, m *serving.Model, xs [][]float32) *serving.Model {
	if state(c).pinned {
		return m
	}
	return s.routed(c, m, tensorHash(xs))
}

// routed is the version the registry routes hash to from m, recorded as
// the request's.
func (s *Server) routed(c *gin.Context, m *serving.Model, hash uint64) *serving.Model {
	r := s.reg.Route(m, hash)
	st := state(c)
	st.model, st.version = r.Name(), r.Version()
	return r
}

// route picks the version for a prediction request: when the request named
// no version, the model's canary version takes a share of inputs, chosen by
// a hash of windows (all of a batch's windows: one version per request), so
// the same input always gets the same version and cache entry.
func (s *Server) route(c *gin.Context, m *serving.Model, windows [][]float64) *serving.Model {
	if state(c).pinned {
		return m
	}
	return s.routed(c, m, routeHash(windows))
}

// routeHash is a well-mixed 64-bit hash of the windows' lengths and values'
// float64 bits (FNV-1a, then SplitMix64's finaliser).
func routeHash(windows [][]float64) uint64 {
	h := newRouteHasher()
	for _, w := range windows {
		h.mix(uint64(len(w)))
		for _, v := range w {
			h.mix(math.Float64bits(v))
		}
	}
	return h.sum()
}

// tensorHash is routeHash over model input tensors: their lengths and
// values' float32 bits.
func tensorHash(xs [][]float32) uint64 {
	h := newRouteHasher()
	for _, x := range xs {
		h.mix(uint64(len(x)))
		for _, v := range x {
			h.mix(uint64(math.Float32bits(v)))
		}
	}
	return h.sum()
}

// routeHasher is FNV-1a over 64-bit words, byte by byte.
type routeHasher uint64

func newRouteHasher() routeHasher { return 14695981039346656037 }

func (h *routeHasher) mix(x uint64) {
	const prime = 1099511628211
	v := uint64(*h)
	for i := 0; i < 8; i++ {
		v ^= x & 0xff
		v *= prime
		x >>= 8
	}
	*h = routeHasher(v)
}

// sum is the hash through SplitMix64's finaliser.
func (h routeHasher) sum() uint64 {
	v := uint64(h)
	v ^= v >> 30
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 27
	v *= 0x94d049bb133111eb
	v ^= v >> 31
	return v
}

// canaryStatus and shadowStatus are a model's canary and shadow versions in
// /health and GET /v1/models/NAME.
type canaryStatus struct {
	Version int64   `json:"version"`
	Percent float64 `json:"percent"`
}

type shadowStatus struct {
	Version int64   `json:"version"`
	Rate    float64 `json:"rate"`
}

func rolloutStatus(r serving.Rollout) (*canaryStatus, *shadowStatus) {
	var cs *canaryStatus
	var ss *shadowStatus
	if r.Canary != 0 {
		cs = &canaryStatus{Version: r.Canary, Percent: r.CanaryPercent}
	}
	if r.Shadow != 0 {
		ss = &shadowStatus{Version: r.Shadow, Rate: r.ShadowRate}
	}
	return cs, ss
}
