package api

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/internal/redistest"
)

// TestRedisCacheAndFault runs the API on a real redis-server: hits, then
// Redis stopped mid-run (every request still 200, errors counted), then
// hits again once Redis is back.
// redisServer serves the gold registry with the Redis at addr as its cache;
// the log goes to the returned builder.
func redisServer(t *testing.T, addr string, ro cache.RedisOptions, cfg Config) (*testServer, *syncBuilder) {
	t.Helper()
	r, err := cache.NewRedis(context.Background(), "redis://"+addr+"/0", ro)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := goldRegistry()
	if err != nil {
		t.Fatal(err)
	}
	buf := &syncBuilder{}
	cfg.Logger = slog.New(slog.NewJSONHandler(buf, nil))
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	s, err := New(cfg, reg, r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testServer{Server: s, t: t}, buf
}

// syncBuilder is a log sink safe for concurrent use.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuilder) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRedisCacheAndFault(t *testing.T) {
	addr, stop, restart := redistest.Start(t)
	ts, buf := redisServer(t, addr, cache.RedisOptions{Prefix: "seqcast-test:"}, Config{})

	a := predictBody(prices(60, 100), "")
	first := ts.do("POST", "/predict", a)
	if first.Code != 200 || first.body["cached"] != false {
		t.Fatalf("first: %d %v", first.Code, first.body)
	}
	if r := ts.do("POST", "/predict", a); r.Code != 200 || r.body["cached"] != true || r.body["predicted_price"] != first.body["predicted_price"] {
		t.Fatalf("second: %d %v", r.Code, r.body)
	}
	if r := ts.do("GET", "/health", ""); r.body["cache"] != "redis" {
		t.Fatalf("health: %v", r.body)
	}

	stop()
	for i := range 6 {
		body := a
		if i%2 == 1 {
			body = predictBody(prices(60, float64(200+i)), `,"horizon":2`)
		}
		r := ts.do("POST", "/predict", body)
		if r.Code != 200 || r.body["cached"] != false {
			t.Fatalf("request %d with Redis down: %d %v", i, r.Code, r.body)
		}
	}
	if r := ts.do("POST", "/predict/batch", `{"instances":[`+jsonOf(prices(60, 7))+`]}`); r.Code != 200 {
		t.Fatalf("batch with Redis down: %d", r.Code)
	}
	if n, ok := sample(ts.families(), "seqcast_cache_requests_total", map[string]string{"backend": "redis", "result": "error"}); !ok || n != 7 {
		t.Fatalf("seqcast_cache_requests_total{backend=\"redis\",result=\"error\"} = %v (found %v), want 7", n, ok)
	}
	if n := strings.Count(buf.String(), "cache down"); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, grep(buf.String(), "cache"))
	}

	restart()
	b := predictBody(prices(60, 300), "")
	hit := false
	for i := 0; i < 20 && !hit; i++ { // the client reconnects by itself
		r := ts.do("POST", "/predict", b)
		if r.Code != 200 {
			t.Fatalf("after restart, request %d: %d", i, r.Code)
		}
		hit = r.body["cached"] == true
	}
	if !hit {
		t.Fatal("no cache hit after Redis came back")
	}
}
