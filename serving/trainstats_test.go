package serving

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// walk is a positive random walk of n rows (one column) around level.
func walk(r *rand.Rand, n int, level, vol float64) [][]float64 {
	x := make([][]float64, n)
	v := level
	for i := range x {
		v *= 1 + vol*r.NormFloat64()
		x[i] = []float64{v}
	}
	return x
}

func flat(x [][]float64) []float64 {
	out := make([]float64, 0, len(x)*len(x[0]))
	for _, r := range x {
		out = append(out, r...)
	}
	return out
}

func TestTrainingStatsCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	train := walk(r, 3000, 100, 0.01)
	const T = 20
	rel, err := ComputeTrainingStats(train, T, []string{"price"}, true)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ComputeTrainingStats(train, T, []string{"price"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range []*TrainingStats{rel, raw} {
		data, err := ts.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseTrainingStats(data, T, 1); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if _, err := ParseTrainingStats(data, T+1, 1); err == nil {
			t.Fatal("a window of another length was accepted")
		}
	}
	in := flat(walk(r, T, 100, 0.01))
	scaled := make([]float64, T)
	neg := make([]float64, T)
	wild := make([]float64, T)
	for i, v := range in {
		scaled[i], neg[i], wild[i] = 50*v, -v, v*(1+0.5*float64(i%2))
	}
	cases := []struct {
		name   string
		ts     *TrainingStats
		window []float64
		want   []string // features warned about
	}{
		{"relative in range", rel, in, nil},
		{"relative ignores the level", rel, scaled, nil},
		{"relative negative price", rel, neg, []string{StatLevelSign}},
		{"relative wild steps", rel, wild, []string{StatRelativeSpread, StatRelativeStep}},
		{"raw in range", raw, in, nil},
		{"raw level far above", raw, scaled, []string{"value"}},
		{"raw negative price", raw, neg, []string{"value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := newMonitor(c.ts).observe(c.window, 1, nil)
			if len(got) != len(c.want) {
				t.Fatalf("warnings %+v, want features %v", got, c.want)
			}
			for i, w := range got {
				if w.Feature != c.want[i] || w.Reason == "" {
					t.Errorf("warning %d: %+v, want feature %s", i, w, c.want[i])
				}
			}
		})
	}
}

func TestDriftPSI(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const T = 20
	train := walk(r, 5000, 100, 0.01)
	ts, err := ComputeTrainingStats(train, T, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	run := func(vol float64) float64 {
		m := newMonitor(ts)
		series := walk(r, DriftWindows+T, 100, vol)
		var last []DriftValue
		for i := 0; i < DriftWindows; i++ {
			if d := m.record(mustVals(m, flat(series[i:i+T]))); d != nil {
				last = d
			}
		}
		if len(last) != 2 {
			t.Fatalf("drift values %+v: want relative spread and step", last)
		}
		return math.Max(last[0].PSI, last[1].PSI)
	}
	p0 := run(0.01)
	t.Logf("PSI in distribution %.3f", p0)
	if p := p0; p > 0.1 {
		t.Errorf("in-distribution PSI %g, want <= 0.1", p)
	}
	if p := run(0.03); p < 0.25 {
		t.Errorf("three times the volatility: PSI %g, want > 0.25", p)
	}
}

// mustVals is the statistics observe would record for a window.
func mustVals(m *monitor, w []float64) []float64 {
	s := windowStats(w)
	return s[:]
}

// BenchmarkCheckInput is the per-window cost of the out-of-range check and
// the drift ring for the gold model's training_stats.json.
func BenchmarkCheckInput(b *testing.B) {
	data, err := os.ReadFile("../models/gold/training_stats.json")
	if err != nil {
		b.Fatal(err)
	}
	ts, err := ParseTrainingStats(data, 60, 1)
	if err != nil {
		b.Fatal(err)
	}
	m := &Model{window: 60, features: 1, monitor: newMonitor(ts)}
	w := flat(walk(rand.New(rand.NewPCG(5, 6)), 60, 1900, 0.01))
	b.ReportAllocs()
	for b.Loop() {
		if warns, _ := m.CheckInput(w); warns != nil {
			b.Fatal(warns)
		}
	}
}
