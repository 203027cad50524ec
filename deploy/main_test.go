package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Stamped into the test binary through the Makefile's variables.
const (
	testVersion = "v0.0.0-deploytest"
	testCommit  = "d3p1oy7"
)

// repoRoot is the module root, relative to this package's directory.
const repoRoot = ".."

// built is the binary TestMain builds with `make build`, or why it could not.
type built struct {
	path   string
	err    error
	output string
}

var binary built // set once by TestMain, read-only afterwards

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "seqcast-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	flag.Parse()
	if testing.Short() {
		binary = built{err: errShort}
	} else {
		binary = buildWithMake(dir)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildWithMake runs the Makefile's build target with BIN pointed into dir,
// so the test binary is built with exactly the flags `make build` and the
// Dockerfile use.
func buildWithMake(dir string) built {
	if _, err := exec.LookPath("make"); err != nil {
		return built{err: fmt.Errorf("make: %w", err)}
	}
	out := filepath.Join(dir, "seqcast")
	cmd := exec.Command("make", "--no-print-directory", "-C", repoRoot, "build",
		"BIN="+out, "VERSION="+testVersion, "COMMIT="+testCommit)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return built{err: fmt.Errorf("make build: %w", err), output: string(b)}
	}
	return built{path: out, output: string(b)}
}

// errShort is binary.err under go test -short: every test here builds and
// runs the real binary, and is skipped.
var errShort = errors.New("go test -short: the deploy tests build and run the real binary; skipped")

// unavailable fails the test: a missing prerequisite is a failure, never a
// skip (make prepare installs the tools).
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatalf(format, args...)
}

// needBinary returns the path of the binary built by TestMain.
func needBinary(t *testing.T) string {
	t.Helper()
	if binary.err == errShort {
		t.Skip(errShort)
	}
	if binary.err != nil {
		if errors.Is(binary.err, exec.ErrNotFound) {
			unavailable(t, "cannot build seqcast: %v", binary.err)
		}
		t.Fatalf("%v\n%s", binary.err, binary.output)
	}
	return binary.path
}

// needTool returns the path of an executable on PATH.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, "%s not found on PATH (make prepare installs it from apt: see tools/prepare.sh): %v", name, err)
	}
	return p
}

// chrootAttr runs a process chrooted into root. As root it also switches
// to uid (and gid) uid when not 0. Otherwise the process gets a user
// namespace in which the caller is root (what `unshare -r chroot` does), so
// chroot works without privileges where unprivileged user namespaces are
// allowed; uid is then ignored and the process runs as the caller.
func chrootAttr(root string, uid uint32) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Chroot: root}
	if os.Geteuid() != 0 {
		a.Cloneflags = syscall.CLONE_NEWUSER
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		a.GidMappingsEnableSetgroups = false
		return a
	}
	if uid != 0 {
		a.Credential = &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}
	}
	return a
}

// syncBuffer collects a server's log lines for failure messages.
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

// server is one running `seqcast serve` process.
type server struct {
	name       string
	cmd        *exec.Cmd
	addr       string        // host:port it listens on
	readyAfter time.Duration // from just before exec to the first /ready 200
	logs       *syncBuffer
	exited     chan struct{}
	waitErr    error
	stopOnce   sync.Once
}

// serveOptions says how to start a server.
type serveOptions struct {
	name   string
	env    []string // the whole environment: nothing is inherited
	args   []string // after "serve --addr 127.0.0.1:0"
	chroot string   // if set, run path (inside this root) under chroot
	path   string   // the binary; inside chroot when chroot is set
	uid    uint32   // with chroot: run as this uid/gid (0: root)
}

// startServer starts `seqcast serve` on a free loopback port (the kernel
// picks it: --addr 127.0.0.1:0, and the "listening" log line says which),
// waits until /ready answers 200 and returns the server, which is stopped
// when the test ends.
func startServer(t *testing.T, o serveOptions) *server {
	t.Helper()
	s, err := launch(o)
	if s != nil {
		t.Cleanup(s.stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// launch is startServer without t: on error the process (if any) is
// stopped and s says where its logs are.
func launch(o serveOptions) (*server, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, o.args...)
	cmd := exec.Command(o.path, args...)
	cmd.Env = o.env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	if o.chroot != "" {
		cmd.Dir = "/"
		cmd.SysProcAttr = chrootAttr(o.chroot, o.uid)
	}
	stdout, err := cmd.StdoutPipe() // the log (--log-output stdout, the default)
	if err != nil {
		return nil, err
	}
	s := &server{name: o.name, cmd: cmd, logs: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.logs
	addrCh := make(chan string, 1)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", o.name, o.path, err)
	}
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Bytes()
			s.logs.Write(append(slices.Clip(line), '\n'))
			if sent {
				continue
			}
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
				addrCh <- rec.Addr
				sent = true
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		<-scanDone // Wait closes the pipe: read everything first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	fail := func(format string, args ...any) (*server, error) {
		s.stop()
		return s, fmt.Errorf(format+"\n%s", append(args, s.logs)...)
	}

	deadline := time.After(60 * time.Second)
	select {
	case s.addr = <-addrCh:
	case <-s.exited:
		return fail("%s: exited before listening: %v", o.name, s.waitErr)
	case <-deadline:
		return fail("%s: no \"listening\" log line within 60s", o.name)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(s.url("/ready"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.readyAfter = time.Since(t0)
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return fail("%s: exited before /ready: %v", o.name, s.waitErr)
		case <-deadline:
			return fail("%s: /ready not 200 within 60s (last error %v)", o.name, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// stop sends SIGTERM and waits for a graceful exit (SIGKILL after 30s);
// waitErr then holds the exit error (nil: exit status 0).
func (s *server) stop() {
	s.stopOnce.Do(func() {
		select {
		case <-s.exited:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// stopGracefully stops the server and fails the test unless it exited 0.
func (s *server) stopGracefully(t *testing.T) {
	t.Helper()
	s.stop()
	if s.waitErr != nil {
		t.Errorf("%s: exit after SIGTERM: %v\n%s", s.name, s.waitErr, s.logs)
	}
}

// procStatus reads a kB field (VmRSS, VmHWM) of /proc/PID/status in bytes.
func (s *server) procStatus(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("%s: no %s", s.name, field)
}

// prediction is the part of POST /predict's answer the tests look at.
type prediction struct {
	PredictedPrice float64 `json:"predicted_price"`
	Confidence     string  `json:"confidence"`
	Cached         bool    `json:"cached"`
	Model          string  `json:"model"`
	ModelVersion   int64   `json:"model_version"`
}

// predict POSTs a window to /predict and decodes the 200 answer.
func (s *server) predict(t *testing.T, window []float64) prediction {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"historical_prices": window})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url("/predict"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: POST /predict: %v", s.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: POST /predict: %s: %s", s.name, resp.Status, b)
	}
	var p prediction
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: POST /predict: %v: %s", s.name, err, b)
	}
	return p
}

// get GETs path and returns the status code and body.
func (s *server) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.url(path))
	if err != nil {
		t.Fatalf("%s: GET %s: %v", s.name, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// goldWindow returns a plausible window of 60 daily gold prices (USD/oz)
// around level; seed varies it so that windows differ (distinct cache keys).
func goldWindow(level float64, seed int) []float64 {
	w := make([]float64, 60)
	for i := range w {
		x := float64(i)
		w[i] = math.Round((level+0.4*x+12*math.Sin(x/5+float64(seed))+3*math.Cos(x*1.7+float64(seed)*0.3))*100) / 100
	}
	return w
}

// checkSensible fails unless p is a finite price within 15% of the window's
// last price, from the gold model.
func checkSensible(t *testing.T, p prediction, window []float64) {
	t.Helper()
	last := window[len(window)-1]
	if math.IsNaN(p.PredictedPrice) || math.IsInf(p.PredictedPrice, 0) || math.Abs(p.PredictedPrice-last) > 0.15*last {
		t.Errorf("predicted_price %v after a window ending at %v: not a sensible next price", p.PredictedPrice, last)
	}
	if p.Model != "gold" {
		t.Errorf("model %q, want the embedded \"gold\"", p.Model)
	}
	switch p.Confidence {
	case "high", "medium", "low":
	default:
		t.Errorf("confidence %q, want high, medium or low", p.Confidence)
	}
}

// serveHelp returns `seqcast serve --help`'s text.
func serveHelp(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--help")
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("seqcast serve --help: %v\n%s", err, out)
	}
	return string(out)
}

// flagDefault returns the default of -name in flag.PrintDefaults output.
func flagDefault(t *testing.T, help, name string) string {
	t.Helper()
	lines := strings.Split(help, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 || (f[0] != "-"+name && f[0] != "--"+name) {
			continue
		}
		// The description (with "(default ...)") follows on the next line(s).
		for _, d := range lines[i+1:] {
			if !strings.HasPrefix(d, "    ") && !strings.HasPrefix(d, "\t") {
				break
			}
			if _, v, ok := strings.Cut(d, "(default "); ok {
				v = strings.TrimSuffix(strings.TrimSpace(v), ")")
				if u, err := strconv.Unquote(v); err == nil {
					return u
				}
				return v
			}
		}
		return ""
	}
	t.Fatalf("seqcast serve --help lists no -%s flag", name)
	return ""
}
