package api

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/internal/redistest"
	"github.com/seqcast/seqcast/serving"
)

// twoVersions loads gold versions 1 and 2 (copies of the embedded bundle)
// with the labels stable=1 and canary=2 and the given default version.
func twoVersions(t *testing.T, def serving.ModelOptions) *serving.Registry {
	t.Helper()
	root := t.TempDir()
	copyBundle(t, filepath.Join(root, "gold", "1"), nil)
	copyBundle(t, filepath.Join(root, "gold", "2"), nil)
	def.Labels = map[string]int64{"stable": 1, "canary": 2}
	reg := serving.NewRegistry(serving.Options{Models: map[string]serving.ModelOptions{"gold": def}}, serving.ModelsDir(root))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestModelVersionForms(t *testing.T) {
	ts := newServer(t, twoVersions(t, serving.ModelOptions{}), func(c *Config) { c.CacheTTL = 0 })
	w := jsonOf(prices(60, 0))
	body := func(extra string) string { return `{"historical_prices":` + w + extra + `}` }
	for _, tc := range []struct {
		query, extra string
		status       int
		version      float64 // the version that answered (200)
		field        string  // the error's field (else)
	}{
		{"", ``, 200, 2, ""},
		{"", `,"model_version":1`, 200, 1, ""},
		{"", `,"model_version":1.0`, 200, 1, ""},
		{"", `,"model_version":1e0`, 200, 1, ""},
		{"", `,"model_version":"1"`, 200, 1, ""},
		{"", `,"model_version":"1.0"`, 200, 1, ""},
		{"", `,"model_version":"stable"`, 200, 1, ""},
		{"", `,"model_version":"canary"`, 200, 2, ""},
		{"", `,"model_version":null`, 200, 2, ""},
		{"model_version=1", ``, 200, 1, ""},
		{"model_version=1.0", ``, 200, 1, ""},
		{"model_version=2.0", ``, 200, 2, ""},
		{"model_version=stable", ``, 200, 1, ""},
		{"model=gold&model_version=1", ``, 200, 1, ""},
		{"model_version=1", `,"model_version":1`, 200, 1, ""},
		{"model_version=1.0", `,"model_version":"1"`, 200, 1, ""},
		{"model_version=stable", `,"model_version":"stable"`, 200, 1, ""},
		{"model=gold", `,"model":"gold"`, 200, 2, ""},
		{"other=x", ``, 200, 2, ""},
		// A well-formed version that is not served: 404, never a fallback.
		{"model_version=3", ``, 404, 0, "model_version"},
		{"model_version=3.0", ``, 404, 0, "model_version"},
		{"", `,"model_version":3`, 404, 0, "model_version"},
		{"", `,"model_version":"3"`, 404, 0, "model_version"},
		{"model=silver", ``, 404, 0, "model"},
		// Anything else that is not a known label: 422.
		{"model_version=1.5", ``, 422, 0, "model_version"},
		{"model_version=0", ``, 422, 0, "model_version"},
		{"model_version=-1", ``, 422, 0, "model_version"},
		{"model_version=", ``, 422, 0, "model_version"},
		{"model_version=beta", ``, 422, 0, "model_version"},
		{"model_version=02", ``, 422, 0, "model_version"},
		{"model_version=1e400", ``, 422, 0, "model_version"},
		{"model_version=1&model_version=2", ``, 422, 0, "model_version"},
		{"", `,"model_version":1.5`, 422, 0, "model_version"},
		{"", `,"model_version":0`, 422, 0, "model_version"},
		{"", `,"model_version":-2`, 422, 0, "model_version"},
		{"", `,"model_version":""`, 422, 0, "model_version"},
		{"", `,"model_version":"beta"`, 422, 0, "model_version"},
		{"", `,"model_version":true`, 422, 0, "model_version"},
		{"", `,"model_version":[1]`, 422, 0, "model_version"},
		{"", `,"model_version":{"v":1}`, 422, 0, "model_version"},
		{"", `,"model_version":99999999999999999999`, 422, 0, "model_version"},
		{"model=", ``, 422, 0, "model"},
		{"model=gold&model=gold", ``, 422, 0, "model"},
		// Query and body disagree: 422 naming the field.
		{"model_version=2", `,"model_version":1`, 422, 0, "model_version"},
		{"model_version=stable", `,"model_version":1`, 422, 0, "model_version"},
		{"model_version=canary", `,"model_version":"stable"`, 422, 0, "model_version"},
		{"model=silver", `,"model":"gold"`, 422, 0, "model"},
	} {
		path := "/predict"
		if tc.query != "" {
			path += "?" + tc.query
		}
		r := ts.do("POST", path, body(tc.extra))
		if r.Code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", path, tc.extra, r.Code, r.Body, tc.status)
			continue
		}
		if tc.status == 200 && r.body["model_version"] != tc.version {
			t.Errorf("%s %s: answered by version %v, want %v", path, tc.extra, r.body["model_version"], tc.version)
		}
		if tc.status != 200 && r.errField("field") != tc.field {
			t.Errorf("%s %s: field %q, want %q (%s)", path, tc.extra, r.errField("field"), tc.field, r.Body)
		}
		if tc.status == 404 && r.errField("code") != CodeNotFound {
			t.Errorf("%s %s: code %q", path, tc.extra, r.errField("code"))
		}
	}
	// The same rules on /predict/batch.
	batch := `{"instances":[` + w + `]}`
	if r := ts.do("POST", "/predict/batch?model_version=1.0", batch); r.Code != 200 || r.body["model_version"] != 1.0 {
		t.Fatalf("batch ?model_version=1.0: %d %s", r.Code, r.Body)
	}
	if r := ts.do("POST", "/predict/batch?model_version=canary", batch); r.Code != 200 || r.body["model_version"] != 2.0 {
		t.Fatalf("batch ?model_version=canary: %d %s", r.Code, r.Body)
	}
	if r := ts.do("POST", "/predict/batch?model_version=1", `{"model_version":2,"instances":[`+w+`]}`); r.Code != 422 || r.errField("field") != "model_version" {
		t.Fatalf("batch conflict: %d %s", r.Code, r.Body)
	}
	if r := ts.do("POST", "/predict/batch?model_version=7", batch); r.Code != 404 || r.errField("field") != "model_version" {
		t.Fatalf("batch unknown version: %d %s", r.Code, r.Body)
	}
}

func TestDefaultVersionPinnedOverHTTP(t *testing.T) {
	ts := newServer(t, twoVersions(t, serving.ModelOptions{DefaultLabel: "stable"}), nil)
	r := ts.do("POST", "/predict", predictBody(prices(60, 0), ""))
	if r.Code != 200 || r.body["model_version"] != 1.0 {
		t.Fatalf("default: %d %s", r.Code, r.Body)
	}
	if r := ts.do("POST", "/predict?model_version=2", predictBody(prices(60, 0), "")); r.body["model_version"] != 2.0 {
		t.Fatalf("version 2: %s", r.Body)
	}
	st := ts.do("GET", "/v1/models/gold", "")
	if st.body["default_version"] != 1.0 || len(st.body["model_version_status"].([]any)) != 2 {
		t.Fatalf("status: %s", st.Body)
	}
	if fams := ts.families(); len(series(fams, "seqcast_model_info", map[string]string{"default": "1"})) != 1 ||
		len(series(fams, "seqcast_model_info", map[string]string{"default": "1", "version": "1"})) != 1 {
		t.Fatalf("seqcast_model_info does not mark version 1 (only) as default: %v", fams["seqcast_model_info"])
	}
}

func TestTFServingLabels(t *testing.T) {
	ts := newServer(t, twoVersions(t, serving.ModelOptions{}), nil)
	st := ts.do("GET", "/v1/models/gold/labels/canary", "")
	vs, _ := st.body["model_version_status"].([]any)
	if st.Code != 200 || len(vs) != 1 || vs[0].(map[string]any)["version"] != "2" || vs[0].(map[string]any)["state"] != "AVAILABLE" {
		t.Fatalf("label status: %d %s", st.Code, st.Body)
	}
	all := ts.do("GET", "/v1/models/gold", "")
	labels, _ := all.body["version_labels"].(map[string]any)
	if len(all.body["model_version_status"].([]any)) != 2 || labels["stable"] != 1.0 || labels["canary"] != 2.0 || all.body["default_version"] != 2.0 {
		t.Fatalf("model status: %s", all.Body)
	}
	md := ts.do("GET", "/v1/models/gold/labels/stable/metadata", "")
	ext, _ := md.body["seqcast"].(map[string]any)
	if md.Code != 200 || md.body["model_spec"].(map[string]any)["version"] != "1" || jsonOf(ext["labels"]) != `["stable"]` ||
		jsonOf(ext["version_labels"]) != `{"canary":2,"stable":1}` {
		t.Fatalf("label metadata: %d %s", md.Code, md.Body)
	}
	if md := ts.do("GET", "/v1/models/gold/metadata", ""); jsonOf(md.body["seqcast"].(map[string]any)["labels"]) != `["canary"]` {
		t.Fatalf("metadata: %s", md.Body)
	}
	inst := make([][]float64, 1)
	for range 60 {
		inst[0] = append(inst[0], 0.5)
	}
	p1 := ts.do("POST", "/v1/models/gold/labels/stable:predict", `{"instances":`+jsonOf(inst)+`}`)
	pv := ts.do("POST", "/v1/models/gold/versions/1:predict", `{"instances":`+jsonOf(inst)+`}`)
	if p1.Code != 200 || jsonOf(p1.body["predictions"]) != jsonOf(pv.body["predictions"]) {
		t.Fatalf("label predict: %d %s vs %s", p1.Code, p1.Body, pv.Body)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		field, msg   string
	}{
		{"GET", "/v1/models/gold/labels/beta", 400, "label", "Unrecognized servable version label: beta"},
		{"GET", "/v1/models/gold/labels/beta/metadata", 400, "label", "Unrecognized servable version label"},
		{"POST", "/v1/models/gold/labels/beta:predict", 400, "label", "canary=2, stable=1"},
		{"GET", "/v1/models/silver/labels/stable", 404, "model", "not served"},
		{"GET", "/v1/models/gold/versions/3", 404, "version", "versions: 1, 2"},
	} {
		body := ""
		if tc.method == "POST" {
			body = `{"instances":` + jsonOf(inst) + `}`
		}
		r := ts.do(tc.method, tc.path, body)
		if r.Code != tc.status || r.errField("field") != tc.field || !strings.Contains(r.errField("message"), tc.msg) {
			t.Errorf("%s %s: %d %s, want %d field %q containing %q", tc.method, tc.path, r.Code, r.Body, tc.status, tc.field, tc.msg)
		}
	}
}

func TestHealthFields(t *testing.T) {
	ts := newServer(t, twoVersions(t, serving.ModelOptions{DefaultVersion: 1}), nil)
	r := ts.do("GET", "/health", "")
	want := `[{"labels":{"canary":2,"stable":1},"name":"gold","ready":true,"version":1,"versions":[1,2]}]`
	if r.Code != 200 || r.body["model_loaded"] != true || r.body["redis_connected"] != false || r.body["cache"] != "memory" ||
		jsonOf(r.body["models"]) != want {
		t.Fatalf("health: %d %s\nwant models %s", r.Code, r.Body, want)
	}
	// Before the models are loaded: still 200 (liveness), model_loaded false.
	unloaded := serving.NewRegistry(serving.Options{}, serving.ModelsDir(t.TempDir()))
	r = newServer(t, unloaded, nil).do("GET", "/health", "")
	if r.Code != 200 || r.body["model_loaded"] != false || jsonOf(r.body["models"]) != `[]` {
		t.Fatalf("health before load: %d %s", r.Code, r.Body)
	}
}

// TestHealthRedisConnected runs the background PING against a real
// redis-server: up, stopped (false within a few seconds, /health still 200),
// back; and the monitor stops with its context.
func TestHealthRedisConnected(t *testing.T) {
	addr, stop, restart := redistest.Start(t)
	ts, buf := redisServer(t, addr, cache.RedisOptions{SkipPing: true}, Config{CachePingInterval: 100 * time.Millisecond})
	s := ts.Server
	if r := ts.do("GET", "/health", ""); r.body["redis_connected"] != false {
		t.Fatalf("redis_connected before any PING: %s", r.Body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.MonitorCache(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := ts.do("GET", "/health", "")
			if r.Code != 200 || r.body["cache"] != "redis" {
				t.Fatalf("health: %d %s", r.Code, r.Body)
			}
			if r.body["redis_connected"] == want {
				// The gauge is set before /health's flag: it agrees.
				if up, ok := sample(ts.families(), "seqcast_redis_up", nil); !ok || (up == 1) != want {
					t.Fatalf("seqcast_redis_up = %v (found %v) while redis_connected is %v", up, ok, want)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("redis_connected did not turn %v within 5 s: %s", want, r.Body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(true)
	stop()
	t0 := time.Now()
	waitFor(false)
	t.Logf("redis_connected turned false %v after redis-server stopped", time.Since(t0).Round(time.Millisecond))
	restart()
	waitFor(true)
	if !strings.Contains(buf.String(), "redis does not answer PING") || !strings.Contains(buf.String(), "redis answers PING") {
		t.Errorf("transitions not logged:\n%s", buf.String())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("MonitorCache did not stop with its context")
	}
	// An in-process cache has nothing to PING: MonitorCache returns at once.
	mem := newServer(t, nil, nil)
	finished := make(chan struct{})
	go func() { mem.MonitorCache(context.Background()); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Second):
		t.Fatal("MonitorCache runs for an in-process cache")
	}
	if _, ok := sample(mem.families(), "seqcast_redis_up", nil); ok {
		t.Error("seqcast_redis_up exported with an in-process cache")
	}
}

func TestRootJSONOrRedirect(t *testing.T) {
	ts := newServer(t, nil, nil)
	for _, accept := range []string{"", "*/*", "application/json", "application/json, text/html", "text/html;q=0.5, application/json",
		"text/plain", "text/html;q=0"} {
		var hdr []string
		if accept != "" {
			hdr = []string{"Accept", accept}
		}
		r := ts.do("GET", "/", "", hdr...)
		links, _ := r.body["links"].(map[string]any)
		if r.Code != 200 || r.body["version"] != "test" || r.body["service"] != "seqcast" || !strings.Contains(r.body["message"].(string), "seqcast") ||
			links["docs"] != "/docs" || links["openapi"] != "/openapi.json" || links["health"] != "/health" ||
			jsonOf(r.body["models"]) != `[{"labels":{},"name":"gold","ready":true,"version":1,"versions":[1]}]` {
			t.Errorf("Accept %q: %d %s", accept, r.Code, r.Body)
		}
		if !strings.Contains(r.Header().Get("Vary"), "Accept") {
			t.Errorf("Accept %q: no Vary: Accept", accept)
		}
	}
	for _, accept := range []string{
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", // Firefox, Chrome
		"text/html", "application/json;q=0.5, text/html", "TEXT/HTML; charset=utf-8",
	} {
		r := ts.do("GET", "/", "", "Accept", accept)
		if r.Code != 302 || r.Header().Get("Location") != "/ui" {
			t.Errorf("Accept %q: %d %s, want the redirect to the forecast page /ui", accept, r.Code, r.Header())
		}
	}
}

// TestOpenAPIDescribesVersions: the served OpenAPI document has the query
// parameters, label routes, /health fields, GET / and X-Process-Time.
func TestOpenAPIDescribesVersions(t *testing.T) {
	doc := newServer(t, nil, nil).do("GET", "/openapi.json", "").body
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/", "/v1/models/{name}/labels/{label}:predict", "/v1/models/{name}/labels/{label}",
		"/v1/models/{name}/labels/{label}/metadata", "/v1/models/{name}/versions/{version}/metadata"} {
		if paths[p] == nil {
			t.Errorf("openapi lacks %s", p)
		}
	}
	for _, route := range []string{"/predict", "/predict/batch"} {
		if params := jsonOf(paths[route].(map[string]any)["post"].(map[string]any)["parameters"]); !strings.Contains(params, "ModelVersionQuery") ||
			!strings.Contains(params, "ModelQuery") {
			t.Errorf("%s lacks the query parameters: %s", route, params)
		}
	}
	comp := jsonOf(doc["components"])
	for _, want := range []string{`"redis_connected":{`, `"model_loaded":{`, `"ModelVersion":{`, `"X-Process-Time":{`, `"version_labels":{`} {
		if !strings.Contains(comp, want) {
			t.Errorf("openapi components lack %s", want)
		}
	}
	var walk func(v any) int
	walk = func(v any) int { // responses without the X-Process-Time header
		n := 0
		switch v := v.(type) {
		case map[string]any:
			if rs, ok := v["responses"].(map[string]any); ok {
				for _, r := range rs {
					if h, _ := r.(map[string]any)["headers"].(map[string]any); h["X-Process-Time"] == nil {
						n++
					}
				}
			}
			for _, c := range v {
				n += walk(c)
			}
		}
		return n
	}
	if n := walk(paths); n != 0 {
		t.Errorf("%d responses in the OpenAPI document lack X-Process-Time", n)
	}
}

func TestPrefersHTML(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		html   bool
	}{
		{nil, false}, {[]string{""}, false}, {[]string{"*/*"}, false}, {[]string{"text/*"}, false},
		{[]string{"text/html"}, true}, {[]string{"application/xhtml+xml"}, true},
		{[]string{"text/html, */*;q=0.1"}, true}, {[]string{"text/html;q=0.9, application/*"}, false},
		{[]string{"application/json;q=0.2, */*", "text/html;q=0.5"}, true},
		{[]string{"text/html;q=bogus"}, false}, {[]string{"text/html;level=1;q=1"}, true},
	} {
		if got := prefersHTML(tc.accept); got != tc.html {
			t.Errorf("prefersHTML(%q) = %v, want %v", tc.accept, got, tc.html)
		}
	}
}

func TestXProcessTime(t *testing.T) {
	ts := newServer(t, nil, func(c *Config) { c.CORSOrigins = []string{"https://a.example"} })
	for _, tc := range []struct {
		method, path, body string
		hdr                []string
		status             int
	}{
		{"GET", "/health", "", nil, 200},
		{"GET", "/", "", nil, 200},
		{"GET", "/", "", []string{"Accept", "text/html"}, 302},
		{"HEAD", "/", "", []string{"Accept", "text/html"}, 302}, // HEAD answered wherever GET is
		{"POST", "/predict", predictBody(prices(60, 1), ""), nil, 200},
		{"POST", "/predict", predictBody(prices(60, 1), ""), nil, 200}, // cached
		{"POST", "/predict", "{", nil, 400},
		{"GET", "/nope", "", nil, 404},
		{"DELETE", "/predict", "", nil, 405},
		{"GET", "/docs", "", nil, 200},
		{"GET", "/openapi.json", "", nil, 200},
		{"GET", "/metrics", "", nil, 200},
		{"OPTIONS", "/predict", "", []string{"Origin", "https://a.example", "Access-Control-Request-Method", "POST"}, 204},
		{"GET", "/v1/models/gold", "", nil, 200},
	} {
		r := ts.do(tc.method, tc.path, tc.body, tc.hdr...)
		v := r.Header().Get("X-Process-Time")
		sec, err := strconv.ParseFloat(v, 64)
		if r.Code != tc.status || err != nil || sec < 0 || sec > 10 || strings.ContainsAny(v, "eE") {
			t.Errorf("%s %s: %d, X-Process-Time %q (%v)", tc.method, tc.path, r.Code, v, err)
		}
		if tc.method == "POST" && r.Header().Get("Server-Timing") == "" {
			t.Errorf("%s %s: Server-Timing gone", tc.method, tc.path)
		}
	}
	if got := ts.do("OPTIONS", "/predict", "", "Origin", "https://a.example").Header().Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Process-Time") {
		t.Errorf("CORS does not expose X-Process-Time: %q", got)
	}
}

// TestXProcessTimeConcurrent checks that pooled request states never mix up
// one request's writer with another's (run with -race).
func TestXProcessTimeConcurrent(t *testing.T) {
	ts := newServer(t, nil, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				rec := httptest.NewRecorder()
				ts.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/predict", strings.NewReader(predictBody(prices(60, float64(i*100+j)), ""))))
				if rec.Code != 200 || rec.Header().Get("X-Process-Time") == "" {
					t.Errorf("%d: %d %q", i, rec.Code, rec.Header())
					return
				}
			}
		}()
	}
	wg.Wait()
}
