package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// TestAdmissionHTTP checks how admission control's decisions reach a
// client: a shed request is 503 "overloaded" with Retry-After, counted by
// reason; a small request is answered while the large lane is full; the
// queued-samples gauge follows the queue; a client that has gone is logged
// and counted as client_gone (499), never as what the handler wrote.
func TestAdmissionHTTP(t *testing.T) {
	metrics := NewMetrics()
	adm := serving.NewAdmission(metrics.Admission(serving.AdmissionOptions{LargeSlots: 1, MaxQueuedWork: 3500}))
	reg := serving.NewRegistry(serving.Options{Admission: adm}, serving.Embedded("gold", 0, models.Gold()))
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, reg, func(c *Config) { c.Metrics, c.CacheTTL = metrics, 0 })
	m, err := reg.Get("gold", 0)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(n int) string {
		w := make([][]float64, n)
		for i := range w {
			w[i] = prices(m.Window(), float64(i))
		}
		return `{"instances":` + jsonOf(w) + `,"horizon":30}`
	}
	shed := func(reason serving.ShedReason) float64 {
		return testutil.ToFloat64(metrics.shed.WithLabelValues("gold", string(reason)))
	}

	// Hold the large lane, and queue 1000 sample-steps behind it.
	hold, err := adm.Admit(context.Background(), "gold", 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	qctx, cancelQueued := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() { _, err := adm.Admit(qctx, "gold", 1000, 1); queued <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(metrics.queued.WithLabelValues("gold")) != 1000 {
		if time.Now().After(deadline) {
			t.Fatal("seqcast_queued_samples{model=\"gold\"} never reached 1000")
		}
		time.Sleep(time.Millisecond)
	}

	for _, tc := range []struct {
		name   string
		body   string
		hdr    []string
		status int
		code   string
		reason serving.ShedReason
	}{
		{"queue full", batch(100), nil, http.StatusServiceUnavailable, CodeOverloaded, serving.ShedQueueFull},
		{"deadline passes in the queue", batch(20), []string{RequestTimeoutHeader, "100ms"}, http.StatusServiceUnavailable, CodeOverloaded, serving.ShedDeadline},
		{"small request beside the queue", predictBody(prices(m.Window(), 0), `,"horizon":5`), nil, http.StatusOK, "", ""},
		{"bad timeout header", batch(1), []string{RequestTimeoutHeader, "soon"}, http.StatusBadRequest, CodeBadRequest, ""},
		{"negative timeout header", batch(1), []string{RequestTimeoutHeader, "-1"}, http.StatusBadRequest, CodeBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := 0.0
			if tc.reason != "" {
				before = shed(tc.reason)
			}
			path := "/predict/batch"
			if strings.HasPrefix(tc.body, `{"historical_prices"`) {
				path = "/predict"
			}
			t0 := time.Now()
			r := ts.do(http.MethodPost, path, tc.body, tc.hdr...)
			if r.Code != tc.status || r.errField("code") != tc.code {
				t.Fatalf("%d %s, want %d %q", r.Code, r.Body, tc.status, tc.code)
			}
			if tc.status == http.StatusServiceUnavailable {
				if ra, err := strconv.Atoi(r.Header().Get("Retry-After")); err != nil || ra < 1 {
					t.Errorf("Retry-After %q, want whole seconds >= 1", r.Header().Get("Retry-After"))
				}
			}
			if tc.reason != "" && shed(tc.reason) != before+1 {
				t.Errorf("seqcast_shed_requests_total{reason=%q} went from %v to %v, want +1", tc.reason, before, shed(tc.reason))
			}
			t.Logf("%s: %d in %v", tc.name, r.Code, time.Since(t0).Round(time.Millisecond))
		})
	}

	t.Run("client gone", func(t *testing.T) {
		before := shed(serving.ShedClientGone)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequest(http.MethodPost, "/predict/batch", strings.NewReader(batch(20))).WithContext(ctx)
		req.Header.Set("Content-Type", "application/json")
		ts.Handler().ServeHTTP(httptest.NewRecorder(), req)
		if shed(serving.ShedClientGone) < before+1 {
			t.Errorf("client_gone not counted (%v, was %v)", shed(serving.ShedClientGone), before)
		}
		if got := testutil.ToFloat64(metrics.requests.WithLabelValues("/predict/batch", "POST", "499")); got != 1 {
			t.Errorf("seqcast_http_requests_total{status=\"499\"} = %v, want 1", got)
		}
		if !strings.Contains(ts.log.String(), `"status":499`) {
			t.Errorf("no status 499 in the log:\n%s", ts.log)
		}
	})

	cancelQueued()
	if err := <-queued; err == nil {
		t.Fatal("the cancelled queued request was admitted")
	}
	hold()
	if got := testutil.ToFloat64(metrics.queued.WithLabelValues("gold")); got != 0 {
		t.Fatalf("seqcast_queued_samples after the queue emptied: %v", got)
	}
}

func TestParseRequestTimeout(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1.5s", 1500 * time.Millisecond, true}, {"800ms", 800 * time.Millisecond, true}, {"2.5", 2500 * time.Millisecond, true},
		{"0", 0, false}, {"-1s", 0, false}, {"NaN", 0, false}, {"1e400", 0, false}, {"2h", 0, false}, {"", 0, false}, {"soon", 0, false},
	} {
		got, ok := parseRequestTimeout(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("%q: %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
