package reliability

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// longRuns reports whether the long fault, reload, shutdown and soak runs
// are wanted (make reliability); otherwise they run briefly or are skipped.
func longRuns() bool { return os.Getenv("SEQCAST_RELIABILITY_LONG") != "" }

// pick returns short normally and long under `make reliability`.
func pick(short, long time.Duration) time.Duration {
	if longRuns() {
		return long
	}
	return short
}

// result is one request of a load run.
type result struct {
	start, end time.Time
	status     int
	err        error
	cached     bool
	version    float64
	price      float64
	body       string // first bytes of a non-200 body
}

// loadSpec drives a load run.
type loadSpec struct {
	workers int
	rate    float64 // total requests per second; 0: as fast as possible
	// next returns the i-th request's method, path and body.
	next func(i int64) (method, path, body string, hdr []string)
}

// runLoad sends requests until ctx ends and returns every result.
func runLoad(ctx context.Context, base string, spec loadSpec) []result {
	tr := &http.Transport{MaxIdleConnsPerHost: spec.workers, MaxConnsPerHost: spec.workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 15 * time.Second, Transport: tr}
	var (
		mu  sync.Mutex
		out []result
		seq atomic.Int64
		wg  sync.WaitGroup
	)
	for range spec.workers {
		wg.Go(func() {
			var tick *time.Ticker
			if spec.rate > 0 {
				tick = time.NewTicker(time.Duration(float64(spec.workers) / spec.rate * float64(time.Second)))
				defer tick.Stop()
			}
			var local []result
			for ctx.Err() == nil {
				if tick != nil {
					select {
					case <-ctx.Done():
						continue
					case <-tick.C:
					}
				}
				method, path, body, hdr := spec.next(seq.Add(1))
				local = append(local, send(c, method, base+path, body, hdr))
			}
			mu.Lock()
			out = append(out, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b result) int { return a.start.Compare(b.start) })
	return out
}

func send(c *http.Client, method, url, body string, hdr []string) result {
	r := result{start: time.Now()}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		r.err, r.end = err, time.Now()
		return r
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.end, r.status, r.err = time.Now(), resp.StatusCode, err
	if r.status != 200 {
		r.body = string(b[:min(len(b), 300)])
		return r
	}
	var m struct {
		Cached         bool    `json:"cached"`
		ModelVersion   float64 `json:"model_version"`
		PredictedPrice float64 `json:"predicted_price"`
	}
	if json.Unmarshal(b, &m) == nil {
		r.cached, r.version, r.price = m.Cached, m.ModelVersion, m.PredictedPrice
	}
	return r
}

// summary counts a run's outcomes and latency percentiles.
type summary struct {
	n, ok, failed, cached int
	p50, p99, max         time.Duration
	firstFailure          string
}

func summarize(rs []result) summary {
	var s summary
	lat := make([]time.Duration, 0, len(rs))
	for _, r := range rs {
		s.n++
		switch {
		case r.err == nil && r.status == 200:
			s.ok++
			if r.cached {
				s.cached++
			}
		default:
			s.failed++
			if s.firstFailure == "" {
				if r.err != nil {
					s.firstFailure = r.err.Error()
				} else {
					s.firstFailure = strconv.Itoa(r.status) + " " + r.body
				}
			}
		}
		if !r.end.IsZero() {
			lat = append(lat, r.end.Sub(r.start))
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		s.p50, s.p99, s.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return s
}

func (s summary) String() string {
	return strconv.Itoa(s.n) + " requests, " + strconv.Itoa(s.failed) + " failed, " + strconv.Itoa(s.cached) + " cached; p50 " +
		s.p50.Round(10*time.Microsecond).String() + ", p99 " + s.p99.Round(10*time.Microsecond).String() + ", max " + s.max.Round(10*time.Microsecond).String()
}

// between returns the results that started in [from, to).
func between(rs []result, from, to time.Time) []result {
	var out []result
	for _, r := range rs {
		if !r.start.Before(from) && r.start.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

// metric reads one unlabelled sample (or the sum over the series whose
// labels include labelSub, one `name="value"` pair) from /metrics.
func metric(t testing.TB, base, name, labelSub string) float64 {
	t.Helper()
	want := map[string]string{}
	if labelSub != "" {
		k, v, ok := strings.Cut(labelSub, "=")
		uq, err := strconv.Unquote(v)
		if !ok || err != nil {
			t.Fatalf("metric %s: label %q: want name=\"value\"", name, labelSub)
		}
		want[k] = uq
	}
	return scrape(t, base, name, want)
}
