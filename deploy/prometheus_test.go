package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The rules file and its promtool unit tests.
var (
	alertRules     = filepath.Join("grafana", "alerts.yaml")
	alertRuleTests = filepath.Join("grafana", "alerts_test.yaml")
)

// TestPromtoolRules runs Debian's promtool (make prepare installs the
// prometheus package) on deploy/grafana/alerts.yaml: `check rules` (it
// parses, every expression is valid PromQL, no duplicate rule) and `test
// rules` on alerts_test.yaml, whose cases make every alert fire and keep it
// silent, and check its labels, `for:` and rendered annotations.
func TestPromtoolRules(t *testing.T) {
	if testing.Short() {
		t.Skip(errShort)
	}
	promtool := needTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "--lint=all", "--lint-fatal", alertRules},
		{"test", "rules", alertRuleTests},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
}

// promServer is a running /usr/bin/prometheus, on its own loopback port and
// storage directory (never a system Prometheus the package may have
// started on :9090).
type promServer struct {
	cmd     *exec.Cmd
	addr    string
	logs    *syncBuffer
	exited  chan struct{}
	waitErr error
	client  *http.Client
}

// promJob is the scrape job's name: the job label of every scraped series.
const promJob = "seqcast"

// startPrometheus starts Prometheus scraping target (host:port, /metrics)
// every second as job promJob, evaluating ruleFiles every second, and
// waits until it is ready; it is stopped when the test ends.
func startPrometheus(t *testing.T, target string, ruleFiles ...string) *promServer {
	t.Helper()
	bin := needTool(t, "prometheus")
	dir := t.TempDir()
	var rules []string
	for _, f := range ruleFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, strconv.Quote(abs))
	}
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%q]
`, strings.Join(rules, ", "), promJob, target)
	confPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// The port is picked free and then released, so another process may
	// take it before Prometheus binds it: try again with another.
	var lastErr error
	for range 3 {
		p, err := launchPrometheus(bin, confPath, filepath.Join(dir, "data"))
		if p != nil {
			t.Cleanup(p.stop)
		}
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return nil
}

// freeLoopbackAddr returns a 127.0.0.1 address no one listens on (now).
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// launchPrometheus starts one Prometheus and waits for /-/ready.
func launchPrometheus(bin, conf, storage string) (*promServer, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+storage,
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Env = []string{}
	p := &promServer{cmd: cmd, addr: addr, logs: &syncBuffer{}, exited: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second}}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	deadline := time.After(30 * time.Second)
	for {
		resp, err := p.client.Get(p.url("/-/ready"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.exited:
			return p, fmt.Errorf("prometheus on %s exited before ready: %v\n%s", addr, p.waitErr, p.logs)
		case <-deadline:
			return p, fmt.Errorf("prometheus on %s: /-/ready not 200 within 30s\n%s", addr, p.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *promServer) url(path string) string { return "http://" + p.addr + path }

// stop sends SIGTERM and waits (SIGKILL after 10s).
func (p *promServer) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// api calls an HTTP API endpoint (form: POSTed when not nil) and decodes
// its data; an answer whose status is not "success" is returned as an error.
func (p *promServer) api(t *testing.T, path string, form url.Values, data any) error {
	t.Helper()
	var resp *http.Response
	var err error
	if form != nil {
		resp, err = p.client.PostForm(p.url(path), form)
	} else {
		resp, err = p.client.Get(p.url(path))
	}
	if err != nil {
		t.Fatalf("prometheus %s: %v\n%s", path, err, p.logs)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
		Warnings  []string        `json:"warnings"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("prometheus %s: %s: %v: %.300s", path, resp.Status, err, b)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s: status %q (%s): %s: %s", resp.Status, r.Status, r.ErrorType, r.Error, strings.Join(r.Warnings, "; "))
	}
	if len(r.Warnings) > 0 {
		return fmt.Errorf("warnings: %s", strings.Join(r.Warnings, "; "))
	}
	if err := json.Unmarshal(r.Data, data); err != nil {
		t.Fatalf("prometheus %s: data: %v: %.300s", path, err, r.Data)
	}
	return nil
}

// promSample is one element of an instant vector.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [unix seconds, "value"]
}

// float is the sample's value ("NaN", "+Inf" included).
func (s promSample) float() float64 {
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// query evaluates a PromQL expression now (/api/v1/query) and returns the
// vector, or the error Prometheus gave (a parse or evaluation error).
func (p *promServer) query(t *testing.T, expr string) ([]promSample, error) {
	t.Helper()
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.api(t, "/api/v1/query", url.Values{"query": {expr}}, &d); err != nil {
		return nil, err
	}
	var out []promSample
	switch d.ResultType {
	case "vector":
		if err := json.Unmarshal(d.Result, &out); err != nil {
			t.Fatalf("prometheus query %q: %v", expr, err)
		}
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(d.Result, &v); err != nil {
			t.Fatalf("prometheus query %q: %v", expr, err)
		}
		out = []promSample{{Value: v}}
	default:
		return nil, fmt.Errorf("result type %q, want a vector", d.ResultType)
	}
	return out, nil
}

// labelValues is what Grafana's label_values(metric, label) asks:
// /api/v1/label/<label>/values?match[]=metric.
func (p *promServer) labelValues(t *testing.T, metric, label string) ([]string, error) {
	t.Helper()
	var vals []string
	err := p.api(t, "/api/v1/label/"+url.PathEscape(label)+"/values?"+url.Values{"match[]": {metric}}.Encode(), nil, &vals)
	return vals, err
}

// promRule is one rule of /api/v1/rules.
type promRule struct {
	Name           string    `json:"name"`
	Type           string    `json:"type"`
	Health         string    `json:"health"`
	LastError      string    `json:"lastError"`
	State          string    `json:"state"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

// rules returns every loaded rule.
func (p *promServer) rules(t *testing.T) []promRule {
	t.Helper()
	var d struct {
		Groups []struct {
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.api(t, "/api/v1/rules", nil, &d); err != nil {
		t.Fatalf("prometheus /api/v1/rules: %v", err)
	}
	var out []promRule
	for _, g := range d.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// promAlert is one active (pending or firing) alert of /api/v1/alerts.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
	Value  string            `json:"value"`
}

// alerts returns the active alerts named name.
func (p *promServer) alerts(t *testing.T, name string) []promAlert {
	t.Helper()
	var d struct {
		Alerts []promAlert `json:"alerts"`
	}
	if err := p.api(t, "/api/v1/alerts", nil, &d); err != nil {
		t.Fatalf("prometheus /api/v1/alerts: %v", err)
	}
	var out []promAlert
	for _, a := range d.Alerts {
		if a.Labels["alertname"] == name {
			out = append(out, a)
		}
	}
	return out
}

// waitScrapedAfter waits until Prometheus holds a sample of metric (a
// series every scrape of the target writes) scraped after after, that is,
// until everything the target exported at after is queryable; it returns
// when it saw it.
func (p *promServer) waitScrapedAfter(t *testing.T, metric string, after time.Time) time.Time {
	t.Helper()
	expr := `timestamp(` + metric + `{job="` + promJob + `"})`
	waitFor(t, 20*time.Second, "a scrape of "+metric+" after "+after.Format(time.RFC3339Nano), func() bool {
		v, err := p.query(t, expr)
		return err == nil && len(v) > 0 && v[0].float() > float64(after.UnixMilli())/1000
	}, p.logs.String)
	return time.Now()
}

// waitEvaluatedAfter waits until every rule has been evaluated (started)
// after after.
func (p *promServer) waitEvaluatedAfter(t *testing.T, after time.Time) []promRule {
	t.Helper()
	var rules []promRule
	waitFor(t, 20*time.Second, "a rule evaluation after "+after.Format(time.RFC3339Nano), func() bool {
		rules = p.rules(t)
		for _, r := range rules {
			if !r.LastEvaluation.After(after) {
				return false
			}
		}
		return len(rules) > 0
	}, p.logs.String)
	return rules
}
