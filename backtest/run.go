package backtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/seqcast/seqcast/serving"
)

// Config is a backtest's test period and horizon.
type Config struct {
	// TestFrom is the first test target's date (rows dated on or after it
	// are the test period); it needs a series with dates. Zero: the last
	// TestFraction of the rows (0: 0.2).
	TestFrom     time.Time
	TestFraction float64
	// Horizon is the number of recursive steps (0: 1).
	Horizon int
	// Season is the seasonal naive forecast's period in rows (0: none).
	Season int
	// Level is the intervals' nominal coverage (0: 0.9).
	Level float64
	// Errors is how the interval is measured: "relative" (the error over
	// |forecast|), "absolute" (in the series' units), or "" / "auto":
	// absolute when the series is near or crosses zero (AutoAbsolute).
	Errors string
	// KeepGaps keeps test windows that span a gap in the dates (by
	// default they are left out).
	KeepGaps bool
}

// ConfigError is a backtest that cannot run on this series and model: the
// option or data at fault, and why.
type ConfigError struct {
	Field string // "horizon", "test-from", "columns", ... ("" for the series)
	Msg   string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return "--" + e.Field + ": " + e.Msg
}

// Step is the outcome of step h of the recursive forecast: the windows
// whose step-h target lies in the series, the model's and the baselines'
// metrics, and the error quantiles.
type Step struct {
	H             int      `json:"-"`
	N             int      `json:"n"`
	Model         Metrics  `json:"model"`
	Naive         Metrics  `json:"naive"`
	SeasonalNaive *Metrics `json:"seasonal_naive,omitempty"`
	// Quantiles are of (actual - forecast)/|forecast| (relative) or of
	// actual - forecast (absolute), keyed "0.05".
	Quantiles map[string]float64 `json:"-"`
	errs      []float64          // sorted, for the plot
}

// Result is a backtest's outcome.
type Result struct {
	Model    string
	Window   int
	Horizon  int
	Level    float64
	Season   int
	Absolute bool    // intervals from absolute errors (see Config.Errors)
	AbsWhy   string  // why absolute was chosen, for the report
	Scale    float64 // mean |actual| over the test targets (absolute confidence labels)

	Series    *Series
	Frequency Frequency
	Gaps      []Gap
	Holes     int
	Skipped   int // test windows left out because they span a gap

	// Origins are the rows of the test windows' first targets; Forecasts
	// their forecasts, by window then step.
	Origins   []int
	Forecasts [][]float64
	Steps     []Step
	Elapsed   time.Duration
}

// Probabilities are the quantiles measured at every step beside the level's.
var Probabilities = []float64{0.1, 0.25, 0.5, 0.75, 0.9}

// AutoAbsoluteShare: with Errors "auto", the intervals are absolute when
// some actual or forecast value of the test period is below this share of
// their mean magnitude (zero included), or the values change sign.
const AutoAbsoluteShare = 0.05

// Run backtests m on s: every window of the test period (the Window() rows
// before a test row) is forecast Horizon steps ahead through m (scaler,
// forward pass, inverse, recursively: one batched forward pass per step
// over all windows), and each step's forecasts are compared with the
// series and with the naive forecasts (the window's last target value;
// with a season, the value one season before the target).
func Run(ctx context.Context, m *serving.Model, s *Series, c Config) (*Result, error) {
	t0 := time.Now()
	if c.Horizon == 0 {
		c.Horizon = 1
	}
	if c.Level == 0 {
		c.Level = 0.9
	}
	if c.TestFraction == 0 {
		c.TestFraction = 0.2
	}
	switch {
	case c.Horizon < 1:
		return nil, &ConfigError{"horizon", fmt.Sprintf("want at least 1, got %d", c.Horizon)}
	case !(c.Level > 0 && c.Level < 1):
		return nil, &ConfigError{"level", fmt.Sprintf("want a coverage in (0, 1), got %g", c.Level)}
	case !(c.TestFraction > 0 && c.TestFraction < 1):
		return nil, &ConfigError{"test-fraction", fmt.Sprintf("want a share in (0, 1), got %g", c.TestFraction)}
	case c.Season < 0:
		return nil, &ConfigError{"season", fmt.Sprintf("want a period in rows (>= 2), got %d", c.Season)}
	case c.Season == 1:
		return nil, &ConfigError{"season", "a season of 1 row is the naive forecast; give the period in rows (7 for daily data with a weekly cycle, 12 for monthly data)"}
	}
	switch c.Errors {
	case "", "auto", "relative", "absolute":
	default:
		return nil, &ConfigError{"errors", fmt.Sprintf("%q: want auto, relative or absolute", c.Errors)}
	}
	if m.MultiIO() {
		return nil, &ConfigError{"model", fmt.Sprintf("model %q has several inputs or outputs; a backtest needs one (time steps, features) input and one output", m.Name())}
	}
	T, F := m.Window(), m.Features()
	if F != len(s.Columns) {
		return nil, &ConfigError{"columns", fmt.Sprintf("model %q takes %d feature(s) per time step; the series has %d column(s) (%s)", m.Name(), F, len(s.Columns), quoteList(s.Columns))}
	}
	if out := m.OutputShape().Size(); out != 1 {
		return nil, &ConfigError{"model", fmt.Sprintf("model %q gives %d outputs per window; a backtest compares one forecast with the target", m.Name(), out)}
	}
	if !m.Univariate() && c.Horizon > 1 {
		return nil, &ConfigError{"horizon", fmt.Sprintf("%d: a recursive forecast needs a univariate model (model %q takes %d features); use --horizon 1", c.Horizon, m.Name(), F)}
	}
	N := s.Len()
	if N < T+c.Horizon {
		return nil, &ConfigError{"", fmt.Sprintf("the series has %d rows; model %q needs at least its window (%d) plus the horizon (%d): %d", N, m.Name(), T, c.Horizon, T+c.Horizon)}
	}
	r := &Result{Model: m.Name(), Window: T, Horizon: c.Horizon, Level: c.Level, Season: c.Season, Series: s}
	first := 0
	if !c.TestFrom.IsZero() {
		if s.Dates == nil {
			return nil, &ConfigError{"test-from", "needs dates: name the date column with --date-column"}
		}
		first = sort.Search(N, func(i int) bool { return !s.Dates[i].Before(c.TestFrom) })
		if first == N {
			return nil, &ConfigError{"test-from", fmt.Sprintf("%s is after the last row (%s)", c.TestFrom.Format(s.DateLayout), s.Dates[N-1].Format(s.DateLayout))}
		}
	} else {
		first = N - int(math.Round(c.TestFraction*float64(N)))
	}
	if first < T {
		what := "--test-fraction"
		if !c.TestFrom.IsZero() {
			what = "--test-from"
		}
		return nil, &ConfigError{"", fmt.Sprintf("the test period starts at row %d (line %d), but a window needs the %d rows before it: move %s later", first+1, s.Lines[first], T, what)}
	}
	if s.Dates != nil {
		r.Frequency = InferFrequency(s.Dates)
		r.Gaps, r.Holes = r.Frequency.Gaps(s.Dates)
	}
	var origins []int
	for i := first; i < N; i++ {
		if !c.KeepGaps && spansGap(r.Gaps, i-T, min(i+c.Horizon-1, N-1)) {
			r.Skipped++
			continue
		}
		origins = append(origins, i)
	}
	if len(origins) == 0 {
		return nil, &ConfigError{"", fmt.Sprintf("no test window left: all %d span a gap in the dates (see --keep-gaps)", r.Skipped)}
	}
	windows := make([][]float64, len(origins))
	for k, i := range origins {
		w := make([]float64, 0, T*F)
		for _, row := range s.X[i-T : i] {
			w = append(w, row...)
		}
		windows[k] = w
	}
	preds, err := m.PredictWindows(ctx, windows, c.Horizon)
	if err != nil {
		var ie *serving.InputError
		if errors.As(err, &ie) && len(ie.Index) > 0 {
			i := origins[ie.Index[0]]
			return nil, fmt.Errorf("the test window ending on line %d: %w", s.Lines[i-1], err)
		}
		return nil, err
	}
	r.Origins = origins
	r.Forecasts = make([][]float64, len(preds))
	for k := range preds {
		r.Forecasts[k] = preds[k].Forecast
	}
	r.chooseErrors(c.Errors)
	scale := naiveScale(s.Y, first, max(c.Season, 1))
	for h := 1; h <= c.Horizon; h++ {
		st := Step{H: h}
		var a, p, nv, sn, e []float64
		for k, i := range origins {
			t := i + h - 1
			if t >= N {
				continue
			}
			a = append(a, s.Y[t])
			f := r.Forecasts[k][h-1]
			p = append(p, f)
			nv = append(nv, s.Y[i-1])
			if r.Absolute {
				e = append(e, s.Y[t]-f)
			} else {
				e = append(e, (s.Y[t]-f)/math.Abs(f))
			}
			if c.Season > 0 {
				if j := t - c.Season*((h-1)/c.Season+1); j >= 0 {
					sn = append(sn, s.Y[j])
				}
			}
		}
		st.N = len(a)
		st.Model = metrics(a, p, scale)
		st.Naive = metrics(a, nv, scale)
		if c.Season > 0 && len(sn) == len(a) {
			sm := metrics(a, sn, scale)
			st.SeasonalNaive = &sm
		}
		probs := slices.Concat([]float64{(1 - c.Level) / 2, (1 + c.Level) / 2}, Probabilities)
		st.Quantiles = quantiles(e, probs)
		slices.Sort(e)
		st.errs = e
		r.Steps = append(r.Steps, st)
	}
	r.Elapsed = time.Since(t0)
	return r, nil
}

// chooseErrors decides between relative and absolute intervals.
func (r *Result) chooseErrors(mode string) {
	s := r.Series
	var sum float64
	n := 0
	lo := math.Inf(1)
	pos, neg := false, false
	see := func(v float64) {
		a := math.Abs(v)
		sum += a
		n++
		lo = min(lo, a)
		pos = pos || v > 0
		neg = neg || v < 0
	}
	for k, i := range r.Origins {
		see(s.Y[i])
		for _, f := range r.Forecasts[k] {
			see(f)
		}
	}
	mean := sum / float64(n)
	var at float64
	for _, i := range r.Origins {
		at += math.Abs(s.Y[i])
	}
	r.Scale = at / float64(len(r.Origins))
	switch mode {
	case "absolute":
		r.Absolute, r.AbsWhy = true, "asked for (--errors absolute)"
	case "relative":
	default:
		switch {
		case pos && neg:
			r.Absolute, r.AbsWhy = true, "the series or its forecasts cross zero"
		case lo < AutoAbsoluteShare*mean:
			r.Absolute, r.AbsWhy = true, fmt.Sprintf("the series or its forecasts come within %.3g of zero (%.0f%% of their mean magnitude %.4g)", lo, 100*AutoAbsoluteShare, mean)
		}
	}
}

// BeatsNaive reports whether the model's MAE is below the naive forecast's
// at step h.
func (st Step) BeatsNaive() bool { return st.Model.MAE < st.Naive.MAE }

// Verdict is a plain sentence on whether the model beats the naive
// forecast (its last value), at step 1 and over the horizon.
func (r *Result) Verdict() string {
	s1 := r.Steps[0]
	diff := 100 * (s1.Model.MAE - s1.Naive.MAE) / s1.Naive.MAE
	var v string
	switch {
	case s1.Naive.MAE == 0:
		v = fmt.Sprintf("The naive forecast is exact on this test period (MAE 0); the model's MAE is %.4g.", s1.Model.MAE)
	case s1.BeatsNaive():
		v = fmt.Sprintf("The model beats the naive forecast (last value) one step ahead: MAE %.4g vs %.4g (%.1f%% lower).", s1.Model.MAE, s1.Naive.MAE, -diff)
	default:
		v = fmt.Sprintf("The model does NOT beat the naive forecast (last value) one step ahead: MAE %.4g vs %.4g (%.1f%% higher).", s1.Model.MAE, s1.Naive.MAE, diff)
	}
	if len(r.Steps) > 1 {
		wins := 0
		for _, st := range r.Steps {
			if st.BeatsNaive() {
				wins++
			}
		}
		v += fmt.Sprintf(" Over steps 1-%d it has the lower MAE at %d of %d.", len(r.Steps), wins, len(r.Steps))
	}
	if sn := s1.SeasonalNaive; sn != nil {
		if s1.Model.MAE < sn.MAE {
			v += fmt.Sprintf(" It beats the seasonal naive (season %d) one step ahead: MAE %.4g vs %.4g.", r.Season, s1.Model.MAE, sn.MAE)
		} else {
			v += fmt.Sprintf(" It does NOT beat the seasonal naive (season %d) one step ahead: MAE %.4g vs %.4g.", r.Season, s1.Model.MAE, sn.MAE)
		}
	}
	return v
}
