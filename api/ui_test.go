package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestForecastPage: the page and its files are served from the binary
// without an API key (the API still wants one), with a policy that keeps the
// page to this server; a browser's GET / lands on the page and an API
// client's GET / keeps the JSON; the model card's numbers (the backtest's
// metrics beside the naive forecast's) are in the TF Serving metadata. The
// page itself is tested in Chromium by cmd/seqcast's TestForecastPageInChromium.
func TestForecastPage(t *testing.T) {
	ts := newServer(t, nil, func(c *Config) { c.APIKeys = []string{"k1"} })
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/ui", "text/html", `src="/ui/app.js"`},
		{"/ui/app.js", "text/javascript", `"/predict"`},
		{"/ui/app.css", "text/css", "@media"},
		{"/ui/gold-demo.json", "application/json", `"values":[`},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			r := ts.do(method, tc.path, "")
			if r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), tc.ctype) ||
				!strings.Contains(r.Header().Get("Content-Security-Policy"), "connect-src 'self'") {
				t.Errorf("%s %s without a key: %d %v", method, tc.path, r.Code, r.Header())
			}
			body := strings.ReplaceAll(r.Body.String(), `"http://www.w3.org/2000/svg"`, "") // a name, not a fetch
			if method == "GET" && (!strings.Contains(body, tc.contains) || strings.Contains(body, "://")) {
				t.Errorf("GET %s: want %q and no absolute URL in the body", tc.path, tc.contains)
			}
		}
	}
	var demo struct{ Values []float64 }
	if err := json.Unmarshal(ts.do("GET", "/ui/gold-demo.json", "").Body.Bytes(), &demo); err != nil || len(demo.Values) < 60 {
		t.Errorf("demo series: %d values (%v), want at least the gold window", len(demo.Values), err)
	}
	for _, tc := range []struct {
		method, path, accept string
		want                 int
	}{
		{"GET", "/", "text/html,*/*;q=0.8", 302}, // a browser: to the page, no key needed
		{"GET", "/", "application/json", 401},    // the API's JSON still needs a key
		{"POST", "/predict", "", 401},
		{"GET", "/v1/models/gold/metadata", "", 401},
		{"GET", "/ui/nope.js", "", 404},
		{"POST", "/ui", "", 401},
	} {
		if r := ts.do(tc.method, tc.path, "", "Accept", tc.accept); r.Code != tc.want {
			t.Errorf("%s %s (Accept %q) without a key: %d, want %d", tc.method, tc.path, tc.accept, r.Code, tc.want)
		} else if tc.want == 302 && r.Header().Get("Location") != "/ui" {
			t.Errorf("GET / from a browser: Location %q, want /ui", r.Header().Get("Location"))
		}
	}
	r := ts.do("GET", "/v1/models/gold/metadata", "", "X-API-Key", "k1")
	var meta struct {
		Seqcast struct {
			Backtest struct{ Metrics, Naive map[string]float64 }
		}
	}
	if err := json.Unmarshal(r.Body.Bytes(), &meta); err != nil || r.Code != 200 {
		t.Fatalf("metadata: %d %v", r.Code, err)
	}
	// models/gold/backtest.json: test_mae and naive_test.mae.
	if bt := meta.Seqcast.Backtest; bt.Metrics["mae"] != 12.932439767860778 || bt.Naive["mae"] != 12.544108910891087 || len(bt.Naive) != 3 {
		t.Errorf("metadata backtest: metrics %v, naive %v", bt.Metrics, bt.Naive)
	}
}
