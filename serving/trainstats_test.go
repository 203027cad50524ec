package serving

import (
	"cmp"
	"math"
	"math/rand/v2"
	"os"
	"slices"
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
			w := flat(series[i : i+T])
			if d := m.record(w, mustVals(w)); d != nil {
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

// mustVals is the statistics observe would record for a window of one
// column.
func mustVals(w []float64) []float64 {
	s := windowStats(w)
	return s[:]
}

// BenchmarkCheckInput is the per-window cost of the out-of-range check and
// the drift ring for the gold model's training_stats.json: "distinct" cycles
// through 2,048 different windows, so every one is new to the ring (hash,
// evict, insert: the worst case), "repeated" sends one window again and
// again (hash, found, not counted).
func BenchmarkCheckInput(b *testing.B) {
	data, err := os.ReadFile("../models/gold/training_stats.json")
	if err != nil {
		b.Fatal(err)
	}
	ts, err := ParseTrainingStats(data, 60, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	series := flat(walk(r, 2048+60, 1900, 0.01))
	for _, c := range []struct {
		name    string
		windows int
	}{{"distinct", 2048}, {"repeated", 1}} {
		b.Run(c.name, func(b *testing.B) {
			m := &Model{window: 60, features: 1, monitor: newMonitor(ts)}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if warns, _ := m.CheckInput(series[i : i+60]); warns != nil {
					b.Fatal(warns)
				}
				if i++; i == c.windows {
					i = 0
				}
			}
		})
	}
}

// regimes is a positive random walk whose volatility changes every block
// rows, cycling through vols: a series of several volatility regimes.
func regimes(r *rand.Rand, block int, vols ...float64) [][]float64 {
	var x [][]float64
	level := 100.0
	for _, vol := range vols {
		part := walk(r, block, level, vol)
		level = part[len(part)-1][0]
		x = append(x, part...)
	}
	return x
}

// replay feeds the windows of T rows of x in order to m and returns every
// PSI value that fell due, per feature.
func replay(m *monitor, x [][]float64, T int) map[string][]DriftValue {
	out := map[string][]DriftValue{}
	for i := 0; i+T <= len(x); i++ {
		_, d := m.observe(flat(x[i:i+T]), len(x[0]), nil)
		for _, v := range d {
			out[v.Feature] = append(out[v.Feature], v)
		}
	}
	return out
}

// TestDriftCalibration: ComputeTrainingStats records the PSI of the training
// windows' own blocks, and a server monitor replaying those windows stays
// within the threshold it derives from it; a series of two volatility
// regimes needs a threshold far above 0.25, which a fivefold volatility
// still crosses.
func TestDriftCalibration(t *testing.T) {
	const T = 20
	cases := []struct {
		name    string
		x       [][]float64
		windows int // the blocks' size; 0: no calibration
		blocks  int
		over    bool // the threshold is above DefaultDriftThreshold
	}{
		// 6,000 rows, 5,981 windows: blocks of 1,000 every 100.
		{"two regimes", regimes(rand.New(rand.NewPCG(7, 8)), 1500, 0.003, 0.02, 0.003, 0.02), DriftWindows, 50, true},
		{"one regime", walk(rand.New(rand.NewPCG(9, 10)), 3000, 100, 0.01), DriftWindows, 20, false},
		// 619 windows: blocks of 309, the first full at window 309.
		{"short: half blocks", regimes(rand.New(rand.NewPCG(11, 12)), 319, 0.003, 0.02), 309, 4, true},
		// 199 windows: fewer than 2*DriftEvery, no calibration.
		{"too short", walk(rand.New(rand.NewPCG(13, 14)), 199+T-1, 100, 0.01), 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, err := ComputeTrainingStats(c.x, T, []string{"price"}, true)
			if err != nil {
				t.Fatal(err)
			}
			data, err := ts.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if ts, err = ParseTrainingStats(data, T, 1); err != nil { // as a server loads it
				t.Fatal(err)
			}
			m := newMonitor(ts)
			for _, i := range m.drift {
				f := ts.Stats[i]
				d := f.Drift
				if c.windows == 0 {
					if d != nil {
						t.Fatalf("%s: calibration %+v from %d windows", f.Name, *d, len(c.x)-T+1)
					}
					if got := f.Drift.Threshold(); got != DefaultDriftThreshold {
						t.Errorf("%s: threshold %g without calibration", f.Name, got)
					}
					continue
				}
				if d == nil || d.Windows != c.windows || d.Blocks != c.blocks {
					t.Fatalf("%s: calibration %+v, want %d blocks of %d", f.Name, d, c.blocks, c.windows)
				}
				t.Logf("%s: PSI of %d blocks: p50 %.3f p99 %.3f max %.3f", f.Name, d.Blocks, d.PSIP50, d.PSIP99, d.PSIMax)
				if over := d.Threshold() > DefaultDriftThreshold; over != c.over {
					t.Errorf("%s: threshold %.3f: above %g %v, want %v", f.Name, d.Threshold(), DefaultDriftThreshold, over, c.over)
				}
			}
			if want := cmp.Or(c.windows, DriftWindows); m.size != want {
				t.Errorf("ring of %d windows, want %d", m.size, want)
			}
			// The server replaying the training windows: within the
			// threshold every time, and as many PSI values as blocks.
			for name, vals := range replay(m, c.x, T) {
				if len(vals) != c.blocks {
					t.Errorf("%s: %d PSI values, want %d", name, len(vals), c.blocks)
				}
				for k, v := range vals {
					if v.PSI > v.Threshold {
						t.Errorf("%s: block %d: PSI %.4f over the threshold %.4f", name, k, v.PSI, v.Threshold)
					}
				}
			}
			if c.windows == 0 {
				return
			}
			// Fivefold volatility, in its own regime, crosses it.
			worst := 0.0
			for _, vals := range replay(newMonitor(ts), walk(rand.New(rand.NewPCG(15, 16)), c.windows+T-1, 100, 0.1), T) {
				for _, v := range vals {
					worst = max(worst, v.PSI/v.Threshold)
				}
			}
			if worst <= 1 {
				t.Errorf("fivefold volatility: PSI at most %.2f of the threshold, want past it", worst)
			}
		})
	}
}

// TestDriftDistinctWindows: a window already in the ring is not counted
// again, so 1,000 copies of one window weigh as one window.
func TestDriftDistinctWindows(t *testing.T) {
	const T = 20
	r := rand.New(rand.NewPCG(17, 18))
	ts, err := ComputeTrainingStats(walk(r, 5000, 100, 0.01), T, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	series := walk(r, DriftWindows+T, 100, 0.01)
	wild := flat(walk(r, T, 100, 0.2)) // far into the top bins
	windows := make([][]float64, DriftWindows)
	windows[0] = wild
	for i := 1; i < DriftWindows; i++ {
		windows[i] = flat(series[i : i+T])
	}
	cases := []struct {
		name   string
		copies int // of the wild window, each sent after every window
	}{
		{"once", 1},
		{"1,000 times", 1000},
	}
	var psis [][]DriftValue
	for _, c := range cases {
		m := newMonitor(ts)
		var got []DriftValue
		for i, w := range windows {
			n := 1
			if i == 0 {
				n = c.copies
			}
			for range n {
				if _, d := m.observe(w, 1, nil); d != nil {
					got = append(got, d...)
				}
			}
			if i > 0 && i%3 == 0 { // copies between other windows too
				for range c.copies - 1 {
					if _, d := m.observe(wild, 1, nil); d != nil {
						t.Fatalf("%s: a repeated window made a PSI due", c.name)
					}
				}
			}
		}
		if m.n != DriftWindows || m.seen != DriftWindows || len(got) != 2 {
			t.Fatalf("%s: %d windows in the ring, %d seen, PSI %+v: want %d, one each", c.name, m.n, m.seen, got, DriftWindows)
		}
		psis = append(psis, got)
	}
	for k := range psis[0] {
		if psis[0][k] != psis[1][k] {
			t.Errorf("%s: PSI %.6f with the window once, %.6f with it 1,000 times", psis[0][k].Feature, psis[0][k].PSI, psis[1][k].PSI)
		}
	}
	// Without distinct windows the copies would be most of the ring.
	m := newMonitor(ts)
	for range DriftWindows {
		m.observe(wild, 1, nil)
	}
	if m.n != 1 {
		t.Errorf("1,000 copies: %d windows in the ring, want 1", m.n)
	}
}

// TestHashSet checks the drift ring's set against a map through adds and
// deletes that collide (every key in one small table's few home slots) and
// wrap around its end.
func TestHashSet(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	cases := []struct {
		name string
		key  func() uint64
	}{
		{"random", func() uint64 { return max(r.Uint64(), 1) }},
		{"colliding", func() uint64 { return r.Uint64N(1<<20)<<8 | uint64(60+r.IntN(4)) }}, // homes 60..63 of 64
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newHashSet(30) // 64 slots
			ref := map[uint64]bool{}
			var order []uint64
			for step := range 20000 {
				if len(order) == 30 || (len(order) > 0 && r.IntN(3) == 0) {
					k := r.IntN(len(order))
					h := order[k]
					order = append(order[:k], order[k+1:]...)
					s.del(h)
					delete(ref, h)
				} else if h := c.key(); !ref[h] {
					s.add(h)
					ref[h] = true
					order = append(order, h)
				}
				for _, h := range order {
					if !s.has(h) {
						t.Fatalf("step %d: %x lost", step, h)
					}
				}
				n := 0
				for _, k := range s.keys {
					if k != 0 {
						n++
						if !ref[k] {
							t.Fatalf("step %d: %x still in the set", step, k)
						}
					}
				}
				if n != len(ref) {
					t.Fatalf("step %d: %d keys, want %d", step, n, len(ref))
				}
			}
		})
	}
}

func TestWindowHash(t *testing.T) {
	w := []float64{1, 2, 3, 4}
	cases := []struct {
		name string
		w    []float64
		same bool
	}{
		{"equal values", []float64{1, 2, 3, 4}, true},
		{"one value's last bit", []float64{1, 2, math.Nextafter(3, 4), 4}, false},
		{"swapped", []float64{1, 3, 2, 4}, false},
		{"negative zero", []float64{1, 2, 3, 4, math.Copysign(0, -1)}, false},
		{"shorter", []float64{1, 2, 3}, false},
	}
	for _, c := range cases {
		if same := windowHash(c.w) == windowHash(w); same != c.same {
			t.Errorf("%s: same hash %v, want %v", c.name, same, c.same)
		}
	}
	if windowHash([]float64{1, 2, 3, 4, 0}) == windowHash(cases[3].w) {
		t.Error("0 and -0 hash alike")
	}
}

// TestTrainingStatsDriftField: files without "drift" load (threshold
// 0.25); a malformed one is refused.
func TestTrainingStatsDriftField(t *testing.T) {
	ts, err := ComputeTrainingStats(walk(rand.New(rand.NewPCG(21, 22)), 2000, 100, 0.01), 20, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		edit  func(ts *TrainingStats)
		error bool
	}{
		{"as computed", func(*TrainingStats) {}, false},
		{"without drift", func(ts *TrainingStats) {
			for i := range ts.Stats {
				ts.Stats[i].Drift = nil
			}
		}, false},
		{"no windows", func(ts *TrainingStats) { ts.Stats[0].Drift.Windows = 0 }, true},
		{"windows over DriftWindows", func(ts *TrainingStats) { ts.Stats[0].Drift.Windows = DriftWindows + 1 }, true},
		{"windows differ", func(ts *TrainingStats) { ts.Stats[1].Drift.Windows = 500 }, true},
		{"no blocks", func(ts *TrainingStats) { ts.Stats[0].Drift.Blocks = 0 }, true},
		{"negative PSI", func(ts *TrainingStats) { ts.Stats[0].Drift.PSIP50 = -1 }, true},
		{"max below p99", func(ts *TrainingStats) { ts.Stats[0].Drift.PSIMax = ts.Stats[0].Drift.PSIP99 / 2 }, true},
		{"on level_sign", func(ts *TrainingStats) { ts.Stats[2].Drift = &DriftCalibration{Windows: DriftWindows, Blocks: 1} }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cp := *ts
			cp.Stats = slices.Clone(ts.Stats)
			for i, f := range cp.Stats {
				if f.Drift != nil {
					d := *f.Drift
					cp.Stats[i].Drift = &d
				}
			}
			c.edit(&cp)
			data, err := cp.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseTrainingStats(data, 20, 1)
			if (err != nil) != c.error {
				t.Fatalf("error %v, want one: %v", err, c.error)
			}
			if err == nil {
				m := newMonitor(got)
				t.Logf("ring %d, thresholds %v", m.size, m.threshold)
			}
		})
	}
}
