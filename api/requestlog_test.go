package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
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

// TestRequestLogLines: with the log at rate 1, each answered /predict and
// /predict/batch writes one "prediction" line whose predictions are the
// answer's, computed or cached, and every answer says its version in
// X-Model-Version.
func TestRequestLogLines(t *testing.T) {
	reg, err := goldRegistry()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := New(Config{CacheTTL: DefaultCacheTTL, RequestLogRate: 1,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, reg, cache.NewMemory(100))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	w1, w2 := prices(60, 3), prices(60, 9)
	type answer struct {
		PredictedPrice float64   `json:"predicted_price"`
		Forecast       []float64 `json:"forecast"`
		Predictions    []struct {
			PredictedPrice float64   `json:"predicted_price"`
			Forecast       []float64 `json:"forecast"`
		} `json:"predictions"`
	}
	post := func(path, body string) answer {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		if v := rec.Header().Get("X-Model-Version"); v != "1" {
			t.Errorf("%s: X-Model-Version %q, want 1", path, v)
		}
		var a answer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	batch := `{"instances":` + jsonOf([][]float64{w1, w2}) + `,"horizon":3}`
	answers := []answer{
		post("/predict", predictBody(w1, "")),
		post("/predict", predictBody(w1, "")), // cached
		post("/predict/batch", batch),
		post("/predict/batch", batch), // cached
	}
	type line struct {
		Msg   string `json:"msg"`
		Route string `json:"route"`
		Input struct {
			Windows int     `json:"windows"`
			Length  int     `json:"length"`
			Min     float64 `json:"min"`
			Max     float64 `json:"max"`
			Hash    string  `json:"hash"`
		} `json:"input"`
		Horizon     int      `json:"horizon"`
		Prediction  *float64 `json:"prediction"`
		Predictions []struct {
			Value    float64 `json:"value"`
			Interval *struct{ Lower, Upper float64 }
			Forecast []float64 `json:"forecast"`
		} `json:"predictions"`
		Warnings []any `json:"warnings"`
		Cached   bool  `json:"cached"`
	}
	var lines []line
	for _, l := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var ln line
		if err := json.Unmarshal(l, &ln); err != nil {
			t.Fatalf("log line %s: %v", l, err)
		}
		if ln.Msg == "prediction" {
			lines = append(lines, ln)
		}
	}
	if len(lines) != len(answers) {
		t.Fatalf("%d prediction lines for %d answers:\n%s", len(lines), len(answers), logs.Bytes())
	}
	for i, ln := range lines {
		cached := i%2 == 1
		if ln.Cached != cached || ln.Warnings == nil {
			t.Errorf("line %d: cached %v warnings %v, want %v and an array", i, ln.Cached, ln.Warnings, cached)
		}
		a := answers[i]
		if i < 2 {
			if ln.Route != "/predict" || ln.Input.Windows != 1 || ln.Input.Length != 60 || ln.Input.Hash != inputHash(w1) ||
				ln.Prediction == nil || *ln.Prediction != a.PredictedPrice || ln.Horizon != 1 || ln.Predictions != nil {
				t.Errorf("line %d (/predict): %+v, answer %+v", i, ln, a)
			}
			continue
		}
		if ln.Route != "/predict/batch" || ln.Input.Windows != 2 || ln.Input.Length != 60 || ln.Input.Hash != inputHash(w1, w2) ||
			ln.Input.Min != min(slices.Min(w1), slices.Min(w2)) || ln.Input.Max != max(slices.Max(w1), slices.Max(w2)) ||
			ln.Horizon != 3 || ln.Prediction != nil || len(ln.Predictions) != 2 {
			t.Fatalf("line %d (/predict/batch): %+v", i, ln)
		}
		for j, p := range ln.Predictions {
			if p.Value != a.Predictions[j].PredictedPrice || !slices.Equal(p.Forecast, a.Predictions[j].Forecast) || p.Interval == nil {
				t.Errorf("line %d prediction %d: %+v, answer %+v", i, j, p, a.Predictions[j])
			}
		}
	}
}
