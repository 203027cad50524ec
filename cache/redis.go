package cache

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults for RedisOptions.
const (
	DefaultRedisPrefix      = "seqcast:"
	DefaultRedisOpTimeout   = 50 * time.Millisecond
	DefaultRedisDialTimeout = 2 * time.Second
)

// RedisOptions configures NewRedis. The zero value selects every default.
type RedisOptions struct {
	// Prefix is prepended to every key (default "seqcast:").
	Prefix string
	// OpTimeout bounds every Get and Set, connection wait and dial included
	// (default 50ms). The caller's context can only shorten it.
	OpTimeout time.Duration
	// DialTimeout bounds the connectivity check in NewRedis and is the
	// client's dial timeout unless the URL sets dial_timeout (default 2s).
	DialTimeout time.Duration
	// TLSConfig, if set, replaces the TLS settings of a rediss:// URL (e.g.
	// RootCAs for a private CA, client certificates). An empty ServerName is
	// taken from the URL's host; skip_verify=true in the URL still applies.
	// Setting it for a non-TLS URL is an error.
	TLSConfig *tls.Config
	// SkipPing makes NewRedis return without checking that the server
	// answers; the first operations then fail (and Guarded counts misses)
	// until it does.
	SkipPing bool
}

// Redis is a Cache stored in Redis (standalone, Sentinel-managed or Cluster)
// through a go-redis UniversalClient. Values are stored with SET key val PX
// ttl under Prefix+key. It is safe for concurrent use; go-redis reconnects
// by itself after the server comes back.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	mode    string
	closed  atomic.Bool

	// reload, set for a Cluster client, asks go-redis to re-read the slot
	// map; lastReload (UnixNano) throttles it to one per clusterReloadEvery.
	reload     func()
	lastReload atomic.Int64
}

// clusterReloadEvery bounds how often failed operations on a Cluster make
// the client re-read the slot map (go-redis coalesces the reloads and runs
// them in the background; this keeps a cluster that is wholly down from
// being asked in a tight loop).
const clusterReloadEvery = 100 * time.Millisecond

// Redis modes reported by (*Redis).Mode.
const (
	RedisStandalone = "standalone"
	RedisCluster    = "cluster"
	RedisSentinel   = "sentinel"
)

// NewRedis connects to the Redis named by rawURL. Accepted forms:
//
//	redis://[user:pass@]host[:port][/db][?option=value&...]     standalone
//	rediss://...                                                 standalone over TLS
//	unix://[user:pass@]/path/to/redis.sock[?db=N]               Unix socket
//	redis+cluster://[user:pass@]h1:p1,h2:p2[?addr=h3:p3&...]    Cluster seed nodes
//	rediss+cluster://...                                         Cluster over TLS
//	redis+sentinel://[user:pass@]s1:p1,s2:p2/master[/db][?...]  Sentinel
//	rediss+sentinel://...                                        Sentinel over TLS
//
// Port defaults to 6379 (26379 for sentinels). Options are go-redis's
// snake_case URL options (dial_timeout=1s, pool_size=20, max_retries=1,
// skip_verify=true, ...; see redis.ParseURL, redis.ParseClusterURL,
// redis.ParseFailoverURL); "addr" adds further hosts to the cluster or
// sentinel forms. In the sentinel form user:pass authenticates to the
// master and replicas; the options sentinel_username and sentinel_password
// authenticate to the sentinels themselves.
//
// The client honours context deadlines (ContextTimeoutEnabled), so
// OpTimeout bounds every operation. Unless the URL sets them, it dials
// within DialTimeout, makes one dial attempt per connection
// (dialer_retries=1, not go-redis's 5 attempts 100ms apart, which would eat
// the whole OpTimeout when the server refuses connections) and does not
// retry failed commands (max_retries=-1; a cache miss is cheaper than a
// retry). While the server is down operations fail fast; go-redis probes it
// about once a second and resumes by itself. On a Cluster, a failed
// operation also makes the client re-read the slot map (at most every
// 100ms), so the replica promoted after a master crashed gets that master's
// keys within a reload, not at go-redis's periodic one a minute later.
// Unless SkipPing is set,
// NewRedis sends PING (bounded by ctx and DialTimeout) and fails if the
// server does not answer; the error never contains the password.
func NewRedis(ctx context.Context, rawURL string, opts RedisOptions) (*Redis, error) {
	cfg, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultRedisDialTimeout
	}
	if opts.TLSConfig != nil {
		if err := cfg.setTLS(opts.TLSConfig); err != nil {
			return nil, err
		}
	}
	client := cfg.client(opts.DialTimeout)
	r := NewRedisClient(client, opts)
	r.mode = cfg.mode
	if !opts.SkipPing {
		pctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
		defer cancel()
		if err := client.Ping(pctx).Err(); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("cache: redis %s %s: ping: %w", cfg.mode, cfg.redacted, err)
		}
	}
	return r, nil
}

// NewRedisClient wraps an already configured go-redis client, for settings
// no URL can express. For OpTimeout to hold, the client should have
// ContextTimeoutEnabled set. Close closes the client.
func NewRedisClient(client redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisPrefix
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = DefaultRedisOpTimeout
	}
	r := &Redis{client: client, prefix: opts.Prefix, timeout: opts.OpTimeout, mode: RedisStandalone}
	if cc, ok := client.(*redis.ClusterClient); ok {
		r.mode = RedisCluster
		r.reload = func() { cc.ReloadState(context.Background()) }
	}
	return r
}

// Backend returns "redis".
func (r *Redis) Backend() string { return BackendRedis }

// Mode returns "standalone", "cluster" or "sentinel".
func (r *Redis) Mode() string { return r.mode }

// Client returns the underlying go-redis client (health checks, stats).
func (r *Redis) Client() redis.UniversalClient { return r.client }

// Get fetches Prefix+key within OpTimeout. A missing key is (nil, false, nil).
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if r.closed.Load() {
		return nil, false, ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	switch {
	case err == nil:
		return b, true, nil
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	default:
		return nil, false, r.wrap("get", err)
	}
}

// Set stores val under Prefix+key with expiry ttl (ttl <= 0: not at all,
// see Cache) within OpTimeout.
func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if ttl <= 0 {
		return nil
	}
	if ttl < time.Millisecond {
		ttl = time.Millisecond // PX granularity; 0 would mean "keep forever"
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Set(ctx, r.prefix+key, val, ttl).Err(); err != nil {
		return r.wrap("set", err)
	}
	return nil
}

// Close closes the client. It is idempotent.
func (r *Redis) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	return r.client.Close()
}

func (r *Redis) wrap(op string, err error) error {
	if errors.Is(err, redis.ErrClosed) {
		return ErrClosed
	}
	r.reloadSlots()
	return fmt.Errorf("cache: redis %s: %w", op, err)
}

// reloadSlots makes a Cluster client re-read the slot map after a failed
// operation, at most once per clusterReloadEvery. go-redis re-reads it by
// itself on a MOVED reply, but not when a master stops answering: without
// this, the slots of a master that crashed keep failing (as misses) until
// go-redis's periodic reload, a minute later, although a replica took them
// over within seconds.
func (r *Redis) reloadSlots() {
	if r.reload == nil {
		return
	}
	now := time.Now().UnixNano()
	last := r.lastReload.Load()
	if now-last < int64(clusterReloadEvery) || !r.lastReload.CompareAndSwap(last, now) {
		return
	}
	r.reload()
}

// redisConfig is a parsed NewRedis URL: exactly one of the option pointers
// is set, matching mode.
type redisConfig struct {
	mode     string
	redacted string // URL without password, for errors
	simple   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

func (c redisConfig) setTLS(t *tls.Config) error {
	var dst **tls.Config
	switch {
	case c.cluster != nil:
		dst = &c.cluster.TLSConfig
	case c.failover != nil:
		dst = &c.failover.TLSConfig
	default:
		dst = &c.simple.TLSConfig
	}
	if *dst == nil {
		return fmt.Errorf("cache: redis URL %s: RedisOptions.TLSConfig set but the URL is not rediss://", c.redacted)
	}
	n := t.Clone()
	if n.ServerName == "" {
		n.ServerName = (*dst).ServerName
	}
	n.InsecureSkipVerify = n.InsecureSkipVerify || (*dst).InsecureSkipVerify
	*dst = n
	return nil
}

func (c redisConfig) client(dialTimeout time.Duration) redis.UniversalClient {
	switch {
	case c.cluster != nil:
		o := c.cluster
		o.ContextTimeoutEnabled = true
		if o.DialTimeout == 0 {
			o.DialTimeout = dialTimeout
		}
		o.DialerRetries, o.MaxRetries = cacheRetries(o.DialerRetries, o.MaxRetries)
		return redis.NewClusterClient(o)
	case c.failover != nil:
		o := c.failover
		o.ContextTimeoutEnabled = true
		if o.DialTimeout == 0 {
			o.DialTimeout = dialTimeout
		}
		o.DialerRetries, o.MaxRetries = cacheRetries(o.DialerRetries, o.MaxRetries)
		return redis.NewFailoverClient(o)
	default:
		o := c.simple
		o.ContextTimeoutEnabled = true
		if o.DialTimeout == 0 {
			o.DialTimeout = dialTimeout
		}
		o.DialerRetries, o.MaxRetries = cacheRetries(o.DialerRetries, o.MaxRetries)
		return redis.NewClient(o)
	}
}

// cacheRetries picks retry counts for a cache that must answer within
// OpTimeout: one dial attempt (go-redis default 5, 100ms apart, which would
// spend the whole budget on a refused connection) and no command retries
// (default 3), unless the URL set dialer_retries or max_retries.
func cacheRetries(dialer, cmd int) (int, int) {
	if dialer == 0 {
		dialer = 1
	}
	if cmd == 0 {
		cmd = -1
	}
	return dialer, cmd
}

// parseRedisURL turns a NewRedis URL into go-redis options without
// connecting.
func parseRedisURL(raw string) (redisConfig, error) {
	// A comma-separated host list is not a valid URL authority (url.Parse
	// rejects "h1:1,h2:2" as a bad port), so take it out first and parse
	// the URL with only the first host.
	raw1, hosts := splitHosts(raw)
	u, err := url.Parse(raw1)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		return redisConfig{}, fmt.Errorf("cache: redis URL: cannot parse (want scheme://[user:pass@]host:port[/path][?options])")
	}
	cfg := redisConfig{redacted: redact(u, hosts)}
	scheme, kind, _ := strings.Cut(u.Scheme, "+")
	if scheme != "redis" && scheme != "rediss" && (scheme != "unix" || kind != "") {
		return cfg, fmt.Errorf("cache: redis URL %s: unsupported scheme %q (want redis, rediss, unix, redis+cluster, redis+sentinel)", cfg.redacted, u.Scheme)
	}
	switch kind {
	case "":
		cfg.mode = RedisStandalone
		if len(hosts) > 1 {
			return cfg, fmt.Errorf("cache: redis URL %s: several hosts need redis+cluster:// or redis+sentinel://", cfg.redacted)
		}
		cfg.simple, err = redis.ParseURL(raw)
	case "cluster":
		cfg.mode = RedisCluster
		var g *url.URL
		if g, err = withHosts(u, hosts, scheme, "6379"); err == nil {
			cfg.cluster, err = redis.ParseClusterURL(g.String())
		}
	case "sentinel":
		cfg.mode = RedisSentinel
		cfg.failover, err = parseSentinel(u, hosts, scheme)
	default:
		return cfg, fmt.Errorf("cache: redis URL %s: unsupported scheme %q (want redis, rediss, unix, redis+cluster, redis+sentinel)", cfg.redacted, u.Scheme)
	}
	if err != nil {
		return cfg, fmt.Errorf("cache: redis URL %s: %w", cfg.redacted, err)
	}
	return cfg, nil
}

// splitHosts returns raw with its authority's host list reduced to the first
// host, and the full host list.
func splitHosts(raw string) (string, []string) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw, nil
	}
	start := i + 3
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	auth := raw[start:end]
	if at := strings.LastIndex(auth, "@"); at >= 0 {
		start += at + 1
		auth = auth[at+1:]
	}
	hosts := strings.Split(auth, ",")
	return raw[:start] + hosts[0] + raw[end:], hosts
}

func redact(u *url.URL, hosts []string) string {
	r := *u
	if len(hosts) > 1 {
		r.Host = strings.Join(hosts, ",")
	}
	return r.Redacted()
}

// withHosts returns u with scheme, hosts[0] as host and the other hosts
// (and any ?addr= ones) as addr options, each with a port: the form go-redis
// parses.
func withHosts(u *url.URL, hosts []string, scheme, defPort string) (*url.URL, error) {
	g := *u
	g.Scheme = scheme
	q := u.Query()
	extra := q["addr"]
	q.Del("addr")
	for i, h := range append(slices.Clone(hosts), extra...) {
		if h == "" {
			return nil, fmt.Errorf("empty host in %q", strings.Join(hosts, ","))
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), defPort)
		}
		if i == 0 {
			g.Host = h
		} else {
			q.Add("addr", h)
		}
	}
	g.RawQuery = q.Encode()
	return &g, nil
}

// parseSentinel handles redis+sentinel://[user:pass@]s1,s2/master[/db]?q.
func parseSentinel(u *url.URL, hosts []string, scheme string) (*redis.FailoverOptions, error) {
	parts := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	if len(parts) == 0 || len(parts) > 2 {
		return nil, fmt.Errorf("want path /mastername[/db], got %q", u.Path)
	}
	g, err := withHosts(u, hosts, scheme, "26379")
	if err != nil {
		return nil, err
	}
	q := g.Query()
	if q.Has("master_name") {
		return nil, fmt.Errorf("master name goes in the path, not master_name")
	}
	q.Set("master_name", parts[0])
	if len(parts) == 2 {
		q.Set("db", parts[1])
	}
	sentUser, sentPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	g.User = nil
	g.Path = ""
	g.RawQuery = q.Encode()
	o, err := redis.ParseFailoverURL(g.String())
	if err != nil {
		return nil, err
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	o.SentinelUsername, o.SentinelPassword = sentUser, sentPass
	return o, nil
}
