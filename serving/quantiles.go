package serving

import (
	"math"
	"slices"
	"strconv"
)

// measure records the error quantiles backtest.json gives for step
// h (keys that are not a probability in (0, 1), and non-finite values, are
// left out).
func (b *Backtest) measure(h int, q map[string]float64) {
	for k, v := range q {
		p, err := strconv.ParseFloat(k, 64)
		if err != nil || !(p > 0 && p < 1) || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if b.measured == nil {
			b.measured = map[int]map[float64]float64{}
		}
		if b.measured[h] == nil {
			b.measured[h] = map[float64]float64{}
		}
		b.measured[h][p] = v
	}
}

// sameP reports whether two probabilities are the same quantile ("0.1" and
// 0.1 as the client and backtest.json write them).
func sameP(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Quantile returns the error quantile p (relative, or absolute for an
// absolute backtest) at forecast step h
// (1-based) as the backtest gives it: the level's two quantiles, (1-Level)/2
// and (1+Level)/2, at every step, exactly as the prediction intervals use
// them (measured, interpolated between measured steps, widened past the
// last one); any other quantile only at a step where backtest.json measured
// it. ok is false when the backtest cannot give p at step h: the caller
// must not make one up.
func (b *Backtest) Quantile(p float64, h int) (rel float64, ok bool) {
	if h < 1 {
		return 0, false
	}
	lo, hi := b.quantilesAt(h)
	switch {
	case sameP(p, (1-b.Level)/2):
		return lo, true
	case sameP(p, (1+b.Level)/2):
		return hi, true
	}
	for q, v := range b.measured[h] {
		if sameP(q, p) {
			return v, true
		}
	}
	return 0, false
}

// QuantileValue is forecast v's quantile p at step h, by the rule the
// prediction intervals follow (offset: v + |v|*q for relative errors, v + q
// for an absolute backtest), so that the level's two quantiles are exactly
// the intervals' bounds.
func (b *Backtest) QuantileValue(v, p float64, h int) (float64, bool) {
	q, ok := b.Quantile(p, h)
	if !ok {
		return 0, false
	}
	return b.offset(v, q), true
}

// QuantilesAt lists, ascending, the quantiles Quantile gives at step h.
func (b *Backtest) QuantilesAt(h int) []float64 {
	// The level's quantiles as backtest.json writes them (0.1, not
	// 0.09999999999999998).
	out := []float64{math.Round((1-b.Level)/2*1e9) / 1e9, math.Round((1+b.Level)/2*1e9) / 1e9}
	for q := range b.measured[h] {
		if !slices.ContainsFunc(out, func(o float64) bool { return sameP(o, q) }) {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out
}
