package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

const stateKey = "seqcast.state"

// reqState is one request's bookkeeping, shared by the middleware and the
// handlers.
type reqState struct {
	id        string
	start     time.Time
	route     string // metrics/log label; the handler may refine it
	cachedSet bool   // whether cached means anything (prediction routes)
	cached    bool
	model     string
	version   int64
	pinned    bool // the request named a version or label (no canary routing)
	cacheDur  time.Duration
	modelDur  time.Duration
	errCode   string
	w         timedWriter     // c.Writer while the request runs
	base      context.Context // the request's context as net/http gave it
	writeErr  error           // the response could not be written (deadline.go)
}

func (st *reqState) setCached(v bool) { st.cachedSet, st.cached = true, v }

func state(c *gin.Context) *reqState {
	if v, ok := c.Get(stateKey); ok {
		return v.(*reqState)
	}
	st := &reqState{id: newRequestID(), start: time.Now()}
	c.Set(stateKey, st)
	return st
}

// setTiming sets the Server-Timing header (cache, model and total, in ms).
func (st *reqState) setTiming(h http.Header) {
	var buf [96]byte
	b := buf[:0]
	if st.cacheDur > 0 {
		b = append(b, "cache;dur="...)
		b = strconv.AppendFloat(b, ms(st.cacheDur), 'f', 3, 64)
		b = append(b, ", "...)
	}
	if st.modelDur > 0 {
		b = append(b, "model;dur="...)
		b = strconv.AppendFloat(b, ms(st.modelDur), 'f', 3, 64)
		b = append(b, ", "...)
	}
	b = append(b, "total;dur="...)
	b = strconv.AppendFloat(b, ms(time.Since(st.start)), 'f', 3, 64)
	h["Server-Timing"] = []string{string(b)}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// idGen makes request ids: 24 hex digits, a random per-server prefix and a
// counter, unique without a system call per request.
type idGen struct {
	prefix [6]byte
	n      atomic.Uint64
}

func (g *idGen) init() {
	_, _ = rand.Read(g.prefix[:])
	var seed [2]byte
	_, _ = rand.Read(seed[:])
	g.n.Store(uint64(seed[0])<<40 | uint64(seed[1])<<32)
}

func (g *idGen) next() string {
	var b [12]byte
	copy(b[:6], g.prefix[:])
	n := g.n.Add(1)
	for i := 11; i >= 6; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	var h [24]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// validRequestID accepts a client's X-Request-ID if it is short and plain.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// observe is the outermost middleware: request id, in-flight gauge, panic
// recovery (500 carrying the request id), metrics and the access log line.
func (s *Server) observe(c *gin.Context) {
	st, _ := s.states.Get().(*reqState)
	if st == nil {
		st = new(reqState)
	}
	st.start = time.Now()
	// Header names as net/http canonicalises them: indexing the map directly
	// spares a canonicalisation (and an allocation) per request.
	if id := c.Request.Header["X-Request-Id"]; len(id) > 0 && validRequestID(id[0]) {
		st.id = id[0]
	} else {
		st.id = s.ids.next()
	}
	st.base = c.Request.Context()
	st.route = c.FullPath()
	if st.route == "" {
		st.route = "unmatched"
	}
	c.Set(stateKey, st)
	c.Writer.Header()["X-Request-Id"] = []string{st.id}
	st.w = timedWriter{ResponseWriter: c.Writer, start: st.start}
	c.Writer = &st.w
	s.metrics.inFlight.Inc()
	defer func() {
		s.metrics.inFlight.Dec()
		if p := recover(); p != nil {
			s.metrics.panics.Inc()
			s.cfg.Logger.Error("panic", "request_id", st.id, "route", st.route, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				e := newErr(http.StatusInternalServerError, CodeInternal, "", "internal error; quote request id %s", st.id)
				abort(c, e)
			} else {
				c.Abort()
			}
		}
		st.w.stamp() // a response with no body: gin writes the header after this
		c.Writer = st.w.ResponseWriter
		s.finish(c, st)
		*st = reqState{}
		s.states.Put(st)
	}()
	c.Next()
}

// timedWriter sets X-Process-Time (seconds since the request started, as a
// decimal string) on every response, just before its header is written.
type timedWriter struct {
	gin.ResponseWriter
	start time.Time
}

func (w *timedWriter) stamp() {
	if w.ResponseWriter.Written() {
		return
	}
	var buf [24]byte
	b := strconv.AppendFloat(buf[:0], time.Since(w.start).Seconds(), 'f', 6, 64)
	w.ResponseWriter.Header()["X-Process-Time"] = []string{string(b)}
}

func (w *timedWriter) WriteHeaderNow() { w.stamp(); w.ResponseWriter.WriteHeaderNow() }

func (w *timedWriter) Write(b []byte) (int, error) { w.stamp(); return w.ResponseWriter.Write(b) }

func (w *timedWriter) WriteString(s string) (int, error) {
	w.stamp()
	return w.ResponseWriter.WriteString(s)
}

func (w *timedWriter) Flush() { w.stamp(); w.ResponseWriter.Flush() }

func (s *Server) finish(c *gin.Context, st *reqState) {
	status := c.Writer.Status()
	d := time.Since(st.start)
	if st.clientGone() { // never logged or counted as what it would have been
		status, st.errCode = statusClientGone, string(serving.ShedClientGone)
		s.metrics.shed.WithLabelValues(st.model, string(serving.ShedClientGone)).Inc()
	}
	s.metrics.observeRequest(st.route, c.Request.Method, status, d)
	level := slog.LevelInfo
	switch {
	case status == http.StatusServiceUnavailable: // loading or draining: expected
		level = slog.LevelWarn
	case status >= 500, status == statusClientGone:
		level = slog.LevelError
	}
	ctx := c.Request.Context()
	if !s.cfg.Logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 13)
	attrs = append(attrs,
		slog.String("request_id", st.id),
		slog.String("method", c.Request.Method),
		slog.String("route", st.route),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Float64("latency_ms", math.Round(ms(d)*1000)/1000),
		slog.String("client", c.ClientIP()),
		slog.Int("bytes", c.Writer.Size()),
	)
	if st.cachedSet {
		attrs = append(attrs, slog.Bool("cached", st.cached))
	}
	if st.model != "" {
		attrs = append(attrs, slog.String("model", st.model), slog.Int64("model_version", st.version))
	}
	if st.errCode != "" {
		attrs = append(attrs, slog.String("error", st.errCode))
	}
	s.cfg.Logger.LogAttrs(ctx, level, "request", attrs...)
}

// cors answers preflights and sets Access-Control-Allow-Origin for allowed
// origins.
func (s *Server) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" || len(s.cfg.CORSOrigins) == 0 {
		c.Next()
		return
	}
	allowed := slices.Contains(s.cfg.CORSOrigins, "*") || slices.Contains(s.cfg.CORSOrigins, origin)
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, X-Model-Version, Server-Timing, X-Process-Time, Retry-After")
	}
	if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
		if allowed {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-API-Key, X-Admin-Key, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		abort(c, newErr(http.StatusForbidden, CodeForbidden, "", "origin %q is not allowed", origin))
		return
	}
	c.Next()
}

// open routes never need an API key and are never rate limited.
func open(path string) bool { return path == "/health" || path == "/ready" }

// presentedKey is the credential a request carries: X-API-Key, else a
// bearer token.
func presentedKey(c *gin.Context, header string) string {
	if k := c.GetHeader(header); k != "" {
		return k
	}
	if a := c.GetHeader("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// keyMatches compares k against every key in constant time (over the SHA-256
// digests, so lengths leak nothing either).
func keyMatches(k string, keys ...[32]byte) bool {
	h := sha256.Sum256([]byte(k))
	ok := 0
	for i := range keys {
		ok |= subtle.ConstantTimeCompare(h[:], keys[i][:])
	}
	return ok == 1
}

func (s *Server) auth(c *gin.Context) {
	if len(s.keys) == 0 || open(c.Request.URL.Path) || c.Request.Method == http.MethodOptions || publicPage(c.Request) {
		c.Next()
		return
	}
	k := presentedKey(c, "X-API-Key")
	keys := s.keys
	if s.cfg.AdminKey != "" {
		keys = append(keys[:len(keys):len(keys)], s.admin)
	}
	if k == "" || !keyMatches(k, keys...) {
		// A failed attempt on a route the limiter skips (/metrics) still
		// counts against the client: guessing keys is never free.
		if limited(c.Request.URL.Path) && !s.allow(c) {
			return
		}
		c.Header("WWW-Authenticate", `Bearer realm="seqcast"`)
		abort(c, newErr(http.StatusUnauthorized, CodeUnauthorized, "", "a valid API key is required (X-API-Key header or Authorization: Bearer)"))
		return
	}
	c.Next()
}

// rateLimit runs before auth, so every request, with a wrong key or none,
// takes a token: 100 wrong keys in a row are mostly 429s, not 401s.
func (s *Server) rateLimit(c *gin.Context) {
	if s.limiter == nil || open(c.Request.URL.Path) || limited(c.Request.URL.Path) {
		c.Next()
		return
	}
	if s.allow(c) {
		c.Next()
	}
}

// limited routes are rate limited only for failed authentication.
func limited(path string) bool { return path == "/metrics" }

// allow takes a token for the request's client; when none is left it
// answers 429 with Retry-After and returns false.
func (s *Server) allow(c *gin.Context) bool {
	if s.limiter == nil {
		return true
	}
	ok, retry := s.limiter.allow(clientKey(c.ClientIP()), time.Now())
	if !ok {
		c.Header("Retry-After", strconv.Itoa(retry))
		abort(c, newErr(http.StatusTooManyRequests, CodeRateLimited, "", "rate limit of %g requests/s exceeded; retry in %d s", s.cfg.RateLimit, retry))
	}
	return ok
}
