package backtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/seqcast/seqcast/serving"
)

// File is backtest.json as Run's result writes it: the format serving
// reads (serving.ParseBacktest, seqcast-backtest/1), with the trainer's
// fields (test_mae, naive_test, recursive_horizons, ...) and this
// command's (per-step sMAPE and MASE, the verdict, the data it ran on).
//
// With "interval": "absolute" the quantiles are of actual - forecast, in
// the series' units ("error_quantiles"), and serving brackets a forecast p
// with [p + q_lo, p + q_hi], labelling confidence by the width over
// "scale" (the test targets' mean magnitude); otherwise they are of
// (actual - forecast) / |forecast| ("relative_error_quantiles").
type File struct {
	Format      string               `json:"format"`
	Model       string               `json:"model"`
	GeneratedBy string               `json:"generated_by"`
	Data        DataInfo             `json:"data"`
	Split       map[string]SplitInfo `json:"split"`
	Level       float64              `json:"level"`
	N           int                  `json:"n"`
	Horizon     int                  `json:"horizon"`
	Interval    string               `json:"interval"`
	// IntervalReason says why the intervals are absolute.
	IntervalReason         string             `json:"interval_reason,omitempty"`
	RelativeError          string             `json:"relative_error,omitempty"`
	RelativeErrorQuantiles map[string]float64 `json:"relative_error_quantiles,omitempty"`
	Error                  string             `json:"error,omitempty"`
	ErrorQuantiles         map[string]float64 `json:"error_quantiles,omitempty"`
	Scale                  *float64           `json:"scale,omitempty"`
	AbsErrorQuantiles      map[string]float64 `json:"abs_error_quantiles"`
	TestMAE                float64            `json:"test_mae"`
	TestRMSE               float64            `json:"test_rmse"`
	TestMAPE               *float64           `json:"test_mape,omitempty"`
	TestSMAPE              float64            `json:"test_smape"`
	TestMASE               *float64           `json:"test_mase,omitempty"`
	NaiveTest              Metrics            `json:"naive_test"`
	Season                 int                `json:"season,omitempty"`
	SeasonalNaiveTest      *Metrics           `json:"seasonal_naive_test,omitempty"`
	IntervalRule           string             `json:"interval_rule"`
	Verdict                string             `json:"verdict"`
	RecursiveHorizons      map[string]Horizon `json:"recursive_horizons"`
	ElapsedSeconds         float64            `json:"-"`
}

// DataInfo says what the backtest ran on.
type DataInfo struct {
	CSV            string   `json:"csv,omitempty"`
	Columns        []string `json:"columns"`
	Target         string   `json:"target"`
	DateColumn     string   `json:"date_column,omitempty"`
	Rows           int      `json:"rows"`
	First          string   `json:"first,omitempty"`
	Last           string   `json:"last,omitempty"`
	Frequency      string   `json:"frequency,omitempty"`
	Holes          int      `json:"holes,omitempty"`
	Gaps           []string `json:"gaps,omitempty"`
	WindowsSkipped int      `json:"windows_skipped,omitempty"`
	Window         int      `json:"window"`
}

// SplitInfo is a part of the series by its targets.
type SplitInfo struct {
	FirstTarget string `json:"first_target"`
	LastTarget  string `json:"last_target"`
	Windows     int    `json:"windows"`
}

// Horizon is one step's entry of "recursive_horizons".
type Horizon struct {
	N                      int                `json:"n"`
	MAE                    float64            `json:"mae"`
	RMSE                   float64            `json:"rmse"`
	MAPE                   *float64           `json:"mape,omitempty"`
	SMAPE                  float64            `json:"smape"`
	MASE                   *float64           `json:"mase,omitempty"`
	NaiveMAE               float64            `json:"naive_mae"`
	Naive                  Metrics            `json:"naive"`
	SeasonalNaive          *Metrics           `json:"seasonal_naive,omitempty"`
	RelativeErrorQuantiles map[string]float64 `json:"relative_error_quantiles,omitempty"`
	ErrorQuantiles         map[string]float64 `json:"error_quantiles,omitempty"`
}

// File is the result as backtest.json; csv names the data file.
func (r *Result) File(csv string) *File {
	s := r.Series
	st := r.Steps[0]
	f := &File{
		Format:      serving.BacktestFormat,
		Model:       r.Model,
		GeneratedBy: "seqcast backtest",
		Data: DataInfo{CSV: csv, Columns: s.Columns, Target: s.Target, DateColumn: s.DateColumn, Rows: s.Len(),
			Holes: r.Holes, WindowsSkipped: r.Skipped, Window: r.Window},
		Split:             map[string]SplitInfo{"test": r.split()},
		Level:             r.Level,
		N:                 st.N,
		Horizon:           r.Horizon,
		Interval:          "relative",
		TestMAE:           st.Model.MAE,
		TestRMSE:          st.Model.RMSE,
		TestMAPE:          st.Model.MAPE,
		TestSMAPE:         st.Model.SMAPE,
		TestMASE:          st.Model.MASE,
		NaiveTest:         st.Naive,
		Season:            r.Season,
		SeasonalNaiveTest: st.SeasonalNaive,
		Verdict:           r.Verdict(),
		RecursiveHorizons: map[string]Horizon{},
		ElapsedSeconds:    r.Elapsed.Seconds(),
	}
	if s.Dates != nil {
		f.Data.First, f.Data.Last = s.Dates[0].Format(s.DateLayout), s.Dates[s.Len()-1].Format(s.DateLayout)
		f.Data.Frequency = r.Frequency.Name
		for _, g := range r.Gaps {
			f.Data.Gaps = append(f.Data.Gaps, g.String(s.DateLayout))
		}
	}
	lo, hi := probKey((1-r.Level)/2), probKey((1+r.Level)/2)
	abs := make([]float64, len(st.errs))
	for i, e := range st.errs {
		abs[i] = e
		if r.Absolute {
			abs[i] = max(e, -e)
		}
	}
	if r.Absolute {
		f.Interval, f.IntervalReason = "absolute", r.AbsWhy
		f.Error = "actual - predicted"
		f.ErrorQuantiles = st.Quantiles
		sc := r.Scale
		f.Scale = &sc
		f.AbsErrorQuantiles = quantiles(abs, []float64{0.5, 0.9, 0.95})
		f.IntervalRule = fmt.Sprintf("interval = [p + q%s, p + q%s]; width/scale < 0.02 high, < 0.05 medium, else low", lo[2:], hi[2:])
	} else {
		f.RelativeError = "(actual - predicted) / |predicted|"
		f.RelativeErrorQuantiles = st.Quantiles
		f.AbsErrorQuantiles = r.absErrors(0)
		f.IntervalRule = fmt.Sprintf("interval = [p + |p|*q%s, p + |p|*q%s]; width/|p| < 0.02 high, < 0.05 medium, else low", lo[2:], hi[2:])
	}
	for _, st := range r.Steps {
		h := Horizon{N: st.N, MAE: st.Model.MAE, RMSE: st.Model.RMSE, MAPE: st.Model.MAPE, SMAPE: st.Model.SMAPE, MASE: st.Model.MASE,
			NaiveMAE: st.Naive.MAE, Naive: st.Naive, SeasonalNaive: st.SeasonalNaive}
		if r.Absolute {
			h.ErrorQuantiles = st.Quantiles
		} else {
			h.RelativeErrorQuantiles = st.Quantiles
		}
		f.RecursiveHorizons[strconv.Itoa(st.H)] = h
	}
	return f
}

// absErrors are the quantiles 0.5, 0.9, 0.95 of |actual - forecast| at
// step index k.
func (r *Result) absErrors(k int) map[string]float64 {
	var v []float64
	for w, i := range r.Origins {
		t := i + k
		if t < r.Series.Len() {
			e := r.Series.Y[t] - r.Forecasts[w][k]
			v = append(v, max(e, -e))
		}
	}
	return quantiles(v, []float64{0.5, 0.9, 0.95})
}

// split describes the test period.
func (r *Result) split() SplitInfo {
	s := r.Series
	a, b := r.Origins[0], r.Origins[len(r.Origins)-1]
	si := SplitInfo{Windows: len(r.Origins), FirstTarget: fmt.Sprintf("row %d", a+1), LastTarget: fmt.Sprintf("row %d", b+1)}
	if s.Dates != nil {
		si.FirstTarget, si.LastTarget = s.Dates[a].Format(s.DateLayout), s.Dates[b].Format(s.DateLayout)
	}
	return si
}

// Marshal writes the file as indented JSON, and checks that serving reads
// it back.
func (f *File) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if _, err := serving.ParseBacktest(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("backtest.json as written does not parse back: %w", err)
	}
	return buf.Bytes(), nil
}
