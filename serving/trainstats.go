package serving

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/seqcast/seqcast/scaler"
)

// Training statistics (training_stats.json, docs/bundle-format.md): what the
// model saw in training, per input statistic, so that a request's window can
// be checked against it (out of range) and a stream of them compared with it
// (drift).
const (
	// TrainingStatsFile is the bundle file holding the training statistics.
	TrainingStatsFile = "training_stats.json"
	// TrainingStatsFormat is its "format".
	TrainingStatsFormat = "seqcast-training-stats/1"
	// DefaultOutOfRangeMargin widens the training [min, max] on each side
	// by this share of its width before a value is out of range.
	DefaultOutOfRangeMargin = 0.1
	// SketchQuantiles is the number of quantiles in a sketch: 0, 0.05, ..., 1.
	SketchQuantiles = 21
	// DriftWindows is how many recent distinct request windows the drift
	// statistic (PSI) is computed over (fewer when the calibration's blocks
	// are smaller: DriftCalibration.Windows).
	DriftWindows = 1000
	// DriftEvery is how often (in distinct request windows) the PSI is
	// recomputed once the ring is full.
	DriftEvery = 100
)

// The statistics a feature of training_stats.json can hold, each of one
// column of the window.
const (
	// StatValue is every raw value (models with a fitted scaler, or none).
	StatValue = "value"
	// StatRelativeSpread is the window's std / |mean| (population std).
	StatRelativeSpread = "relative_spread"
	// StatRelativeStep is the window's largest |x[t] - x[t-1]| / |mean|.
	StatRelativeStep = "relative_step"
	// StatLevelSign is the sign (-1, 0, 1) of the window's smallest value.
	StatLevelSign = "level_sign"
)

// FeatureStats is the training distribution of one statistic of one column.
type FeatureStats struct {
	Name   string  `json:"name"`
	Stat   string  `json:"stat"`
	Column int     `json:"column"`
	Count  int     `json:"count"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Std    float64 `json:"std"`
	// Quantiles are the 0, 0.05, ..., 1 quantiles (SketchQuantiles).
	Quantiles []float64 `json:"quantiles"`
	// Drift is the PSI the training windows' own blocks reach (drift.go);
	// absent in older files and for statistics without a drift gauge.
	Drift *DriftCalibration `json:"drift,omitempty"`
}

// TrainingStats is a parsed training_stats.json.
type TrainingStats struct {
	Format   string `json:"format"`
	Window   int    `json:"window"`
	Features int    `json:"features"`
	// Margin widens [min, max] by Margin*(max-min) on each side
	// (DefaultOutOfRangeMargin when absent).
	Margin *float64       `json:"margin,omitempty"`
	Source string         `json:"source,omitempty"`
	Stats  []FeatureStats `json:"stats"`
}

// ParseTrainingStats reads and checks a training_stats.json for a model
// taking windows of window steps of features columns.
func ParseTrainingStats(data []byte, window, features int) (*TrainingStats, error) {
	var ts TrainingStats
	if err := json.Unmarshal(data, &ts); err != nil {
		return nil, err
	}
	if ts.Format != TrainingStatsFormat {
		return nil, fmt.Errorf("format %q: want %q", ts.Format, TrainingStatsFormat)
	}
	if ts.Window != window || ts.Features != features {
		return nil, fmt.Errorf("statistics of windows of %d steps of %d features; the model takes %d of %d", ts.Window, ts.Features, window, features)
	}
	if m := ts.Margin; m != nil && !(*m >= 0 && *m <= 10) {
		return nil, fmt.Errorf("margin %v: want a share in [0, 10]", *m)
	}
	if len(ts.Stats) == 0 || len(ts.Stats) > 4*features {
		return nil, fmt.Errorf("%d stats: want 1 to %d", len(ts.Stats), 4*features)
	}
	driftWindows := 0
	for i, f := range ts.Stats {
		switch f.Stat {
		case StatValue, StatRelativeSpread, StatRelativeStep, StatLevelSign:
		default:
			return nil, fmt.Errorf("stats[%d]: stat %q: want %s, %s, %s or %s", i, f.Stat, StatValue, StatRelativeSpread, StatRelativeStep, StatLevelSign)
		}
		if f.Column < 0 || f.Column >= features {
			return nil, fmt.Errorf("stats[%d]: column %d: the model has %d", i, f.Column, features)
		}
		if len(f.Quantiles) != SketchQuantiles || !slices.IsSorted(f.Quantiles) {
			return nil, fmt.Errorf("stats[%d]: want %d quantiles in increasing order", i, SketchQuantiles)
		}
		if !(f.Min <= f.Max) || math.IsInf(f.Min, 0) || math.IsInf(f.Max, 0) {
			return nil, fmt.Errorf("stats[%d]: min %v, max %v: want finite min <= max", i, f.Min, f.Max)
		}
		if d := f.Drift; d != nil {
			if f.Stat == StatLevelSign {
				return nil, fmt.Errorf("stats[%d]: %s has no drift statistic", i, StatLevelSign)
			}
			if driftWindows == 0 {
				driftWindows = d.Windows
			}
			if err := d.check(driftWindows); err != nil {
				return nil, fmt.Errorf("stats[%d]: %w", i, err)
			}
		}
	}
	return &ts, nil
}

// WindowRelative reports whether a scaler.json z-scores every window on its
// own (the model then sees scale-free statistics, never the level).
func WindowRelative(scalerJSON []byte) bool {
	p, err := scaler.Parse(scalerJSON)
	return err == nil && p.Input != nil && p.Input.Kind() == scaler.KindWindowZScore
}

// ComputeTrainingStats builds the statistics of the windows of T rows of x
// (x[row][column]) that training saw: the raw values of each column, or, for
// a window-relative model, each column's relative spread, relative step and
// level sign per window. Each drift feature gets the PSI the windows' own
// consecutive blocks reach (calibrateDrift).
func ComputeTrainingStats(x [][]float64, T int, names []string, windowRelative bool) (*TrainingStats, error) {
	if len(x) < T || T < 2 {
		return nil, fmt.Errorf("%d training rows: want at least one window of %d (>= 2)", len(x), T)
	}
	F := len(x[0])
	ts := &TrainingStats{Format: TrainingStatsFormat, Window: T, Features: F}
	m := DefaultOutOfRangeMargin
	ts.Margin = &m
	name := func(stat string, c int) string {
		col := "column " + strconv.Itoa(c)
		if c < len(names) {
			col = names[c]
		}
		if F == 1 {
			return stat
		}
		return stat + "[" + col + "]"
	}
	win := make([]float64, T)
	for c := range F {
		if !windowRelative {
			vals := make([]float64, 0, len(x))
			for _, r := range x {
				vals = append(vals, r[c])
			}
			ts.Stats = append(ts.Stats, summarize(name(StatValue, c), StatValue, c, vals))
			continue
		}
		var spread, step, sign []float64
		for i := 0; i+T <= len(x); i++ {
			for t := range T {
				win[t] = x[i+t][c]
			}
			s := windowStats(win)
			spread, step, sign = append(spread, s[0]), append(step, s[1]), append(sign, s[2])
		}
		ts.Stats = append(ts.Stats,
			summarize(name(StatRelativeSpread, c), StatRelativeSpread, c, spread),
			summarize(name(StatRelativeStep, c), StatRelativeStep, c, step),
			summarize(name(StatLevelSign, c), StatLevelSign, c, sign))
	}
	calibrateDrift(ts, x, T)
	return ts, nil
}

// windowStats is one column's relative spread, relative step and level sign.
func windowStats(w []float64) [3]float64 {
	var sum, lo float64
	lo = math.Inf(1)
	for _, v := range w {
		sum += v
		lo = min(lo, v)
	}
	mean := sum / float64(len(w))
	var ss, step float64
	for t, v := range w {
		d := v - mean
		ss += d * d
		if t > 0 {
			step = max(step, math.Abs(v-w[t-1]))
		}
	}
	level := math.Abs(mean)
	sign := 0.0
	if lo > 0 {
		sign = 1
	} else if lo < 0 {
		sign = -1
	}
	return [3]float64{math.Sqrt(ss/float64(len(w))) / level, step / level, sign}
}

// summarize drops non-finite values and sketches the rest.
func summarize(name, stat string, col int, vals []float64) FeatureStats {
	vals = slices.DeleteFunc(vals, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	f := FeatureStats{Name: name, Stat: stat, Column: col, Count: len(vals), Quantiles: make([]float64, SketchQuantiles)}
	if len(vals) == 0 {
		return f
	}
	slices.Sort(vals)
	var sum float64
	for _, v := range vals {
		sum += v
	}
	f.Mean = sum / float64(len(vals))
	var ss float64
	for _, v := range vals {
		ss += (v - f.Mean) * (v - f.Mean)
	}
	f.Std = math.Sqrt(ss / float64(len(vals)))
	f.Min, f.Max = vals[0], vals[len(vals)-1]
	for k := range SketchQuantiles {
		f.Quantiles[k] = quantile(vals, float64(k)/float64(SketchQuantiles-1))
	}
	return f
}

// Marshal encodes the statistics as training_stats.json.
func (ts *TrainingStats) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(ts, "", " ")
	return append(b, '\n'), err
}

// InputWarning is one statistic of a request window beyond what training
// saw (widened by the margin).
type InputWarning struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Reason  string  `json:"reason"`
}

// DriftValue is the PSI of one feature's recent distinct request windows
// against training, and the threshold to read it against
// (DriftCalibration.Threshold).
type DriftValue struct {
	Feature   string
	PSI       float64
	Threshold float64
}

// monitor checks windows against a model's training statistics and keeps
// the recent distinct windows' bin counts for the drift statistic. Its lock
// guards only the ring buffer.
type monitor struct {
	ts        *TrainingStats
	lo, hi    []float64   // per stat: the allowed range
	edges     [][]float64 // per stat: the bin edges (distinct deciles)
	expect    [][]float64 // per stat: the training share of each bin
	drift     []int       // the stats drift is computed for
	threshold []float64   // per drift stat: DriftCalibration.Threshold
	size      int         // windows in a full ring

	mu     sync.Mutex
	ring   []uint8  // size x len(drift) bin indices
	hashes []uint64 // size: each slot's windowHash
	set    hashSet  // the hashes in the ring
	counts [][]int  // per drift stat: bin counts over the ring
	n      int      // windows in the ring
	pos    int      // next slot
	seen   int      // distinct windows recorded
}

// newMonitor is the monitor of ts: a ring of its calibration's block size
// (DriftWindows without one).
func newMonitor(ts *TrainingStats) *monitor {
	size := DriftWindows
	for _, f := range ts.Stats {
		if f.Drift != nil {
			size = f.Drift.Windows
			break
		}
	}
	return newMonitorSize(ts, size)
}

func newMonitorSize(ts *TrainingStats, size int) *monitor {
	mg := DefaultOutOfRangeMargin
	if ts.Margin != nil {
		mg = *ts.Margin
	}
	m := &monitor{ts: ts, size: size}
	for i, f := range ts.Stats {
		w := mg * (f.Max - f.Min)
		m.lo, m.hi = append(m.lo, f.Min-w), append(m.hi, f.Max+w)
		var edges, expect []float64
		prevP := 0.0
		for k := 2; k < SketchQuantiles-1; k += 2 { // deciles 0.1 .. 0.9
			e, p := f.Quantiles[k], float64(k)/float64(SketchQuantiles-1)
			if len(edges) > 0 && e == edges[len(edges)-1] {
				continue
			}
			edges, expect = append(edges, e), append(expect, p-prevP)
			prevP = p
		}
		expect = append(expect, 1-prevP)
		m.edges, m.expect = append(m.edges, edges), append(m.expect, expect)
		if f.Stat != StatLevelSign && len(edges) > 1 {
			m.drift = append(m.drift, i)
			m.counts = append(m.counts, make([]int, len(expect)))
			m.threshold = append(m.threshold, f.Drift.Threshold())
		}
	}
	if len(m.drift) > 0 {
		m.ring = make([]uint8, size*len(m.drift))
		m.hashes = make([]uint64, size)
		m.set = newHashSet(size)
	}
	return m
}

// observe checks one window (T rows of F values, row-major) and feeds it to
// the drift ring unless an identical window is in it; the drift values are
// non-nil when a PSI fell due (record).
func (m *monitor) observe(window []float64, F int, warn []InputWarning) ([]InputWarning, []DriftValue) {
	T := len(window) / F
	var cur [4 * 16]float64 // statistic values, when few enough stats
	vals := cur[:0]
	if len(m.ts.Stats) > len(cur) {
		vals = make([]float64, 0, len(m.ts.Stats))
	}
	var col [3]float64
	lastCol := -1
	for i, f := range m.ts.Stats {
		var v float64
		switch f.Stat {
		case StatValue:
			v = window[(T-1)*F+f.Column] // drift: the newest value
			for t := range T {
				x := window[t*F+f.Column]
				if x < m.lo[i] || x > m.hi[i] {
					warn = append(warn, InputWarning{Feature: f.Name, Value: x, Min: f.Min, Max: f.Max,
						Reason: fmt.Sprintf("value %g at step %d is outside the training range [%g, %g] widened by the margin", x, t, f.Min, f.Max)})
					break
				}
			}
		default:
			if lastCol != f.Column {
				col = m.columnStats(window, T, F, f.Column)
				lastCol = f.Column
			}
			switch f.Stat {
			case StatRelativeSpread:
				v = col[0]
			case StatRelativeStep:
				v = col[1]
			default:
				v = col[2]
			}
			if !(v >= m.lo[i] && v <= m.hi[i]) {
				reason := fmt.Sprintf("%s %.4g is outside the training range [%.4g, %.4g] widened by the margin", f.Stat, v, f.Min, f.Max)
				if f.Stat == StatLevelSign {
					reason = fmt.Sprintf("the window has zero or negative values (sign %g); every training window was positive", v)
					if f.Max < 0 {
						reason = fmt.Sprintf("the window's smallest value has sign %g; training windows had sign %g", v, f.Max)
					}
				}
				warn = append(warn, InputWarning{Feature: f.Name, Value: v, Min: f.Min, Max: f.Max, Reason: reason})
			}
		}
		vals = append(vals, v)
	}
	return warn, m.record(window, vals)
}

func (m *monitor) columnStats(window []float64, T, F, c int) [3]float64 {
	if F == 1 {
		return windowStats(window)
	}
	w := make([]float64, T)
	for t := range T {
		w[t] = window[t*F+c]
	}
	return windowStats(w)
}

// record puts a window's statistics in the ring, unless an identical window
// (by windowHash) is already there, and returns the PSI of every drift
// feature when one is due: when the ring first holds size distinct windows,
// then every DriftEvery distinct windows.
func (m *monitor) record(window, vals []float64) []DriftValue {
	nd := len(m.drift)
	if nd == 0 {
		return nil
	}
	h := windowHash(window)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set.has(h) {
		return nil
	}
	slot := m.ring[m.pos*nd : (m.pos+1)*nd]
	if m.n == m.size {
		m.set.del(m.hashes[m.pos])
		for j := range m.drift {
			m.counts[j][slot[j]]--
		}
	}
	m.set.add(h)
	m.hashes[m.pos] = h
	for j, i := range m.drift {
		b := bin(m.edges[i], vals[i])
		slot[j] = uint8(b)
		m.counts[j][b]++
	}
	m.pos = (m.pos + 1) % m.size
	m.n = min(m.n+1, m.size)
	m.seen++
	if m.n < m.size || (m.seen-m.size)%DriftEvery != 0 {
		return nil
	}
	out := make([]DriftValue, nd)
	for j, i := range m.drift {
		out[j] = DriftValue{Feature: m.ts.Stats[i].Name, PSI: psi(m.counts[j], m.expect[i], m.n), Threshold: m.threshold[j]}
	}
	return out
}

// bin is the index of the bin (-inf, e0], (e0, e1], ..., (e_last, inf)
// holding v; NaN goes to the last.
func bin(edges []float64, v float64) int {
	for k, e := range edges {
		if v <= e {
			return k
		}
	}
	return len(edges)
}

// CheckInput compares one window (row-major, Window()*Features() values) with
// the model's training statistics: the statistics beyond the training range
// widened by the margin (every window), and, when one falls due, the PSI of
// the last DriftWindows distinct windows per feature with its threshold
// (record). Without training_stats.json it returns nothing.
func (m *Model) CheckInput(window []float64) ([]InputWarning, []DriftValue) {
	if m.monitor == nil || len(window) != m.window*m.features {
		return nil, nil
	}
	return m.monitor.observe(window, m.features, nil)
}

// TrainingStats is the model's training_stats.json, nil without one.
func (m *Model) TrainingStats() *TrainingStats {
	if m.monitor == nil {
		return nil
	}
	return m.monitor.ts
}

// DriftFill is how many distinct windows the model's drift ring holds and
// how many fill it (the PSI is first computed when it is full); ok is false
// for a model without drift features.
func (m *Model) DriftFill() (n, size int, ok bool) {
	if m.monitor == nil || len(m.monitor.drift) == 0 {
		return 0, 0, false
	}
	mon := m.monitor
	mon.mu.Lock()
	defer mon.mu.Unlock()
	return mon.n, mon.size, true
}
