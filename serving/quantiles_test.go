package serving

import (
	"math"
	"reflect"
	"testing"
)

func TestBacktestQuantiles(t *testing.T) {
	bt, err := ParseBacktest([]byte(`{"format": "seqcast-backtest/1", "level": 0.9,
 "relative_error_quantiles": {"0.05": -0.02, "0.25": -0.01, "0.50": 0.001, "0.95": 0.03, "x": 1, "1.5": 2},
 "recursive_horizons": {"1": {"relative_error_quantiles": {"0.05": -0.021, "0.95": 0.031}},
  "3": {"relative_error_quantiles": {"0.05": -0.04, "0.95": 0.05, "0.5": 0.004}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    float64
		h    int
		want float64
		ok   bool
	}{
		{0.05, 1, -0.021, true}, // the level's quantiles as the intervals use them (recursive_horizons' step 1)
		{0.95, 1, 0.031, true},
		{0.05, 2, (-0.021 - 0.04) / 2, true}, // interpolated, as the intervals are
		{0.95, 12, 0.05 * 2, true},           // widened past the last step: sqrt(12/3)
		{0.25, 1, -0.01, true},
		{0.5, 1, 0.001, true},
		{0.5, 3, 0.004, true},
		{0.5, 2, 0, false}, // not measured at step 2: no guess
		{0.25, 3, 0, false},
		{0.1, 1, 0, false},
		{0.05, 0, 0, false},
	} {
		got, ok := bt.Quantile(tc.p, tc.h)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Quantile(%g, %d) = %g, %v; want %g, %v", tc.p, tc.h, got, ok, tc.want, tc.ok)
		}
	}
	if v, ok := bt.QuantileValue(-200, 0.95, 1); !ok || math.Abs(v-(-200+200*0.031)) > 1e-9 {
		t.Errorf("QuantileValue(-200) = %g", v)
	}
	if got := bt.QuantilesAt(1); !reflect.DeepEqual(got, []float64{0.05, 0.25, 0.5, 0.95}) {
		t.Errorf("QuantilesAt(1) = %v", got)
	}
	if got := bt.QuantilesAt(2); !reflect.DeepEqual(got, []float64{0.05, 0.95}) {
		t.Errorf("QuantilesAt(2) = %v", got)
	}
	// The intervals /predict gives are the level's quantiles.
	iv := bt.interval(100, 2)
	lo, _ := bt.QuantileValue(100, 0.05, 2)
	hi, _ := bt.QuantileValue(100, 0.95, 2)
	if iv.Lower != lo || iv.Upper != hi {
		t.Errorf("interval %+v, quantiles %g %g", iv, lo, hi)
	}
	// An absolute backtest: quantiles in the series' units, v + q.
	abs, err := ParseBacktest([]byte(`{"format": "seqcast-backtest/1", "level": 0.8, "interval": "absolute", "scale": 10,
 "error_quantiles": {"0.1": -2, "0.5": 0.5, "0.9": 3}}`))
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[float64]float64{0.1: -7, 0.5: -4.5, 0.9: -2} {
		if v, ok := abs.QuantileValue(-5, p, 1); !ok || v != want {
			t.Errorf("absolute QuantileValue(-5, %g) = %g, %v; want %g", p, v, ok, want)
		}
	}
	if iv := abs.interval(-5, 1); iv.Lower != -7 || iv.Upper != -2 {
		t.Errorf("absolute interval %+v", iv)
	}
}
