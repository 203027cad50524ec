package cache

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Operation and result labels passed to a Hook (and usable as Prometheus
// label values).
const (
	OpGet = "get"
	OpSet = "set"

	ResultHit   = "hit"   // Get found the key
	ResultMiss  = "miss"  // Get did not find the key
	ResultOK    = "ok"    // Set stored the value
	ResultError = "error" // the backend failed; Get reported a miss, Set was dropped
)

// Hook observes every operation through a Guarded cache: op is OpGet or
// OpSet, backend is Cache.Backend(), result is ResultHit or ResultMiss (get),
// ResultOK (set) or ResultError (either; err is then non-nil). It is called
// synchronously on the request path, so it must be cheap and safe for
// concurrent use, e.g. a Prometheus CounterVec increment:
//
//	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
//		Name: "seqcast_cache_requests_total",
//		Help: "Cache lookups by backend and result (hit, miss, error).",
//	}, []string{"backend", "result"})
//	hook := func(op, backend, result string, err error) {
//		if op == cache.OpGet {
//			requests.WithLabelValues(backend, result).Inc()
//		}
//	}
type Hook func(op, backend, result string, err error)

// GuardOptions configures NewGuarded. The zero value is usable.
type GuardOptions struct {
	// Logger receives the outage messages (default slog.Default()).
	Logger *slog.Logger
	// Hook, if set, observes every operation (metrics).
	Hook Hook
	// Timeout, if > 0, bounds every operation with a context deadline on
	// top of the backend's own (the Redis backend already applies its
	// OpTimeout). Leave 0 for the memory backend: a deadline costs an
	// allocation and a timer per call.
	Timeout time.Duration
}

// Guarded wraps a Cache so that its faults cannot fail a request: a Get that
// errors (or times out) is reported as a miss, a Set that errors is dropped,
// and neither ever returns an error. Faults are counted (Stats, Hook) and
// logged once per outage: the first error after a success logs "cache down"
// (Warn), the first success after errors logs "cache recovered" (Info) with
// the number of failed operations and the outage's duration.
//
// An operation whose own context was already cancelled or expired (the
// client went away) counts as an error but does not start an outage.
//
// Guarded implements Cache; Close closes the wrapped cache.
type Guarded struct {
	inner   Cache
	backend string
	log     *slog.Logger
	hook    Hook
	timeout time.Duration

	hits, misses, sets, getErrs, setErrs atomic.Uint64

	mu         sync.Mutex // serialises outage state transitions and logging
	down       atomic.Bool
	downSince  time.Time
	downErrors atomic.Uint64 // failed operations in the current outage
}

// Stats are cumulative counters of a Guarded cache.
type Stats struct {
	Hits      uint64 // Get found the key
	Misses    uint64 // Get did not find the key (GetErrors not included)
	GetErrors uint64 // Get failed and was reported as a miss
	Sets      uint64 // Set succeeded
	SetErrors uint64 // Set failed and was dropped
	Down      bool   // the last operation failed (outage in progress)
}

// NewGuarded wraps c.
func NewGuarded(c Cache, o GuardOptions) *Guarded {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Guarded{inner: c, backend: c.Backend(), log: o.Logger, hook: o.Hook, timeout: o.Timeout}
}

// Unwrap returns the wrapped cache.
func (g *Guarded) Unwrap() Cache { return g.inner }

// Backend returns the wrapped cache's backend name.
func (g *Guarded) Backend() string { return g.backend }

// Close closes the wrapped cache.
func (g *Guarded) Close() error { return g.inner.Close() }

// Get returns the cached value, or (nil, false, nil) on a miss or any
// backend fault. The error is always nil.
func (g *Guarded) Get(ctx context.Context, key string) ([]byte, bool, error) {
	parent := ctx
	if g.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.timeout)
		defer cancel()
	}
	v, ok, err := g.inner.Get(ctx, key)
	if err != nil {
		g.getErrs.Add(1)
		g.fail(parent, OpGet, err)
		return nil, false, nil
	}
	g.succeed()
	result := ResultMiss
	if ok {
		g.hits.Add(1)
		result = ResultHit
	} else {
		g.misses.Add(1)
	}
	if g.hook != nil {
		g.hook(OpGet, g.backend, result, nil)
	}
	return v, ok, nil
}

// Set stores val, silently dropping it on any backend fault. The error is
// always nil.
func (g *Guarded) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	parent := ctx
	if g.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.timeout)
		defer cancel()
	}
	if err := g.inner.Set(ctx, key, val, ttl); err != nil {
		g.setErrs.Add(1)
		g.fail(parent, OpSet, err)
		return nil
	}
	g.sets.Add(1)
	g.succeed()
	if g.hook != nil {
		g.hook(OpSet, g.backend, ResultOK, nil)
	}
	return nil
}

// Stats returns the counters so far.
func (g *Guarded) Stats() Stats {
	return Stats{
		Hits:      g.hits.Load(),
		Misses:    g.misses.Load(),
		GetErrors: g.getErrs.Load(),
		Sets:      g.sets.Load(),
		SetErrors: g.setErrs.Load(),
		Down:      g.down.Load(),
	}
}

func (g *Guarded) fail(parent context.Context, op string, err error) {
	if g.hook != nil {
		g.hook(op, g.backend, ResultError, err)
	}
	if parent.Err() != nil {
		return // the caller gave up; not the backend's fault
	}
	if g.down.Load() {
		g.downErrors.Add(1)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down.Load() {
		g.downErrors.Add(1)
		return
	}
	g.downSince = time.Now()
	g.downErrors.Store(1)
	g.down.Store(true)
	g.log.Warn("cache down", "backend", g.backend, "op", op, "err", err)
}

func (g *Guarded) succeed() {
	if !g.down.Load() { // fast path: one atomic load
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.down.Load() {
		return
	}
	g.down.Store(false)
	g.log.Info("cache recovered", "backend", g.backend,
		"failed_ops", g.downErrors.Load(),
		"outage", time.Since(g.downSince).Round(time.Millisecond).String())
}
