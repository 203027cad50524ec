package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/seqcast/seqcast/internal/redistest"
)

// metricName finds the metric names in a PromQL expression (every metric
// seqcast exports starts with seqcast_).
var metricName = regexp.MustCompile(`\bseqcast_[a-zA-Z0-9_:]*`)

// dashboardExprs returns every PromQL expression in a Grafana dashboard: the
// panels' targets and the template variables' queries.
func dashboardExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("%s: no title or uid", path)
	}
	out := map[string]string{}
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no query", path, p.Title)
		}
		for i, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s: panel %q target %d: empty expr", path, p.Title, i)
			}
			out["panel "+p.Title+" #"+string(rune('A'+i))] = tg.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Definition != "" {
			out["variable "+v.Name] = v.Definition
		}
	}
	return out
}

// alertExprs parses a Prometheus rules file and returns its expressions.
func alertExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.UnmarshalWithOptions(b, &f, yaml.Strict()); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: rule %q in %q: want alert, expr, labels.severity and annotations.summary", path, r.Alert, g.Name)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: rule %q: for %q: %v", path, r.Alert, r.For, err)
				}
			}
			out["alert "+r.Alert] = r.Expr
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rules", path)
	}
	return out
}

// byLabels and matcherLabels find the label names an expression groups by
// or selects on.
var (
	byLabels      = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	matcherLabels = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
)

// targetLabels are added by Prometheus (le is a histogram's bucket bound).
var targetLabels = map[string]bool{"job": true, "instance": true, "le": true}

// exprLabels returns the label names expr uses, target labels left out.
func exprLabels(expr string) []string {
	var out []string
	for _, m := range byLabels.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	for _, m := range matcherLabels.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	return slices.DeleteFunc(out, func(l string) bool { return l == "" || targetLabels[l] })
}

// family returns the exposed family a series name belongs to (a histogram's
// _bucket, _sum and _count belong to the histogram).
func family(fams map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if f, ok := fams[name]; ok {
		return f
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok && fams[base] != nil {
			return fams[base]
		}
	}
	return nil
}

// hasLabel says whether some series of f carries label l.
func hasLabel(f *dto.MetricFamily, l string) bool {
	for _, m := range f.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == l {
				return true
			}
		}
	}
	return false
}

// exposed says whether name is a series /metrics carries: a family's name,
// or a histogram's (summary's) _bucket, _sum or _count series.
func exposed(fams map[string]*dto.MetricFamily, name string) bool {
	if _, ok := fams[name]; ok {
		return true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suf)
		if !ok {
			continue
		}
		if f, ok := fams[base]; ok {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				return true
			case dto.MetricType_SUMMARY:
				return suf != "_bucket"
			}
		}
	}
	return false
}

// TestDashboardAndAlerts starts the real binary with a Redis cache and a
// shadow version, sends it traffic that fills every labelled metric
// (computed, cached, batched, shed, shadowed and out-of-range predictions)
// and checks that every metric name in
// deploy/grafana's dashboard and alert rules is one its /metrics exposes.
func TestDashboardAndAlerts(t *testing.T) {
	exprs := dashboardExprs(t, filepath.Join("grafana", "seqcast-dashboard.json"))
	for k, v := range alertExprs(t, filepath.Join("grafana", "alerts.yaml")) {
		exprs[k] = v
	}
	bin := needBinary(t)
	needTool(t, "redis-server")
	addr, _, _ := redistest.Start(t)
	// Two identical versions of the gold bundle: version 2 shadows version 1.
	root := t.TempDir()
	for _, v := range []string{"1", "2"} {
		copyTree(t, filepath.Join(repoRoot, "models", "gold"), filepath.Join(root, "gold", v))
	}
	s := startServer(t, serveOptions{name: "seqcast", path: bin,
		args: []string{"--redis-url", "redis://" + addr + "/0", "--redis-timeout", "2s", "--compute-slots", "1",
			"--models-dir", root, "--default-version", "gold:1", "--shadow", "gold:2", "--shadow-rate", "1"}})

	// Concurrent distinct windows: forward passes, dynamic batching, misses.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); s.predict(t, goldWindow(1900, i)) }()
	}
	wg.Wait()
	s.predict(t, goldWindow(1900, 0)) // a hit
	// Negative prices: out of the training range (a warning, by default).
	neg := goldWindow(1900, 1)
	for i := range neg {
		neg[i] = -neg[i]
	}
	s.predict(t, neg)
	// A batch with a deadline it cannot meet: shed (503), which also moves
	// the admission queue gauge.
	inst := make([][]float64, 200)
	for i := range inst {
		inst[i] = goldWindow(2000, 100+i)
	}
	body, _ := json.Marshal(map[string]any{"instances": inst})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url("/predict/batch"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Timeout", "1us")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("batch with X-Request-Timeout 1us: %s, want 503", resp.Status)
	}

	// Concurrent large batches on one compute slot: some wait in the
	// admission queue (seqcast_queued_samples).
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			big := make([][]float64, 400)
			for j := range big {
				big[j] = goldWindow(2100, 1000*(i+1)+j)
			}
			b, _ := json.Marshal(map[string]any{"instances": big})
			resp, err := http.Post(s.url("/predict/batch"), "application/json", bytes.NewReader(b))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	// SIGHUP reloads the model (seqcast_model_reloads_total).
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}

	// seqcast_redis_up appears with the background PING (about 1 s).
	var fams map[string]*dto.MetricFamily
	waitFor(t, 10*time.Second, "seqcast_redis_up 1", func() bool {
		fams = scrapeFamilies(t, s)
		f := fams["seqcast_redis_up"]
		return f != nil && len(f.Metric) == 1 && f.Metric[0].GetGauge().GetValue() == 1 && fams["seqcast_model_reloads_total"] != nil &&
			fams["seqcast_shadow_divergence"] != nil && fams["seqcast_out_of_range_total"] != nil
	}, s.logs.String)

	// client_golang's metric lint over everything the binary exports
	// (api's TestMetricsLint covers the registry; this adds what only a
	// configured binary exports: Redis, shadow versions).
	_, body = s.get(t, "/metrics")
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metrics lint: %s: %s", p.Metric, p.Text)
	}

	keys := make([]string, 0, len(exprs))
	for k := range exprs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	used := map[string]bool{}
	for _, k := range keys {
		names := metricName.FindAllString(exprs[k], -1)
		if len(names) == 0 {
			t.Errorf("%s: no seqcast_ metric in %q", k, exprs[k])
		}
		for _, n := range names {
			used[n] = true
			if exposed(fams, n) {
				for _, l := range exprLabels(exprs[k]) {
					if !hasLabel(family(fams, n), l) {
						t.Errorf("%s: %s has no label %q: %q", k, n, l, exprs[k])
					}
				}
				continue
			}
			t.Errorf("%s: %s is not exposed by /metrics", k, n)
		}
	}
	t.Logf("%d expressions, %d distinct metric names checked", len(exprs), len(used))
}
