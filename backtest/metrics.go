package backtest

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Metrics are a forecast's errors over the test windows. A metric that is
// undefined on the data (MAPE with an actual value of zero, MASE on a
// training part without change) is nil.
type Metrics struct {
	MAE   float64  `json:"mae"`
	RMSE  float64  `json:"rmse"`
	MAPE  *float64 `json:"mape,omitempty"` // percent, over |actual|
	SMAPE float64  `json:"smape"`          // percent, 200|a-p|/(|a|+|p|)
	MASE  *float64 `json:"mase,omitempty"` // MAE over the training part's in-sample naive MAE
}

// metrics computes Metrics of predictions p against actuals a; scale is
// MASE's denominator (0: MASE undefined).
func metrics(a, p []float64, scale float64) Metrics {
	var m Metrics
	if len(a) == 0 {
		return m
	}
	var sa, s2, sp, ss float64
	mapeOK := true
	for i := range a {
		e := a[i] - p[i]
		ae := math.Abs(e)
		sa += ae
		s2 += e * e
		if a[i] == 0 {
			mapeOK = false
		} else {
			sp += ae / math.Abs(a[i])
		}
		if d := math.Abs(a[i]) + math.Abs(p[i]); d > 0 {
			ss += 2 * ae / d
		}
	}
	n := float64(len(a))
	m.MAE, m.RMSE, m.SMAPE = sa/n, math.Sqrt(s2/n), 100*ss/n
	if mapeOK {
		v := 100 * sp / n
		m.MAPE = &v
	}
	if scale > 0 {
		v := m.MAE / scale
		m.MASE = &v
	}
	return m
}

// quantile is numpy.quantile's default (linear interpolation between the
// closest ranks) of sorted values.
func quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// quantiles returns the quantiles probs of v keyed as backtest.json keys
// them ("0.05", "0.50").
func quantiles(v []float64, probs []float64) map[string]float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	out := make(map[string]float64, len(probs))
	for _, p := range probs {
		out[probKey(p)] = quantile(s, p)
	}
	return out
}

// probKey writes a probability with at least two decimals ("0.05", "0.50",
// "0.025"), as the trainer's backtest.json does.
func probKey(p float64) string {
	s := strconv.FormatFloat(math.Round(p*1e9)/1e9, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i < 0 {
		s += ".00"
	} else if len(s)-i < 3 {
		s += strings.Repeat("0", 3-(len(s)-i))
	}
	return s
}

// naiveScale is MASE's denominator: the mean absolute change over lag m of
// y[:end] (the in-sample naive, or seasonal naive, forecast's MAE).
func naiveScale(y []float64, end, m int) float64 {
	var s float64
	n := 0
	for t := m; t < end; t++ {
		s += math.Abs(y[t] - y[t-m])
		n++
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}
