package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seqcast/seqcast/internal/redistest"
)

func TestServeHelp(t *testing.T) {
	code, out, errOut := runCmd("serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := out + errOut
	for _, want := range []string{"-addr", "SEQCAST_ADDR", `(default ":8000")`, "-redis-url", "SEQCAST_REDIS_URL", "-cache-ttl", "(default 5m0s)",
		"-models-dir", "-model ", "-body-limit", "(default 1048576)", "-rate-limit", "-api-keys", "SEQCAST_API_KEYS", "-cors-origins",
		"-drain-timeout", "-admin-key", "SEQCAST_ADMIN_KEY", "-read-timeout", "-write-timeout", "-idle-timeout",
		"-version-labels", "SEQCAST_VERSION_LABELS", "-default-version", "SEQCAST_DEFAULT_VERSION",
		"-shadow", "SEQCAST_SHADOW", "-shadow-rate", "SEQCAST_SHADOW_RATE", "(default 0.1)", "-canary", "SEQCAST_CANARY"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	if code, _, _ := runCmd("serve", "--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d", code)
	}
}

func TestServeBadEnv(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"SEQCAST_CACHE_TTL": "soon"}
	if code := serveMain(context.Background(), nil, func(k string) string { return env[k] }, nil, nil, io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "SEQCAST_CACHE_TTL") {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestServeEndToEnd starts `seqcast serve` (embedded gold model, Redis
// cache and API keys from the environment) on a free port, predicts twice,
// reloads on SIGHUP and shuts down gracefully.
func TestServeEndToEnd(t *testing.T) {
	raddr, _, _ := redistest.Start(t)
	env := map[string]string{"SEQCAST_REDIS_URL": "redis://" + raddr, "SEQCAST_API_KEYS": "k1, k2"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	ready := make(chan string, 1)
	done := make(chan int, 1)
	var logs syncBuf
	go func() {
		done <- serveMain(ctx, []string{"--addr", "127.0.0.1:0", "--drain-timeout", "5s"}, func(k string) string { return env[k] }, hup, ready, &logs, io.Discard)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, logs.String())
	}
	prices := make([]string, 60)
	for i := range prices {
		prices[i] = fmt.Sprintf("%.2f", 1900+3*math.Sin(float64(i))+0.4*float64(i))
	}
	body := `{"historical_prices":[` + strings.Join(prices, ",") + `]}`
	post := func(key string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/predict", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := post(""); code != 401 {
		t.Fatalf("without a key: %d", code)
	}
	code, first := post("k2")
	if code != 200 || first["cached"] != false || first["model"] != "gold" {
		t.Fatalf("first: %d %v\n%s", code, first, logs.String())
	}
	if code, second := post("k1"); code != 200 || second["cached"] != true {
		t.Fatalf("second: %d %v", code, second)
	}
	hup <- syscall.SIGHUP
	for i := 0; i < 500 && !strings.Contains(logs.String(), `"msg":"model reloaded"`); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `"msg":"model reloaded"`) {
		t.Fatal("SIGHUP did not reload")
	}
	resp, err := http.Get("http://" + addr + "/ready")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ready: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, logs.String())
	}
	l := logs.String()
	for _, want := range []string{`"msg":"ready"`, `"msg":"cache: redis"`, `"route":"/predict"`, `"msg":"stopped"`} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if strings.Contains(l, "k1, k2") {
		t.Error("API keys reached the log")
	}
}

// TestServeDrainsInFlight starts a request, shuts the server down while the
// request's body is still arriving, and checks that it is answered before
// serve returns.
func TestServeDrainsInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan int, 1)
	var logs syncBuf
	go func() {
		done <- serveMain(ctx, []string{"--addr", "127.0.0.1:0", "--cache-ttl", "0"}, func(string) string { return "" }, nil, ready, &logs, io.Discard)
	}()
	addr := <-ready
	vals := make([]string, 60)
	for i := range vals {
		vals[i] = fmt.Sprint(1800 + i)
	}
	body := `{"historical_prices":[` + strings.Join(vals, ",") + `]}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	// Whether or not the server has read the headers yet, Shutdown waits for
	// this connection (a new one counts as active for its first 5 s).
	time.Sleep(10 * time.Millisecond)
	cancel()
	// Once the listener is closed, shutdown is draining.
	for i := 0; i < 500; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(2 * time.Millisecond)
	}
	io.WriteString(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v\n%s", err, logs.String())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("in-flight request: %d", resp.StatusCode)
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}
