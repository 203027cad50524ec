package cache

import (
	"context"
	"errors"
	"time"
)

// Cache stores opaque byte values under string keys with a time-to-live.
//
// Implementations are safe for concurrent use. A miss is (nil, false, nil);
// an error means the backend could not answer (wrap the cache in Guarded to
// turn errors into misses). A value lives for its ttl; a ttl <= 0 stores
// nothing (zero means "no caching" everywhere in seqcast: the --cache-ttl
// flag, api.Config.CacheTTL and here). There is no "keep forever": the
// memory backend may evict sooner when full.
//
// The slice returned by Get must be treated as read-only: the memory backend
// hands out its stored copy without copying again. Set copies val, so the
// caller may reuse its buffer afterwards.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// Backend names the storage: "memory" or "redis".
	Backend() string
	// Close releases the backend's resources. Operations after Close return
	// ErrClosed. Close is idempotent.
	Close() error
}

// Backend names reported by Cache.Backend.
const (
	BackendMemory = "memory"
	BackendRedis  = "redis"
)

// ErrClosed is returned by Get and Set after Close.
var ErrClosed = errors.New("cache: closed")
