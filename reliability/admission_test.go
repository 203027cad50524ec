package reliability

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Issue 13, findings 2 and 3 through the real binary: admission control on
// forward work, and memory back near idle after a burst.

// floodWriteTimeout is the --write-timeout of the flood tests; a computing
// request's deadline is 90% of it.
const floodWriteTimeout = 4 * time.Second

// batchBody is a /predict/batch body of n distinct windows (seeded by seed,
// so that no two requests share a computation) with the given horizon.
func batchBody(n, horizon int, seed int) string {
	var sb strings.Builder
	sb.WriteString(`{"instances":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(window(float64(seed*n+i) / 7))
	}
	fmt.Fprintf(&sb, `],"horizon":%d}`, horizon)
	return sb.String()
}

// scrape sums the samples of a metric family whose labels include want.
func scrape(t testing.TB, base, name string, want map[string]string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	var sum float64
	for _, m := range fams[name].GetMetric() {
		ok := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				found = found || l.GetName() == k && l.GetValue() == v
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// TestAdmissionFlood: 70 and 200 concurrent maximum batches (1,000 distinct
// windows, horizon 30) against --write-timeout 4s. Every client gets an
// answer, 200 or 503 with Retry-After, within the write timeout; the server
// counts exactly the 200s the clients received (no answer computed and then
// dropped, none logged as 200 for nobody), and its shed counter the 503s;
// meanwhile a small /predict is answered with a bounded p99. make
// reliability adds 400 clients (216 MB of bodies: they wait unread for the
// byte budget) and runs three floods in a row against each server.
func TestAdmissionFlood(t *testing.T) {
	floods, rounds := []int{70, 200}, 1
	if longRuns() {
		floods, rounds = []int{70, 200, 400}, 3
	}
	for _, clients := range floods {
		t.Run(fmt.Sprintf("clients=%d", clients), func(t *testing.T) {
			s := startServer(t, []string{"GOMEMLIMIT=160MiB"}, "--write-timeout", floodWriteTimeout.String(), "--cache-ttl", "0",
				"--read-timeout", "10s", "--read-header-timeout", "5s") // 200 connections at once on a loaded machine
			base := s.url("")
			bodies := make([]string, clients)
			for i := range bodies {
				bodies[i] = batchBody(1000, 30, i)
			}
			client := &http.Client{Timeout: floodWriteTimeout + 5*time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

			// The small requests: one at a time, every 20 ms, during the flood.
			stop := make(chan struct{})
			var small []time.Duration
			smallCodes := map[int]int{}
			var smallWG sync.WaitGroup
			smallWG.Go(func() {
				sc := newClient()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					t0 := time.Now()
					code, _, _ := do(t, sc, "POST", base+"/predict", `{"historical_prices":`+window(float64(i))+`}`)
					small = append(small, time.Since(t0))
					smallCodes[code]++
				}
			})

			type answer struct {
				code    int
				retry   string
				elapsed time.Duration
				err     error
			}
			answers := make([]answer, clients*rounds)
			var wg sync.WaitGroup
			start := time.Now()
			for i := range clients * rounds {
				if i > 0 && i%clients == 0 { // the next round once this one is answered
					wg.Wait()
					// New connections: one the server's --idle-timeout closes just
					// as a POST is sent on it is reset, and POSTs are not retried.
					client.CloseIdleConnections()
				}
				wg.Go(func() {
					t0 := time.Now()
					req, _ := http.NewRequest("POST", base+"/predict/batch", strings.NewReader(bodies[i%clients]))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						answers[i] = answer{err: err, elapsed: time.Since(t0)}
						return
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					answers[i] = answer{code: resp.StatusCode, retry: resp.Header.Get("Retry-After"), elapsed: time.Since(t0), err: err}
				})
			}
			wg.Wait()
			flood := time.Since(start)
			close(stop)
			smallWG.Wait()

			codes := map[int]int{}
			var slowest time.Duration
			for i, a := range answers {
				slowest = max(slowest, a.elapsed)
				switch {
				case a.err != nil:
					t.Errorf("client %d: no answer after %v: %v", i, a.elapsed.Round(time.Millisecond), a.err)
				case a.code != http.StatusOK && a.code != http.StatusServiceUnavailable:
					t.Errorf("client %d: status %d, want 200 or 503", i, a.code)
				case a.code == http.StatusServiceUnavailable && a.retry == "":
					t.Errorf("client %d: 503 without Retry-After", i)
				}
				if a.elapsed > floodWriteTimeout+time.Second {
					t.Errorf("client %d: answered after %v, past the write timeout %v", i, a.elapsed.Round(time.Millisecond), floodWriteTimeout)
				}
				codes[a.code]++
			}
			// A request is counted after its response is written, so a client may
			// hold its answer a moment before the server has counted it: wait for
			// the count to settle (at most 2 s) before comparing.
			var served float64
			for settle := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				served = scrape(t, base, "seqcast_http_requests_total", map[string]string{"route": "/predict/batch", "status": "200"})
				if int(served) == codes[200] || time.Now().After(settle) {
					break
				}
			}
			gone := scrape(t, base, "seqcast_http_requests_total", map[string]string{"route": "/predict/batch", "status": "499"})
			shed := scrape(t, base, "seqcast_shed_requests_total", map[string]string{"model": "gold"})
			deadline := scrape(t, base, "seqcast_shed_requests_total", map[string]string{"model": "gold", "reason": "deadline"})
			full := scrape(t, base, "seqcast_shed_requests_total", map[string]string{"model": "gold", "reason": "queue_full"})
			queued := scrape(t, base, "seqcast_queued_samples", map[string]string{"model": "gold"})
			if int(served) != codes[200] {
				t.Errorf("the server counted %v answers 200, the clients received %d", served, codes[200])
			}
			if gone != 0 {
				t.Errorf("%v responses not delivered (status 499)", gone)
			}
			if int(deadline+full) != codes[503] {
				t.Errorf("shed %v (deadline %v, queue_full %v), the clients got %d 503s", shed, deadline, full, codes[503])
			}
			if queued != 0 {
				t.Errorf("seqcast_queued_samples{model=\"gold\"} = %v once the flood is over, want 0", queued)
			}
			if codes[200] == 0 { // a machine too loaded to finish one in time: all shed, none lost
				t.Logf("note: no maximum batch finished within its deadline")
			}
			p50, p99 := percentile(small, .5), percentile(small, .99)
			peak := vmHWM(t, s.cmd.Process.Pid)
			t.Logf("%d round(s) of %d concurrent /predict/batch (1000 windows, horizon 30), --write-timeout %v: %d answered 200, %d 503 (deadline %v, queue_full %v), 0 lost; slowest answer %v, flood %v; peak RSS %.1f MiB; small /predict during the flood: %d requests %v, p50 %v, p99 %v",
				rounds, clients, floodWriteTimeout, codes[200], codes[503], deadline, full, slowest.Round(time.Millisecond), flood.Round(time.Millisecond),
				float64(peak)/(1<<20), len(small), smallCodes, p50.Round(time.Millisecond), p99.Round(time.Millisecond))
			if smallCodes[200] != len(small) {
				t.Errorf("small /predict: %v, want every one 200", smallCodes)
			}
			// Quiet machine: p99 0.26-0.33 s. The small request still competes
			// for the CPU with the flood's JSON decoding (before admission), and
			// this machine's other jobs: the bounds leave room for both.
			if maxP50, maxP99 := 500*time.Millisecond, floodWriteTimeout/2; p50 > maxP50 || p99 > maxP99 {
				t.Errorf("small /predict p50 %v, p99 %v during the flood, want at most %v and %v", p50, p99, maxP50, maxP99)
			}
		})
	}
}

// TestBurstMemoryReturnsToIdle: a burst of 1,000 requests of 64 windows with
// horizon 30 (200 at a time; finding 3 left 1.9 GB resident after it), then
// idle: once the workspace pool's idle time (2 s) has passed twice, the
// heap in use (after a GC, forced through /debug/pprof/heap?gc=1) is back
// within 16 MiB of what it was before the burst.
func TestBurstMemoryReturnsToIdle(t *testing.T) {
	s := startServer(t, []string{"GOMEMLIMIT=160MiB"}, "--write-timeout", floodWriteTimeout.String(), "--cache-ttl", "0",
		"--pprof-addr", "127.0.0.1:0")
	base := s.url("")
	pl := s.log.lines("pprof enabled")
	if len(pl) == 0 {
		t.Fatalf("no pprof line:\n%s", s.log)
	}
	pprofURL := "http://" + pl[0]["addr"].(string) + "/debug/pprof/heap?gc=1"
	heapInUse := func() float64 {
		resp, err := http.Get(pprofURL)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return scrape(t, base, "go_memstats_heap_inuse_bytes", nil)
	}
	c := newClient()
	for i := range 3 { // warm: a workspace, the pools
		do(t, c, "POST", base+"/predict/batch", batchBody(64, 30, 100000+i))
	}
	time.Sleep(5 * time.Second)
	idle := heapInUse()

	requests, concurrency := 1000, 200
	if longRuns() {
		requests = 5000
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	next := make(chan int)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for range concurrency {
		wg.Go(func() {
			for i := range next {
				code := -1
				req, _ := http.NewRequest("POST", base+"/predict/batch", strings.NewReader(batchBody(64, 30, i)))
				req.Header.Set("Content-Type", "application/json")
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		})
	}
	for i := range requests {
		next <- i
	}
	close(next)
	wg.Wait()
	burst := time.Since(t0)
	peakHeap := scrape(t, base, "go_memstats_heap_inuse_bytes", nil)
	time.Sleep(5 * time.Second) // twice the workspace pool's idle time, and a little
	after := heapInUse()
	rss := scrape(t, base, "process_resident_memory_bytes", nil)
	peak := vmHWM(t, s.cmd.Process.Pid)
	t.Logf("burst of %d /predict/batch (64 windows, horizon 30), %d at a time, in %v: %v; heap in use %.1f MiB idle before, %.1f MiB right after, %.1f MiB after 5 s idle; RSS %.1f MiB then, peak %.1f MiB",
		requests, concurrency, burst.Round(time.Millisecond), codes, idle/(1<<20), peakHeap/(1<<20), after/(1<<20), rss/(1<<20), float64(peak)/(1<<20))
	if codes[-1] > 0 {
		t.Errorf("%d requests got no answer", codes[-1])
	}
	if after > idle+16<<20 {
		t.Errorf("heap in use %.1f MiB after idle, %.1f MiB before the burst: want within 16 MiB", after/(1<<20), idle/(1<<20))
	}
}
