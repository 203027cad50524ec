package api

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for Config's zero fields.
const (
	DefaultBodyLimit = 1 << 20           // 1 MiB
	DefaultCacheTTL  = 300 * time.Second // cmd/seqcast's --cache-ttl default
	// DefaultRateClients is how many clients the rate limiter remembers.
	DefaultRateClients = 10000
	DefaultMaxBatch    = 1000
	DefaultMaxHorizon  = 30
	// DefaultCachePingInterval is how often MonitorCache PINGs Redis.
	DefaultCachePingInterval = time.Second
)

// Config is everything the HTTP layer is told; cmd/seqcast fills it from
// flags and environment variables. Zero fields take the defaults above.
type Config struct {
	// BodyLimit caps a request body in bytes (413 beyond it).
	BodyLimit int64
	// CacheTTL is how long a computed prediction stays cached; 0 (the zero
	// value) means no caching, as everywhere in seqcast (the --cache-ttl
	// flag, cache.Cache.Set). Negative is refused.
	CacheTTL time.Duration
	// MaxBatch caps the windows of one batch or TF Serving request.
	MaxBatch int
	// MaxHorizon caps "horizon" (recursive forecast steps).
	MaxHorizon int
	// APIKeys, if any, are required on every route except /health,
	// /ready and the forecast page (/ui, its files, a browser's GET /)
	// (X-API-Key header or Authorization: Bearer). Keys are trimmed
	// of surrounding white space, as AdminKey is (a key read from a secret
	// file keeps working with its trailing newline).
	APIKeys []string
	// AdminKey enables POST /v1/models/{name}:reload (X-Admin-Key header or
	// Authorization: Bearer); empty disables it.
	AdminKey string
	// RateLimit is each client's sustained request rate in requests per
	// second (0: unlimited); RateBurst its burst (default max(1, 2*rate)).
	RateLimit float64
	RateBurst int
	// RateClients bounds how many clients the limiter remembers (the least
	// recently seen are forgotten first; IPv6 clients count by /64).
	RateClients int
	// CORSOrigins lists the browser origins allowed to call the API ("*"
	// allows any); empty sends no CORS headers.
	CORSOrigins []string
	// TrustedProxies are the proxy addresses/CIDRs whose X-Forwarded-For is
	// believed when identifying a client for rate limiting; empty trusts
	// none (the TCP peer is the client).
	TrustedProxies []string
	// Logger receives one JSON line per request (default: discard).
	Logger *slog.Logger
	// Version is the build version reported by /health.
	Version string
	// Metrics, if set, is the metrics set to fill (create it with
	// NewMetrics before the registry so forward passes are observed).
	Metrics *Metrics
	// CachePingInterval is how often MonitorCache PINGs a Redis cache for
	// /health's redis_connected.
	CachePingInterval time.Duration
	// RequestTimeout, when positive, is the deadline of every request that
	// computes (a client's X-Request-Timeout may shorten it); work that
	// cannot finish before it is shed with 503 and Retry-After. cmd/seqcast
	// sets it a little below the write timeout.
	RequestTimeout time.Duration
	// OutOfRange is what a request window beyond the model's training
	// statistics (training_stats.json) gets: OutOfRangeWarn (the default) a
	// "warnings" entry, OutOfRangeReject a 422.
	OutOfRange string
	// RequestLogRate is the share (0 to 1) of successful POST /predict
	// requests that get a "prediction" log line (request id, model, input
	// summary, prediction, interval, cached, latency, warnings; see
	// docs/api.md); 0, the default, logs none and costs nothing.
	RequestLogRate float64
	// RequestLogValues adds the input window's values to those lines.
	RequestLogValues bool
}

func (c *Config) setDefaults() error {
	if c.BodyLimit == 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	switch c.OutOfRange {
	case "":
		c.OutOfRange = OutOfRangeWarn
	case OutOfRangeWarn, OutOfRangeReject:
	default:
		return fmt.Errorf("api: out-of-range %q: want warn or reject", c.OutOfRange)
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxHorizon == 0 {
		c.MaxHorizon = DefaultMaxHorizon
	}
	if c.CachePingInterval <= 0 {
		c.CachePingInterval = DefaultCachePingInterval
	}
	if c.RateClients == 0 {
		c.RateClients = DefaultRateClients
	}
	if c.RateBurst == 0 {
		c.RateBurst = max(1, int(2*c.RateLimit))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	switch {
	case c.BodyLimit < 0:
		return fmt.Errorf("api: body limit %d: must be positive", c.BodyLimit)
	case c.MaxBatch < 0:
		return fmt.Errorf("api: max batch %d: must be positive", c.MaxBatch)
	case c.MaxHorizon < 0:
		return fmt.Errorf("api: max horizon %d: must be positive", c.MaxHorizon)
	case c.CacheTTL < 0:
		return fmt.Errorf("api: cache TTL %v: must not be negative (0 disables the cache)", c.CacheTTL)
	case c.RateClients < 0:
		return fmt.Errorf("api: rate clients %d: must be positive", c.RateClients)
	case c.RateLimit < 0:
		return fmt.Errorf("api: rate limit %g: must not be negative", c.RateLimit)
	case !(c.RequestLogRate >= 0 && c.RequestLogRate <= 1):
		return fmt.Errorf("api: request log rate %g: must be between 0 and 1", c.RequestLogRate)
	}
	c.AdminKey = strings.TrimSpace(c.AdminKey)
	keys := make([]string, len(c.APIKeys))
	for i, k := range c.APIKeys {
		keys[i] = strings.TrimSpace(k)
	}
	c.APIKeys = keys
	for i, k := range c.APIKeys {
		if k == "" {
			return fmt.Errorf("api: API key %d is empty", i)
		}
	}
	return nil
}
