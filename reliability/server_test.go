package reliability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the seqcast binary TestMain builds for every test.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() { // every test runs the real binary: launch skips them all
		os.Exit(m.Run())
	}
	// SEQCAST_RELIABILITY_BINARY runs the tests against another build (for
	// example the previous release, to measure what a fix changed).
	if binary = os.Getenv("SEQCAST_RELIABILITY_BINARY"); binary != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "seqcast-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "seqcast")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-o", binary, "github.com/seqcast/seqcast/cmd/seqcast")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building seqcast: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logBuffer collects a process's output for the test to search.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the JSON log lines whose "msg" is msg.
func (b *logBuffer) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// server is one running `seqcast serve`.
type server struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	log  *logBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit error, valid after done
}

// fastTimeouts are the server flags every test uses: short read timeouts so
// that slow clients are cut off quickly.
var fastTimeouts = []string{"--read-header-timeout", "1s", "--read-timeout", "2s", "--write-timeout", "5s", "--idle-timeout", "3s",
	"--drain-timeout", "5s"}

// startServer runs seqcast serve on a free loopback port with args and the
// extra environment env, and waits until it logs "ready".
func startServer(t testing.TB, env []string, args ...string) *server {
	t.Helper()
	s := launch(t, env, args...)
	deadline := time.After(60 * time.Second)
	for {
		if len(s.log.lines("ready")) > 0 {
			break
		}
		select {
		case <-s.done:
			t.Fatalf("seqcast serve exited before ready: %v\n%s", s.err, s.log)
		case <-deadline:
			t.Fatalf("seqcast serve not ready after 60 s:\n%s", s.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	l := s.log.lines("listening")
	if len(l) == 0 {
		t.Fatalf("no listening line:\n%s", s.log)
	}
	s.addr, _ = l[0]["addr"].(string)
	return s
}

// launch starts the process without waiting for it to be ready.
func launch(t testing.TB, env []string, args ...string) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real binary over loopback; skipped with -short")
	}
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, fastTimeouts...)
	cmd := exec.Command(binary, append(all, args...)...)
	// A clean environment: no SEQCAST_* from the developer's shell.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	s := &server{t: t, cmd: cmd, log: &logBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop sends SIGTERM and waits (killing after 15 s).
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// waitExit waits up to d for the process to exit and returns its exit code
// (-1 if it did not exit).
func (s *server) waitExit(d time.Duration) int {
	select {
	case <-s.done:
		if s.cmd.ProcessState != nil {
			return s.cmd.ProcessState.ExitCode()
		}
		return -1
	case <-time.After(d):
		return -1
	}
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// client is an HTTP client with a bounded timeout and no shared connections
// between tests.
func newClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
}

// do sends one request through c and returns the status and decoded JSON body.
func do(t testing.TB, c *http.Client, method, url, body string, hdr ...string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header
}

// window is a gold-like window of 60 daily prices, as JSON.
func window(seed float64) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := range 60 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%.2f", 1900+seed+15*float64(i%7)-3*float64(i%5)+0.5*float64(i))
	}
	sb.WriteByte(']')
	return sb.String()
}

// rawResult is what a raw TCP exchange gave.
type rawResult struct {
	status  int
	header  http.Header
	body    []byte
	closed  bool // the connection closed without a (complete) response
	readErr error
	elapsed time.Duration
}

// exchange dials addr, runs send (in its own goroutine, so that the server may
// answer before the client is done writing) and reads one response, all
// within limit.
func exchange(addr string, limit time.Duration, send func(net.Conn) error) rawResult {
	t0 := time.Now()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return rawResult{closed: true, readErr: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(t0.Add(limit))
	go func() { _ = send(conn) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	r := rawResult{elapsed: time.Since(t0)}
	if err != nil {
		r.closed, r.readErr = true, err
		return r
	}
	r.status, r.header = resp.StatusCode, resp.Header
	r.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		r.readErr = err
	}
	r.elapsed = time.Since(t0)
	return r
}

// writeAll returns a sender writing b at once.
func writeAll(b []byte) func(net.Conn) error {
	return func(c net.Conn) error { _, err := c.Write(b); return err }
}

// request builds a raw HTTP/1.1 request; headers are "Name: value" lines.
// Content-Length is added when body is not nil and no header sets it or
// Transfer-Encoding.
func request(method, path string, body []byte, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path)
	explicit := false
	for _, h := range headers {
		lh := strings.ToLower(h)
		explicit = explicit || strings.HasPrefix(lh, "content-length:") || strings.HasPrefix(lh, "transfer-encoding:")
		b.WriteString(h + "\r\n")
	}
	if body != nil && !explicit {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// copyGold writes the embedded gold bundle's files (taken from models/gold in
// the repository) to dir.
func copyGold(t testing.TB, dir string) {
	t.Helper()
	src := filepath.Join("..", "models", "gold")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
