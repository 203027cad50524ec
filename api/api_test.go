package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// goldRegistry loads the embedded gold bundle once for the read-only tests.
var goldRegistry = sync.OnceValues(func() (*serving.Registry, error) {
	reg := serving.NewRegistry(serving.Options{}, serving.Embedded("gold", 0, models.Gold()))
	return reg, reg.Load(context.Background())
})

type testServer struct {
	*Server
	t   *testing.T
	log *bytes.Buffer
}

// newServer builds a server over reg (nil: the shared gold registry) with an
// in-memory cache; mod adjusts the config.
func newServer(t *testing.T, reg *serving.Registry, mod func(*Config)) *testServer {
	t.Helper()
	if reg == nil {
		var err error
		if reg, err = goldRegistry(); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	cfg := Config{Logger: slog.New(slog.NewJSONHandler(&syncWriter{w: &buf}, nil)), Version: "test", CacheTTL: DefaultCacheTTL}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, reg, cache.NewMemory(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testServer{Server: s, t: t, log: &buf}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

func (r resp) errField(k string) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e[k].(string)
	return s
}

// do sends a request; body strings are sent as application/json.
func (ts *testServer) do(method, path, body string, hdr ...string) resp {
	ts.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	ts.Handler().ServeHTTP(rec, req)
	r := resp{ResponseRecorder: rec}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
			ts.t.Fatalf("%s %s: response is not JSON: %v: %s", method, path, err, rec.Body)
		}
	}
	return r
}

// prices is a gold-like window of n daily prices; seed varies it.
func prices(n int, seed float64) []float64 {
	p := make([]float64, n)
	for i := range p {
		p[i] = 1900 + seed + 15*float64(i%7) - 3*float64(i%5) + 0.5*float64(i)
	}
	return p
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func predictBody(p []float64, extra string) string {
	return `{"historical_prices":` + jsonOf(p) + extra + `}`
}

func TestPredictAndCache(t *testing.T) {
	ts := newServer(t, nil, nil)
	body := predictBody(prices(70, 1), "")
	r := ts.do("POST", "/predict", body, "X-Request-ID", "client-id-42")
	if r.Code != 200 {
		t.Fatalf("status %d: %s", r.Code, r.Body)
	}
	if r.Header().Get("X-Request-ID") != "client-id-42" || !strings.Contains(r.Header().Get("Server-Timing"), "total;dur=") {
		t.Fatalf("headers %v", r.Header())
	}
	p, _ := r.body["predicted_price"].(float64)
	if p < 1800 || p > 2100 || r.body["cached"] != false || r.body["model"] != "gold" || r.body["model_version"] != 1.0 {
		t.Fatalf("body %v", r.body)
	}
	if c := r.body["confidence"]; c != "high" && c != "medium" && c != "low" {
		t.Fatalf("confidence %v", c)
	}
	iv := r.body["interval"].(map[string]any)
	if !(iv["lower"].(float64) < p && p < iv["upper"].(float64)) || iv["level"] != 0.9 {
		t.Fatalf("interval %v around %g", iv, p)
	}
	if _, ok := r.body["response_time_ms"].(float64); !ok || r.body["forecast"] != nil {
		t.Fatalf("body %v", r.body)
	}
	r2 := ts.do("POST", "/predict", body)
	if r2.Code != 200 || r2.body["cached"] != true || r2.body["predicted_price"] != p {
		t.Fatalf("second call: %d %v", r2.Code, r2.body)
	}
	// Only the last 60 prices count: a longer history with the same tail hits.
	r3 := ts.do("POST", "/predict", predictBody(append([]float64{1, 2, 3}, prices(70, 1)...), ""))
	if r3.body["cached"] != true {
		t.Fatalf("same window, longer history: %v", r3.body)
	}
	// With a horizon: a forecast of that many steps, cached separately.
	r4 := ts.do("POST", "/predict", predictBody(prices(70, 1), `,"horizon":5`))
	fc, _ := r4.body["forecast"].([]any)
	if r4.Code != 200 || len(fc) != 5 || fc[0] != p || r4.body["cached"] != false {
		t.Fatalf("horizon: %d %v", r4.Code, r4.body)
	}
	if ivs, _ := r4.body["forecast_intervals"].([]any); len(ivs) != 5 {
		t.Fatalf("forecast intervals %v", r4.body["forecast_intervals"])
	}
	if r5 := ts.do("POST", "/predict", predictBody(prices(70, 1), `,"horizon":5,"model":"gold","model_version":1`)); r5.body["cached"] != true {
		t.Fatalf("horizon repeat: %v", r5.body)
	}
	// curl -d sends application/x-www-form-urlencoded: still JSON to us.
	req := httptest.NewRequest("POST", "/predict", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	ts.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"cached":true`) {
		t.Fatalf("curl-style request: %d %s", rec.Code, rec.Body)
	}
	// The access log has one line per request with id, route, status, cached.
	var line map[string]any
	if err := json.Unmarshal(bytes.SplitN(ts.log.Bytes(), []byte("\n"), 2)[0], &line); err != nil {
		t.Fatal(err)
	}
	if line["request_id"] != "client-id-42" || line["route"] != "/predict" || line["status"] != 200.0 || line["cached"] != false || line["model_version"] != 1.0 {
		t.Fatalf("log line %v", line)
	}
}

func TestBatch(t *testing.T) {
	ts := newServer(t, nil, nil)
	ws := [][]float64{prices(60, 0), prices(61, 40), prices(90, -80)}
	r := ts.do("POST", "/predict/batch", `{"instances":`+jsonOf(ws)+`}`)
	if r.Code != 200 || r.body["count"] != 3.0 || r.body["cached"] != false {
		t.Fatalf("%d %v", r.Code, r.body)
	}
	preds := r.body["predictions"].([]any)
	for i, w := range ws { // in order, equal to single predictions
		one := ts.do("POST", "/predict", predictBody(w, ""))
		if got := preds[i].(map[string]any)["predicted_price"]; got != one.body["predicted_price"] {
			t.Errorf("window %d: batch %v, single %v", i, got, one.body["predicted_price"])
		}
	}
	if r := ts.do("POST", "/predict/batch", `{"instances":`+jsonOf(ws)+`}`); r.body["cached"] != true {
		t.Fatalf("repeat batch not cached: %v", r.body)
	}
	r = ts.do("POST", "/predict/batch", `{"horizon":3,"instances":`+jsonOf(ws[:1])+`}`)
	if fc := r.body["predictions"].([]any)[0].(map[string]any)["forecast"].([]any); len(fc) != 3 {
		t.Fatalf("batch horizon: %v", r.body)
	}
}

func TestErrors(t *testing.T) {
	ts := newServer(t, nil, func(c *Config) { c.BodyLimit = 64 << 10; c.MaxBatch = 5 })
	ok := jsonOf(prices(60, 0))
	six := jsonOf([][]float64{prices(60, 0), prices(60, 0), prices(60, 0), prices(60, 0), prices(60, 0), prices(60, 0)})
	big := `{"historical_prices":[` + strings.Repeat("1900.12345,", 7000) + `1]}`
	for _, tc := range []struct {
		name, method, path, body, ctype string
		status                          int
		code, field                     string
	}{
		{"malformed", "POST", "/predict", `{"historical_prices":[1,2`, "", 400, CodeBadJSON, ""},
		{"not an object", "POST", "/predict", `[1,2,3]`, "", 400, CodeBadJSON, ""},
		{"empty body", "POST", "/predict", ``, "", 400, CodeBadJSON, ""},
		{"trailing garbage", "POST", "/predict", `{"historical_prices":` + ok + `} x`, "", 400, CodeBadJSON, ""},
		{"content type", "POST", "/predict", `{}`, "text/xml", 415, CodeMediaType, ""},
		{"bad content type", "POST", "/predict", `{}`, "nonsense/", 415, CodeMediaType, ""},
		{"too large", "POST", "/predict", big, "", 413, CodeTooLarge, ""},
		{"missing prices", "POST", "/predict", `{}`, "", 422, CodeInvalid, "historical_prices"},
		{"too few", "POST", "/predict", `{"historical_prices":[1,2,3]}`, "", 422, CodeInvalid, "historical_prices"},
		{"null price", "POST", "/predict", `{"historical_prices":[null` + strings.Repeat(",1900", 60) + `]}`, "", 422, CodeInvalid, "historical_prices[0]"},
		{"string price", "POST", "/predict", `{"historical_prices":["x"` + strings.Repeat(",1900", 60) + `]}`, "", 422, CodeInvalid, "historical_prices[0]"},
		{"overflow", "POST", "/predict", `{"historical_prices":[1e400` + strings.Repeat(",1900", 60) + `]}`, "", 422, CodeInvalid, "historical_prices[0]"},
		{"absurd", "POST", "/predict", `{"historical_prices":[1900` + strings.Repeat(",1900", 58) + `,1e13]}`, "", 422, CodeInvalid, "historical_prices[59]"},
		{"prices wrong type", "POST", "/predict", `{"historical_prices":"1,2"}`, "", 422, CodeInvalid, "historical_prices"},
		{"horizon 0", "POST", "/predict", `{"horizon":0,"historical_prices":` + ok + `}`, "", 422, CodeInvalid, "horizon"},
		{"horizon 31", "POST", "/predict", `{"horizon":31,"historical_prices":` + ok + `}`, "", 422, CodeInvalid, "horizon"},
		{"horizon float", "POST", "/predict", `{"horizon":1.5,"historical_prices":` + ok + `}`, "", 422, CodeInvalid, "horizon"},
		{"unknown model", "POST", "/predict", `{"model":"silver","historical_prices":` + ok + `}`, "", 404, CodeNotFound, "model"},
		{"unknown version", "POST", "/predict", `{"model_version":7,"historical_prices":` + ok + `}`, "", 404, CodeNotFound, "model_version"},
		{"bad version", "POST", "/predict", `{"model_version":-1,"historical_prices":` + ok + `}`, "", 422, CodeInvalid, "model_version"},
		{"batch missing", "POST", "/predict/batch", `{}`, "", 422, CodeInvalid, "instances"},
		{"batch empty", "POST", "/predict/batch", `{"instances":[]}`, "", 422, CodeInvalid, "instances"},
		{"batch over limit", "POST", "/predict/batch", `{"instances":` + six + `}`, "", 422, CodeInvalid, "instances"},
		{"batch short window", "POST", "/predict/batch", `{"instances":[` + ok + `,[1,2]]}`, "", 422, CodeInvalid, "instances[1]"},
		{"batch bad value", "POST", "/predict/batch", `{"instances":[[null` + strings.Repeat(",1", 60) + `]]}`, "", 422, CodeInvalid, "instances[0][0]"},
		{"batch unknown model", "POST", "/predict/batch", `{"model":"x","instances":[` + ok + `]}`, "", 404, CodeNotFound, "model"},
		{"no route", "GET", "/nope", ``, "", 404, CodeNotFound, ""},
		{"wrong method", "GET", "/predict", ``, "", 405, CodeMethodNotAllowed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			} else if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("X-Request-ID", "rid-"+strings.ReplaceAll(tc.name, " ", "-"))
			rec := httptest.NewRecorder()
			ts.Handler().ServeHTTP(rec, req)
			var body struct{ Error *Error }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil {
				t.Fatalf("status %d, body %s: not the error shape", rec.Code, rec.Body)
			}
			e := body.Error
			if rec.Code != tc.status || e.Code != tc.code || e.Field != tc.field || e.Message == "" || e.RequestID != "rid-"+strings.ReplaceAll(tc.name, " ", "-") {
				t.Fatalf("got %d %+v, want %d %s field %q", rec.Code, e, tc.status, tc.code, tc.field)
			}
		})
	}
	// A chunked body (no Content-Length) over the limit is cut off too.
	req := httptest.NewRequest("POST", "/predict", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	ts.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("chunked over limit: %d %s", rec.Code, rec.Body)
	}
}

// TestNoClientCanCause500 throws malformed and hostile bodies at every POST
// route.
func TestNoClientCanCause500(t *testing.T) {
	ts := newServer(t, nil, nil)
	bodies := []string{`null`, `true`, `"x"`, `{"historical_prices":null}`, `{"instances":null}`, `{"instances":[[]]}`,
		`{"instances":[[[]]]}`, `{"instances":[[[1,2]]]}`, `{"instances":{"a":1}}`, `{"inputs":[1]}`, `{"historical_prices":[[1]]}`,
		`{"horizon":"3"}`, `{"model":5}`, `{"instances":[` + strings.Repeat("[", 5000) + `]}`, `{"historical_prices":[-1e12` + strings.Repeat(",1e12", 60) + `]}`,
		`{"historical_prices":[0` + strings.Repeat(",0", 60) + `]}`, `{"historical_prices":[-5` + strings.Repeat(",-5", 60) + `],"horizon":30}`,
		"\x00\xff", `{"a":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat("}", 101)}
	for _, path := range []string{"/predict", "/predict/batch", "/v1/models/gold:predict", "/v1/models/gold/versions/1:predict", "/v1/models/gold:reload", "/v1/models/:predict", "/v1/models/gold:classify"} {
		for _, b := range bodies {
			if r := ts.do("POST", path, b); r.Code >= 500 {
				t.Errorf("POST %s %.60q: %d %s", path, b, r.Code, r.Body)
			}
		}
	}
}

func TestTFServing(t *testing.T) {
	ts := newServer(t, nil, nil)
	w := prices(60, 0)
	inst := make([][][]float64, 2)
	for i := range inst {
		for _, v := range w {
			inst[i] = append(inst[i], []float64{(v - 1900) / 100})
		}
	}
	r := ts.do("POST", "/v1/models/gold:predict", `{"signature_name":"serving_default","instances":`+jsonOf(inst)+`}`)
	if r.Code != 200 {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	preds := r.body["predictions"].([]any)
	if len(preds) != 2 || len(preds[0].([]any)) != 1 || preds[0].([]any)[0] != preds[1].([]any)[0] {
		t.Fatalf("predictions %v", preds)
	}
	// (N, T) is accepted for one-feature models, "inputs" like "instances",
	// and a version path.
	flat := [][]float64{make([]float64, 60)}
	for i, s := range inst[0] {
		flat[0][i] = s[0]
	}
	r2 := ts.do("POST", "/v1/models/gold/versions/1:predict", `{"inputs":`+jsonOf(flat)+`}`)
	if r2.Code != 200 || r2.body["predictions"].([]any)[0].([]any)[0] != preds[0].([]any)[0] {
		t.Fatalf("(N,T) inputs: %d %v", r2.Code, r2.body)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/v1/models/silver:predict", `{"instances":[]}`, 404, "model"},
		{"POST", "/v1/models/gold/versions/9:predict", `{"instances":` + jsonOf(inst) + `}`, 404, "version"},
		{"POST", "/v1/models/gold/versions/x:predict", `{}`, 404, "version"},
		{"POST", "/v1/models/gold:predict", `{}`, 422, "instances"},
		{"POST", "/v1/models/gold:predict", `{"instances":[[[1]]]}`, 422, "instances[0]"},
		{"POST", "/v1/models/gold:predict", `{"instances":"x"}`, 422, "instances"},
		{"POST", "/v1/models/gold:predict", `{"instances":[[[1,2]` + strings.Repeat(",[1,2]", 59) + `]]}`, 422, "instances[0][0]"},
		{"POST", "/v1/models/gold:regress", `{}`, 404, ""},
		{"GET", "/v1/models/gold:predict", ``, 405, ""},
		{"GET", "/v1/models/", ``, 404, ""},
		{"GET", "/v1/models/gold/labels/stable", ``, 400, "label"},
		{"GET", "/v1/models/gold/labels/", ``, 404, "label"},
		{"GET", "/v1/models/silver", ``, 404, "model"},
		{"GET", "/v1/models/gold/versions/3", ``, 404, "version"},
	} {
		if r := ts.do(tc.method, tc.path, tc.body); r.Code != tc.status || r.errField("field") != tc.field {
			t.Errorf("%s %s %s: %d %s, want %d field %q", tc.method, tc.path, tc.body, r.Code, r.Body, tc.status, tc.field)
		}
	}
	st := ts.do("GET", "/v1/models/gold", "")
	vs := st.body["model_version_status"].([]any)[0].(map[string]any)
	if st.Code != 200 || vs["version"] != "1" || vs["state"] != "AVAILABLE" || vs["status"].(map[string]any)["error_code"] != "OK" {
		t.Fatalf("status %v", st.body)
	}
	if st := ts.do("GET", "/v1/models/gold/versions/1", ""); st.Code != 200 {
		t.Fatalf("version status %d", st.Code)
	}
	md := ts.do("GET", "/v1/models/gold/metadata", "")
	if md.Code != 200 || md.body["model_spec"].(map[string]any)["version"] != "1" ||
		!strings.Contains(md.Body.String(), `"dim":[{"size":"-1","name":""},{"size":"60","name":""},{"size":"1","name":""}]`) ||
		md.body["seqcast"].(map[string]any)["backtest"] == nil {
		t.Fatalf("metadata %s", md.Body)
	}
}

func TestParseTFPath(t *testing.T) {
	for in, want := range map[string]tfPath{
		"/gold":                        {name: "gold"},
		"/gold:predict":                {name: "gold", verb: "predict"},
		"/gold/versions/3:predict":     {name: "gold", version: 3, verb: "predict"},
		"/gold/versions/3/metadata":    {name: "gold", version: 3, metadata: true},
		"/gold/metadata":               {name: "gold", metadata: true},
		"/gold/labels/canary":          {name: "gold", label: "canary"},
		"/gold/labels/canary:predict":  {name: "gold", label: "canary", verb: "predict"},
		"/gold/labels/stable/metadata": {name: "gold", label: "stable", metadata: true},
	} {
		got, e := parseTFPath(in)
		if e != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, e)
		}
	}
	for _, in := range []string{"/", "", "/gold/versions/0", "/gold/x", "/gold/metadata:predict", "/gold/labels/", "/gold/labels/a/b",
		"/gold/versions/1/labels/a"} {
		if _, e := parseTFPath(in); e == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestHealthReadyMetricsDocs(t *testing.T) {
	ts := newServer(t, nil, nil)
	ts.do("POST", "/predict", predictBody(prices(60, 3), ""))
	ts.do("POST", "/predict", predictBody(prices(60, 3), ""))
	if r := ts.do("GET", "/health", ""); r.Code != 200 || r.body["status"] != "healthy" {
		t.Fatalf("health %d %v", r.Code, r.body)
	}
	if r := ts.do("GET", "/ready", ""); r.Code != 200 || r.body["ready"] != true {
		t.Fatalf("ready %d %v", r.Code, r.body)
	}
	ts.SetDraining(true)
	if r := ts.do("GET", "/ready", ""); r.Code != 503 || r.errField("code") != CodeNotReady {
		t.Fatalf("ready while draining %d %v", r.Code, r.body)
	}
	ts.SetDraining(false)
	if m := ts.do("GET", "/metrics", ""); m.Code != 200 || !strings.Contains(m.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics %d %s", m.Code, m.Header())
	}
	fams := ts.families()
	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64 // -1: any
	}{
		{"seqcast_http_requests_total", map[string]string{"method": "POST", "route": "/predict", "status": "200"}, 2},
		{"seqcast_cache_requests_total", map[string]string{"backend": "memory", "result": "hit"}, 1},
		{"seqcast_cache_requests_total", map[string]string{"backend": "memory", "result": "miss"}, 1},
		{"seqcast_http_request_duration_seconds", map[string]string{"route": "/predict"}, -1},
		{"seqcast_request_batch_size", map[string]string{"route": "/predict"}, 2},
		{"seqcast_http_in_flight_requests", nil, 0}, // gathered outside a request
		{"seqcast_model_info", map[string]string{"default": "1", "model": "gold"}, 1},
		{"seqcast_ready", nil, 1},
		{"go_goroutines", nil, -1},
	} {
		if v, ok := sample(fams, want.name, want.labels); !ok || (want.value >= 0 && v != want.value) {
			t.Errorf("metrics: %s%v = %v (found %v), want %v", want.name, want.labels, v, ok, want.value)
		}
	}
	o := ts.do("GET", "/openapi.json", "")
	if o.Code != 200 || o.body["openapi"] == nil {
		t.Fatalf("openapi %d", o.Code)
	}
	paths := o.body["paths"].(map[string]any)
	for _, p := range []string{"/predict", "/predict/batch", "/v1/models/{name}:predict", "/health", "/ready", "/metrics"} {
		if paths[p] == nil {
			t.Errorf("openapi lacks %s", p)
		}
	}
	d := ts.do("GET", "/docs", "")
	if d.Code != 200 || !strings.Contains(d.Header().Get("Content-Type"), "text/html") || !strings.Contains(d.Body.String(), "/predict") ||
		strings.Contains(d.Body.String(), "https://") {
		t.Fatalf("docs %d %s", d.Code, d.Header())
	}
}

func TestForwardMetricsAndNotReady(t *testing.T) {
	met := NewMetrics()
	reg := serving.NewRegistry(serving.Options{Observer: met.ObserveForward}, serving.Embedded("gold", 0, models.Gold()))
	ts := newServer(t, reg, func(c *Config) { c.Metrics = met })
	if r := ts.do("GET", "/ready", ""); r.Code != 503 {
		t.Fatalf("ready before load: %d", r.Code)
	}
	if r := ts.do("POST", "/predict", predictBody(prices(60, 0), "")); r.Code != 503 {
		t.Fatalf("predict before load: %d", r.Code)
	}
	if r := ts.do("POST", "/v1/models/gold:predict", `{"instances":[[[1]]]}`); r.Code != 503 {
		t.Fatalf("tf predict before load: %d", r.Code)
	}
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.do("POST", "/predict", predictBody(prices(60, 0), `,"horizon":4`))
	if n, ok := sample(ts.families(), "seqcast_model_forward_duration_seconds", map[string]string{"model": "gold", "version": "1"}); !ok || n != 4 {
		t.Fatalf("seqcast_model_forward_duration_seconds count %v (found %v), want 4 (one pass per horizon step)", n, ok)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSingleflight(t *testing.T) {
	met := NewMetrics()
	var forwards atomic.Int32
	release := make(chan struct{})
	var once sync.Once
	reg := serving.NewRegistry(serving.Options{Observer: func(m string, v int64, n int, d time.Duration) {
		forwards.Add(1)
		once.Do(func() { <-release }) // hold the first computation
		met.ObserveForward(m, v, n, d)
	}}, serving.Embedded("gold", 0, models.Gold()))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, reg, func(c *Config) { c.Metrics = met })
	const n = 8
	body := predictBody(prices(60, 9), "")
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() { codes[i] = ts.do("POST", "/predict", body).Code })
	}
	// Every request has missed the cache once the miss counter reaches n; the
	// first computation is still held, so all of them join its flight.
	for ts.cache.Stats().Misses < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := forwards.Load(); got != 1 {
		t.Fatalf("%d forward passes for %d identical concurrent requests", got, n)
	}
	for i, c := range codes {
		if c != 200 {
			t.Fatalf("request %d: %d", i, c)
		}
	}
}

func TestAPIKeysRateLimitCORS(t *testing.T) {
	ts := newServer(t, nil, func(c *Config) {
		c.APIKeys = []string{"k1", "secret-two"}
		c.CORSOrigins = []string{"https://app.example"}
	})
	body := predictBody(prices(60, 0), "")
	if r := ts.do("POST", "/predict", body); r.Code != 401 || r.errField("code") != CodeUnauthorized {
		t.Fatalf("no key: %d", r.Code)
	}
	if r := ts.do("POST", "/predict", body, "X-API-Key", "wrong"); r.Code != 401 {
		t.Fatalf("wrong key: %d", r.Code)
	}
	if r := ts.do("POST", "/predict", body, "X-API-Key", "secret-two"); r.Code != 200 {
		t.Fatalf("key: %d", r.Code)
	}
	if r := ts.do("GET", "/metrics", "", "Authorization", "Bearer k1"); r.Code != 200 {
		t.Fatalf("bearer: %d", r.Code)
	}
	for _, p := range []string{"/health", "/ready"} {
		if r := ts.do("GET", p, ""); r.Code != 200 {
			t.Fatalf("%s without key: %d", p, r.Code)
		}
	}
	if strings.Contains(ts.log.String(), "secret-two") {
		t.Fatal("an API key reached the log")
	}
	// CORS: preflight from an allowed origin, refusal for others.
	r := ts.do("OPTIONS", "/predict", "", "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	if r.Code != 204 || r.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("preflight: %d %v", r.Code, r.Header())
	}
	if r := ts.do("OPTIONS", "/predict", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST"); r.Code != 403 {
		t.Fatalf("preflight from another origin: %d", r.Code)
	}
	if r := ts.do("GET", "/health", "", "Origin", "https://app.example"); r.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("simple CORS request: %v", r.Header())
	}

	rl := newServer(t, nil, func(c *Config) { c.RateLimit = 0.5; c.RateBurst = 2 })
	for i := range 2 {
		if r := rl.do("POST", "/predict", body); r.Code != 200 {
			t.Fatalf("request %d within burst: %d", i, r.Code)
		}
	}
	r = rl.do("POST", "/predict", body)
	if r.Code != 429 || r.Header().Get("Retry-After") != "2" || r.errField("code") != CodeRateLimited {
		t.Fatalf("over the limit: %d %v", r.Code, r.Header())
	}
	if r := rl.do("GET", "/health", ""); r.Code != 200 {
		t.Fatalf("health is not rate limited: %d", r.Code)
	}
}

func TestLimiterForgetsIdleClients(t *testing.T) {
	l := newLimiter(1, 1, DefaultRateClients)
	now := time.Now()
	if ok, _ := l.allow("a", now); !ok {
		t.Fatal("first request refused")
	}
	if ok, retry := l.allow("a", now); ok || retry != 1 {
		t.Fatalf("second request: %v %d", ok, retry)
	}
	l.allow("b", now.Add(2*clientIdle))
	if len(l.clients) != 1 {
		t.Fatalf("%d clients remembered", len(l.clients))
	}
}

func TestPanicRecovered(t *testing.T) {
	ts := newServer(t, nil, nil)
	ts.engine.GET("/boom", func(*gin.Context) { panic("boom") })
	r := ts.do("GET", "/boom", "", "X-Request-ID", "rid-panic")
	if r.Code != 500 || r.errField("code") != CodeInternal || r.errField("request_id") != "rid-panic" || !strings.Contains(r.errField("message"), "rid-panic") {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	if !strings.Contains(ts.log.String(), `"msg":"panic"`) {
		t.Fatal("panic not logged")
	}
}

// copyBundle writes the embedded gold bundle to dir, replacing files.
func copyBundle(t *testing.T, dir string, replace map[string]string) {
	t.Helper()
	src := models.Gold()
	err := fsWalk(src, func(p string, b []byte) error {
		if r, ok := replace[p]; ok {
			b = []byte(r)
		}
		out := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReloadEndpoint(t *testing.T) {
	root := t.TempDir()
	copyBundle(t, filepath.Join(root, "gold", "1"), nil)
	reg := serving.NewRegistry(serving.Options{}, serving.ModelsDir(root))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, reg, func(c *Config) { c.AdminKey = "adm" })
	if r := ts.do("POST", "/v1/models/gold:reload", ""); r.Code != 401 {
		t.Fatalf("reload without key: %d", r.Code)
	}
	if r := ts.do("POST", "/v1/models/silver:reload", "", "X-Admin-Key", "adm"); r.Code != 404 {
		t.Fatalf("reload unknown: %d", r.Code)
	}
	body := predictBody(prices(60, 0), "")
	v1 := ts.do("POST", "/predict", body)
	// A broken version 2 is refused; version 1 keeps serving.
	copyBundle(t, filepath.Join(root, "gold", "2"), map[string]string{"scaler.json": `{"format":"seqcast-scaler/1","window":7}`})
	r := ts.do("POST", "/v1/models/gold:reload", "", "Authorization", "Bearer adm")
	if r.Code != 409 || r.errField("code") != CodeReloadFailed || !strings.Contains(r.errField("message"), "scaler") {
		t.Fatalf("broken reload: %d %s", r.Code, r.Body)
	}
	if r := ts.do("POST", "/predict", body); r.body["model_version"] != 1.0 || r.body["cached"] != true {
		t.Fatalf("after failed reload: %v", r.body)
	}
	if st := ts.do("GET", "/v1/models/gold", ""); st.body["last_reload_error"] == nil {
		t.Fatalf("status after failed reload: %v", st.body)
	}
	copyBundle(t, filepath.Join(root, "gold", "2"), nil)
	r = ts.do("POST", "/v1/models/gold:reload", "", "X-Admin-Key", "adm")
	if r.Code != 200 || r.body["version"] != 2.0 {
		t.Fatalf("reload: %d %s", r.Code, r.Body)
	}
	v2 := ts.do("POST", "/predict", body)
	if v2.body["model_version"] != 2.0 || v2.body["cached"] != false || v2.body["predicted_price"] != v1.body["predicted_price"] {
		t.Fatalf("after reload: %v (before %v)", v2.body, v1.body)
	}
	fams := ts.families()
	for _, result := range []string{"error", "ok"} {
		if n, ok := sample(fams, "seqcast_model_reloads_total", map[string]string{"result": result}); !ok || n != 1 {
			t.Fatalf("seqcast_model_reloads_total{result=%q} = %v (found %v), want 1", result, n, ok)
		}
	}
	if r := newServer(t, reg, nil).do("POST", "/v1/models/gold:reload", "", "X-Admin-Key", "adm"); r.Code != 403 {
		t.Fatalf("reload without an admin key configured: %d", r.Code)
	}
}

func TestCacheKey(t *testing.T) {
	reg, err := goldRegistry()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := reg.Get("gold", 0)
	w := [][]float64{prices(60, 0)}
	k := cacheKey("predict", m, 1, w)
	w2 := [][]float64{prices(60, 0)}
	w2[0][59] += 1e-9
	for name, other := range map[string]string{
		"horizon": cacheKey("predict", m, 2, w),
		"kind":    cacheKey("batch", m, 1, w),
		"values":  cacheKey("predict", m, 1, w2),
	} {
		if other == k {
			t.Errorf("%s does not change the key", name)
		}
	}
	if cacheKey("predict", m, 1, [][]float64{prices(60, 0)}) != k {
		t.Error("key is not deterministic")
	}
	if !strings.Contains(k, "gold:1:") {
		t.Errorf("key %q", k)
	}
}

func BenchmarkPredictCached(b *testing.B) {
	reg, err := goldRegistry()
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{CacheTTL: DefaultCacheTTL}, reg, cache.NewMemory(100))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(predictBody(prices(60, 0), ""))
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/predict", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkPredictUncached(b *testing.B) {
	reg, err := goldRegistry()
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{CacheTTL: 0}, reg, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest("POST", "/predict", strings.NewReader(predictBody(prices(60, float64(i)), "")))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// fsWalk calls fn with every regular file of fsys.
func fsWalk(fsys fs.FS, fn func(p string, b []byte) error) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return fn(p, b)
	})
}

func TestMultipleModels(t *testing.T) {
	reg := serving.NewRegistry(serving.Options{}, serving.Embedded("gold", 0, models.Gold()),
		serving.BundleDir("sales", 0, "../weights/testdata/keras3-sales-bilstm"))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, reg, nil)
	if r := ts.do("POST", "/predict", `{"model":"sales","historical_prices":[1,2,3,4,5,6,7,8]}`); r.Code != 200 || r.body["model"] != "sales" {
		t.Fatalf("sales: %d %v", r.Code, r.body)
	}
	if r := ts.do("POST", "/predict", `{"historical_prices":[1,2,3,4,5,6,7,8]}`); r.Code != 422 || r.errField("field") != "historical_prices" {
		t.Fatalf("default gold with 8 prices: %d %v", r.Code, r.body)
	}
	if r := ts.do("POST", "/v1/models/sales:predict", `{"instances":[[1,2,3,4,5,6,7,8]]}`); r.Code != 200 {
		t.Fatalf("sales TF predict: %d %s", r.Code, r.Body)
	}
	fams := ts.families()
	if info := series(fams, "seqcast_model_info", nil); len(info) != 2 || len(series(fams, "seqcast_model_info", map[string]string{"default": "1"})) != 2 {
		t.Fatalf("seqcast_model_info: %v, want one default series per model", info)
	}
}
