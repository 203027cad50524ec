package deploy

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqcast/seqcast/internal/redistest"
)

// TestScaleOutSharedRedis runs three replicas against one redis-server.
func TestScaleOutSharedRedis(t *testing.T) {
	bin := needBinary(t)
	needTool(t, "redis-server")
	cli := needTool(t, "redis-cli")
	addr, _, _ := redistest.Start(t)
	testScaleOut(t, bin, "redis://"+addr+"/0")

	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(cli, "-h", host, "-p", port, "--scan", "--pattern", "seqcast:*").Output()
	if err != nil {
		t.Fatalf("redis-cli --scan: %v", err)
	}
	if n := len(strings.Fields(string(out))); n < scaleOutWindows+1 {
		t.Errorf("redis holds %d seqcast:* keys, want at least %d", n, scaleOutWindows+1)
	}
}

// TestScaleOutRedisCluster runs three replicas against a three-master Redis
// Cluster through SEQCAST_REDIS_URL=redis+cluster://...
func TestScaleOutRedisCluster(t *testing.T) {
	bin := needBinary(t)
	needTool(t, "redis-server")
	cli := needTool(t, "redis-cli")
	nodes := startCluster(t, cli, 3)
	testScaleOut(t, bin, "redis+cluster://"+strings.Join(nodes, ","))

	total, used := 0, 0
	var per []string
	for _, n := range nodes {
		host, port, _ := net.SplitHostPort(n)
		out, err := exec.Command(cli, "-h", host, "-p", port, "dbsize").Output()
		if err != nil {
			t.Fatalf("redis-cli dbsize on %s: %v", n, err)
		}
		k, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		total += k
		if k > 0 {
			used++
		}
		per = append(per, fmt.Sprintf("%s:%d", n, k))
	}
	if total < scaleOutWindows+1 {
		t.Errorf("the cluster holds %d keys, want at least %d", total, scaleOutWindows+1)
	}
	t.Logf("keys per master: %s (%d of %d masters used)", strings.Join(per, " "), used, len(nodes))
}

// scaleOutWindows is how many distinct windows replica A computes.
const scaleOutWindows = 8

// testScaleOut starts replicas A, B and C sharing the Redis at redisURL:
// what A computes is a cache hit on B and C, and stays one after A stops.
func testScaleOut(t *testing.T, bin, redisURL string) {
	// A generous Redis timeout: the default 50ms turns a slow operation on a
	// loaded test machine into a miss, which is right in production and a
	// flaky result here.
	env := []string{"SEQCAST_REDIS_URL=" + redisURL, "SEQCAST_REDIS_TIMEOUT=2s"}
	names := []string{"A", "B", "C"}
	replicas := make([]*server, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			replicas[i], errs[i] = launch(serveOptions{name: "replica " + name, path: bin, env: env})
		})
	}
	wg.Wait()
	for i, r := range replicas {
		if r != nil {
			t.Cleanup(r.stop)
		}
		if errs[i] != nil {
			t.Error(errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	a, b, c := replicas[0], replicas[1], replicas[2]
	if code, body := b.get(t, "/health"); code != 200 || !strings.Contains(string(body), `"redis"`) {
		t.Errorf("replica B /health: %d %s; want 200 with the redis cache backend", code, body)
	}

	windows := make([][]float64, scaleOutWindows)
	first := make([]prediction, scaleOutWindows)
	for i := range windows {
		windows[i] = goldWindow(1800+10*float64(i), 100+i)
		first[i] = a.predict(t, windows[i])
		if first[i].Cached {
			t.Errorf("window %d: replica A's first answer says cached (stale Redis?)", i)
		}
		checkSensible(t, first[i], windows[i])
	}
	// A miss is stored in Redis before it is answered, so every entry is
	// there by now.
	for i, w := range windows {
		for _, r := range []*server{b, c} {
			p := r.predict(t, w)
			if !p.Cached || p.PredictedPrice != first[i].PredictedPrice {
				t.Errorf("window %d on %s: cached=%v price %v; want A's %v as a cache hit", i, r.name, p.Cached, p.PredictedPrice, first[i].PredictedPrice)
			}
		}
	}

	a.stopGracefully(t)
	for i, w := range windows {
		for _, r := range []*server{b, c} {
			p := r.predict(t, w)
			if !p.Cached || p.PredictedPrice != first[i].PredictedPrice {
				t.Errorf("after A stopped, window %d on %s: cached=%v price %v; want A's %v cached", i, r.name, p.Cached, p.PredictedPrice, first[i].PredictedPrice)
			}
		}
	}
	// And the survivors keep sharing: B computes, C hits.
	w := goldWindow(2100, 999)
	if p := b.predict(t, w); p.Cached {
		t.Errorf("new window on B says cached")
	}
	if p := c.predict(t, w); !p.Cached {
		t.Errorf("B's new window is not a cache hit on C")
	}
	for _, r := range replicas {
		if strings.Contains(r.logs.String(), `"level":"ERROR"`) {
			t.Errorf("%s logged errors:\n%s", r.name, r.logs)
		}
	}
}

// startCluster starts a Redis Cluster of n masters without replicas (see
// startRedisCluster) and returns the nodes' addresses.
func startCluster(t *testing.T, cli string, n int) []string {
	t.Helper()
	var addrs []string
	for _, node := range startRedisCluster(t, cli, n, 0, 5*time.Second) {
		addrs = append(addrs, node.addr)
	}
	return addrs
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond every 20ms until it holds, failing after timeout with
// what diag says.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, diag func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", timeout, what, diag())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
