package reliability

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seqcast/seqcast/internal/redistest"
	"github.com/seqcast/seqcast/weights"
)

// predictLoad cycles over `distinct` windows, so that a cache that works
// answers most requests.
func predictLoad(workers, distinct int, rate float64) loadSpec {
	bodies := make([]string, distinct)
	for i := range bodies {
		bodies[i] = `{"historical_prices":` + window(float64(i)) + `}`
	}
	return loadSpec{workers: workers, rate: rate, next: func(i int64) (string, string, string, []string) {
		return "POST", predict, bodies[i%int64(distinct)], nil
	}}
}

// TestRedisKilledUnderLoad: requests keep flowing while Redis is killed and
// restarted; none fails, the outage shows as cache errors, cache hits resume
// once Redis is back, and while Redis is frozen by DEBUG SLEEP latency stays
// bounded by the cache timeout rather than by Redis.
func TestRedisKilledUnderLoad(t *testing.T) {
	addr, stop, restart := redistest.Start(t)
	px := newDelayProxy(t, addr)
	s := startServer(t, []string{"SEQCAST_REDIS_URL=redis://" + px.addr}, "--redis-timeout", "50ms")
	base := "http://" + s.addr
	phase := pick(2*time.Second, 15*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan []result)
	go func() { done <- runLoad(ctx, base, predictLoad(4, 50, 0)) }()

	time.Sleep(phase)
	tKill := time.Now()
	stop()
	time.Sleep(phase)
	tRestart := time.Now()
	restart()
	tBack := time.Now()
	time.Sleep(phase)
	// Redis made slow: the proxy delays every command by 1 s, so every
	// operation hits the 50 ms cache timeout.
	tSleep := time.Now()
	px.delay.Store(int64(time.Second))
	time.Sleep(phase)
	px.delay.Store(0)
	tWake := time.Now()
	time.Sleep(phase / 2)
	cancel()
	rs := <-done

	all := summarize(rs)
	t.Logf("whole run: %v", all)
	before := summarize(between(rs, time.Time{}, tKill))
	outage := summarize(between(rs, tKill.Add(100*time.Millisecond), tRestart))
	after := summarize(between(rs, tBack.Add(500*time.Millisecond), tSleep))
	slow := summarize(between(rs, tSleep.Add(100*time.Millisecond), tWake.Add(-100*time.Millisecond)))
	t.Logf("before kill: %v", before)
	t.Logf("Redis down:  %v", outage)
	t.Logf("Redis back:  %v", after)
	t.Logf("Redis 1 s slow: %v", slow)
	if all.failed != 0 {
		t.Errorf("%d failed requests, first: %s", all.failed, all.firstFailure)
	}
	if before.cached == 0 || after.cached == 0 {
		t.Errorf("cache hits before the kill %d, after the restart %d: want both > 0", before.cached, after.cached)
	}
	if errs := metric(t, base, "seqcast_cache_requests_total", `result="error"`); errs == 0 {
		t.Errorf("no cache errors counted during the outage")
	}
	// The cache timeout is 50 ms (a Get, then a Set on a miss); a forward
	// pass is ~1 ms. Allow for a busy two-core machine, but far below the
	// 1 s Redis takes.
	if slow.n == 0 || slow.failed > 0 || slow.p99 > 300*time.Millisecond || slow.max > 700*time.Millisecond {
		t.Errorf("latency while Redis sleeps: %v, want bounded by the 50 ms cache timeout", slow)
	}
	if n := len(s.log.lines("request")); n == 0 {
		t.Errorf("no request log lines")
	}
}

// delayProxy forwards loopback TCP connections to a Redis server, holding
// every client write for delay first (a slow Redis). When the upstream is
// down the client's connection is closed, as if Redis refused it.
type delayProxy struct {
	addr  string
	delay atomic.Int64 // nanoseconds
}

func newDelayProxy(t testing.TB, upstream string) *delayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(c, upstream) })
		}
	})
	return p
}

func (p *delayProxy) serve(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.DialTimeout("tcp", upstream, time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(c, u)
		c.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if d := p.delay.Load(); d > 0 {
				time.Sleep(time.Duration(d))
			}
			if _, werr := u.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	u.Close()
	<-done
}

// makeVersion2 writes to dir a copy of the gold bundle whose output bias is
// shifted by delta, so its answers differ from version 1's; its manifest
// (checksums, self-test of the original weights) is dropped.
func makeVersion2(t testing.TB, dir string, delta float32) {
	t.Helper()
	copyGold(t, dir)
	if err := os.Remove(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "weights", "017.npy")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	data, shape, err := weights.ReadNPY(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	data[0] += delta
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteNPY(out, data, shape); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReloadUnderLoad: versions 2 and 3 are added and loaded (admin route and
// SIGHUP) while requests flow; none fails and every answer is exactly the
// prediction of the version it names.
func TestReloadUnderLoad(t *testing.T) {
	root := t.TempDir()
	copyGold(t, filepath.Join(root, "gold", "1"))
	const admin = "reload-under-load"
	s := startServer(t, []string{"SEQCAST_ADMIN_KEY=" + admin}, "--models-dir", root, "--cache-ttl", "0")
	base := "http://" + s.addr
	c := newClient()
	body := `{"historical_prices":` + window(7) + `}`
	want := map[float64]float64{}
	_, r, _ := do(t, c, "POST", base+predict, body)
	want[1] = r["predicted_price"].(float64)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan []result)
	go func() {
		done <- runLoad(ctx, base, loadSpec{workers: 4, next: func(int64) (string, string, string, []string) {
			return "POST", predict, body, nil
		}})
	}()
	step := pick(time.Second, 10*time.Second)
	time.Sleep(step)
	makeVersion2(t, filepath.Join(root, "gold", "2"), 0.01)
	if st, b, _ := do(t, c, "POST", base+"/v1/models/gold:reload", `{}`, "X-Admin-Key", admin); st != 200 {
		t.Fatalf("reload to version 2: %d %v", st, b)
	}
	time.Sleep(step)
	makeVersion2(t, filepath.Join(root, "gold", "3"), -0.02)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(step)
	cancel()
	rs := <-done

	// What each version answers, asked for explicitly after the run.
	for _, v := range []float64{2, 3} {
		st, r, _ := do(t, c, "POST", base+predict, fmt.Sprintf(`{"model_version":%v,"historical_prices":%s}`, v, window(7)))
		if st != 200 {
			t.Fatalf("version %v: %d %v", v, st, r)
		}
		want[v] = r["predicted_price"].(float64)
	}
	if want[1] == want[2] || want[2] == want[3] {
		t.Fatalf("versions answer alike: %v", want)
	}
	seen := map[float64]int{}
	sum := summarize(rs)
	t.Logf("reload under load: %v; answers per version: see below", sum)
	for _, r := range rs {
		if r.err != nil || r.status != 200 {
			continue
		}
		seen[r.version]++
		if w, ok := want[r.version]; !ok || r.price != w {
			t.Errorf("answer %v labelled version %v; that version answers %v", r.price, r.version, w)
			break
		}
	}
	t.Logf("answers per version: %v (expected values %v)", seen, want)
	if sum.failed != 0 {
		t.Errorf("%d failed requests, first: %s", sum.failed, sum.firstFailure)
	}
	if seen[1] == 0 || seen[2] == 0 || seen[3] == 0 {
		t.Errorf("not every version answered: %v", seen)
	}
}

// TestShutdownUnderLoad: SIGTERM while batch requests are in flight. /ready
// turns 503 first (the shutdown delay), every request that got an answer got
// 200, connections fail only after /ready went 503, and the process exits 0
// within delay + drain timeout.
func TestShutdownUnderLoad(t *testing.T) {
	const delay, drain = time.Second, 5 * time.Second
	s := startServer(t, nil, "--shutdown-delay", delay.String(), "--drain-timeout", drain.String(), "--cache-ttl", "0")
	base := "http://" + s.addr
	var sb strings.Builder
	sb.WriteString(`{"horizon":30,"instances":[`)
	for i := range 200 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(window(float64(i)))
	}
	sb.WriteString(`]}`)
	heavy := sb.String()
	spec := loadSpec{workers: 4, next: func(i int64) (string, string, string, []string) {
		if i%4 == 0 {
			return "POST", batch, heavy, nil
		}
		return "POST", predict, `{"historical_prices":` + window(float64(i%1000)) + `}`, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan []result)
	go func() { done <- runLoad(ctx, base, spec) }()

	// Watch /ready on its own connection.
	var (
		mu      sync.Mutex
		went503 time.Time
	)
	readyDone := make(chan struct{})
	go func() {
		defer close(readyDone)
		c := newClient()
		for ctx.Err() == nil {
			resp, err := c.Get(base + "/ready")
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 503 {
				mu.Lock()
				if went503.IsZero() {
					went503 = time.Now()
				}
				mu.Unlock()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(pick(time.Second, 5*time.Second))
	tTerm := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := s.waitExit(delay + drain + 5*time.Second)
	tExit := time.Now()
	cancel()
	rs := <-done
	<-readyDone

	if code != 0 {
		t.Errorf("exit code %d (-1: still running)\n%s", code, s.log)
	}
	if d := tExit.Sub(tTerm); d > delay+drain+time.Second {
		t.Errorf("exited %v after SIGTERM, want within %v", d, delay+drain)
	}
	mu.Lock()
	r503 := went503
	mu.Unlock()
	if r503.IsZero() {
		t.Fatalf("/ready never answered 503 during the shutdown")
	}
	var answered, refused, lateErr, acrossDrain int
	drainAt := tTerm.Add(delay)
	for _, r := range rs {
		switch {
		case r.err == nil && r.status == 200:
			answered++
			if r.start.Before(drainAt) && r.end.After(drainAt) {
				acrossDrain++ // in flight when the listener closed: finished
			}
		case r.err == nil:
			t.Errorf("status %d during shutdown (started %v after SIGTERM): %s", r.status, r.start.Sub(tTerm), r.body)
		case r.start.Before(r503):
			// Sent before readiness went 503: it had to be answered.
			t.Errorf("request started %v before /ready went 503 failed: %v", r503.Sub(r.start), r.err)
		case r.start.Before(tTerm.Add(delay)):
			t.Errorf("request started during the shutdown delay failed: %v", r.err)
		default:
			if isRefused(r.err) {
				refused++
			} else {
				lateErr++
			}
		}
	}
	t.Logf("SIGTERM under load: %d answered 200 (%d of them in flight when draining began), %d refused after /ready went 503 (%v after SIGTERM), %d other errors after the delay; exit %v after SIGTERM",
		answered, acrossDrain, refused, r503.Sub(tTerm).Round(time.Millisecond), lateErr, tExit.Sub(tTerm).Round(time.Millisecond))
	if acrossDrain == 0 {
		t.Errorf("no request was in flight when draining began: the test proved nothing about draining")
	}
	if answered == 0 {
		t.Errorf("no request answered")
	}
	if n := len(s.log.lines("shutting down: draining")); n != 1 {
		t.Errorf("%d draining log lines", n)
	}
}

func isRefused(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "server closed") ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset"))
}

// TestSoak: a steady mixed load for several minutes (make reliability only);
// no error responses, and goroutines, heap and RSS stay within a bound of
// their level after warm-up.
func TestSoak(t *testing.T) {
	if !longRuns() {
		t.Skip("soak runs under make reliability (SEQCAST_RELIABILITY_LONG=1)")
	}
	s := startServer(t, nil)
	base := "http://" + s.addr
	const rate, workers = 400.0, 8
	total := 3 * time.Minute
	spec := loadSpec{workers: workers, rate: rate, next: func(i int64) (string, string, string, []string) {
		switch {
		case i%10 == 0:
			return "POST", batch, `{"instances":[` + window(float64(i%5000)) + `,` + window(float64(i%333)) + `]}`, nil
		case i%3 == 0:
			return "POST", predict, `{"historical_prices":` + window(float64(i%20)) + `}`, nil // cached
		default:
			return "POST", predict, `{"historical_prices":` + window(float64(i)) + `}`, nil // distinct
		}
	}}
	ctx, cancel := context.WithTimeout(context.Background(), total)
	defer cancel()
	done := make(chan []result)
	go func() { done <- runLoad(ctx, base, spec) }()
	type sample struct {
		at                    time.Duration
		goroutines, heap, rss float64
	}
	var samples []sample
	t0 := time.Now()
	for ctx.Err() == nil {
		time.Sleep(15 * time.Second)
		samples = append(samples, sample{time.Since(t0).Round(time.Second), metric(t, base, "go_goroutines", ""),
			metric(t, base, "go_memstats_heap_alloc_bytes", ""), metric(t, base, "process_resident_memory_bytes", "")})
	}
	rs := <-done
	sum := summarize(rs)
	t.Logf("soak %v at %.0f req/s target: %v", total, rate, sum)
	for _, s := range samples {
		t.Logf("  t=%v goroutines %.0f heap %.1f MiB rss %.1f MiB", s.at, s.goroutines, s.heap/(1<<20), s.rss/(1<<20))
	}
	if sum.failed != 0 {
		t.Errorf("%d failed requests, first: %s", sum.failed, sum.firstFailure)
	}
	if len(samples) < 3 {
		t.Fatalf("only %d samples", len(samples))
	}
	warm, last := samples[1], samples[len(samples)-1] // after the first 30 s
	maxOf := func(f func(sample) float64) float64 {
		m := 0.0
		for _, s := range samples[1:] {
			m = max(m, f(s))
		}
		return m
	}
	// Bounds: goroutines within warm + 2 per worker + 20; heap within
	// 2x warm + 32 MiB (the LRU holds up to 64 MiB by default but this load
	// fills far less); RSS within warm + 96 MiB.
	if g := maxOf(func(s sample) float64 { return s.goroutines }); g > warm.goroutines+2*workers+20 {
		t.Errorf("goroutines grew from %.0f to %.0f", warm.goroutines, g)
	}
	if h := maxOf(func(s sample) float64 { return s.heap }); h > 2*warm.heap+32<<20 {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB", warm.heap/(1<<20), h/(1<<20))
	}
	if r := last.rss; r > warm.rss+96<<20 {
		t.Errorf("RSS grew from %.1f MiB to %.1f MiB", warm.rss/(1<<20), r/(1<<20))
	}
}
