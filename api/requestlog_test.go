package api

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/seqcast/seqcast/cache"
)

func TestRequestLogRateChecked(t *testing.T) {
	reg, err := goldRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []float64{-0.1, 1.5} {
		if _, err := New(Config{RequestLogRate: rate}, reg, cache.NewMemory(10)); err == nil {
			t.Errorf("request log rate %v accepted", rate)
		}
	}
}

// BenchmarkPredictCachedRequestLog is BenchmarkPredictCached (the cheapest
// /predict: the request log's cost is largest next to it) with the request
// log off and on (every request, JSON to io.Discard).
func BenchmarkPredictCachedRequestLog(b *testing.B) {
	reg, err := goldRegistry()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		rate   float64
		values bool
	}{{"rate=0", 0, false}, {"rate=1", 1, false}, {"rate=1,values", 1, true}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := New(Config{CacheTTL: DefaultCacheTTL, RequestLogRate: bc.rate, RequestLogValues: bc.values,
				Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, reg, cache.NewMemory(100))
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
		})
	}
}
