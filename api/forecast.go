package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/jsoncodec"
	"github.com/seqcast/seqcast/serving"
)

// POST /v1/timeseries/forecast: KServe's time-series forecast API
// (kserve/website docs/reference/time_series/api.md). Each input series is
// forecast as /predict forecasts (the model's scaler, a recursive forecast
// for a univariate model), every series of one kind in one batched pass per
// step, through /predict's cache; quantiles come from the bundle's
// backtest. A series that cannot be forecast is an output with status
// "error" and its error, the others are answered. As on /predict, each
// series' window is checked against the model's training statistics
// (top-level "warnings" naming inputs[i].series; under --out-of-range
// reject the series' own error), the request (which names no version) goes
// to the canary version for a share of inputs, by a hash of all its series,
// and computed forecasts feed the prediction histograms and the shadow
// version.

// Forecast statuses, as the spec's examples write them.
const (
	tsCompleted = "completed"
	tsError     = "error"
	tsPartial   = "partial"
)

// Time-series types.
const (
	tsUnivariate   = "univariate_time_series"
	tsMultivariate = "multivariate_time_series"
)

type tsRequest struct {
	Model   string    `json:"model"`
	Inputs  []tsInput `json:"inputs"`
	Options *struct {
		Horizon   *int      `json:"horizon"`
		Quantiles []float64 `json:"quantiles"`
	} `json:"options"`
	// metadata and any other member are accepted and ignored (the spec
	// allows extra fields).
}

type tsInput struct {
	Type           string          `json:"type"`
	Name           string          `json:"name"`
	Series         json.RawMessage `json:"series"`
	Frequency      string          `json:"frequency"`
	StartTimestamp *string         `json:"start_timestamp"`
}

// tsError is the spec's error object.
type tsErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	Type    string `json:"type"`
}

type tsContent struct {
	Type           string               `json:"type"`
	Name           string               `json:"name"`
	MeanForecast   []float64            `json:"mean_forecast"`
	Frequency      string               `json:"frequency"`
	StartTimestamp string               `json:"start_timestamp,omitempty"`
	Quantiles      map[string][]float64 `json:"quantiles,omitempty"`
}

type tsOutput struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Content []tsContent  `json:"content"`
	Error   *tsErrorBody `json:"error,omitempty"`
}

// tsSeries is one input being forecast.
type tsSeries struct {
	in     *tsInput
	window []float64
	multi  bool
	start  string // the forecast's start_timestamp ("" without the input's)
	err    *tsErrorBody
	mean   []float64
}

func decodeForecast(b []byte) (tsRequest, error) {
	var req tsRequest
	err := json.Unmarshal(b, &req)
	return req, err
}

func (s *Server) forecast(c *gin.Context) {
	req, release, e := body(s, c, decodeForecast)
	if e != nil {
		abort(c, e)
		return
	}
	m, horizon, quantiles, e := s.forecastRequest(c, &req)
	if e != nil {
		release()
		abort(c, e)
		return
	}
	series := make([]tsSeries, len(req.Inputs))
	for i := range req.Inputs {
		series[i] = s.readSeries(m, &req.Inputs[i], i, horizon)
	}
	release()
	s.metrics.observeRequestBatch("/v1/timeseries/forecast", len(series))
	m = s.routeSeries(c, m, series)
	setModelVersionHeader(c, m)
	warns := s.checkSeries(c, m, series)
	cached := true
	for _, multi := range []bool{false, true} {
		hit, err := s.forecastKind(c, m, series, multi, horizon)
		if err != nil {
			abort(c, s.computeError(err, "inputs"))
			return
		}
		cached = cached && hit
	}
	st := state(c)
	outs := make([]tsOutput, len(series))
	done := 0
	for i := range series {
		sr := &series[i]
		o := tsOutput{Type: "time_series_forecast", ID: "ts_" + st.id + "_" + strconv.Itoa(i), Content: []tsContent{}}
		if sr.err == nil {
			var q map[string][]float64
			if q, sr.err = tsQuantiles(m, sr, quantiles, i); sr.err == nil {
				o.Content = append(o.Content, tsContent{Type: sr.in.Type, Name: sr.in.Name, MeanForecast: sr.mean,
					Frequency: sr.in.Frequency, StartTimestamp: sr.start, Quantiles: q})
			}
		}
		o.Status, o.Error = tsCompleted, sr.err
		if sr.err != nil {
			o.Status = tsError
		} else {
			done++
		}
		outs[i] = o
	}
	status := tsPartial
	switch done {
	case len(outs):
		status = tsCompleted
	case 0:
		status = tsError
	}
	answer := gin.H{
		"id": "resp_" + st.id, "created_at": time.Now().Unix(), "status": status, "error": nil,
		"model": m.Name(), "model_version": m.Version(), "outputs": outs, "cached": cached,
	}
	if len(warns) > 0 {
		answer["warnings"] = warns
	}
	writeJSON(c, http.StatusOK, answer)
	if done > 0 && s.sampleRequestLog() {
		s.logForecast(c, m, series, warns, cached)
	}
}

// routeSeries picks the version that forecasts the request (which never
// names one): the canary's share by a hash of every series read (route),
// so that the same series always get the same version.
func (s *Server) routeSeries(c *gin.Context, m *serving.Model, series []tsSeries) *serving.Model {
	windows := make([][]float64, 0, len(series))
	for _, sr := range series {
		if sr.err == nil {
			windows = append(windows, sr.window)
		}
	}
	return s.route(c, m, windows)
}

// checkSeries checks every series read against m's training statistics
// (checkInput): the warnings to return, each naming inputs[i].series; under
// OutOfRangeReject an out-of-range series gets its own error instead and is
// not forecast, the others are.
func (s *Server) checkSeries(c *gin.Context, m *serving.Model, series []tsSeries) []inputWarning {
	if m.TrainingStats() == nil {
		return nil
	}
	var warns []inputWarning
	for i := range series {
		sr := &series[i]
		if sr.err != nil {
			continue
		}
		w, e := s.checkInput(c, m, [][]float64{sr.window}, "inputs["+strconv.Itoa(i)+"].series")
		if e != nil {
			sr.err = seriesError(e.Code, e.Field, "%s", e.Message)
			continue
		}
		warns = append(warns, w...)
	}
	return warns
}

// logForecast writes the request log line of a forecast: the series
// answered, each with its mean forecast.
func (s *Server) logForecast(c *gin.Context, m *serving.Model, series []tsSeries, warns []inputWarning, cached bool) {
	var windows [][]float64
	var preds []loggedPrediction
	for _, sr := range series {
		if sr.err == nil && len(sr.mean) > 0 {
			windows = append(windows, sr.window)
			preds = append(preds, loggedPrediction{Value: sr.mean[0], Forecast: sr.mean})
		}
	}
	s.logRequest(c, m, "/v1/timeseries/forecast", windows, preds, warns, cached)
}

// forecastRequest checks what the whole request shares: the model, the
// horizon and the quantiles; its errors fail the request (4xx).
func (s *Server) forecastRequest(c *gin.Context, req *tsRequest) (*serving.Model, int, []float64, *Error) {
	if req.Model == "" {
		return nil, 0, nil, invalid("model", "required: the name of a served model (%s)", quoteShort(s.reg.Default()))
	}
	if !s.reg.Ready() {
		return nil, 0, nil, newErr(http.StatusServiceUnavailable, CodeNotReady, "", "models are still loading")
	}
	m, e := s.lookup(req.Model, versionRef{})
	if e != nil {
		return nil, 0, nil, e
	}
	st := state(c)
	st.model, st.version = m.Name(), m.Version()
	if m.MultiIO() {
		return nil, 0, nil, multiIORefusal(m)
	}
	if len(req.Inputs) == 0 {
		return nil, 0, nil, invalid("inputs", "required: 1 to %d time series", s.cfg.MaxBatch)
	}
	if len(req.Inputs) > s.cfg.MaxBatch {
		return nil, 0, nil, invalid("inputs", "%d time series: send 1 to %d", len(req.Inputs), s.cfg.MaxBatch)
	}
	names := map[string]int{}
	for i, in := range req.Inputs {
		if j, ok := names[in.Name]; ok && in.Name != "" {
			return nil, 0, nil, invalid(fmt.Sprintf("inputs[%d].name", i), "%s is the name of inputs[%d] too: names are unique in a request", quoteShort(in.Name), j)
		}
		names[in.Name] = i
	}
	if req.Options == nil || req.Options.Horizon == nil {
		return nil, 0, nil, invalid("options.horizon", "required: the number of steps to forecast, 1 to %d", s.cfg.MaxHorizon)
	}
	h := *req.Options.Horizon
	if h < 1 || h > s.cfg.MaxHorizon {
		return nil, 0, nil, invalid("options.horizon", "must be between 1 and %d, got %d", s.cfg.MaxHorizon, h)
	}
	for i, q := range req.Options.Quantiles {
		if !(q > 0 && q < 1) {
			return nil, 0, nil, invalid(fmt.Sprintf("options.quantiles[%d]", i), "%g: a quantile is a probability strictly between 0 and 1", q)
		}
	}
	return m, h, req.Options.Quantiles, nil
}

// seriesError is an error of input i alone.
func seriesError(code, param, format string, args ...any) *tsErrorBody {
	return &tsErrorBody{Code: code, Message: fmt.Sprintf(format, args...), Param: param, Type: "invalid_request_error"}
}

// readSeries checks input i and reads its window; a problem is that
// series' error.
func (s *Server) readSeries(m *serving.Model, in *tsInput, i int, horizon int) tsSeries {
	sr := tsSeries{in: in}
	at := fmt.Sprintf("inputs[%d]", i)
	step, ok := frequencyStep(in.Frequency)
	switch {
	case in.Name == "":
		sr.err = seriesError(CodeInvalid, at+".name", "required: the series' name")
	case in.Type != tsUnivariate && in.Type != tsMultivariate:
		sr.err = seriesError(CodeInvalid, at+".type", "%s: want %q or %q", quoteShort(in.Type), tsUnivariate, tsMultivariate)
	case !ok:
		sr.err = seriesError(CodeInvalid, at+".frequency", "%s: want one of %s", quoteShort(in.Frequency), frequencies)
	case jsoncodec.Absent(in.Series):
		sr.err = seriesError(CodeInvalid, at+".series", "required: the observed values")
	}
	if sr.err != nil {
		return sr
	}
	sr.multi = in.Type == tsMultivariate
	b := s.bounds(m)
	var n int
	var err error
	switch {
	case sr.multi:
		if maxH := multiHorizon(m); horizon > maxH {
			sr.err = seriesError(CodeInvalid, "options.horizon", "a multivariate series is forecast by one pass of model %q, whose output is %v: horizon %d is more than that pass gives (at most %d)",
				m.Name(), m.OutputShape(), horizon, maxH)
			return sr
		}
		sr.window, n, err = jsoncodec.RowsCount(in.Series, at+".series", b)
	case !m.Univariate():
		sr.err = seriesError(CodeInvalid, at+".type", "model %q takes windows of %d steps of %d features (input %v) and gives %v: send a %s of rows of %d features",
			m.Name(), m.Window(), m.Features(), m.InputShape(), m.OutputShape(), tsMultivariate, m.Features())
		return sr
	default:
		sr.window, n, err = jsoncodec.SeriesCount(in.Series, at+".series", b)
	}
	if e := inputError(err); e != nil {
		sr.err = seriesError(e.Code, e.Field, "%s", e.Message)
		return sr
	}
	if in.StartTimestamp != nil {
		if sr.start, sr.err = forecastStart(*in.StartTimestamp, step, n, at+".start_timestamp"); sr.err != nil {
			return sr
		}
	}
	return sr
}

// multiHorizon is the longest forecast of a multivariate series: 1, or the
// k values of a model whose output is a vector of k (its own multi-step
// forecast).
func multiHorizon(m *serving.Model) int {
	if out := m.OutputShape(); len(out) == 1 && out[0] > 1 {
		return out[0]
	}
	return 1
}

// forecastKind forecasts every good series of one kind (univariate or
// multivariate) in one call, through the cache; hit says whether the cache
// answered (true when there was nothing to compute).
func (s *Server) forecastKind(c *gin.Context, m *serving.Model, series []tsSeries, multi bool, horizon int) (bool, error) {
	var idx []int
	var windows [][]float64
	for i, sr := range series {
		if sr.err == nil && sr.multi == multi {
			idx = append(idx, i)
			windows = append(windows, sr.window)
		}
	}
	if len(windows) == 0 {
		return true, nil
	}
	k := kindTimeseries
	if multi {
		k = kindTimeseriesWindow
	}
	body, hit, err := s.cachedCompute(c, cacheKey(k, m, horizon, windows), func(ctx context.Context) ([]byte, error) {
		var preds []serving.Prediction
		var err error
		h := horizon // the steps computed: a multivariate series takes one pass
		if multi {
			h = 1
			preds, err = m.PredictWindows(ctx, windows, h)
		} else {
			preds, err = m.Forecast(ctx, windows, h)
		}
		if err != nil {
			return nil, err
		}
		s.metrics.watch.observePredictions(m, preds)
		s.shadowRun(c, m, windows, h, multi, preds)
		means := make([][]float64, len(preds))
		for i, p := range preds {
			means[i] = p.Forecast
			if multi {
				means[i] = p.Outputs[:horizon]
			}
		}
		return json.Marshal(means)
	})
	if err != nil {
		return false, err
	}
	var means [][]float64
	if err := json.Unmarshal(body, &means); err != nil || len(means) != len(idx) {
		return false, fmt.Errorf("corrupt cached forecast (%d series for %d)", len(means), len(idx))
	}
	for j, i := range idx {
		series[i].mean = means[j]
	}
	return hit, nil
}

// tsQuantiles gives a forecast's quantiles from the model's backtest: a
// quantile it cannot give at some step is the series' error.
func tsQuantiles(m *serving.Model, sr *tsSeries, qs []float64, i int) (map[string][]float64, *tsErrorBody) {
	if len(qs) == 0 {
		return nil, nil
	}
	bt := m.Backtest()
	if bt == nil {
		return nil, seriesError(CodeInvalid, "options.quantiles", "model %q has no backtest (backtest.json), so it gives no quantiles: leave options.quantiles out", m.Name())
	}
	if sr.multi && m.OutputShape().Size() != 1 {
		return nil, seriesError(CodeInvalid, "options.quantiles", "model %q gives %v outputs in one pass; its backtest measures the errors of a single next-value forecast: leave options.quantiles out", m.Name(), m.OutputShape())
	}
	out := make(map[string][]float64, len(qs))
	for k, q := range qs {
		vals := make([]float64, len(sr.mean))
		for h, v := range sr.mean {
			x, ok := bt.QuantileValue(v, q, h+1)
			if !ok {
				return nil, seriesError(CodeInvalid, fmt.Sprintf("options.quantiles[%d]", k), "the backtest of model %q does not give quantile %g at step %d (it gives %s there; %s at every step)",
					m.Name(), q, h+1, floatList(bt.QuantilesAt(h+1)), floatList(bt.QuantilesAt(1<<30)))
			}
			vals[h] = x
		}
		out[strconv.FormatFloat(q, 'f', -1, 64)] = vals
	}
	return out, nil
}

func floatList(fs []float64) string {
	b := []byte{}
	for i, f := range fs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	return string(b)
}

// frequencies are the spec's Frequency enumeration.
const frequencies = "S, T, H, D, W, M, Q, Y or SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR"

// freqStep is one step of a frequency: a duration, or a number of months.
type freqStep struct {
	d      time.Duration
	days   int
	months int
}

func frequencyStep(f string) (freqStep, bool) {
	switch f {
	case "S", "SECOND":
		return freqStep{d: time.Second}, true
	case "T", "MINUTE":
		return freqStep{d: time.Minute}, true
	case "H", "HOUR":
		return freqStep{d: time.Hour}, true
	case "D", "DAY":
		return freqStep{days: 1}, true
	case "W", "WEEK":
		return freqStep{days: 7}, true
	case "M", "MONTH":
		return freqStep{months: 1}, true
	case "Q", "QUARTER":
		return freqStep{months: 3}, true
	case "Y", "YEAR":
		return freqStep{months: 12}, true
	}
	return freqStep{}, false
}

// forecastStart is start plus one step per observed value (n): where the
// forecast begins. Days and months count in the timestamp's own calendar
// (a month after January 31 is the last day of February, as pandas'
// offsets do). start is an ISO 8601 timestamp with or without its offset,
// or a date; the forecast's is written in the same form.
func forecastStart(start string, step freqStep, n int, param string) (string, *tsErrorBody) {
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		t, err := time.Parse(layout, start)
		if err != nil {
			continue
		}
		switch {
		case step.d != 0:
			if time.Duration(n) > (1<<62)/step.d {
				return "", seriesError(CodeInvalid, param, "%d steps of %v after %s are past any date", n, step.d, start)
			}
			t = t.Add(time.Duration(n) * step.d)
		case step.days != 0:
			t = t.AddDate(0, 0, n*step.days)
		default:
			t = addMonths(t, n*step.months)
		}
		if t.Year() < 0 || t.Year() > 9999 {
			return "", seriesError(CodeInvalid, param, "the forecast would start in year %d: past ISO 8601's four-digit years", t.Year())
		}
		if layout == "2006-01-02" && step.d != 0 {
			layout = "2006-01-02T15:04:05"
		}
		return t.Format(layout), nil
	}
	return "", seriesError(CodeInvalid, param, "%s: want an ISO 8601 timestamp (2025-06-05T13:10:00Z, 2025-06-05T13:10:00 or 2025-06-05)", quoteShort(start))
}

// addMonths adds k months, keeping the day of the month when it exists and
// taking the month's last day when it does not.
func addMonths(t time.Time, k int) time.Time {
	y, mo, d := t.Date()
	first := time.Date(y, mo, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()).AddDate(0, k, 0)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// The cache key kinds of this route (predict.go's kind).
const (
	kindTimeseries       kind = "timeseries"        // univariate series
	kindTimeseriesWindow kind = "timeseries-window" // multivariate series
)
