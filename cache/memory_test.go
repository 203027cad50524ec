package cache

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for TTL tests (no sleeping).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustGet(t *testing.T, c Cache, key string) ([]byte, bool) {
	t.Helper()
	v, ok, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, ok
}

func mustSet(t *testing.T, c Cache, key, val string, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, []byte(val), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func TestMemoryLRU(t *testing.T) {
	tests := []struct {
		name  string
		opts  MemoryOptions
		ops   []string // "s:key" set key=key, "g:key" get (touch)
		want  []string // keys present at the end
		gone  []string // keys evicted
		bytes bool
	}{
		{
			name: "evicts oldest",
			opts: MemoryOptions{MaxEntries: 3},
			ops:  []string{"s:a", "s:b", "s:c", "s:d"},
			want: []string{"b", "c", "d"},
			gone: []string{"a"},
		},
		{
			name: "get refreshes recency",
			opts: MemoryOptions{MaxEntries: 3},
			ops:  []string{"s:a", "s:b", "s:c", "g:a", "s:d"},
			want: []string{"a", "c", "d"},
			gone: []string{"b"},
		},
		{
			name: "overwrite refreshes recency",
			opts: MemoryOptions{MaxEntries: 2},
			ops:  []string{"s:a", "s:b", "s:a", "s:c"},
			want: []string{"a", "c"},
			gone: []string{"b"},
		},
		{
			name: "byte bound",
			// each entry costs 1+1+96 = 98 bytes; room for two
			opts: MemoryOptions{MaxEntries: 100, MaxBytes: 2*98 + 50},
			ops:  []string{"s:a", "s:b", "s:c"},
			want: []string{"b", "c"},
			gone: []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMemoryWithOptions(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range tt.ops {
				switch op[:2] {
				case "s:":
					mustSet(t, m, op[2:], op[2:], time.Hour)
				case "g:":
					mustGet(t, m, op[2:])
				}
			}
			for _, k := range tt.want {
				if v, ok := mustGet(t, m, k); !ok || string(v) != k {
					t.Errorf("Get(%q) = %q, %v; want %q, true", k, v, ok, k)
				}
			}
			for _, k := range tt.gone {
				if _, ok := mustGet(t, m, k); ok {
					t.Errorf("Get(%q) hit; want evicted", k)
				}
			}
			if got := m.Len(); got != len(tt.want) {
				t.Errorf("Len() = %d, want %d", got, len(tt.want))
			}
		})
	}
}

func TestMemoryTooLargeValue(t *testing.T) {
	m, err := NewMemoryWithOptions(MemoryOptions{MaxEntries: 10, MaxBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, m, "k", "small", time.Hour)
	big := string(make([]byte, 300))
	mustSet(t, m, "k", big, time.Hour)
	if _, ok := mustGet(t, m, "k"); ok {
		t.Error("value larger than MaxBytes was served")
	}
}

func TestMemoryTTL(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	m, err := NewMemoryWithOptions(MemoryOptions{MaxEntries: 10, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, m, "short", "1", time.Second)
	mustSet(t, m, "long", "2", time.Minute)
	mustSet(t, m, "zero", "3", 0) // a zero TTL stores nothing
	mustSet(t, m, "negative", "4", -time.Second)
	for _, k := range []string{"zero", "negative"} {
		if _, ok := mustGet(t, m, k); ok {
			t.Errorf("%s: stored with a TTL <= 0", k)
		}
	}
	clk.Advance(999 * time.Millisecond)
	for _, k := range []string{"short", "long"} {
		if _, ok := mustGet(t, m, k); !ok {
			t.Errorf("%s: miss before expiry", k)
		}
	}
	clk.Advance(time.Millisecond)
	if _, ok := mustGet(t, m, "short"); ok {
		t.Error("short: expired entry served")
	}
	if m.Len() != 1 {
		t.Errorf("Len() = %d after expired Get, want 1", m.Len())
	}
	clk.Advance(time.Hour)
	if _, ok := mustGet(t, m, "long"); ok {
		t.Error("long: expired entry served")
	}
}

func TestMemoryCopiesValue(t *testing.T) {
	m := NewMemory(10)
	buf := []byte("abc")
	if err := m.Set(context.Background(), "k", buf, time.Hour); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	if v, _ := mustGet(t, m, "k"); string(v) != "abc" {
		t.Errorf("Get = %q after caller reused its buffer; want abc", v)
	}
}

func TestMemoryClose(t *testing.T) {
	m := NewMemory(10)
	mustSet(t, m, "k", "v", time.Hour)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := m.Get(context.Background(), "k"); err != ErrClosed {
		t.Errorf("Get after Close: err = %v, want ErrClosed", err)
	}
	if err := m.Set(context.Background(), "k", nil, 0); err != ErrClosed {
		t.Errorf("Set after Close: err = %v, want ErrClosed", err)
	}
}

func TestMemoryOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		opts MemoryOptions
	}{
		{"negative bytes", MemoryOptions{MaxBytes: -1}},
		{"negative shards", MemoryOptions{Shards: -1}},
		{"more shards than entries", MemoryOptions{MaxEntries: 4, Shards: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMemoryWithOptions(tt.opts); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestMemoryConcurrent hammers a sharded and an unsharded cache from several
// goroutines; run with -race. The entry bound must hold throughout.
func TestMemoryConcurrent(t *testing.T) {
	for _, shards := range []int{1, 8} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			const maxEntries = 64
			m, err := NewMemoryWithOptions(MemoryOptions{MaxEntries: maxEntries, Shards: shards})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 2000 {
						k := strconv.Itoa((g*7 + i) % 200)
						if i%3 == 0 {
							_ = m.Set(ctx, k, []byte(k), time.Minute)
						} else if v, ok, _ := m.Get(ctx, k); ok && string(v) != k {
							t.Errorf("Get(%q) = %q", k, v)
							return
						}
					}
				}()
			}
			wg.Wait()
			if n := m.Len(); n > maxEntries {
				t.Errorf("Len() = %d > MaxEntries %d", n, maxEntries)
			}
		})
	}
}

func benchMemory(b *testing.B, shards int) {
	const n = 1 << 14
	m, err := NewMemoryWithOptions(MemoryOptions{MaxEntries: n, Shards: shards})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	keys := make([]string, n)
	val := make([]byte, 256)
	for i := range keys {
		keys[i] = fmt.Sprintf("predict:%016x", i*2654435761)
		_ = m.Set(ctx, keys[i], val, time.Hour)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k := keys[i&(n-1)]
			if i%10 == 0 { // 90% reads, 10% writes
				_ = m.Set(ctx, k, val, time.Hour)
			} else {
				_, _, _ = m.Get(ctx, k)
			}
			i += 7
		}
	})
}

// BenchmarkMemory compares one mutex with 16 shards under parallel load
// (go test -bench Memory -cpu 1,2,8 ./cache/).
func BenchmarkMemory(b *testing.B) {
	for _, shards := range []int{1, 16} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) { benchMemory(b, shards) })
	}
}
