package cache

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqcast/seqcast/internal/redistest"
)

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		url      string
		mode     string
		addrs    []string // standalone: one; cluster: seeds; sentinel: sentinels
		db       int
		tls      bool
		master   string
		user     string
		pass     string
		sentPass string
	}{
		{url: "redis://localhost", mode: RedisStandalone, addrs: []string{"localhost:6379"}},
		{url: "redis://:secret@10.0.0.1:6380/2", mode: RedisStandalone, addrs: []string{"10.0.0.1:6380"}, db: 2, pass: "secret"},
		{url: "rediss://alice:pw@cache.example.com:6380/0?dial_timeout=1s", mode: RedisStandalone, addrs: []string{"cache.example.com:6380"}, tls: true, user: "alice", pass: "pw"},
		{url: "unix:///run/redis.sock?db=3", mode: RedisStandalone, addrs: []string{"/run/redis.sock"}, db: 3},
		{url: "redis+cluster://h1:7000,h2:7001,h3", mode: RedisCluster, addrs: []string{"h1:7000", "h2:7001", "h3:6379"}},
		{url: "redis+cluster://u:p@h1:7000?addr=h2:7001&addr=h3:7002", mode: RedisCluster, addrs: []string{"h1:7000", "h2:7001", "h3:7002"}, user: "u", pass: "p"},
		{url: "rediss+cluster://h1:7000,[::1]:7001", mode: RedisCluster, addrs: []string{"h1:7000", "[::1]:7001"}, tls: true},
		{url: "redis+sentinel://s1:26379,s2/mymaster", mode: RedisSentinel, addrs: []string{"s1:26379", "s2:26379"}, master: "mymaster"},
		{url: "redis+sentinel://:mpw@s1/mymaster/4?sentinel_password=spw&addr=s3:5000", mode: RedisSentinel, addrs: []string{"s1:26379", "s3:5000"}, master: "mymaster", db: 4, pass: "mpw", sentPass: "spw"},
		{url: "rediss+sentinel://s1:26379/m", mode: RedisSentinel, addrs: []string{"s1:26379"}, master: "m", tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := parseRedisURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.mode != tt.mode {
				t.Fatalf("mode = %q, want %q", cfg.mode, tt.mode)
			}
			var (
				addrs            []string
				db               int
				tls              bool
				master, u, p, sp string
			)
			switch {
			case cfg.simple != nil:
				o := cfg.simple
				addrs, db, tls, u, p = []string{o.Addr}, o.DB, o.TLSConfig != nil, o.Username, o.Password
			case cfg.cluster != nil:
				o := cfg.cluster
				addrs, tls, u, p = o.Addrs, o.TLSConfig != nil, o.Username, o.Password
			case cfg.failover != nil:
				o := cfg.failover
				addrs, db, tls, u, p = o.SentinelAddrs, o.DB, o.TLSConfig != nil, o.Username, o.Password
				master, sp = o.MasterName, o.SentinelPassword
			}
			if !slices.Equal(addrs, tt.addrs) {
				t.Errorf("addrs = %q, want %q", addrs, tt.addrs)
			}
			if db != tt.db || tls != tt.tls || master != tt.master || u != tt.user || p != tt.pass || sp != tt.sentPass {
				t.Errorf("got db=%d tls=%v master=%q user=%q pass=%q sentinel_pass=%q; want db=%d tls=%v master=%q user=%q pass=%q sentinel_pass=%q",
					db, tls, master, u, p, sp, tt.db, tt.tls, tt.master, tt.user, tt.pass, tt.sentPass)
			}
		})
	}
}

func TestParseRedisURLErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://localhost:6379", "unsupported scheme"},
		{"redis+foo://h:1", "unsupported scheme"},
		{"redis://h1:1,h2:2", "redis+cluster"},
		{"redis+sentinel://s1:26379", "mastername"},
		{"redis+sentinel://s1:26379/m/1/x", "mastername"},
		{"redis+sentinel://s1/m?master_name=x", "path"},
		{"redis://:hunter2@h:6379?bogus_option=1", "bogus_option"},
		{"redis+cluster://h1,,h2", "empty host"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := parseRedisURL(tt.url)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func newTestRedis(t *testing.T, addr string, opts RedisOptions) *Redis {
	t.Helper()
	r, err := NewRedis(context.Background(), "redis://"+addr+"/0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRedisGetSet(t *testing.T) {
	addr, _, _ := redistest.Start(t)
	r := newTestRedis(t, addr, RedisOptions{Prefix: "t1:"})
	ctx := context.Background()
	if r.Backend() != BackendRedis || r.Mode() != RedisStandalone {
		t.Errorf("Backend, Mode = %q, %q", r.Backend(), r.Mode())
	}

	if v, ok := mustGet(t, r, "absent"); ok || v != nil {
		t.Errorf("Get(absent) = %q, %v; want nil, false", v, ok)
	}
	mustSet(t, r, "k", "value", time.Minute)
	if v, ok := mustGet(t, r, "k"); !ok || string(v) != "value" {
		t.Errorf("Get(k) = %q, %v", v, ok)
	}
	// Stored under the prefix, with the TTL.
	if got := r.Client().Get(ctx, "t1:k").Val(); got != "value" {
		t.Errorf("raw GET t1:k = %q", got)
	}
	if pttl := r.Client().PTTL(ctx, "t1:k").Val(); pttl <= 0 || pttl > time.Minute {
		t.Errorf("PTTL = %v, want (0, 1m]", pttl)
	}
	mustSet(t, r, "zero", "x", 0) // a zero TTL stores nothing
	if n := r.Client().Exists(ctx, "t1:zero").Val(); n != 0 {
		t.Errorf("EXISTS t1:zero = %d after a zero-TTL Set, want 0", n)
	}

	// Expiry: poll (bounded) until the server drops the key.
	mustSet(t, r, "short", "x", 20*time.Millisecond)
	expired := false
	for range 100 {
		if _, ok := mustGet(t, r, "short"); !ok {
			expired = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !expired {
		t.Error("key with 20ms TTL still served after 1s")
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Get(ctx, "k"); err != ErrClosed {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if err := r.Set(ctx, "k", nil, 0); err != ErrClosed {
		t.Errorf("Set after Close: %v, want ErrClosed", err)
	}
}

func TestNewRedisUnreachable(t *testing.T) {
	addr, stop, _ := redistest.Start(t)
	stop()
	_, err := NewRedis(context.Background(), "redis://:hunter2@"+addr, RedisOptions{DialTimeout: time.Second})
	if err == nil {
		t.Fatal("NewRedis to a stopped server: no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q leaks the password", err)
	}
	r, err := NewRedis(context.Background(), "redis://"+addr, RedisOptions{SkipPing: true})
	if err != nil {
		t.Fatalf("SkipPing: %v", err)
	}
	defer r.Close()
	if _, _, err := r.Get(context.Background(), "k"); err == nil {
		t.Error("Get on a stopped server: no error")
	}
}

// BenchmarkRedis measures a round trip to a local redis-server
// (go test -run '^$' -bench Redis ./cache/).
func BenchmarkRedis(b *testing.B) {
	addr, _, _ := redistest.Start(b)
	r, err := NewRedis(context.Background(), "redis://"+addr, RedisOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	val := make([]byte, 256)
	if err := r.Set(ctx, "k", val, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, ok, err := r.Get(ctx, "k"); err != nil || !ok {
					b.Errorf("Get: %v, %v", ok, err)
					return
				}
			}
		})
	})
	b.Run("Set", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := r.Set(ctx, "k", val, time.Hour); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func TestRedisSentinel(t *testing.T) {
	master, _, _ := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "seqmaster")
	r, err := NewRedis(context.Background(), "redis+sentinel://"+sentinel+"/seqmaster/1", RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Mode() != RedisSentinel {
		t.Errorf("Mode() = %q", r.Mode())
	}
	mustSet(t, r, "k", "via-sentinel", time.Minute)
	if v, ok := mustGet(t, r, "k"); !ok || string(v) != "via-sentinel" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	// The value landed on the master, in db 1, under the default prefix.
	direct, err := NewRedis(context.Background(), "redis://"+master+"/1", RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if got := direct.Client().Get(context.Background(), DefaultRedisPrefix+"k").Val(); got != "via-sentinel" {
		t.Errorf("master db 1 %sk = %q, want via-sentinel", DefaultRedisPrefix, got)
	}
}

func TestRedisTLS(t *testing.T) {
	addr, roots := redistest.StartTLS(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		url     string
		opts    RedisOptions
		wantErr string
	}{
		{"trusted CA", "rediss://" + addr, RedisOptions{TLSConfig: &tls.Config{RootCAs: roots}}, ""},
		{"skip_verify", "rediss://" + addr + "?skip_verify=true", RedisOptions{}, ""},
		{"unknown CA", "rediss://" + addr, RedisOptions{DialTimeout: time.Second}, "certificate"},
		{"plain text to a TLS port", "redis://" + addr, RedisOptions{DialTimeout: 500 * time.Millisecond}, "ping"},
		{"TLSConfig without rediss", "redis://" + addr, RedisOptions{TLSConfig: &tls.Config{RootCAs: roots}}, "not rediss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRedis(ctx, tt.url, tt.opts)
			if tt.wantErr != "" {
				if err == nil {
					r.Close()
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			mustSet(t, r, "k", "tls", time.Minute)
			if v, ok := mustGet(t, r, "k"); !ok || string(v) != "tls" {
				t.Errorf("Get = %q, %v", v, ok)
			}
		})
	}
}
