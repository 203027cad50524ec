package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkForecastUncached is one uncached POST /v1/timeseries/forecast of
// two gold series, horizon 1: the route with its checks, canary hash and
// request log (off).
func BenchmarkForecastUncached(b *testing.B) {
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
		body := `{"model":"gold","options":{"horizon":1},"inputs":[` +
			`{"type":"univariate_time_series","name":"a","series":` + jsonOf(prices(60, float64(i))) + `,"frequency":"D"},` +
			`{"type":"univariate_time_series","name":"b","series":` + jsonOf(prices(60, float64(-i))) + `,"frequency":"D"}]}`
		req := httptest.NewRequest("POST", "/v1/timeseries/forecast", strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"completed"`) {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
