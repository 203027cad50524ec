package serving

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// goldWindows returns n distinct gold-like windows of 60 prices.
func goldWindows(n int) [][]float64 {
	ws := make([][]float64, n)
	for i := range ws {
		w := make([]float64, 60)
		for j := range w {
			w[j] = 1800 + 3*float64(i) + 10*math.Sin(float64(i+j)/4) + 0.5*float64(j)
		}
		ws[i] = w
	}
	return ws
}

// batchedGold loads the bench gold bundle (with a MinMax scaler) twice: once
// plain, once with dynamic batching.
func batchedGold(t testing.TB, o BatchOptions, obs ForwardObserver) (plain, batched *Model) {
	t.Helper()
	ctx := context.Background()
	extra := map[string]string{ScalerFile: minmaxScaler, BacktestFile: backtestJSON}
	plain, err := LoadFS(ctx, bundleFS(t, benchGold, extra), "gold", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	batched, err = LoadFS(ctx, bundleFS(t, benchGold, extra), "gold", 1, obs)
	if err != nil {
		t.Fatal(err)
	}
	o.Enabled = true
	batched.batch = newBatcher(batched, o, nil)
	return plain, batched
}

// close reports whether a and b agree within the parity tolerance: a merged
// pass may sum in another order than a single one.
func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-5+1e-5*math.Abs(b) }

func TestBatchedEqualsUnbatched(t *testing.T) {
	var mu sync.Mutex
	sizes := map[int]int{}
	plain, batched := batchedGold(t, BatchOptions{Window: 2 * time.Millisecond, MaxBatch: 16, Workers: 1},
		func(_ string, _ int64, n int, _ time.Duration) { mu.Lock(); sizes[n]++; mu.Unlock() })
	ws := goldWindows(48)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		horizon int
	}{{"one step", 1}, {"recursive", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := plain.Forecast(ctx, ws, tc.horizon)
			if err != nil {
				t.Fatal(err)
			}
			got := make([][]Prediction, len(ws))
			errs := make([]error, len(ws))
			var wg sync.WaitGroup
			for i := range ws {
				wg.Go(func() { got[i], errs[i] = batched.Forecast(ctx, ws[i:i+1], tc.horizon) })
			}
			wg.Wait()
			for i := range ws {
				if errs[i] != nil {
					t.Fatalf("window %d: %v", i, errs[i])
				}
				for s, v := range got[i][0].Forecast {
					if !closeTo(v, want[i].Forecast[s]) {
						t.Fatalf("window %d step %d: batched %v, unbatched %v", i, s+1, v, want[i].Forecast[s])
					}
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	merged := 0
	for n, k := range sizes {
		if n > 16 {
			t.Errorf("a pass of %d samples exceeds MaxBatch 16", n)
		}
		if n > 1 {
			merged += k
		}
	}
	if merged == 0 {
		t.Errorf("no pass was merged: sizes %v", sizes)
	}
}

func TestBatchRaw(t *testing.T) {
	plain, batched := batchedGold(t, BatchOptions{Window: time.Millisecond, MaxBatch: 8}, nil)
	ctx := context.Background()
	x := make([]float32, 3*60)
	for i := range x {
		x[i] = float32(i%60) / 60
	}
	want, err := plain.Raw(ctx, x, 3)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := batched.Raw(ctx, x, 3) // 3 samples: queued (2*3 <= 8)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range got {
				if !closeTo(float64(got[i]), float64(want[i])) {
					t.Errorf("sample %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
	wg.Wait()
	if batched.batch.admits(5) || !batched.batch.admits(4) || batched.batch.admits(0) {
		t.Error("admits: passes of at least MaxBatch/2 must skip the queue")
	}
}

// TestBatchCancel holds the only worker, queues a request and cancels it:
// it returns at once with the context's error, and its samples never run.
func TestBatchCancel(t *testing.T) {
	hold := make(chan struct{})
	var holding sync.Once
	held := make(chan struct{})
	var samples atomic.Int64
	_, m := batchedGold(t, BatchOptions{Window: time.Hour, MaxBatch: 64, Workers: 1},
		func(_ string, _ int64, n int, _ time.Duration) {
			samples.Add(int64(n))
			holding.Do(func() { close(held); <-hold })
		})
	ws := goldWindows(2)
	first := make(chan error, 1)
	go func() {
		_, err := m.Forecast(context.Background(), ws[:1], 1)
		first <- err
	}()
	<-held // the first pass runs (and holds the worker)
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := m.Forecast(ctx, ws[1:], 1)
		second <- err
	}()
	for { // wait until the second request is queued
		m.batch.mu.Lock()
		n := len(m.batch.queue)
		m.batch.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	m.batch.mu.Lock()
	if len(m.batch.queue) != 0 || m.batch.queued != 0 {
		t.Errorf("queue after cancel: %d jobs, %d samples", len(m.batch.queue), m.batch.queued)
	}
	m.batch.mu.Unlock()
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := samples.Load(); got != 1 {
		t.Fatalf("%d samples ran, want 1 (the cancelled one must be dropped)", got)
	}
	// The collector is gone once the queue is empty; the next request starts
	// a new one.
	if _, err := m.Forecast(context.Background(), ws[1:], 1); err != nil {
		t.Fatal(err)
	}
}

// TestBatchingSurvivesReloads forecasts from many goroutines while the
// registry reloads: every request succeeds, on whichever version it got.
func TestBatchingSurvivesReloads(t *testing.T) {
	root := t.TempDir()
	copyDir(t, benchGold, filepath.Join(root, "gold", "1"), map[string]string{ScalerFile: minmaxScaler})
	var waits atomic.Int64
	reg := NewRegistry(Options{
		Batch: BatchOptions{Enabled: true, Window: 200 * time.Microsecond, MaxBatch: 16},
		BatchObserver: func(_ string, _ int64, _ int, w []time.Duration) {
			waits.Add(int64(len(w)))
		},
	}, ModelsDir(root))
	ctx := context.Background()
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	ws := goldWindows(16)
	stop := make(chan struct{})
	var failed, served atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				m, err := reg.Get("gold", 0)
				if err == nil {
					_, err = m.Forecast(ctx, ws[i:i+1], 1)
				}
				if err != nil {
					failed.Add(1)
					t.Error(err)
					return
				}
				served.Add(1)
			}
		})
	}
	for range 3 {
		if err := reg.Reload(ctx, ""); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || served.Load() == 0 {
		t.Fatalf("%d failed, %d served", failed.Load(), served.Load())
	}
	if m, _ := reg.Get("gold", 0); !m.Batching() {
		t.Fatal("reloaded model does not batch")
	}
	if waits.Load() == 0 {
		t.Fatal("batch observer never called")
	}
}

func BenchmarkForecastBatched(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run("clients="+strconv.Itoa(conc), func(b *testing.B) {
			_, m := batchedGold(b, BatchOptions{Window: 200 * time.Microsecond, MaxBatch: 16}, nil)
			ws := goldWindows(conc)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(max(1, conc/2))
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1)-1) % conc
				w := ws[i : i+1]
				for pb.Next() {
					if _, err := m.Forecast(ctx, w, 1); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestBatchPanicBecomesError: a panic in a merged pass (here in the forward
// observer, which runs inside it) fails that pass's requests instead of
// killing the process, and the queue keeps working.
func TestBatchPanicBecomesError(t *testing.T) {
	var once sync.Once
	_, m := batchedGold(t, BatchOptions{Window: time.Millisecond, MaxBatch: 8},
		func(string, int64, int, time.Duration) { once.Do(func() { panic("boom") }) })
	ws := goldWindows(1)
	if _, err := m.Forecast(context.Background(), ws, 1); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
	if _, err := m.Forecast(context.Background(), ws, 1); err != nil {
		t.Fatal(err)
	}
}
