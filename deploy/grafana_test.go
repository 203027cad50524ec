package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
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
	"github.com/prometheus/common/model"

	"github.com/seqcast/seqcast/backtest"
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
// shadow version, and a real Prometheus (/usr/bin/prometheus) scraping it
// every second with deploy/grafana/alerts.yaml loaded. It sends traffic that
// fills every labelled metric (computed, cached, batched, shed, shadowed,
// rejected and out-of-range predictions, reloads, 4,200 distinct training
// windows for the drift gauges), twice with a scrape between, and checks:
//
//   - every metric name and label the dashboard and the rules use is one
//     /metrics exposes, and the exposition passes client_golang's lint;
//   - Prometheus evaluates every dashboard expression, Grafana's variables
//     and macros substituted, and each has data (a finite value) but for
//     those listed in emptyPanels; the variables' label_values() queries
//     find the job and the model;
//   - every rule evaluates without error (health "ok");
//   - SeqcastInputDrift is not pending on training windows, and is pending
//     for gold after 1,100 training windows with their swings x5.
func TestDashboardAndAlerts(t *testing.T) {
	panels := dashboardExprs(t, filepath.Join("grafana", "seqcast-dashboard.json"))
	exprs := maps.Clone(panels)
	for k, v := range alertExprs(t, alertRules) {
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
	prom := startPrometheus(t, s.addr, alertRules)
	promStart := time.Now()
	prom.waitScrapedAfter(t, "seqcast_ready", promStart)

	// Two rounds of traffic with a scrape between them: every series the
	// first round creates grows before the next scrape, so that rate() has
	// something to show.
	train := trainingWindows(t, 4200)
	dashboardTraffic(t, s, 0, train[:2100])
	prom.waitScrapedAfter(t, "seqcast_ready", time.Now())
	dashboardTraffic(t, s, 1, train[2100:])

	// seqcast_redis_up appears with the background PING (about 1 s).
	var fams map[string]*dto.MetricFamily
	waitFor(t, 10*time.Second, "seqcast_redis_up 1", func() bool {
		fams = scrapeFamilies(t, s)
		f := fams["seqcast_redis_up"]
		return f != nil && len(f.Metric) == 1 && f.Metric[0].GetGauge().GetValue() == 1 && fams["seqcast_model_reloads_total"] != nil &&
			fams["seqcast_shadow_divergence"] != nil && fams["seqcast_out_of_range_total"] != nil &&
			fams["seqcast_input_drift_psi"] != nil
	}, s.logs.String)

	// client_golang's metric lint over everything the binary exports
	// (api's TestMetricsLint covers the registry; this adds what only a
	// configured binary exports: Redis, shadow versions).
	_, body := s.get(t, "/metrics")
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metrics lint: %s: %s", p.Metric, p.Text)
	}

	keys := slices.Sorted(maps.Keys(exprs))
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

	// Prometheus: everything scraped, the rules evaluated on it.
	seen := prom.waitScrapedAfter(t, "seqcast_ready", time.Now())
	for _, r := range prom.waitEvaluatedAfter(t, seen) {
		if r.Health != "ok" || r.LastError != "" {
			t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
		}
	}
	checkPanels(t, prom, panels, time.Since(promStart))

	// Drift, end to end: the ring holds distinct training windows, whose PSI
	// is under gold's calibrated threshold; the alert must not be pending.
	if a := prom.alerts(t, "SeqcastInputDrift"); len(a) > 0 {
		t.Errorf("SeqcastInputDrift active on training windows: %+v", a)
	}
	// Then 1,100 of them with their swings around the mean x5
	// (cmd/seqcast's TestServeDrift: PSI 4.70 and 5.84, thresholds 3.46 and
	// 4.19): 1,000 fill the ring, 100 more make sure a PSI is computed on a
	// ring that holds only them.
	wild := make([][]float64, 1100)
	for i := range wild {
		wild[i] = swings(train[i], 5)
	}
	for b := 0; b < len(wild); b += 400 {
		if code := s.batch(t, wild[b:min(b+400, len(wild))], nil); code != http.StatusOK {
			t.Fatalf("batch of swings x5: %d", code)
		}
	}
	waitFor(t, 20*time.Second, "SeqcastInputDrift pending for gold", func() bool {
		for _, a := range prom.alerts(t, "SeqcastInputDrift") {
			if a.Labels["model"] == "gold" && (a.State == "pending" || a.State == "firing") {
				t.Logf("after the swings x5: SeqcastInputDrift %s for %v (PSI %s)", a.State, a.Labels, a.Value)
				return true
			}
		}
		return false
	}, func() string {
		v, err := prom.query(t, `{__name__=~"seqcast_input_drift_.*"}`)
		return fmt.Sprintf("drift series in Prometheus: %v %v", v, err)
	})
	t.Logf("Prometheus part: %v since Prometheus started", time.Since(promStart).Round(time.Millisecond))
}

// emptyPanels are the dashboard queries that may return nothing after
// dashboardTraffic (key: "panel <title> #<target letter>"), and why.
var emptyPanels = map[string]string{
	// Redis answers throughout; the only lookups that can fail are the shed
	// batch's, when its 2 ms deadline expires inside the Redis call (it
	// usually does here, but that is timing): without it there is no
	// error series, or one in one round only, and rate() needs two samples.
	"panel Cache hit ratio #B": "cache lookup errors: none but, depending on timing, the 2 ms-deadline batch's",
}

// grafanaVar matches a Grafana variable reference: $name or ${name}.
var grafanaVar = regexp.MustCompile(`\$\{?(\w+)\}?`)

// labelValuesQuery matches Grafana's label_values(metric, label).
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\(\s*([^,]+?)\s*,\s*(\w+)\s*\)\s*$`)

// checkPanels evaluates every dashboard query in Prometheus, with Grafana's
// variables and macros replaced by what Grafana would send for a panel
// covering the last span: $job and $model select the job and the model
// under test, then "All" (the variables' allValue, .*); $__interval is span
// and $__rate_interval Grafana's max($__interval + scrape interval, 4 x
// scrape interval) with the 1 s scrape interval. Each must evaluate, and
// have a finite value unless emptyPanels says why not. The variables'
// label_values() must list the job and the model.
func checkPanels(t *testing.T, prom *promServer, panels map[string]string, span time.Duration) {
	t.Helper()
	interval := time.Duration(math.Ceil(span.Seconds())) * time.Second
	macros := map[string]string{
		"__interval":      model.Duration(interval).String(),
		"__rate_interval": model.Duration(max(interval+time.Second, 4*time.Second)).String(),
	}
	want := map[string]string{"job": promJob, "model": "gold"}
	selections := []map[string]string{
		{"job": regexp.QuoteMeta(promJob), "model": regexp.QuoteMeta("gold")},
		{"job": ".*", "model": ".*"},
	}
	for _, k := range slices.Sorted(maps.Keys(panels)) {
		expr := panels[k]
		if m := labelValuesQuery.FindStringSubmatch(expr); m != nil {
			vals, err := prom.labelValues(t, m[1], m[2])
			if err != nil {
				t.Errorf("%s: %q: %v", k, expr, err)
			} else if name := strings.TrimPrefix(k, "variable "); !slices.Contains(vals, want[name]) {
				t.Errorf("%s: %q gives %q, want %q among them", k, expr, vals, want[name])
			}
			continue
		}
		for n, sel := range selections {
			var unknown []string
			q := grafanaVar.ReplaceAllStringFunc(expr, func(ref string) string {
				name := grafanaVar.FindStringSubmatch(ref)[1]
				v, ok := sel[name]
				if !ok {
					v, ok = macros[name]
				}
				if !ok {
					unknown = append(unknown, ref)
				}
				return v
			})
			if len(unknown) > 0 {
				t.Errorf("%s: Grafana variables the test does not know: %q", k, unknown)
				break
			}
			v, err := prom.query(t, q)
			if err != nil {
				t.Errorf("%s: %q: %v", k, q, err)
				continue
			}
			finite := 0
			var some []string
			for _, s := range v {
				if f := s.float(); !math.IsNaN(f) && !math.IsInf(f, 0) {
					finite++
					if len(some) < 3 {
						some = append(some, fmt.Sprintf("%v %.4g", s.Metric, f))
					}
				}
			}
			if n == 0 {
				t.Logf("%s: %d series, %d finite: %s", k, len(v), finite, strings.Join(some, ", "))
			}
			if why, ok := emptyPanels[k]; ok {
				if n == 0 {
					t.Logf("%s: may be empty: %s", k, why)
				}
			} else if finite == 0 {
				t.Errorf("%s: no data (%d series, none finite): %q: %v", k, len(v), q, v)
			}
		}
	}
}

// dashboardTraffic sends what fills every labelled metric: concurrent
// distinct windows (forward passes, dynamic batching, cache misses), a
// cache hit, an out-of-range window, a client error, a shed batch,
// concurrent large batches on one compute slot (the admission queue) and a
// reload. round makes its small windows differ from another round's; train
// (2,100 distinct training windows) feeds the batches, so that the drift
// ring holds windows like training's.
func dashboardTraffic(t *testing.T, s *server, round int, train [][]float64) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); s.predict(t, goldWindow(1900, 8*round+i)) }()
	}
	wg.Wait()
	s.predict(t, goldWindow(1900, 8*round)) // a hit
	// Negative prices: out of the training range (a warning, by default).
	neg := goldWindow(1900, 8*round+1)
	for i := range neg {
		neg[i] = -neg[i]
	}
	s.predict(t, neg)
	// A window too short: a 4xx.
	if code, _ := s.post(t, "/predict", `{"historical_prices":[1900,1901,1902]}`); code/100 != 4 {
		t.Errorf("POST /predict with 3 prices: %d, want 4xx", code)
	}
	// Concurrent large batches on one compute slot: some wait in the
	// admission queue (seqcast_queued_samples).
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := s.batch(t, train[400*i:400*(i+1)], nil); code != http.StatusOK {
				t.Errorf("batch of 400: %d", code)
			}
		}()
	}
	wg.Wait()
	// A batch with a deadline it cannot meet: shed (503) for gold. The large
	// batches above taught admission control what 500 windows cost, far over
	// 2 ms; or the deadline is gone once the body is read. (With 1 µs it is
	// often gone before the body names the model, and the shed counts for
	// model "": the dashboard's model filter would not show it.)
	if code := s.batch(t, train[1600:2100], http.Header{"X-Request-Timeout": {"2ms"}}); code != http.StatusServiceUnavailable {
		t.Errorf("batch of 500 with X-Request-Timeout 2ms: %d, want 503", code)
	}
	// SIGHUP reloads the model (seqcast_model_reloads_total), in the
	// background: wait for it, so that the next scrape counts it.
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, fmt.Sprintf("reload %d", round+1), func() bool {
		f := scrapeFamilies(t, s)["seqcast_model_reloads_total"]
		total := 0.0
		for _, m := range f.GetMetric() {
			total += m.GetCounter().GetValue()
		}
		return total >= float64(round+1)
	}, s.logs.String)
}

// post POSTs a JSON body and returns the status code and answer.
func (s *server) post(t *testing.T, path, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url(path), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s: POST %s: %v", s.name, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// batch POSTs windows to /predict/batch with header and returns the status.
func (s *server) batch(t *testing.T, windows [][]float64, header http.Header) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"instances": windows})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url("/predict/batch"), bytes.NewReader(body))
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s: POST /predict/batch: %v", s.name, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// trainingWindows returns n distinct 60-day windows of the prices gold's
// model was trained on (data/gold_daily_usd.csv up to 2015-08-27, what its
// training_stats.json describes), drawn in a fixed random order.
func trainingWindows(t *testing.T, n int) [][]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "data", "gold_daily_usd.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	series, err := backtest.ReadCSV(f, backtest.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := time.Date(2015, 8, 27, 0, 0, 0, 0, time.UTC)
	end := 0 // training rows: [0, end)
	for end < len(series.Dates) && !series.Dates[end].After(last) {
		end++
	}
	prices := series.Y[:end]
	const T = 60
	starts := rand.New(rand.NewPCG(16, 1)).Perm(len(prices) - T + 1)
	if len(starts) < n {
		t.Fatalf("%d training windows, want %d", len(starts), n)
	}
	out := make([][]float64, n)
	for i, s := range starts[:n] {
		out[i] = prices[s : s+T]
	}
	return out
}

// swings returns w with its deviations from its mean multiplied by k.
func swings(w []float64, k float64) []float64 {
	var mean float64
	for _, v := range w {
		mean += v / float64(len(w))
	}
	out := make([]float64, len(w))
	for i, v := range w {
		out[i] = mean + k*(v-mean)
	}
	return out
}
