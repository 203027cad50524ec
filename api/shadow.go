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
	if s.shadow == nil || state(c).pinned {
		return
	}
	sm := s.reg.ShadowOf(m)
	if sm == nil {
		return
	}
	s.shadow.once.Do(func() {
		s.shadow.run = serving.NewShadower(shadowQueue, shadowWorkers, s.cfg.RequestTimeout, s.shadow)
	})
	s.shadow.run.Submit(sm, windows, horizon, multi, preds)
}

// route picks the version for a prediction request: when the request named
// no version, the model's canary version takes a share of inputs, chosen by
// a hash of windows (all of a batch's windows: one version per request), so
// the same input always gets the same version and cache entry.
func (s *Server) route(c *gin.Context, m *serving.Model, windows [][]float64) *serving.Model {
	st := state(c)
	if st.pinned {
		return m
	}
	r := s.reg.Route(m, routeHash(windows))
	st.model, st.version = r.Name(), r.Version()
	return r
}

// routeHash is a well-mixed 64-bit hash of the windows' lengths and values'
// float64 bits (FNV-1a, then SplitMix64's finaliser).
func routeHash(windows [][]float64) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(x uint64) {
		for i := 0; i < 8; i++ {
			h ^= x & 0xff
			h *= prime
			x >>= 8
		}
	}
	for _, w := range windows {
		mix(uint64(len(w)))
		for _, v := range w {
			mix(math.Float64bits(v))
		}
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
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
