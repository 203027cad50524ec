package api

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// families gathers the server's registry, by family name.
func (ts *testServer) families() map[string]*dto.MetricFamily {
	ts.t.Helper()
	fams, err := ts.metrics.Registry().Gather()
	if err != nil {
		ts.t.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// series returns the series of family name whose labels include want.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range fams[name].GetMetric() {
		n := 0
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				n++
			}
		}
		if n == len(want) {
			out = append(out, m)
		}
	}
	return out
}

// sample is the value of the one series of name with labels want: a
// counter's or gauge's value, a histogram's sample count. ok is false unless
// exactly one series matches.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, ok bool) {
	s := series(fams, name, want)
	if len(s) != 1 {
		return 0, false
	}
	switch m := s[0]; {
	case m.Counter != nil:
		return m.GetCounter().GetValue(), true
	case m.Gauge != nil:
		return m.GetGauge().GetValue(), true
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount()), true
	case m.Untyped != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

// TestMetricsLint runs client_golang's metric lint (names, units, help,
// counter suffixes) over every family the server exports once each kind of
// request has been seen, the Go and process collectors included.
func TestMetricsLint(t *testing.T) {
	ts := newServer(t, nil, nil)
	ts.do("POST", "/predict", predictBody(prices(60, 5), ""))
	ts.do("POST", "/predict", predictBody(prices(60, 5), ""))
	ts.do("POST", "/predict/batch", `{"instances":[`+jsonOf(prices(60, 6))+`]}`)
	ts.do("POST", "/predict", `{"historical_prices":[1]}`)
	neg := prices(60, 7)
	for i := range neg {
		neg[i] = -neg[i] // out of the training range: seqcast_out_of_range_total
	}
	ts.do("POST", "/predict", predictBody(neg, ""))
	ts.do("GET", "/health", "")
	fams := ts.families()
	var seqcast int
	for name := range fams {
		if strings.HasPrefix(name, "seqcast_") {
			seqcast++
		}
	}
	if seqcast < 8 {
		t.Fatalf("only %d seqcast_ families gathered", seqcast)
	}
	problems, err := testutil.GatherAndLint(ts.metrics.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	t.Logf("%d families linted (%d seqcast_), %d problems", len(fams), seqcast, len(problems))
}
