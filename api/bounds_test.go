package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// TestFailedAuthRateLimited: wrong keys take tokens like any request, so
// with --rate-limit 1 --rate-burst 1 a hundred wrong keys in a row are one
// 401 and 99 429s, on /metrics (not otherwise rate limited) too.
func TestFailedAuthRateLimited(t *testing.T) {
	for _, path := range []string{"/predict", "/metrics"} {
		ts := newServer(t, nil, func(c *Config) { c.APIKeys, c.RateLimit, c.RateBurst = []string{"right"}, 1, 1 })
		counts := map[int]int{}
		for range 100 {
			counts[ts.do("POST", path, predictBody(prices(60, 0), ""), "X-API-Key", "wrong").Code]++
		}
		if counts[401] != 1 || counts[429] != 99 {
			t.Errorf("%s: 100 wrong keys gave %v, want 1 401 and 99 429", path, counts)
		}
	}
}

// TestKeysTrimmed: an admin key read from a secret file with its trailing
// newline matches, as API keys do.
func TestKeysTrimmed(t *testing.T) {
	ts := newServer(t, mustGold(t), func(c *Config) { c.AdminKey, c.APIKeys = "adm\n", []string{" k1\r\n"} })
	if r := ts.do("POST", "/v1/models/gold:reload", "", "X-Admin-Key", "adm", "X-API-Key", "k1"); r.Code != http.StatusOK {
		t.Fatalf("reload with the trimmed admin key: %d %s", r.Code, r.Body)
	}
	if r := ts.do("POST", "/predict", predictBody(prices(60, 0), ""), "X-API-Key", "k1"); r.Code != http.StatusOK {
		t.Fatalf("predict with the trimmed API key: %d %s", r.Code, r.Body)
	}
	if _, err := New(Config{APIKeys: []string{" \n"}}, mustGold(t), cache.NewMemory(1)); err == nil {
		t.Fatal("a blank API key was taken")
	}
}

// TestLimiterBounded: the limiter remembers at most its bound of clients,
// forgetting the least recently seen first.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter(1, 1, 3)
	now := time.Now()
	for _, k := range []string{"a", "b", "c"} {
		l.allow(k, now)
	}
	l.allow("a", now) // a is now the most recent; b the oldest
	if ok, _ := l.allow("d", now); !ok || len(l.clients) != 3 {
		t.Fatalf("a new client: %v, %d remembered", ok, len(l.clients))
	}
	if _, ok := l.clients["b"]; ok {
		t.Fatal("the least recently seen client was kept")
	}
	if ok, _ := l.allow("a", now); ok {
		t.Fatal("a recently seen client was forgotten")
	}
	for i := range 100000 {
		l.allow(string(rune(i)), now)
	}
	if len(l.clients) != 3 || l.lru.Len() != 3 {
		t.Fatalf("%d clients remembered", len(l.clients))
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		if got := clientKey(tc.ip); got != tc.want {
			t.Errorf("clientKey(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

// TestHEADWhereGET: every GET route answers HEAD with the same status.
func TestHEADWhereGET(t *testing.T) {
	ts := newServer(t, nil, nil)
	for _, path := range []string{"/health", "/ready", "/metrics", "/", "/docs", "/openapi.json", "/v1/models/gold", "/v1/models/gold/metadata", "/v1/models/gold/versions/1"} {
		get, head := ts.do("GET", path, ""), ts.do("HEAD", path, "")
		if get.Code != http.StatusOK || head.Code != get.Code {
			t.Errorf("%s: GET %d, HEAD %d", path, get.Code, head.Code)
		}
	}
}

// TestEchoCut: a 900 KB number is quoted in at most a few dozen bytes,
// whichever decoder refuses it.
func TestEchoCut(t *testing.T) {
	ts := newServer(t, nil, nil)
	huge := "1" + strings.Repeat("0", 900_000)
	for _, tc := range []struct{ path, body, field string }{
		{"/predict", `{"historical_prices":[` + huge + strings.Repeat(",1900", 60) + `]}`, "historical_prices[0]"},
		{"/predict", `{"horizon":` + huge + `,"historical_prices":` + jsonOf(prices(60, 0)) + `}`, "horizon"},
		{"/predict/batch", `{"instances":[[1,` + huge + `]]}`, "instances[0][1]"},
		{"/v1/models/gold:predict", `{"instances":[[` + huge + `]]}`, "instances[0][0]"},
	} {
		r := ts.do("POST", tc.path, tc.body)
		if r.Code != http.StatusUnprocessableEntity || r.errField("field") != tc.field || r.Body.Len() > 1024 {
			t.Errorf("%s %s...: %d field %q, %d bytes: %.300s", tc.path, tc.body[:20], r.Code, r.errField("field"), r.Body.Len(), r.Body)
		}
	}
}

// TestZeroTTL: a zero CacheTTL means no caching (as the flag and
// cache.Set say); a negative one is refused.
func TestZeroTTL(t *testing.T) {
	ts := newServer(t, nil, func(c *Config) { c.CacheTTL = 0 })
	body := predictBody(prices(60, 0), "")
	for i := range 2 {
		if r := ts.do("POST", "/predict", body); r.Code != 200 || r.body["cached"] != false {
			t.Fatalf("request %d: %d cached=%v", i, r.Code, r.body["cached"])
		}
	}
	if _, err := New(Config{CacheTTL: -time.Second}, mustGold(t), cache.NewMemory(1)); err == nil {
		t.Fatal("a negative TTL was taken")
	}
}

// TestHostileBodyCost: finding 1 of issue 13. A 1 MiB body of one instance
// of 524k zeros to :predict, and its kin on the other routes, are refused
// after reading a window's worth of values: the request allocates less than
// 3 times its body (it used to take about 30 times).
func TestHostileBodyCost(t *testing.T) {
	ts := newServer(t, nil, func(c *Config) { c.BodyLimit = 1 << 20 })
	zeros := strings.Repeat("0,", 524_000) + "0"
	for _, tc := range []struct{ path, body string }{
		{"/v1/models/gold:predict", `{"instances":[[` + zeros + `]]}`},
		{"/v1/models/gold:predict", `{"inputs":[[[` + strings.Repeat("0],[", 260_000) + `0]]]}`},
		{"/v1/models/gold:predict", `{"instances":[` + strings.Repeat("[0],", 260_000) + `[0]]}`},
		{"/predict/batch", `{"instances":[[[` + zeros + `]]]}`},
		{"/predict/batch", `{"instances":[` + strings.Repeat("[0],", 260_000) + `[0]]}`},
		{"/predict", `{"window":[[` + zeros + `]]}`},
		{"/predict", `{"historical_prices":[` + zeros + `],"horizon":"x"}`},
	} {
		body := []byte(tc.body)
		h := ts.Handler()
		serve := func() int {
			req := httptest.NewRequest("POST", tc.path, bytes.NewReader(body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		serve() // warm the pools
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		code := serve()
		runtime.ReadMemStats(&m1)
		alloc := m1.TotalAlloc - m0.TotalAlloc
		if code < 400 || code >= 500 || alloc > 3*uint64(len(body)) {
			t.Errorf("%s %.40s...: %d, allocated %d bytes for a %d-byte body", tc.path, tc.body, code, alloc, len(body))
		}
		t.Logf("%s %.40s...: %d, allocated %.2f x the body", tc.path, tc.body, code, float64(alloc)/float64(len(body)))
	}
}

// mustGold is a fresh registry serving the embedded gold model.
func mustGold(t *testing.T) *serving.Registry {
	t.Helper()
	reg := serving.NewRegistry(serving.Options{}, serving.Embedded("gold", 0, models.Gold()))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return reg
}
