package cache

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqcast/seqcast/internal/redistest"
)

// flaky is a Cache whose faults the test switches on and off.
type flaky struct {
	Cache
	mu  sync.Mutex
	err error
}

func (f *flaky) setErr(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }
func (f *flaky) fault() error     { f.mu.Lock(); defer f.mu.Unlock(); return f.err }

func (f *flaky) Get(ctx context.Context, k string) ([]byte, bool, error) {
	if err := f.fault(); err != nil {
		return nil, false, err
	}
	return f.Cache.Get(ctx, k)
}

func (f *flaky) Set(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	if err := f.fault(); err != nil {
		return err
	}
	return f.Cache.Set(ctx, k, v, ttl)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type hookRecord struct {
	mu     sync.Mutex
	counts map[string]int // "op/backend/result"
}

func (h *hookRecord) hook(op, backend, result string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if (result == ResultError) != (err != nil) {
		panic("hook: result " + result + " inconsistent with err")
	}
	if h.counts == nil {
		h.counts = map[string]int{}
	}
	h.counts[op+"/"+backend+"/"+result]++
}

func (h *hookRecord) get(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[key]
}

func TestGuardedFaults(t *testing.T) {
	f := &flaky{Cache: NewMemory(10)}
	var logs syncBuffer
	var rec hookRecord
	g := NewGuarded(f, GuardOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Hook:   rec.hook,
	})
	ctx := context.Background()
	boom := errors.New("boom")

	steps := []struct {
		name    string
		fault   error
		op      string // "get" or "set"
		key     string
		wantHit bool
	}{
		{"set ok", nil, OpSet, "a", false},
		{"hit", nil, OpGet, "a", true},
		{"miss", nil, OpGet, "b", false},
		{"get fails -> miss", boom, OpGet, "a", false},
		{"set fails -> dropped", boom, OpSet, "b", false},
		{"get fails again", boom, OpGet, "a", false},
		{"recovered hit", nil, OpGet, "a", true},
		{"dropped set not stored", nil, OpGet, "b", false},
		{"second outage", boom, OpGet, "a", false},
		{"second recovery", nil, OpSet, "c", false},
	}
	for _, s := range steps {
		f.setErr(s.fault)
		switch s.op {
		case OpGet:
			v, ok, err := g.Get(ctx, s.key)
			if err != nil {
				t.Fatalf("%s: Get returned error %v", s.name, err)
			}
			if ok != s.wantHit || (!ok && v != nil) {
				t.Fatalf("%s: Get = %q, %v; want hit=%v", s.name, v, ok, s.wantHit)
			}
		case OpSet:
			if err := g.Set(ctx, s.key, []byte("v"), time.Minute); err != nil {
				t.Fatalf("%s: Set returned error %v", s.name, err)
			}
		}
	}

	want := Stats{Hits: 2, Misses: 2, GetErrors: 3, Sets: 2, SetErrors: 1}
	if got := g.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	for key, n := range map[string]int{
		"get/memory/hit": 2, "get/memory/miss": 2, "get/memory/error": 3,
		"set/memory/ok": 2, "set/memory/error": 1,
	} {
		if got := rec.get(key); got != n {
			t.Errorf("hook %s = %d, want %d", key, got, n)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "cache down"); n != 2 {
		t.Errorf("logged %q %d times, want 2 (once per outage):\n%s", "cache down", n, out)
	}
	if n := strings.Count(out, "cache recovered"); n != 2 {
		t.Errorf("logged %q %d times, want 2:\n%s", "cache recovered", n, out)
	}
	if !strings.Contains(out, "failed_ops=3") {
		t.Errorf("first recovery should report failed_ops=3:\n%s", out)
	}
}

func TestGuardedCallerCancelIsNotAnOutage(t *testing.T) {
	f := &flaky{Cache: NewMemory(10)}
	var logs syncBuffer
	g := NewGuarded(f, GuardOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.setErr(context.Canceled)
	if _, ok, err := g.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	if g.Stats().Down || strings.Contains(logs.String(), "cache down") {
		t.Errorf("caller cancellation started an outage:\n%s", logs.String())
	}
	if g.Stats().GetErrors != 1 {
		t.Errorf("GetErrors = %d, want 1", g.Stats().GetErrors)
	}
}

// TestGuardedRedisOutage stops redis-server mid-run: Get and Set must keep
// answering quickly (a miss, no error), the outage must be logged once, and
// after the restart go-redis must reconnect by itself.
func TestGuardedRedisOutage(t *testing.T) {
	addr, stop, restart := redistest.Start(t)
	r := newTestRedis(t, addr, RedisOptions{})
	var logs syncBuffer
	var rec hookRecord
	g := NewGuarded(r, GuardOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Hook: rec.hook})
	ctx := context.Background()

	if err := g.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := g.Get(ctx, "k"); !ok {
		t.Fatal("miss before the outage")
	}

	stop()
	outageStart := time.Now()
	// Generous bound: OpTimeout is 50ms; a hang would be seconds.
	const bound = 2 * time.Second
	for i := range 20 {
		start := time.Now()
		v, ok, err := g.Get(ctx, "k")
		if err != nil || ok || v != nil {
			t.Fatalf("Get during outage = %q, %v, %v; want nil, false, nil", v, ok, err)
		}
		if err := g.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
			t.Fatalf("Set during outage: %v", err)
		}
		if d := time.Since(start); d > bound {
			t.Fatalf("Get+Set %d during outage took %v (> %v)", i, d, bound)
		}
	}
	t.Logf("40 guarded ops against a stopped server took %v", time.Since(outageStart))
	st := g.Stats()
	if !st.Down || st.GetErrors != 20 || st.SetErrors != 20 {
		t.Errorf("Stats during outage = %+v; want Down, 20 get and 20 set errors", st)
	}
	if n := strings.Count(logs.String(), "cache down"); n != 1 {
		t.Errorf("%q logged %d times, want once:\n%s", "cache down", n, logs.String())
	}

	restart() // empty server: data is not persisted
	restarted := time.Now()
	recovered := false
	for range 300 { // go-redis redials on its own; allow it up to ~3s
		_ = g.Set(ctx, "k2", []byte("v2"), time.Minute)
		if v, ok, _ := g.Get(ctx, "k2"); ok && string(v) == "v2" {
			recovered = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !recovered {
		t.Fatalf("no hit within ~3s of restarting redis; stats %+v\n%s", g.Stats(), logs.String())
	}
	t.Logf("first hit %v after the restart", time.Since(restarted))
	if g.Stats().Down {
		t.Error("still Down after a hit")
	}
	if n := strings.Count(logs.String(), "cache recovered"); n != 1 {
		t.Errorf("%q logged %d times, want once:\n%s", "cache recovered", n, logs.String())
	}
	if rec.get("get/redis/error") < 20 || rec.get("get/redis/hit") < 2 {
		t.Errorf("hook counts %v", rec.counts)
	}
}

// BenchmarkGuardedMemoryGet measures what the wrapper adds to a memory hit.
func BenchmarkGuardedMemoryGet(b *testing.B) {
	m := NewMemory(1024)
	ctx := context.Background()
	_ = m.Set(ctx, "k", make([]byte, 256), time.Hour)
	for _, tc := range []struct {
		name string
		c    Cache
	}{
		{"bare", m},
		{"guarded", NewGuarded(m, GuardOptions{Hook: func(op, backend, result string, err error) {}})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, _, _ = tc.c.Get(ctx, "k")
				}
			})
		})
	}
}
