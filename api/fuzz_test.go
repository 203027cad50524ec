package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// The fuzz targets below drive the real gin engine (the gold model, a small
// in-memory cache, a small body limit) with fuzzed request bodies, content
// types and paths, and check what every client-facing route promises: no
// panic, never a 5xx, and every 4xx in the one error shape. `go test` runs
// their seeds (f.Add and testdata/fuzz/<Name>/); `make fuzz` mutates them.

var fuzzRegistry = sync.OnceValues(func() (*serving.Registry, error) {
	reg := serving.NewRegistry(serving.Options{}, serving.Embedded("gold", 0, models.Gold()))
	return reg, reg.Load(context.Background())
})

// fuzzServer builds one server for a fuzz target; the API key and admin key
// make the auth middleware and the reload route part of what is fuzzed.
func fuzzServer(f *testing.F, keys bool) *Server {
	f.Helper()
	reg, err := fuzzRegistry()
	if err != nil {
		f.Fatal(err)
	}
	cfg := Config{BodyLimit: 64 << 10, MaxBatch: 8, Version: "fuzz", CacheTTL: DefaultCacheTTL}
	if keys {
		cfg.APIKeys, cfg.AdminKey = []string{"fuzz-key"}, "fuzz-admin"
	}
	s, err := New(cfg, reg, cache.NewMemory(64))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	return s
}

// checkResponse fails on a 5xx, or a 4xx that is not {"error":{"code","message",...}}.
func checkResponse(t *testing.T, method, path string, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s %q body %.200q: status %d: %s", method, path, body, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		if rec.Code == http.StatusOK && !json.Valid(rec.Body.Bytes()) && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s %q: 200 with invalid JSON: %.200s", method, path, rec.Body)
		}
		return
	}
	var eb struct {
		Error *Error `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("%s %q body %.200q: status %d without the error shape: %.300s", method, path, body, rec.Code, rec.Body)
	}
}

func serveFuzz(t *testing.T, s *Server, method, path, ctype string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/", strings.NewReader(string(body)))
	req.URL.Path, req.RequestURI = path, path
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	checkResponse(t, method, path, body, rec)
	return rec
}

// fuzzWindow is a valid 60-price window, as JSON.
func fuzzWindow(base float64) string {
	p := make([]float64, 60)
	for i := range p {
		p[i] = 1900 + base + 15*float64(i%7) - 3*float64(i%5) + 0.5*float64(i)
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// hostileBodies seed every body target.
func hostileBodies() []string {
	w := fuzzWindow(0)
	return []string{
		``, `null`, `{}`, `[]`, `"x"`, `1`, `{"a":1}`, "\x00\xff\xfe", `{"historical_prices":` + w + `}`,
		`{"historical_prices":` + w + `,"horizon":30}`, `{"historical_prices":` + w + `,"horizon":0}`,
		`{"historical_prices":` + w + `,"horizon":1e3}`, `{"historical_prices":` + w + `,"horizon":"2"}`,
		`{"historical_prices":` + w + `,"model":"../../etc/passwd"}`, `{"historical_prices":` + w + `,"model_version":9223372036854775807}`,
		`{"historical_prices":` + w + `,"historical_prices":[1]}`, `{"historical_prices":[1e400` + strings.Repeat(",1", 60) + `]}`,
		`{"historical_prices":["NaN"` + strings.Repeat(",1", 60) + `]}`, `{"historical_prices":[-0` + strings.Repeat(",5e-324", 60) + `]}`,
		`{"historical_prices":[1e12` + strings.Repeat(",-1e12", 60) + `],"horizon":30}`,
		`{"instances":[` + w + `,` + fuzzWindow(3) + `]}`, `{"instances":[` + w + `],"horizon":30}`,
		`{"instances":[[` + w + `]]}`, `{"instances":[]}`, `{"instances":[[]]}`, `{"instances":{"0":1}}`,
		`{"inputs":[` + w + `]}`, `{"instances":[` + strings.Repeat(w+",", 9) + w + `]}`,
		`{"signature_name":"serving_default","instances":[` + w + `]}`,
		`{"a":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}`,
		`{"historical_prices":[1,2` + strings.Repeat(`,1.5`, 20) + `}`,
		"{\"model\":\"\xff\xfe\",\"historical_prices\":" + w + "}",
	}
}

// FuzzPredict fuzzes POST /predict's body and content type.
func FuzzPredict(f *testing.F) {
	s := fuzzServer(f, false)
	for _, b := range hostileBodies() {
		f.Add([]byte(b), "application/json")
	}
	f.Add([]byte(`{"historical_prices":`+fuzzWindow(1)+`}`), "")
	f.Add([]byte(`{"historical_prices":`+fuzzWindow(2)+`}`), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"historical_prices":`+fuzzWindow(3)+`}`), "application/vnd.api+json; charset=utf-8")
	f.Add([]byte(`{}`), "text/plain")
	f.Add([]byte(`{}`), "application/json; charset=\"")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		rec := serveFuzz(t, s, http.MethodPost, "/predict", ctype, body)
		if rec.Code == http.StatusOK {
			var r struct {
				PredictedPrice *float64 `json:"predicted_price"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &r) != nil || r.PredictedPrice == nil {
				t.Fatalf("200 without predicted_price: %.300s", rec.Body)
			}
		}
	})
}

// FuzzPredictBatch fuzzes POST /predict/batch's body.
func FuzzPredictBatch(f *testing.F) {
	s := fuzzServer(f, false)
	for _, b := range hostileBodies() {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		serveFuzz(t, s, http.MethodPost, "/predict/batch", "application/json", body)
	})
}

// FuzzTFServing fuzzes the path after /v1/models/, the method and the body
// of the TF Serving routes (:predict, :reload, status, metadata), with API
// and admin keys configured.
func FuzzTFServing(f *testing.F) {
	s := fuzzServer(f, true)
	w := fuzzWindow(0)
	paths := []string{"gold:predict", "gold/versions/1:predict", "gold/versions/0:predict", "gold/versions/-1:predict",
		"gold/versions/99999999999999999999:predict", "gold/metadata", "gold", "gold:reload", "gold:classify", ":predict",
		"../gold:predict", "..%2fgold:predict", "%2e%2e/%2e%2e/etc/passwd:predict", "gold/versions/1/metadata:predict",
		"gold:predict:predict", "gold/:predict", "/gold:predict", "gold/versions/:predict"}
	bodies := []string{`{"instances":[` + w + `]}`, `{"inputs":[` + w + `]}`, `{"instances":[[[1]]]}`, `{}`, `{"instances":[[` + w + `]]}`}
	for i, p := range paths {
		f.Add(p, "POST", []byte(bodies[i%len(bodies)]), "fuzz-key")
	}
	f.Add("gold", "GET", []byte(nil), "fuzz-key")
	f.Add("gold/metadata", "GET", []byte(nil), "wrong")
	f.Add("gold:reload", "POST", []byte(nil), "fuzz-admin")
	f.Add("gold:predict", "DELETE", []byte(nil), "")
	f.Fuzz(func(t *testing.T, rest, method string, body []byte, key string) {
		if !validMethod(method) || strings.ContainsAny(rest, "?#") {
			return
		}
		path := "/v1/models/" + rest
		var hdr []string
		if key != "" && validHeaderValue(key) {
			hdr = []string{"X-API-Key", key, "X-Admin-Key", key}
		}
		serveFuzz(t, s, method, path, "application/json", body, hdr...)
	})
}

// FuzzParseTFPath fuzzes the TF Serving path grammar on its own.
func FuzzParseTFPath(f *testing.F) {
	for _, p := range []string{"/gold", "/gold:predict", "/gold/versions/3:predict", "/gold/versions/3/metadata", "/", "", ":", "/a:b/c",
		"/gold/versions/", "/gold/versions/x", "/gold/metadata:predict", "/../../x:reload"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		p, e := parseTFPath(rest)
		if e != nil {
			if e.Status < 400 || e.Status >= 500 || e.Code == "" {
				t.Fatalf("parseTFPath(%q): bad error %+v", rest, e)
			}
			return
		}
		if p.name == "" || strings.Contains(p.name, "/") || p.version < 0 {
			t.Fatalf("parseTFPath(%q) = %+v", rest, p)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
