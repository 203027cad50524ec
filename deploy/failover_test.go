package deploy

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/time/rate"
)

// failoverPlan sizes the failover run: a few seconds under `make test`, a
// long run under `make reliability` (SEQCAST_RELIABILITY_LONG=1).
type failoverPlan struct {
	steady, afterCrash, afterFailover, after time.Duration
	rate                                     float64 // requests per second, all clients together
	clients                                  int
	maxRequests                              int64
	hot                                      int // distinct windows that repeat (cache hits)
	freshEvery                               int // every Nth request is a window never seen before
}

func planFailover() failoverPlan {
	if os.Getenv("SEQCAST_RELIABILITY_LONG") != "" {
		return failoverPlan{steady: 30 * time.Second, afterCrash: 15 * time.Second, afterFailover: 20 * time.Second,
			after: 30 * time.Second, rate: 600, clients: 8, maxRequests: 100_000, hot: 512, freshEvery: 10}
	}
	return failoverPlan{steady: 1500 * time.Millisecond, afterCrash: 700 * time.Millisecond, afterFailover: 1500 * time.Millisecond,
		after: 1500 * time.Millisecond, rate: 250, clients: 4, maxRequests: 5_000, hot: 96, freshEvery: 10}
}

// TestFailoverHAProxyRedisCluster runs HAProxy in front of three seqcast
// replicas sharing a Redis Cluster of three masters with one replica each,
// all on 127.0.0.1, under steady load. It crashes one seqcast replica
// (SIGKILL), then one Redis master (SIGKILL; its replica is promoted), then
// brings both back, and checks that the client saw no failed request, that
// every answer equals an uncached forward pass of the same window on a
// reference server, and that cache hits resume after the recovery.
func TestFailoverHAProxyRedisCluster(t *testing.T) {
	bin := needBinary(t)
	haproxy := needTool(t, "haproxy")
	needTool(t, "redis-server")
	cli := needTool(t, "redis-cli")
	plan := planFailover()

	t0 := time.Now()
	nodes := startRedisCluster(t, cli, 3, 1, time.Second)
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.addr)
	}
	t.Logf("redis cluster of 3 masters + 3 replicas up in %v", time.Since(t0).Round(time.Millisecond))

	// The reference: no cache, no batching, no load balancer.
	ref := startServer(t, serveOptions{name: "reference", path: bin,
		args: []string{"--cache-ttl", "0", "--batching=false"}})

	env := []string{
		"SEQCAST_REDIS_URL=redis+cluster://" + strings.Join(seeds, ","),
		// Generous on a shared two-core machine: a slow operation is a miss,
		// which is correct but would blur the hit rates measured here.
		"SEQCAST_REDIS_TIMEOUT=250ms",
	}
	names := []string{"A", "B", "C"}
	ports := make([]int, len(names))
	replicas := make([]*server, len(names))
	startReplica := func(i int) (*server, error) {
		s, err := launch(serveOptions{name: "replica " + names[i], path: bin, env: env,
			args: []string{"--addr", "127.0.0.1:" + strconv.Itoa(ports[i])}})
		if s != nil {
			t.Cleanup(s.stop)
		}
		return s, err
	}
	for i := range names {
		ports[i] = freePort(t)
		var err error
		if replicas[i], err = startReplica(i); err != nil {
			t.Fatal(err)
		}
	}

	lb := startHAProxy(t, haproxy, ports)
	lb.waitStatus(t, names, "UP", 15*time.Second)

	// Expected answers for the hot windows, from the reference.
	hot := make([][]float64, plan.hot)
	want := make([]prediction, plan.hot)
	for i := range hot {
		hot[i] = goldWindow(1700+float64(i%50)*7, 10_000+i)
		want[i] = ref.predict(t, hot[i])
		checkSensible(t, want[i], hot[i])
	}
	if t.Failed() {
		t.FailNow()
	}

	ld := &load{url: "http://" + lb.addr + "/predict", ref: ref, hot: hot, want: want, plan: plan}
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	var loadDone sync.WaitGroup
	ld.start(ctx, &loadDone)

	alive := func() []*server {
		var out []*server
		for _, r := range replicas {
			select {
			case <-r.exited:
			default:
				out = append(out, r)
			}
		}
		return out
	}
	// Phase 1: steady state.
	time.Sleep(plan.steady)
	steady := sumCache(t, alive())

	// Phase 2: crash replica B.
	crashAt := time.Now()
	_ = replicas[1].cmd.Process.Signal(syscall.SIGKILL)
	<-replicas[1].exited
	lb.waitStatus(t, []string{"B"}, "DOWN", 10*time.Second)
	bDown := time.Since(crashAt)
	time.Sleep(plan.afterCrash)

	// Phase 3: crash a Redis master; its replica takes over.
	var victim, promoted *redisNode
	for _, n := range nodes {
		if out, err := n.redisCLI("role"); err == nil && strings.HasPrefix(out, "master") && victim == nil {
			victim = n
		}
	}
	if victim == nil {
		t.Fatal("no redis master found")
	}
	victimID := victim.id(t)
	var observer *redisNode
	for _, n := range nodes {
		if n != victim {
			if m, err := n.nodes(); err == nil {
				for _, cn := range m {
					if cn.master == victimID {
						for _, c := range nodes {
							if c.addr == cn.addr {
								promoted = c
							}
						}
					}
				}
			}
			if observer == nil && n != promoted {
				observer = n
			}
		}
	}
	if promoted == nil || observer == nil {
		t.Fatalf("master %s has no replica among %v", victim.addr, seeds)
	}
	beforeRedisKill := sumCache(t, alive())
	killAt := time.Now()
	victim.kill()
	waitFor(t, 30*time.Second, "replica "+promoted.addr+" promoted and cluster_state:ok", func() bool {
		out, err := promoted.redisCLI("role")
		return err == nil && strings.HasPrefix(out, "master") && observer.clusterOK() && promoted.clusterOK()
	}, promoted.log)
	promotedAfter := time.Since(killAt)
	// Cache errors stop once the replicas' cluster clients know the new
	// master: the first second without a new error ends the outage (a
	// later, isolated timeout on a loaded machine does not count).
	lastErrs, lastChange := beforeRedisKill.errors, killAt
	errorsStopped := time.Duration(-1)
	for deadline := killAt.Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if e := sumCache(t, alive()).errors; e != lastErrs {
			lastErrs, lastChange = e, time.Now()
		}
		if time.Since(lastChange) >= time.Second && time.Since(killAt) >= promotedAfter {
			errorsStopped = lastChange.Sub(killAt)
			break
		}
	}
	if rest := plan.afterFailover - time.Since(killAt); rest > 0 {
		time.Sleep(rest)
	}
	duringFailover := sumCache(t, alive()).minus(beforeRedisKill)

	// Phase 4: bring both back (the old master rejoins as a replica).
	recoverAt := time.Now()
	victim.start(t)
	var err error
	if replicas[1], err = startReplica(1); err != nil {
		t.Fatal(err)
	}
	lb.waitStatus(t, names, "UP", 15*time.Second)
	waitFor(t, 30*time.Second, "old master "+victim.addr+" rejoined as a replica", func() bool {
		out, err := victim.redisCLI("info", "replication")
		return err == nil && strings.Contains(out, "role:slave") && strings.Contains(out, "master_link_status:up")
	}, victim.log)
	recovered := time.Since(recoverAt)
	afterStart := sumCacheEach(t, replicas)
	time.Sleep(plan.after)
	afterEnd := sumCacheEach(t, replicas)
	stopLoad()
	loadDone.Wait()

	after := cacheCounts{}
	for i := range replicas {
		d := afterEnd[i].minus(afterStart[i])
		after = after.plus(d)
		if d.hits == 0 {
			t.Errorf("replica %s: no cache hit after the recovery (%+v)", names[i], d)
		}
	}
	stats := lb.stats(t)

	t.Logf("requests %d (fresh windows %d), failed %d, wrong %d; hit rate before %.3f (%s), after %.3f (%s); "+
		"during the Redis failover %s",
		ld.sent.Load(), ld.fresh.Load(), ld.failed.Load(), ld.wrong.Load(),
		steady.hitRate(), steady, after.hitRate(), after, duringFailover)
	t.Logf("replica B marked DOWN by HAProxy %v after SIGKILL; replica %s promoted %v after the master's SIGKILL; "+
		"cache errors ended %v after that SIGKILL; both back (B UP in HAProxy, old master a synced replica) in %v; "+
		"HAProxy retries %s, redispatches %s; latency p50 %v p99 %v max %v",
		bDown.Round(time.Millisecond), promoted.addr, promotedAfter.Round(time.Millisecond),
		errorsStopped.Round(time.Millisecond), recovered.Round(time.Millisecond),
		stats["wretr"], stats["wredis"], ld.quantile(0.5), ld.quantile(0.99), ld.quantile(1))
	for _, m := range ld.messages() {
		t.Error(m)
	}
	if n := ld.failed.Load() + ld.wrong.Load(); n != 0 {
		t.Errorf("%d failed or wrong answers (see above)", n)
	}
	if ld.sent.Load() < 100 {
		t.Errorf("only %d requests sent: the load did not run", ld.sent.Load())
	}
	if errorsStopped < 0 {
		t.Errorf("cache errors did not stop within 30s of the master's SIGKILL")
	}
	if after.hitRate() < 0.5 || after.hitRate() < 0.8*steady.hitRate() {
		t.Errorf("hit rate after recovery %.3f, before %.3f: hits did not resume", after.hitRate(), steady.hitRate())
	}
	// The failover is over: what errors remain are isolated timeouts of a
	// loaded machine (each one a miss), not a client stuck on a dead node.
	if lookups := after.hits + after.misses + after.errors; after.errors > 0.01*lookups {
		t.Errorf("%v cache errors in %v lookups after recovery", after.errors, lookups)
	}
}

// load drives POST /predict through the load balancer from plan.clients
// goroutines at plan.rate, and checks each answer.
type load struct {
	url  string
	ref  *server
	hot  [][]float64
	want []prediction
	plan failoverPlan

	sent, fresh, failed, wrong atomic.Int64

	mu   sync.Mutex
	msgs []string
	lat  []time.Duration
}

func (l *load) note(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.msgs) < 20 {
		l.msgs = append(l.msgs, fmt.Sprintf(format, args...))
	}
}

func (l *load) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// quantile returns a latency quantile of the requests so far.
func (l *load) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lat) == 0 {
		return 0
	}
	s := slices.Clone(l.lat)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i].Round(100 * time.Microsecond)
}

func (l *load) start(ctx context.Context, wg *sync.WaitGroup) {
	lim := rate.NewLimiter(rate.Limit(l.plan.rate), l.plan.clients)
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: l.plan.clients}}
	refClient := &http.Client{Timeout: 15 * time.Second}
	var seq atomic.Int64
	for c := range l.plan.clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for lim.Wait(ctx) == nil {
				n := seq.Add(1)
				if n > l.plan.maxRequests {
					return
				}
				var w []float64
				var want *prediction
				if n%int64(l.plan.freshEvery) == 0 {
					w = goldWindow(1500+float64(n%300), 1_000_000+int(n))
					l.fresh.Add(1)
				} else {
					i := rng.IntN(len(l.hot))
					w, want = l.hot[i], &l.want[i]
				}
				l.sent.Add(1)
				t0 := time.Now()
				got, err := postPredict(ctx, client, l.url, w)
				if ctx.Err() != nil {
					return // stopped mid-request: not the system's failure
				}
				l.mu.Lock()
				l.lat = append(l.lat, time.Since(t0))
				l.mu.Unlock()
				if err != nil {
					l.failed.Add(1)
					l.note("request %d at %s: %v", n, time.Now().Format("15:04:05.000"), err)
					continue
				}
				if want == nil { // a fresh window: ask the reference now
					p, err := postPredict(ctx, refClient, l.ref.url("/predict"), w)
					if err != nil {
						if ctx.Err() == nil {
							l.failed.Add(1)
							l.note("reference for request %d: %v", n, err)
						}
						continue
					}
					want = &p
				}
				if got.PredictedPrice != want.PredictedPrice || got.Confidence != want.Confidence || got.Model != want.Model {
					l.wrong.Add(1)
					l.note("request %d: got %v (%s, cached %v), the reference says %v (%s)", n,
						got.PredictedPrice, got.Confidence, got.Cached, want.PredictedPrice, want.Confidence)
				}
			}
		})
	}
}

// postPredict POSTs a window and decodes a 200 answer; anything else is an
// error.
func postPredict(ctx context.Context, client *http.Client, url string, window []float64) (prediction, error) {
	body, _ := json.Marshal(map[string]any{"historical_prices": window})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return prediction{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return prediction{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return prediction{}, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var p prediction
	if err := json.Unmarshal(b, &p); err != nil {
		return prediction{}, fmt.Errorf("%v: %s", err, b)
	}
	return p, nil
}

// cacheCounts are seqcast_cache_requests_total by result.
type cacheCounts struct{ hits, misses, errors float64 }

func (c cacheCounts) minus(o cacheCounts) cacheCounts {
	return cacheCounts{c.hits - o.hits, c.misses - o.misses, c.errors - o.errors}
}

func (c cacheCounts) plus(o cacheCounts) cacheCounts {
	return cacheCounts{c.hits + o.hits, c.misses + o.misses, c.errors + o.errors}
}

func (c cacheCounts) hitRate() float64 {
	if n := c.hits + c.misses + c.errors; n > 0 {
		return c.hits / n
	}
	return 0
}

func (c cacheCounts) String() string {
	return fmt.Sprintf("%.0f hits, %.0f misses, %.0f errors", c.hits, c.misses, c.errors)
}

// scrapeCache reads seqcast_cache_requests_total from a server's /metrics
// with the Prometheus text parser.
func scrapeCache(s *server) (cacheCounts, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.url("/metrics"))
	if err != nil {
		return cacheCounts{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return cacheCounts{}, fmt.Errorf("%s: GET /metrics: %s", s.name, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return cacheCounts{}, fmt.Errorf("%s: /metrics: %w", s.name, err)
	}
	var c cacheCounts
	fam := fams["seqcast_cache_requests_total"]
	if fam == nil {
		return c, nil // no lookup yet
	}
	for _, m := range fam.GetMetric() {
		v := m.GetCounter().GetValue()
		for _, l := range m.GetLabel() {
			if l.GetName() != "result" {
				continue
			}
			switch l.GetValue() {
			case "hit":
				c.hits += v
			case "miss":
				c.misses += v
			case "error":
				c.errors += v
			}
		}
	}
	return c, nil
}

// sumCacheEach scrapes every server (a dead one counts zero).
func sumCacheEach(t *testing.T, servers []*server) []cacheCounts {
	t.Helper()
	out := make([]cacheCounts, len(servers))
	for i, s := range servers {
		select {
		case <-s.exited:
			continue
		default:
		}
		c, err := scrapeCache(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

func sumCache(t *testing.T, servers []*server) cacheCounts {
	t.Helper()
	var sum cacheCounts
	for _, c := range sumCacheEach(t, servers) {
		sum = sum.plus(c)
	}
	return sum
}

// haproxyLB is a running haproxy.
type haproxyLB struct {
	addr, statsAddr string
	logs            *syncBuffer
}

// startHAProxy runs haproxy in the foreground in front of the seqcast
// replicas on ports (servers named A, B, C, ...): health checks on /ready,
// a connection failure takes a server out at once, and a failed or cut
// request is retried on another server (the predictions are idempotent).
func startHAProxy(t *testing.T, bin string, ports []int) *haproxyLB {
	t.Helper()
	lb := &haproxyLB{
		addr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		statsAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		logs:      &syncBuffer{},
	}
	var servers strings.Builder
	for i, p := range ports {
		fmt.Fprintf(&servers, "    server %c 127.0.0.1:%d check\n", 'A'+i, p)
	}
	cfg := fmt.Sprintf(`global
    maxconn 1024
    nbthread 1

defaults
    mode http
    timeout connect 500ms
    timeout client 30s
    timeout server 10s
    timeout http-request 10s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503 504

frontend seqcast
    bind %s
    default_backend seqcast

frontend stats
    bind %s
    stats enable
    stats uri /stats

backend seqcast
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down
%s`, lb.addr, lb.statsAddr, servers.String())
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, cfg)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = lb.logs, lb.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	})
	waitFor(t, 15*time.Second, "haproxy stats on "+lb.statsAddr, func() bool {
		select {
		case <-exited:
			t.Fatalf("haproxy exited:\n%s", lb.logs)
		default:
		}
		c, err := net.DialTimeout("tcp", lb.statsAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, lb.logs.String)
	return lb
}

// statsCSV returns the stats page's rows of the seqcast backend, keyed by
// server name (BACKEND for the backend's own row), each a column -> value map.
func (lb *haproxyLB) statsCSV() (map[string]map[string]string, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + lb.statsAddr + "/stats;csv")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("# "))))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return nil, fmt.Errorf("haproxy stats csv: %v: %s", err, b)
	}
	head := rows[0]
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, v := range row {
			if i < len(head) {
				m[head[i]] = v
			}
		}
		if m["pxname"] == "seqcast" {
			out[m["svname"]] = m
		}
	}
	return out, nil
}

// waitStatus waits until each named server's status starts with want (UP,
// DOWN).
func (lb *haproxyLB) waitStatus(t *testing.T, names []string, want string, timeout time.Duration) {
	t.Helper()
	var last map[string]map[string]string
	waitFor(t, timeout, fmt.Sprintf("haproxy servers %v %s", names, want), func() bool {
		rows, err := lb.statsCSV()
		if err != nil {
			return false
		}
		last = rows
		for _, n := range names {
			if !strings.HasPrefix(rows[n]["status"], want) {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("%v\n%s", last, lb.logs) })
}

// stats returns the backend row of the stats page.
func (lb *haproxyLB) stats(t *testing.T) map[string]string {
	t.Helper()
	rows, err := lb.statsCSV()
	if err != nil {
		t.Fatal(err)
	}
	return rows["BACKEND"]
}
