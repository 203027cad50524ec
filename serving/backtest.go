package serving

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Default relative interval widths ((upper-lower)/|forecast|) below which a
// forecast is labelled "high" or "medium" confidence (else "low"), when
// backtest.json sets no "confidence_thresholds".
const (
	DefaultHighWidth   = 0.02
	DefaultMediumWidth = 0.05
)

// BacktestFormat is the "format" value of backtest.json.
const BacktestFormat = "seqcast-backtest/1"

// Backtest summarises a model's out-of-sample errors: quantiles of the
// relative error e = (actual - predicted) / predicted on its held-out test
// set. A forecast p gets the interval [p + |p|*q_lo, p + |p|*q_hi] (for
// positive p: [p*(1+q_lo), p*(1+q_hi)]) at nominal coverage Level, and a
// confidence label from the interval's width relative to |p|.
type Backtest struct {
	Level float64 `json:"level"`
	// Lower and Upper are the one-step quantiles at (1-Level)/2 and
	// (1+Level)/2.
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	// Horizons are the quantiles measured for recursive forecasts, by step
	// (ascending). Between measured steps they are interpolated linearly;
	// past the last one they widen with sqrt(h/h_last).
	Horizons []HorizonQuantiles `json:"horizons,omitempty"`
	// HighWidth and MediumWidth are the label thresholds (width/|p| strictly
	// below them).
	HighWidth   float64 `json:"high_width"`
	MediumWidth float64 `json:"medium_width"`
	// N and the test-set metrics, as the file reports them.
	N       int                `json:"n,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Absolute: the quantiles are of actual - predicted, in the series'
	// units (backtest.json's "interval": "absolute", for series near or
	// crossing zero): a forecast p gets [p + q_lo, p + q_hi], labelled by
	// the width over Scale (backtest_abs.go).
	Absolute bool    `json:"absolute,omitempty"`
	Scale    float64 `json:"scale,omitempty"`
	// Naive holds the same metrics for the naive forecast (the last value)
	// on the same test set, when backtest.json gives them ("naive_test").
	Naive map[string]float64 `json:"naive,omitempty"`
	// measured holds every relative-error quantile backtest.json gives, by
	// step (quantiles.go).
	measured map[int]map[float64]float64
}

// HorizonQuantiles are the error quantiles of step H of a recursive forecast.
type HorizonQuantiles struct {
	H     int     `json:"h"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// backtestFile is backtest.json as the trainer writes it (seqcast-backtest/1).
type backtestFile struct {
	Format                 string             `json:"format"`
	Level                  float64            `json:"level"`
	N                      int                `json:"n"`
	RelativeErrorQuantiles map[string]float64 `json:"relative_error_quantiles"`
	RecursiveHorizons      map[string]struct {
		RelativeErrorQuantiles map[string]float64 `json:"relative_error_quantiles"`
		ErrorQuantiles         map[string]float64 `json:"error_quantiles"`
	} `json:"recursive_horizons"`
	Interval             string             `json:"interval"`
	ErrorQuantiles       map[string]float64 `json:"error_quantiles"`
	Scale                *float64           `json:"scale"`
	ConfidenceThresholds *struct {
		High   float64 `json:"high"`
		Medium float64 `json:"medium"`
	} `json:"confidence_thresholds"`
	TestMAE   *float64           `json:"test_mae"`
	TestRMSE  *float64           `json:"test_rmse"`
	TestMAPE  *float64           `json:"test_mape"`
	NaiveTest map[string]float64 `json:"naive_test"`
}

// ParseBacktest reads backtest.json (format seqcast-backtest/1): "level",
// "relative_error_quantiles" keyed by quantile ("0.05", "0.95" for level
// 0.9), optional "recursive_horizons" {"h": {"relative_error_quantiles"}}
// and optional "confidence_thresholds" {"high", "medium"}.
func ParseBacktest(b []byte) (*Backtest, error) {
	var f backtestFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Format != "" && f.Format != BacktestFormat {
		return nil, fmt.Errorf("format %q: want %q", f.Format, BacktestFormat)
	}
	if !(f.Level > 0 && f.Level < 1) {
		return nil, fmt.Errorf("level %g: want a coverage in (0, 1)", f.Level)
	}
	bt := &Backtest{Level: f.Level, N: f.N, HighWidth: DefaultHighWidth, MediumWidth: DefaultMediumWidth}
	key, err := bt.absolute(&f)
	if err != nil {
		return nil, err
	}
	if bt.Lower, bt.Upper, err = pickQuantiles(f.RelativeErrorQuantiles, f.Level); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	for k, v := range f.RecursiveHorizons {
		h, err := strconv.Atoi(k)
		if err != nil || h < 1 {
			return nil, fmt.Errorf("recursive_horizons: key %q: want a step >= 1", k)
		}
		lo, hi, err := pickQuantiles(v.RelativeErrorQuantiles, f.Level)
		if err != nil {
			return nil, fmt.Errorf("recursive_horizons[%q]: %w", k, err)
		}
		bt.Horizons = append(bt.Horizons, HorizonQuantiles{H: h, Lower: lo, Upper: hi})
	}
	sort.Slice(bt.Horizons, func(i, j int) bool { return bt.Horizons[i].H < bt.Horizons[j].H })
	bt.measure(1, f.RelativeErrorQuantiles)
	for k, v := range f.RecursiveHorizons {
		h, _ := strconv.Atoi(k) // checked above
		bt.measure(h, v.RelativeErrorQuantiles)
	}
	if t := f.ConfidenceThresholds; t != nil {
		if !(t.High > 0 && t.High <= t.Medium) {
			return nil, fmt.Errorf("confidence_thresholds: want 0 < high <= medium, got %g, %g", t.High, t.Medium)
		}
		bt.HighWidth, bt.MediumWidth = t.High, t.Medium
	}
	for k, p := range map[string]*float64{"mae": f.TestMAE, "rmse": f.TestRMSE, "mape": f.TestMAPE} {
		if p != nil {
			if bt.Metrics == nil {
				bt.Metrics = map[string]float64{}
			}
			bt.Metrics[k] = *p
		}
	}
	for k, v := range f.NaiveTest {
		if k == "mae" || k == "rmse" || k == "mape" {
			if bt.Naive == nil {
				bt.Naive = map[string]float64{}
			}
			bt.Naive[k] = v
		}
	}
	return bt, nil
}

// pickQuantiles returns the (1-level)/2 and (1+level)/2 quantiles.
func pickQuantiles(q map[string]float64, level float64) (lo, hi float64, err error) {
	find := func(p float64) (float64, error) {
		for k, v := range q {
			if x, err := strconv.ParseFloat(k, 64); err == nil && math.Abs(x-p) < 1e-9 {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return 0, fmt.Errorf("quantile %s is %g", k, v)
				}
				return v, nil
			}
		}
		return 0, fmt.Errorf("no %.3g quantile (level %g needs %.3g and %.3g)", p, level, (1-level)/2, (1+level)/2)
	}
	if lo, err = find((1 - level) / 2); err != nil {
		return 0, 0, err
	}
	if hi, err = find((1 + level) / 2); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("lower quantile %g > upper %g", lo, hi)
	}
	return lo, hi, nil
}

// quantilesAt returns the relative-error quantiles for step h (1-based).
func (b *Backtest) quantilesAt(h int) (float64, float64) {
	hs := b.Horizons
	if len(hs) == 0 || hs[0].H != 1 {
		hs = append([]HorizonQuantiles{{H: 1, Lower: b.Lower, Upper: b.Upper}}, hs...)
	}
	for i, q := range hs {
		if q.H == h {
			return q.Lower, q.Upper
		}
		if q.H > h && i > 0 { // interpolate between hs[i-1] and q
			p := hs[i-1]
			t := float64(h-p.H) / float64(q.H-p.H)
			return p.Lower + t*(q.Lower-p.Lower), p.Upper + t*(q.Upper-p.Upper)
		}
	}
	last := hs[len(hs)-1]
	f := math.Sqrt(float64(h) / float64(last.H))
	return last.Lower * f, last.Upper * f
}

// interval brackets forecast v at step h (1-based).
func (b *Backtest) interval(v float64, h int) Interval {
	lo, hi := b.quantilesAt(h)
	return Interval{Lower: b.offset(v, lo), Upper: b.offset(v, hi), Level: b.Level}
}

// confidence labels an interval around v by its relative width.
func (b *Backtest) confidence(iv Interval, v float64) string {
	a := math.Abs(v)
	if b.Absolute {
		a = b.Scale
	}
	if a == 0 {
		return "low"
	}
	switch w := (iv.Upper - iv.Lower) / a; {
	case w < b.HighWidth:
		return "high"
	case w < b.MediumWidth:
		return "medium"
	default:
		return "low"
	}
}
