package serving

import (
	"fmt"
	"math"
)

// absolute reads backtest.json's "interval": "relative" (the default, and
// the trainer's files) or "absolute". An absolute file's "error_quantiles"
// (actual - predicted, in the series' units, at the top and per step) and
// "scale" (> 0: what an interval's width is compared with for the
// confidence label) take the place of the relative quantiles, which it
// must not have. key names the quantiles' field for errors.
func (b *Backtest) absolute(f *backtestFile) (key string, err error) {
	switch f.Interval {
	case "", "relative":
		return "relative_error_quantiles", nil
	case "absolute":
	default:
		return "", fmt.Errorf("interval %q: want \"relative\" or \"absolute\"", f.Interval)
	}
	if f.RelativeErrorQuantiles != nil {
		return "", fmt.Errorf("interval \"absolute\" with relative_error_quantiles: an absolute backtest gives error_quantiles")
	}
	if f.Scale == nil || !(*f.Scale > 0) || math.IsInf(*f.Scale, 0) {
		return "", fmt.Errorf("interval \"absolute\" needs a positive \"scale\" (the series' typical magnitude, for confidence labels)")
	}
	b.Absolute, b.Scale = true, *f.Scale
	f.RelativeErrorQuantiles = f.ErrorQuantiles
	for k, v := range f.RecursiveHorizons {
		if v.RelativeErrorQuantiles != nil {
			return "", fmt.Errorf("interval \"absolute\": recursive_horizons[%q] has relative_error_quantiles: want error_quantiles", k)
		}
		v.RelativeErrorQuantiles = v.ErrorQuantiles
		f.RecursiveHorizons[k] = v
	}
	return "error_quantiles", nil
}

// offset is forecast v moved by error quantile q: v + |v|*q for relative
// quantiles, v + q for absolute ones.
func (b *Backtest) offset(v, q float64) float64 {
	if b.Absolute {
		return v + q
	}
	return v + math.Abs(v)*q
}
