package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/internal/redistest"
	"github.com/seqcast/seqcast/weights"
)

// builtBinary is the seqcast binary, built once by seqcastBinary; TestMain
// removes its directory.
var builtBinary struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // as main does, once for the process
	code := m.Run()
	if builtBinary.dir != "" {
		os.RemoveAll(builtBinary.dir)
	}
	os.Exit(code)
}

// seqcastBinary builds cmd/seqcast (static, as `make build` does) the first
// time a test asks for it.
func seqcastBinary(t *testing.T) string {
	t.Helper()
	b := &builtBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "seqcast-cmd-test-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "seqcast")
		build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", b.path, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building seqcast: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// proc is one running `seqcast serve`.
type proc struct {
	cmd  *exec.Cmd
	log  *syncBuf
	addr string
	done chan struct{}
}

// startBinary runs `seqcast serve` on a free loopback port with args and
// only the environment env, and waits for its "ready" log line.
func startBinary(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := launchBinary(t, env, args...)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(p.log.String(), `"msg":"ready"`) {
		select {
		case <-p.done:
			t.Fatalf("seqcast serve exited before ready:\n%s", p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("seqcast serve not ready after 60 s:\n%s", p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, l := range strings.Split(p.log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "listening" {
			p.addr, _ = m["addr"].(string)
		}
	}
	if p.addr == "" {
		t.Fatalf("no listening line:\n%s", p.log)
	}
	return p
}

// launchBinary starts the process without waiting; it is stopped with
// SIGTERM when the test ends.
func launchBinary(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--drain-timeout", "2s"}, args...)
	cmd := exec.Command(seqcastBinary(t), all...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	p := &proc{cmd: cmd, log: &syncBuf{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// exitCode waits up to 30 s for the process to exit.
func (p *proc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("still running:\n%s", p.log)
		return -1
	}
}

// reply is one HTTP exchange's outcome.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r reply) errField(k string) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e[k].(string)
	return s
}

// noRedirects is a loopback client that reports redirects instead of
// following them.
var noRedirects = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (p *proc) call(t *testing.T, method, path, body string, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+p.addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	// Every response carries X-Process-Time: seconds, as a decimal string.
	v := resp.Header.Get("X-Process-Time")
	if s, err := strconv.ParseFloat(v, 64); err != nil || s < 0 || s > 30 || strings.ContainsAny(v, "eE") {
		t.Errorf("%s %s: X-Process-Time %q", method, path, v)
	}
	return r
}

// versionedModelsDir builds NAME/VERSION bundles from the bench gold model:
// gold/1 as it is, gold/2 with the output bias raised by 0.5, so that version
// 2 answers exactly 0.5 more (the bundle has no scaler).
func versionedModelsDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, v := range []string{"1", "2"} {
		dst := filepath.Join(root, "gold", v)
		if err := os.CopyFS(dst, os.DirFS(gold)); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"input.npy", "expected.npy"} {
			os.Remove(filepath.Join(dst, f))
		}
	}
	p := filepath.Join(root, "gold", "2", "weights", "017.npy")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data, shape, err := weights.ReadNPY(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 1 {
		t.Fatalf("017.npy is not the output bias: shape %v", shape)
	}
	data[0] += 0.5
	var out bytes.Buffer
	if err := weights.WriteNPY(&out, data, shape); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// series is a 60-step window for the bench model, as JSON.
func series() string {
	v := make([]string, 60)
	for i := range v {
		v[i] = strconv.FormatFloat(0.3+0.2*math.Sin(float64(i)/5), 'f', 4, 64)
	}
	return "[" + strings.Join(v, ",") + "]"
}

// TestServeVersionsOverHTTP runs the binary over a two-version models dir
// with labels from the environment: versions in the query string and the
// body, labels, conflicts, TF Serving's label routes, /health, GET /.
func TestServeVersionsOverHTTP(t *testing.T) {
	p := startBinary(t, []string{"SEQCAST_VERSION_LABELS=gold:stable=1,canary=2"}, "--models-dir", versionedModelsDir(t))
	w := series()
	predict := func(query, extra string) reply {
		t.Helper()
		path := "/predict"
		if query != "" {
			path += "?" + query
		}
		return p.call(t, "POST", path, `{"historical_prices":`+w+extra+`}`, "Content-Type", "application/json")
	}
	def := predict("", "")
	v1 := predict("model_version=1", "")
	if def.status != 200 || v1.status != 200 || def.body["model_version"] != 2.0 || v1.body["model_version"] != 1.0 {
		t.Fatalf("default %d %s\nversion 1 %d %s", def.status, def.raw, v1.status, v1.raw)
	}
	p1, p2 := v1.body["predicted_price"].(float64), def.body["predicted_price"].(float64)
	if d := p2 - p1; math.Abs(d-0.5) > 1e-5 {
		t.Fatalf("version 2 answers %v, version 1 %v: want a difference of 0.5 (the bias), got %v", p2, p1, d)
	}
	for _, tc := range []struct {
		query, extra string
		version      float64
	}{
		{"model_version=2.0", "", 2}, {"model_version=1.0", "", 1}, {"model_version=2", "", 2},
		{"", `,"model_version":"1.0"`, 1}, {"", `,"model_version":1.0`, 1}, {"", `,"model_version":"2"`, 2},
		{"model_version=stable", "", 1}, {"", `,"model_version":"canary"`, 2}, {"model=gold&model_version=1", `,"model_version":"1"`, 1},
	} {
		r := predict(tc.query, tc.extra)
		want := map[float64]float64{1: p1, 2: p2}[tc.version]
		if r.status != 200 || r.body["model_version"] != tc.version || r.body["predicted_price"] != want {
			t.Errorf("?%s %s: %d %s, want version %v answering %v", tc.query, tc.extra, r.status, r.raw, tc.version, want)
		}
	}
	for _, tc := range []struct {
		query, extra string
		status       int
		code, field  string
	}{
		{"model_version=3", "", 404, "not_found", "model_version"},
		{"model_version=3.0", "", 404, "not_found", "model_version"},
		{"", `,"model_version":3`, 404, "not_found", "model_version"},
		{"model_version=beta", "", 422, "invalid_input", "model_version"},
		{"model_version=2.5", "", 422, "invalid_input", "model_version"},
		{"model_version=2", `,"model_version":1`, 422, "invalid_input", "model_version"},
		{"model=other", `,"model":"gold"`, 422, "invalid_input", "model"},
		{"model=other", "", 404, "not_found", "model"},
	} {
		r := predict(tc.query, tc.extra)
		if r.status != tc.status || r.errField("code") != tc.code || r.errField("field") != tc.field {
			t.Errorf("?%s %s: %d %s, want %d %s field %s", tc.query, tc.extra, r.status, r.raw, tc.status, tc.code, tc.field)
		}
	}
	if r := p.call(t, "POST", "/predict/batch?model_version=1.0", `{"instances":[`+w+`]}`); r.status != 200 || r.body["model_version"] != 1.0 {
		t.Errorf("batch ?model_version=1.0: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "POST", "/predict/batch?model_version=stable", `{"instances":[`+w+`],"model_version":2}`); r.status != 422 || r.errField("field") != "model_version" {
		t.Errorf("batch conflict: %d %s", r.status, r.raw)
	}

	// TF Serving's label routes.
	st := p.call(t, "GET", "/v1/models/gold/labels/canary", "")
	if st.status != 200 || !strings.Contains(st.raw, `"model_version_status":[{"version":"2","state":"AVAILABLE"`) {
		t.Errorf("label status: %d %s", st.status, st.raw)
	}
	if r := p.call(t, "GET", "/v1/models/gold", ""); !strings.Contains(r.raw, `"version_labels":{"canary":2,"stable":1}`) {
		t.Errorf("model status lacks the labels: %s", r.raw)
	}
	if md := p.call(t, "GET", "/v1/models/gold/labels/stable/metadata", ""); md.status != 200 ||
		!strings.Contains(md.raw, `"model_spec":{"name":"gold","signature_name":"","version":"1"}`) || !strings.Contains(md.raw, `"labels":["stable"]`) {
		t.Errorf("label metadata: %d %s", md.status, md.raw)
	}
	inst := `{"instances":[` + w + `]}`
	byLabel := p.call(t, "POST", "/v1/models/gold/labels/stable:predict", inst)
	byVersion := p.call(t, "POST", "/v1/models/gold/versions/1:predict", inst)
	canary := p.call(t, "POST", "/v1/models/gold/labels/canary:predict", inst)
	if byLabel.status != 200 || byLabel.raw != byVersion.raw || canary.raw == byLabel.raw {
		t.Errorf("label predict: stable %s, version 1 %s, canary %s", byLabel.raw, byVersion.raw, canary.raw)
	}
	if r := p.call(t, "GET", "/v1/models/gold/labels/beta", ""); r.status != 400 || !strings.Contains(r.errField("message"), "Unrecognized servable version label: beta") {
		t.Errorf("unknown label: %d %s", r.status, r.raw)
	}

	// /health: liveness with the models' state; no Redis configured.
	h := p.call(t, "GET", "/health", "")
	if h.status != 200 || h.body["model_loaded"] != true || h.body["redis_connected"] != false || h.body["cache"] != "memory" ||
		!strings.Contains(h.raw, `"models":[{"name":"gold","version":2,"versions":[1,2],"labels":{"canary":2,"stable":1},"ready":true}]`) {
		t.Errorf("health: %d %s", h.status, h.raw)
	}

	// GET /: JSON for API clients, the forecast page for browsers.
	for _, accept := range []string{"", "*/*", "application/json"} {
		r := p.call(t, "GET", "/", "", "Accept", accept)
		if r.status != 200 || r.body["message"] == nil || r.body["version"] != version || !strings.Contains(r.raw, `"openapi":"/openapi.json"`) {
			t.Errorf("GET / (Accept %q): %d %s", accept, r.status, r.raw)
		}
	}
	browser := p.call(t, "GET", "/", "", "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if browser.status != 302 || browser.header.Get("Location") != "/ui" {
		t.Errorf("GET / from a browser: %d %v", browser.status, browser.header)
	}
	for _, path := range []string{"/docs", "/ui", "/openapi.json", "/metrics", "/ready", "/nope"} {
		p.call(t, "GET", path, "") // X-Process-Time is checked in call
	}
}

// TestServeDefaultVersion: --default-version pins the version requests
// naming none get (here through a label; the env var works the same way).
func TestServeDefaultVersion(t *testing.T) {
	root := versionedModelsDir(t)
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"--version-labels", "gold:stable=1,canary=2", "--default-version", "gold:stable"}},
		{[]string{"SEQCAST_DEFAULT_VERSION=gold:1"}, nil},
	} {
		p := startBinary(t, tc.env, append([]string{"--models-dir", root}, tc.args...)...)
		r := p.call(t, "POST", "/predict", `{"historical_prices":`+series()+`}`)
		if r.status != 200 || r.body["model_version"] != 1.0 {
			t.Errorf("%v %v: %d %s, want version 1", tc.env, tc.args, r.status, r.raw)
		}
		if r := p.call(t, "POST", "/predict?model_version=2", `{"historical_prices":`+series()+`}`); r.body["model_version"] != 2.0 {
			t.Errorf("%v %v: version 2 unreachable: %s", tc.env, tc.args, r.raw)
		}
		if h := p.call(t, "GET", "/health", ""); !strings.Contains(h.raw, `"name":"gold","version":1,"versions":[1,2]`) {
			t.Errorf("health: %s", h.raw)
		}
	}
}

// TestServeRefusesBadLabels: a label on a version that is not loaded stops
// the server at start-up (exit 1, saying why); a malformed flag is exit 2.
func TestServeRefusesBadLabels(t *testing.T) {
	root := versionedModelsDir(t)
	p := launchBinary(t, nil, "--models-dir", root, "--version-labels", "gold:stable=1,canary=3")
	if code := p.exitCode(t); code != 1 || !strings.Contains(p.log.String(), `label \"canary\" points to version 3, which is not loaded (loaded: 1, 2)`) {
		t.Fatalf("exit %d:\n%s", code, p.log)
	}
	p = launchBinary(t, nil, "--models-dir", root, "--default-version", "gold:7")
	if code := p.exitCode(t); code != 1 || !strings.Contains(p.log.String(), `default version 7 is not loaded`) {
		t.Fatalf("exit %d:\n%s", code, p.log)
	}
	p = launchBinary(t, nil, "--models-dir", root, "--version-labels", "stable=1")
	if code := p.exitCode(t); code != 2 || !strings.Contains(p.log.String(), `"stable=1" names no model`) {
		t.Fatalf("exit %d:\n%s", code, p.log)
	}
}

// TestServeHealthRedis: redis_connected follows a real redis-server (up,
// killed, restarted) through the binary's background PING, and /health
// stays 200 throughout.
func TestServeHealthRedis(t *testing.T) {
	raddr, stop, restart := redistest.Start(t)
	p := startBinary(t, []string{"SEQCAST_REDIS_URL=redis://" + raddr}, "--model", gold)
	wait := func(want bool) time.Duration {
		t.Helper()
		t0 := time.Now()
		for {
			h := p.call(t, "GET", "/health", "")
			if h.status != 200 || h.body["cache"] != "redis" || h.body["model_loaded"] != true {
				t.Fatalf("health: %d %s", h.status, h.raw)
			}
			if h.body["redis_connected"] == want {
				return time.Since(t0)
			}
			if time.Since(t0) > 5*time.Second {
				t.Fatalf("redis_connected not %v after 5 s: %s", want, h.raw)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait(true)
	stop()
	t.Logf("redis_connected false %v after redis-server was killed", wait(false).Round(time.Millisecond))
	if r := p.call(t, "POST", "/predict", `{"historical_prices":`+series()+`}`); r.status != 200 {
		t.Fatalf("predict with Redis down: %d %s", r.status, r.raw)
	}
	restart()
	t.Logf("redis_connected true %v after redis-server came back", wait(true).Round(time.Millisecond))
}
