package api

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/serving"
)

//go:embed assets
var assets embed.FS

// Server is the HTTP API over a model registry and a prediction cache.
type Server struct {
	cfg      Config
	reg      *serving.Registry
	cache    *cache.Guarded
	flights  flights
	bodies   sync.Pool // *bytes.Buffer: request bodies
	outs     sync.Pool // *[]byte: responses
	ids      idGen
	states   sync.Pool // *reqState
	metrics  *Metrics
	engine   *gin.Engine
	limiter  *limiter
	keys     [][32]byte // SHA-256 of each API key
	admin    [32]byte
	draining atomic.Bool
	started  time.Time
	redisUp  atomic.Bool // the Redis cache answered its last background PING
	openapi  []byte
	docs     []byte
	shadow   *shadowState // shadow versions' runner and metrics (shadow.go)
}

// New builds the server. c is the prediction cache (cache.NewMemory or
// cache.NewRedis); New wraps it so that its faults only ever become misses,
// counted in the metrics. c may be nil when cfg.CacheTTL is 0 (no caching).
func New(cfg Config, reg *serving.Registry, c cache.Cache) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if reg == nil {
		return nil, errors.New("api: nil registry")
	}
	if c == nil {
		if cfg.CacheTTL > 0 {
			return nil, errors.New("api: nil cache (set CacheTTL to 0 to disable caching)")
		}
		c = cache.NewMemory(1)
	}
	s := &Server{cfg: cfg, reg: reg, metrics: cfg.Metrics, started: time.Now()}
	s.ids.init()
	s.cache = cache.NewGuarded(c, cache.GuardOptions{Logger: cfg.Logger, Hook: s.metrics.cacheHook})
	for _, k := range cfg.APIKeys {
		s.keys = append(s.keys, sha256.Sum256([]byte(k)))
	}
	if cfg.AdminKey != "" {
		s.admin = sha256.Sum256([]byte(cfg.AdminKey))
	}
	if cfg.RateLimit > 0 {
		s.limiter = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.RateClients)
	}
	var err error
	if s.openapi, err = assets.ReadFile("assets/openapi.json"); err != nil {
		return nil, err
	}
	if s.docs, err = assets.ReadFile("assets/docs.html"); err != nil {
		return nil, err
	}
	if err := s.metrics.reg.Register(newModelInfo(reg, s.Ready)); err != nil {
		return nil, fmt.Errorf("api: metrics: %w", err)
	}
	if err := s.initShadow(); err != nil {
		return nil, fmt.Errorf("api: metrics: %w", err)
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// routes builds the engine. It does not call gin.SetMode, which sets
// process-wide state: cmd/seqcast sets release mode once at start-up (in
// debug mode gin only logs the routes as they are added).
func (s *Server) routes() error {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	if err := e.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return fmt.Errorf("api: trusted proxies: %w", err)
	}
	// The limiter runs before auth: a wrong key costs a token too.
	e.Use(s.observe, s.cors, s.rateLimit, s.auth)
	// HEAD is answered wherever GET is (net/http drops the body).
	for path, h := range map[string]gin.HandlerFunc{
		"/health": s.health, "/ready": s.ready, "/metrics": s.metricsHandler(),
		"/openapi.json": s.openAPI, "/docs": s.docsPage, "/": s.root, "/v1/models/*rest": s.tfServing,
	} {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	// Routes that compute run under a deadline (deadline.go).
	e.POST("/predict", s.withDeadline, s.predict)
	e.POST("/predict/batch", s.withDeadline, s.predictBatch)
	e.POST("/v1/models/*rest", s.withDeadline, s.tfServing)
	s.oipRoutes(e, s.withDeadline) // the Open Inference Protocol (oip.go)
	e.POST("/v1/timeseries/forecast", s.withDeadline, s.forecast)
	if err := s.uiRoutes(e); err != nil { // ui.go
		return err
	}
	e.NoRoute(func(c *gin.Context) {
		abort(c, newErr(http.StatusNotFound, CodeNotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		abort(c, newErr(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "method %s not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})
	s.engine = e
	return nil
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// SetDraining marks the server as shutting down: /ready answers 503 so load
// balancers stop sending traffic while in-flight requests finish.
func (s *Server) SetDraining(v bool) { s.draining.Store(v) }

// Ready reports whether every model is loaded (self-tested, warmed up) and
// the server is not draining.
func (s *Server) Ready() bool { return s.reg.Ready() && !s.draining.Load() }

// Reload reloads the named model (all when name is ""), counting the outcome;
// the registry keeps the old model when the new one fails.
func (s *Server) Reload(ctx context.Context, name string) error {
	err := s.reg.Reload(ctx, name)
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
	} else {
		s.metrics.reloads.WithLabelValues("ok").Inc()
	}
	return err
}

// Close stops the shadow runner and closes the cache (for Redis: its
// connections).
func (s *Server) Close() error {
	s.closeShadow()
	return s.cache.Close()
}

// pinger is a cache that can be asked whether it is reachable (cache.Redis).
type pinger interface {
	Ping(ctx context.Context) error
}

// MonitorCache checks a Redis cache in the background for /health's
// redis_connected: a PING every Config.CachePingInterval (1 s), each bounded
// by the cache's own operation timeout (--redis-timeout), never one per
// request. It returns when ctx is done, at once when the cache is not Redis
// (or caching is off).
func (s *Server) MonitorCache(ctx context.Context) {
	p, ok := s.cache.Unwrap().(pinger)
	if !ok || s.cfg.CacheTTL == 0 {
		return
	}
	if err := s.metrics.reg.Register(s.metrics.redisUp); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		s.cfg.Logger.Warn("seqcast_redis_up not exported", "err", err.Error())
	}
	t := time.NewTicker(s.cfg.CachePingInterval)
	defer t.Stop()
	for {
		err := p.Ping(ctx)
		if ctx.Err() != nil {
			return
		}
		up := err == nil
		s.metrics.redisUp.Set(b2f(up))
		if was := s.redisUp.Swap(up); was != up {
			if up {
				s.cfg.Logger.Info("redis answers PING", "cache", s.cache.Backend())
			} else {
				s.cfg.Logger.Warn("redis does not answer PING", "cache", s.cache.Backend(), "err", err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// modelSummary is one model in /health and GET /.
type modelSummary struct {
	Name            string           `json:"name"`
	Version         int64            `json:"version"` // the default version
	Versions        []int64          `json:"versions"`
	Labels          map[string]int64 `json:"labels"`
	Canary          *canaryStatus    `json:"canary,omitempty"`
	Shadow          *shadowStatus    `json:"shadow,omitempty"`
	Ready           bool             `json:"ready"`
	LastReloadError string           `json:"last_reload_error,omitempty"`
}

func (s *Server) modelSummaries() []modelSummary {
	out := []modelSummary{}
	for _, st := range s.reg.Statuses() {
		ms := modelSummary{Name: st.Name, Version: st.DefaultVer, Labels: st.Labels, LastReloadError: st.LastError}
		ms.Canary, ms.Shadow = rolloutStatus(st.Rollout)
		for i := len(st.Versions) - 1; i >= 0; i-- { // lowest first
			v := st.Versions[i]
			if v.State == serving.StateEnd { // unloaded: reported by the TF Serving status route
				continue
			}
			ms.Versions = append(ms.Versions, v.Version)
			ms.Ready = ms.Ready || v.State == serving.StateAvailable && v.Version == st.DefaultVer
		}
		out = append(out, ms)
	}
	return out
}

// health is the liveness probe: 200 whenever the process serves, whatever
// the models or Redis do; the body says how they are.
func (s *Server) health(c *gin.Context) {
	writeJSON(c, http.StatusOK, gin.H{
		"status":          "healthy",
		"version":         s.cfg.Version,
		"uptime_s":        time.Since(s.started).Seconds(),
		"cache":           s.cache.Backend(),
		"redis_connected": s.redisUp.Load(),
		"model_loaded":    s.reg.Ready(),
		"default_model":   s.reg.Default(),
		"models":          s.modelSummaries(),
	})
}

// root answers GET /: the service's description in JSON, or a redirect to
// the forecast page /ui for a client (a browser) whose Accept prefers HTML.
func (s *Server) root(c *gin.Context) {
	c.Header("Vary", "Accept")
	if prefersHTML(c.Request.Header.Values("Accept")) {
		c.Redirect(http.StatusFound, "/ui")
		return
	}
	writeJSON(c, http.StatusOK, gin.H{
		"message":       "seqcast forecasting service: POST /predict; API reference at /docs; forecast page at /ui",
		"service":       "seqcast",
		"version":       s.cfg.Version,
		"default_model": s.reg.Default(),
		"models":        s.modelSummaries(),
		"links": gin.H{
			"docs": "/docs", "ui": "/ui", "openapi": "/openapi.json", "health": "/health", "ready": "/ready",
			"predict": "/predict", "predict_batch": "/predict/batch", "metrics": "/metrics",
		},
	})
}

func (s *Server) ready(c *gin.Context) {
	type modelReady struct {
		Name        string `json:"name"`
		Version     int64  `json:"version"`
		Fingerprint string `json:"fingerprint"`
	}
	var models []modelReady
	for _, m := range s.reg.Models() {
		models = append(models, modelReady{m.Name(), m.Version(), m.Fingerprint()[:16]})
	}
	body := gin.H{"ready": s.Ready(), "draining": s.draining.Load(), "models_loaded": s.reg.Ready(), "models": models}
	if !s.Ready() {
		reason := "models are loading"
		if s.draining.Load() {
			reason = "server is draining"
		}
		body["error"] = &Error{Code: CodeNotReady, Message: reason, RequestID: state(c).id}
		writeJSON(c, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(c, http.StatusOK, body)
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

func (s *Server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json", s.openapi)
}

func (s *Server) docsPage(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", s.docs)
}

// writeJSON writes v with the Server-Timing header.
func writeJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"encoding the response failed"}}`)
	}
	writeRaw(c, status, b)
}

func writeRaw(c *gin.Context, status int, b []byte) {
	h := c.Writer.Header()
	state(c).setTiming(h)
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	c.Status(status)
	if _, err := c.Writer.Write(b); err != nil {
		writeFailed(c, err)
		return
	}
	writeFailed(c, flushError(c.Writer)) // a response nobody received is not a 200
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
