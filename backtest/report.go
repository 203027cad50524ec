package backtest

import (
	"fmt"
	"strings"
)

// Report is the result as a person reads it: what ran on what, a table of
// the metrics per step beside the baselines, the verdict and how the
// intervals are measured.
func Report(r *Result, csv string) string {
	var b strings.Builder
	s := r.Series
	cols := "column " + s.Target
	if len(s.Columns) > 1 || s.Columns[0] != s.Target {
		cols = fmt.Sprintf("columns %s, target %s", strings.Join(s.Columns, ","), s.Target)
	}
	fmt.Fprintf(&b, "model %s (window %d) on %s, %s: %d rows\n", r.Model, r.Window, csv, cols, s.Len())
	if s.Dates != nil {
		fmt.Fprintf(&b, "dates: column %s, %s to %s, frequency %s", s.DateColumn, s.Dates[0].Format(s.DateLayout), s.Dates[s.Len()-1].Format(s.DateLayout), r.Frequency.Name)
		if r.Holes > 0 {
			fmt.Fprintf(&b, "; %d holes of 1-%d missing periods (holidays) kept", r.Holes, MaxHole)
		}
		fmt.Fprintf(&b, "; %d gaps", len(r.Gaps))
		for i, g := range r.Gaps {
			if i == 3 {
				fmt.Fprintf(&b, " ...")
				break
			}
			fmt.Fprintf(&b, " [%s]", g.String(s.DateLayout))
		}
		fmt.Fprintf(&b, "; %d test windows spanning a gap left out\n", r.Skipped)
	}
	sp := r.split()
	fmt.Fprintf(&b, "test: targets %s to %s, %d windows, horizon %d (one batched forward pass per step) in %.2fs\n\n",
		sp.FirstTarget, sp.LastTarget, sp.Windows, r.Horizon, r.Elapsed.Seconds())
	unit := "rel"
	if r.Absolute {
		unit = "abs"
	}
	lo, hi := probKey((1-r.Level)/2), probKey((1+r.Level)/2)
	fmt.Fprintf(&b, "%4s %6s %10s %10s %10s %10s %7s %7s %7s %7s %6s %6s", "step", "n", "MAE", "naive", "RMSE", "naive", "MAPE%", "naive", "sMAPE%", "naive", "MASE", "naive")
	if r.Season > 0 {
		fmt.Fprintf(&b, " %10s", fmt.Sprintf("snaive(%d)", r.Season))
	}
	fmt.Fprintf(&b, "  %s q%s..q%s\n", unit, lo[1:], hi[1:])
	opt := func(p *float64, f string) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf(f, *p)
	}
	for _, st := range r.Steps {
		mark := " "
		if st.BeatsNaive() {
			mark = "*"
		}
		fmt.Fprintf(&b, "%4d %6d %9.4g%s %10.4g %10.4g %10.4g %7s %7s %7.3f %7.3f %6s %6s", st.H, st.N, st.Model.MAE, mark, st.Naive.MAE,
			st.Model.RMSE, st.Naive.RMSE, opt(st.Model.MAPE, "%.3f"), opt(st.Naive.MAPE, "%.3f"), st.Model.SMAPE, st.Naive.SMAPE,
			opt(st.Model.MASE, "%.3f"), opt(st.Naive.MASE, "%.3f"))
		if r.Season > 0 {
			if st.SeasonalNaive != nil {
				fmt.Fprintf(&b, " %10.4g", st.SeasonalNaive.MAE)
			} else {
				fmt.Fprintf(&b, " %10s", "-")
			}
		}
		fmt.Fprintf(&b, "  %+.4g..%+.4g\n", st.Quantiles[lo], st.Quantiles[hi])
	}
	fmt.Fprintf(&b, "(* the model's MAE is below the naive forecast's)\n\nverdict: %s\n", r.Verdict())
	if r.Absolute {
		fmt.Fprintf(&b, "intervals: ABSOLUTE errors (actual - forecast, in the series' units) because %s; served as [p + q%s, p + q%s]\n", r.AbsWhy, lo[1:], hi[1:])
	} else {
		fmt.Fprintf(&b, "intervals: relative errors (actual - forecast)/|forecast|; served as [p + |p|q%s, p + |p|q%s]\n", lo[1:], hi[1:])
	}
	return b.String()
}
