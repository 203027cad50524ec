package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// addSlowVersion copies gold version 1 of root (versionedModelsDir) to
// version v taking windows of window steps instead of 60 (the network is
// convolutional and recurrent, so only its declared input changes): a
// longer window makes a shadow that fails every 60-step request, and costs
// more per step.
func addSlowVersion(t *testing.T, root string, v, window int) {
	t.Helper()
	dst := filepath.Join(root, "gold", strconv.Itoa(v))
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(root, "gold", "1"))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dst, "model.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("[null, 60, 1]")); n != 3 {
		t.Fatalf("model.json declares its input shape %d times, want 3", n)
	}
	b = bytes.ReplaceAll(b, []byte("[null, 60, 1]"), []byte("[null, "+strconv.Itoa(window)+", 1]"))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// scrapeFamilies reads /metrics in the text exposition format.
func (p *proc) scrapeFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	r := p.call(t, "GET", "/metrics", "")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(r.raw))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	return fams
}

// metricWith returns the metric of family name whose labels include want.
func metricWith(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	for _, m := range fams[name].GetMetric() {
		n := 0
		for _, l := range m.GetLabel() {
			if want[l.GetName()] == l.GetValue() {
				n++
			}
		}
		if n == len(want) {
			return m
		}
	}
	return nil
}

// windowJSON is a distinct 60-step window per i, as JSON.
func windowJSON(i int) string {
	v := make([]string, 60)
	for k := range v {
		v[k] = strconv.FormatFloat(0.3+0.2*math.Sin(float64(k+i)/5)+float64(i)*1e-4, 'f', 6, 64)
	}
	return "[" + strings.Join(v, ",") + "]"
}

// waitShadow polls /metrics until model gold's shadow version has n
// requests counted (any outcome), then returns the families.
func (p *proc) waitShadow(t *testing.T, version string, n float64) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		fams := p.scrapeFamilies(t)
		var got float64
		for _, m := range fams["seqcast_shadow_requests_total"].GetMetric() {
			if metricWith(map[string]*dto.MetricFamily{"x": {Metric: []*dto.Metric{m}}}, "x", map[string]string{"model": "gold", "version": version}) != nil {
				got += m.GetCounter().GetValue()
			}
		}
		if got >= n {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("shadow version %s: %v requests counted after 20 s, want %v", version, got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeShadowDivergence: --shadow runs every request (rate 1) on the
// shadow version too; the divergence histogram shows the 0.5 difference of
// version 2 from version 1, and zero for an identical version 3.
func TestServeShadowDivergence(t *testing.T) {
	root := versionedModelsDir(t)
	// Version 3 is version 1 byte for byte: identical answers.
	if err := os.CopyFS(filepath.Join(root, "gold", "3"), os.DirFS(filepath.Join(root, "gold", "1"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		shadow string
		zero   bool
	}{
		{"2", false},
		{"3", true},
	} {
		p := startBinary(t, nil, "--models-dir", root, "--default-version", "gold:1", "--shadow", "gold:"+tc.shadow, "--shadow-rate", "1")
		const n = 5
		var primary []float64
		for i := range n {
			r := p.call(t, "POST", "/predict", `{"historical_prices":`+windowJSON(i)+`}`)
			if r.status != 200 || r.body["model_version"] != 1.0 {
				t.Fatalf("shadow %s: %d %s", tc.shadow, r.status, r.raw)
			}
			primary = append(primary, r.body["predicted_price"].(float64))
		}
		// A request naming a version is not shadowed.
		if r := p.call(t, "POST", "/predict?model_version=1", `{"historical_prices":`+windowJSON(99)+`}`); r.status != 200 {
			t.Fatalf("pinned: %d %s", r.status, r.raw)
		}
		fams := p.waitShadow(t, tc.shadow, n)
		ok := metricWith(fams, "seqcast_shadow_requests_total", map[string]string{"model": "gold", "version": tc.shadow, "outcome": "ok"})
		if ok.GetCounter().GetValue() != n {
			t.Errorf("shadow %s: %v ok, want %d (pinned requests are not shadowed)", tc.shadow, ok.GetCounter().GetValue(), n)
		}
		h := metricWith(fams, "seqcast_shadow_divergence", map[string]string{"model": "gold", "version": tc.shadow}).GetHistogram()
		if h.GetSampleCount() != n {
			t.Fatalf("shadow %s: divergence count %d, want %d", tc.shadow, h.GetSampleCount(), n)
		}
		var want float64
		if !tc.zero {
			for _, v := range primary {
				want += 0.5 / math.Abs(v)
			}
		}
		if d := h.GetSampleSum(); math.Abs(d-want) > 1e-4*math.Max(1, want) {
			t.Errorf("shadow %s: divergence sum %v, want %v", tc.shadow, d, want)
		}
		if tc.zero && h.GetSampleSum() != 0 {
			t.Errorf("identical shadow: divergence sum %v, want exactly 0", h.GetSampleSum())
		}
		st := p.call(t, "GET", "/v1/models/gold", "")
		if !strings.Contains(st.raw, `"shadow":{"version":`+tc.shadow+`,"rate":1}`) {
			t.Errorf("status: %s", st.raw)
		}
		if hr := p.call(t, "GET", "/health", ""); !strings.Contains(hr.raw, `"shadow":{"version":`+tc.shadow+`,"rate":1}`) {
			t.Errorf("health: %s", hr.raw)
		}
	}
}

// TestServeFailingShadow (settings from the environment): a shadow version
// whose every answer fails (it
// takes 600-step windows; the requests bring 60) never fails an answer; its
// failures are counted.
func TestServeFailingShadow(t *testing.T) {
	root := versionedModelsDir(t)
	addSlowVersion(t, root, 3, 600)
	p := startBinary(t, []string{"SEQCAST_SHADOW=gold:3", "SEQCAST_SHADOW_RATE=1"}, "--models-dir", root, "--default-version", "gold:1")
	const n = 6
	for i := range n {
		r := p.call(t, "POST", "/predict", `{"historical_prices":`+windowJSON(i)+`}`)
		if r.status != 200 || r.body["model_version"] != 1.0 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	}
	b := p.call(t, "POST", "/predict/batch", `{"instances":[`+windowJSON(50)+`,`+windowJSON(51)+`]}`)
	if b.status != 200 {
		t.Fatalf("batch: %d %s", b.status, b.raw)
	}
	fams := p.waitShadow(t, "3", n+1)
	if m := metricWith(fams, "seqcast_shadow_requests_total", map[string]string{"version": "3", "outcome": "ok"}); m != nil {
		t.Errorf("failing shadow: %v ok", m.GetCounter().GetValue())
	}
	e := metricWith(fams, "seqcast_shadow_requests_total", map[string]string{"version": "3", "outcome": "error"}).GetCounter().GetValue()
	d := 0.0
	if m := metricWith(fams, "seqcast_shadow_requests_total", map[string]string{"version": "3", "outcome": "dropped"}); m != nil {
		d = m.GetCounter().GetValue()
	}
	if e+d != n+1 || e == 0 {
		t.Errorf("failing shadow: %v errors + %v dropped, want %d in all, some errors", e, d, n+1)
	}
}

// TestServeCanary: --canary gold:2=10 (here SEQCAST_CANARY) sends about 10% of 2,000 distinct
// windows to version 2, the same window always to the same version; a
// request naming a version gets it; a batch goes to one version.
func TestServeCanary(t *testing.T) {
	root := versionedModelsDir(t)
	p := startBinary(t, []string{"SEQCAST_CANARY=gold:2=10"}, "--models-dir", root, "--default-version", "gold:1", "--cache-ttl", "0")
	const n = 2000
	got := map[int]float64{}
	canary := 0
	for i := range n {
		r := p.call(t, "POST", "/predict", `{"historical_prices":`+windowJSON(i)+`}`)
		v, _ := r.body["model_version"].(float64)
		if r.status != 200 || v != 1 && v != 2 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		got[i] = v
		if v == 2 {
			canary++
		}
	}
	if share := 100 * float64(canary) / n; math.Abs(share-10) > 3 {
		t.Errorf("canary share %.2f%% of %d windows, want 10 ± 3", share, n)
	} else {
		t.Logf("canary share %.2f%% of %d windows", share, n)
	}
	for i := 0; i < 200; i++ { // sticky: the same window, the same version
		r := p.call(t, "POST", "/predict", `{"historical_prices":`+windowJSON(i)+`}`)
		if r.body["model_version"] != got[i] {
			t.Fatalf("window %d: version %v, first %v", i, r.body["model_version"], got[i])
		}
	}
	var c2, c1 int // a window each version got
	for i := range n {
		if got[i] == 2 {
			c2 = i
		} else {
			c1 = i
		}
	}
	for _, tc := range []struct {
		query string
		win   int
		want  float64
	}{
		{"model_version=1", c2, 1},
		{"model_version=2", c1, 2},
	} {
		if r := p.call(t, "POST", "/predict?"+tc.query, `{"historical_prices":`+windowJSON(tc.win)+`}`); r.body["model_version"] != tc.want {
			t.Errorf("%s: %s", tc.query, r.raw)
		}
	}
	// A batch goes to one version, the same every time.
	batch := `{"instances":[` + windowJSON(c1) + `,` + windowJSON(c2) + `]}`
	first := p.call(t, "POST", "/predict/batch", batch)
	for range 3 {
		if r := p.call(t, "POST", "/predict/batch", batch); r.status != 200 || r.body["model_version"] != first.body["model_version"] {
			t.Fatalf("batch: %s, first %s", r.raw, first.raw)
		}
	}
	st := p.call(t, "GET", "/v1/models/gold", "")
	if !strings.Contains(st.raw, `"canary":{"version":2,"percent":10}`) {
		t.Errorf("status: %s", st.raw)
	}
	if hr := p.call(t, "GET", "/health", ""); !strings.Contains(hr.raw, `"canary":{"version":2,"percent":10}`) {
		t.Errorf("health: %s", hr.raw)
	}
}

// TestServeRolloutRefused: a canary or shadow version that is not loaded
// stops the server (exit 1, naming it); malformed flags are exit 2 naming
// the flag.
func TestServeRolloutRefused(t *testing.T) {
	root := versionedModelsDir(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--canary", "gold:7=10"}, 1, "canary version 7 is not loaded"},
		{[]string{"--shadow", "gold:7"}, 1, "shadow version 7 is not loaded"},
		{[]string{"--canary", "gold:2=150"}, 2, "--canary"},
		{[]string{"--shadow", "gold:2", "--shadow-rate", "2"}, 2, "--shadow-rate"},
	} {
		p := launchBinary(t, nil, append([]string{"--models-dir", root}, tc.args...)...)
		if code := p.exitCode(t); code != tc.code || !strings.Contains(p.log.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d; stderr %s", tc.args, code, tc.code, p.log.String())
		}
	}
}

// TestServeRolloutModelYAML: the same settings from gold/model.yaml.
func TestServeRolloutModelYAML(t *testing.T) {
	root := versionedModelsDir(t)
	yaml := "default_version: 1\nshadow: 2\nshadow_rate: 1\ncanary: {version: 2, percent: 10}\n"
	if err := os.WriteFile(filepath.Join(root, "gold", "model.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startBinary(t, nil, "--models-dir", root)
	hr := p.call(t, "GET", "/health", "")
	if !strings.Contains(hr.raw, `"canary":{"version":2,"percent":10},"shadow":{"version":2,"rate":1}`) {
		t.Fatalf("health: %s", hr.raw)
	}
	n := 0
	for i := 0; n < 3; i++ {
		r := p.call(t, "POST", "/predict", `{"historical_prices":`+windowJSON(i)+`}`)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		if r.body["model_version"] == 1.0 { // served by the default: shadowed
			n++
		}
	}
	fams := p.waitShadow(t, "2", 3)
	if h := metricWith(fams, "seqcast_shadow_divergence", map[string]string{"model": "gold", "version": "2"}).GetHistogram(); h.GetSampleCount() < 3 || h.GetSampleSum() <= 0 {
		t.Errorf("divergence %v", h)
	}
	// A flag and the file both setting the canary is refused, naming both.
	q := launchBinary(t, nil, "--models-dir", root, "--canary", "gold:2=20")
	if code := q.exitCode(t); code != 1 || !strings.Contains(q.log.String(), "the canary version set both by flags") {
		t.Errorf("exit %d:\n%s", code, q.log)
	}
}
