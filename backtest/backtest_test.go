package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/serving"
	"github.com/seqcast/seqcast/weights"
)

// linearModel is a one-layer linear model over a 3-step window:
// Flatten -> Dense(1) with kernel k and bias c, no scaler, so its forecast
// is k·window + c, by hand.
func linearModel(t testing.TB, k [3]float32, c float32) *serving.Model {
	t.Helper()
	cfg := `{"class_name":"Sequential","config":{"name":"lin","layers":[` +
		`{"class_name":"InputLayer","config":{"batch_input_shape":[null,3,1],"dtype":"float32","name":"in"}},` +
		`{"class_name":"Flatten","config":{"name":"f"}},` +
		`{"class_name":"Dense","config":{"name":"d","units":1,"activation":"linear","use_bias":true}}]},"keras_version":"2.12.0"}`
	npy := func(v []float32, shape ...int) []byte {
		var b bytes.Buffer
		if err := weights.WriteNPY(&b, v, shape); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	b, err := bundle.New("test:linear", map[string][]byte{
		"model.json":      []byte(cfg),
		"weights/000.npy": npy(k[:], 3, 1),
		"weights/001.npy": npy([]float32{c}, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := serving.New(context.Background(), b, "lin", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// csvOf writes values as a CSV with a date column (business days from
// Monday 2024-01-01).
func csvOf(v []float64) string {
	var b strings.Builder
	b.WriteString("date,y\n")
	d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, x := range v {
		fmt.Fprintf(&b, "%s,%g\n", d.Format("2006-01-02"), x)
		d = d.AddDate(0, 0, 1)
		for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			d = d.AddDate(0, 0, 1)
		}
	}
	return b.String()
}

func readSeries(t testing.TB, text string, o CSVOptions) *Series {
	t.Helper()
	s, err := ReadCSV(strings.NewReader(text), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

// TestKnownAnswers: the model "last value + 1" on y = 2t forecasts step h
// as y[i-1] + h (its own forecasts fed back), so its error at step h is
// exactly h and the naive forecast's 2h: every metric by hand.
func TestKnownAnswers(t *testing.T) {
	m := linearModel(t, [3]float32{0, 0, 1}, 1)
	y := make([]float64, 20)
	for i := range y {
		y[i] = 2 * float64(i+1)
	}
	s := readSeries(t, csvOf(y), CSVOptions{})
	if s.DateColumn != "date" || s.Target != "y" {
		t.Fatalf("columns: date %q target %q", s.DateColumn, s.Target)
	}
	r, err := Run(context.Background(), m, s, Config{TestFraction: 0.25, Horizon: 3, Season: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Rows 15..19 (0-based) are the test targets: 5 windows.
	if len(r.Origins) != 5 || r.Origins[0] != 15 || r.Frequency.Name != "business days" || r.Absolute {
		t.Fatalf("origins %v, frequency %q, absolute %v", r.Origins, r.Frequency.Name, r.Absolute)
	}
	for k, i := range r.Origins {
		for h := 1; h <= 3; h++ {
			if want := y[i-1] + float64(h); r.Forecasts[k][h-1] != want {
				t.Fatalf("window %d step %d: forecast %g, want %g", k, h, r.Forecasts[k][h-1], want)
			}
		}
	}
	for _, st := range r.Steps {
		h := float64(st.H)
		if st.N != 5-st.H+1 {
			t.Errorf("step %d: n %d", st.H, st.N)
		}
		var mape, smape, nmape, nsmape float64
		for _, i := range r.Origins[:st.N] {
			a := y[i+st.H-1]
			mape += h / a
			smape += 2 * h / (a + a - h)
			nmape += 2 * h / a
			nsmape += 2 * 2 * h / (a + a - 2*h)
		}
		n := float64(st.N)
		want := Metrics{MAE: h, RMSE: h, SMAPE: 100 * smape / n}
		// MASE's scale: the training part's mean |y[t] - y[t-2]| = 4 (season 2).
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"MAE", st.Model.MAE, want.MAE}, {"RMSE", st.Model.RMSE, want.RMSE}, {"MAPE", *st.Model.MAPE, 100 * mape / n},
			{"sMAPE", st.Model.SMAPE, want.SMAPE}, {"MASE", *st.Model.MASE, h / 4},
			{"naive MAE", st.Naive.MAE, 2 * h}, {"naive RMSE", st.Naive.RMSE, 2 * h}, {"naive MAPE", *st.Naive.MAPE, 100 * nmape / n},
			{"naive sMAPE", st.Naive.SMAPE, 100 * nsmape / n}, {"naive MASE", *st.Naive.MASE, 2 * h / 4},
			// Seasonal naive, season 2: y[t-2] at step 1 and 2, y[t-4] at step 3.
			{"seasonal naive MAE", st.SeasonalNaive.MAE, map[int]float64{1: 4, 2: 4, 3: 8}[st.H]},
		} {
			if !near(c.got, c.want, 1e-12) {
				t.Errorf("step %d %s: %g, want %g", st.H, c.name, c.got, c.want)
			}
		}
		// The relative errors h/(y[i-1]+h): the 0.05 quantile interpolates
		// between the two smallest.
		var rel []float64
		for _, i := range r.Origins[:st.N] {
			rel = append(rel, h/(y[i-1]+h))
		}
		lo := rel[st.N-1] + 0.05*float64(st.N-1)*(rel[st.N-2]-rel[st.N-1])
		if got := st.Quantiles["0.05"]; !near(got, lo, 1e-12) {
			t.Errorf("step %d: q0.05 %g, want %g", st.H, got, lo)
		}
		med := rel[st.N/2]
		if st.N%2 == 0 {
			med = (rel[st.N/2-1] + rel[st.N/2]) / 2
		}
		if got := st.Quantiles["0.50"]; !near(got, med, 1e-12) {
			t.Errorf("step %d: median %g, want %g", st.H, got, med)
		}
	}
	if v := r.Verdict(); !strings.Contains(v, "The model beats the naive forecast (last value) one step ahead: MAE 1 vs 2 (50.0% lower). Over steps 1-3 it has the lower MAE at 3 of 3.") {
		t.Errorf("verdict: %s", v)
	}

	// backtest.json: serving reads it back, and a forecast of 100 at step 1
	// gets the interval [100(1+q05), 100(1+q95)].
	f := r.File("y.csv")
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bt, err := serving.ParseBacktest(data)
	if err != nil {
		t.Fatal(err)
	}
	q05, q95 := r.Steps[0].Quantiles["0.05"], r.Steps[0].Quantiles["0.95"]
	if bt.Lower != q05 || bt.Upper != q95 || bt.Absolute || len(bt.Horizons) != 3 {
		t.Errorf("parsed back: %+v", bt)
	}
	if f.TestMAE != 1 || f.NaiveTest.MAE != 2 || f.N != 5 || f.Split["test"].FirstTarget != s.Dates[15].Format("2006-01-02") {
		t.Errorf("file: %+v", f)
	}
}

// TestAbsoluteErrors: a series crossing zero gets absolute error
// quantiles, which serving applies as p + q.
func TestAbsoluteErrors(t *testing.T) {
	m := linearModel(t, [3]float32{0, 0, 1}, 1)
	y := make([]float64, 20)
	for i := range y {
		y[i] = 2*float64(i) - 30 // -30 .. 8: crosses zero in the test period
	}
	s := readSeries(t, csvOf(y), CSVOptions{})
	r, err := Run(context.Background(), m, s, Config{TestFraction: 0.5, Horizon: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Absolute || !strings.Contains(r.AbsWhy, "cross zero") {
		t.Fatalf("absolute %v (%s)", r.Absolute, r.AbsWhy)
	}
	// The error is exactly h at every window: every quantile is h.
	for _, st := range r.Steps {
		for k, q := range st.Quantiles {
			if q != float64(st.H) {
				t.Errorf("step %d quantile %s: %g, want %d", st.H, k, q, st.H)
			}
		}
	}
	f := r.File("y.csv")
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if f.Interval != "absolute" || f.RelativeErrorQuantiles != nil || f.ErrorQuantiles == nil || f.Scale == nil {
		t.Fatalf("file: %s", data)
	}
	var raw map[string]any
	mustJSON(t, data, &raw)
	if _, ok := raw["relative_error_quantiles"]; ok {
		t.Error("an absolute file has relative_error_quantiles")
	}
	// Served: the model with this backtest.json brackets p with [p+1, p+1]
	// at step 1 and [p+2, p+2] at step 2, whatever the sign of p.
	b := bundleWith(t, m, data)
	sm, err := serving.New(context.Background(), b, "lin", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := sm.Forecast(context.Background(), [][]float64{{-3, -2, -1}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := preds[0]
	if p.Forecast[0] != 0 || p.Interval == nil || p.Intervals[0].Lower != 1 || p.Intervals[0].Upper != 1 || p.Intervals[1].Lower != 3 || p.Intervals[1].Upper != 3 {
		t.Errorf("served: %+v", p)
	}
	// --errors relative forces relative quantiles even so.
	r2, err := Run(context.Background(), m, s, Config{TestFraction: 0.5, Horizon: 1, Errors: "relative"})
	if err != nil || r2.Absolute {
		t.Fatalf("relative: %v %v", err, r2.Absolute)
	}
}

// bundleWith is the linear model's bundle with backtest.json data.
func bundleWith(t testing.TB, m *serving.Model, data []byte) *bundle.Bundle {
	t.Helper()
	_ = m
	cfg := `{"class_name":"Sequential","config":{"name":"lin","layers":[` +
		`{"class_name":"InputLayer","config":{"batch_input_shape":[null,3,1],"dtype":"float32","name":"in"}},` +
		`{"class_name":"Flatten","config":{"name":"f"}},` +
		`{"class_name":"Dense","config":{"name":"d","units":1,"activation":"linear","use_bias":true}}]},"keras_version":"2.12.0"}`
	var k, c bytes.Buffer
	mustDo(t, weights.WriteNPY(&k, []float32{0, 0, 1}, []int{3, 1}))
	mustDo(t, weights.WriteNPY(&c, []float32{1}, []int{1}))
	b, err := bundle.New("test:linear", map[string][]byte{"model.json": []byte(cfg), "weights/000.npy": k.Bytes(), "weights/001.npy": c.Bytes(), "backtest.json": data})
	mustDo(t, err)
	return b
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

// TestGoldReproduction regenerates the gold model's backtest.json from
// its data and compares it with the bundled one, which
// tools/train/train_gold.py computed with a float64 numpy forward pass
// (seqcast runs float32): test-set metrics within 1e-6 relative (measured:
// 1.3e-8), relative-error quantiles within 1e-7 absolute (measured: 1.6e-8)
// at every step the trainer measured, the naive baseline exactly.
func TestGoldReproduction(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gold model on 1,010 windows x 20 steps")
	}
	dir := filepath.Join("..", "models", "gold")
	m, err := serving.LoadDir(context.Background(), dir, "gold", 0)
	mustDo(t, err)
	f, err := os.Open(filepath.Join("..", "data", "gold_daily_usd.csv"))
	mustDo(t, err)
	defer f.Close()
	s, err := ReadCSV(f, CSVOptions{Target: "Price", DateColumn: "Date"})
	mustDo(t, err)
	from, _ := ParseDate("2019-09-01")
	r, err := Run(context.Background(), m, s, Config{TestFrom: from, Horizon: 20})
	mustDo(t, err)
	t.Logf("gold: %d windows x %d steps in %v", len(r.Origins), r.Horizon, r.Elapsed)
	data, err := r.File("gold_daily_usd.csv").Marshal()
	mustDo(t, err)
	var got, want goldFile
	mustJSON(t, data, &got)
	old, err := os.ReadFile(filepath.Join(dir, "backtest.json"))
	mustDo(t, err)
	mustJSON(t, old, &want)
	if got.N != 1010 || got.Split["test"] != want.Split["test"] {
		t.Fatalf("test period: n %d %+v, want %+v", got.N, got.Split["test"], want.Split["test"])
	}
	rel := func(name string, g, w, tol float64) {
		if d := math.Abs(g-w) / math.Abs(w); !(d <= tol) {
			t.Errorf("%s: %.12g, bundled %.12g (relative difference %.2g > %g)", name, g, w, d, tol)
		}
	}
	abs := func(name string, g, w, tol float64) {
		if d := math.Abs(g - w); !(d <= tol) {
			t.Errorf("%s: %.12g, bundled %.12g (difference %.2g > %g)", name, g, w, d, tol)
		}
	}
	rel("test_mae", got.TestMAE, want.TestMAE, 1e-6)
	rel("test_rmse", got.TestRMSE, want.TestRMSE, 1e-6)
	rel("test_mape", got.TestMAPE, want.TestMAPE, 1e-6)
	for k, v := range want.NaiveTest {
		rel("naive_test."+k, got.NaiveTest[k], v, 1e-12)
	}
	for q, v := range want.RelQ {
		abs("relative_error_quantiles."+q, got.RelQ[q], v, 1e-7)
	}
	for q, v := range want.AbsQ {
		rel("abs_error_quantiles."+q, got.AbsQ[q], v, 1e-5)
	}
	if len(want.Horizons) != 6 {
		t.Fatalf("bundled recursive_horizons: %d steps", len(want.Horizons))
	}
	for h, w := range want.Horizons {
		g, ok := got.Horizons[h]
		if !ok || g.N != w.N {
			t.Errorf("step %s: n %d, bundled %d", h, g.N, w.N)
			continue
		}
		rel("step "+h+" mae", g.MAE, w.MAE, 1e-6)
		rel("step "+h+" mape", g.MAPE, w.MAPE, 1e-6)
		rel("step "+h+" naive_mae", g.NaiveMAE, w.NaiveMAE, 1e-12)
		for q, v := range w.RelQ {
			abs("step "+h+" quantile "+q, g.RelQ[q], v, 1e-7)
		}
	}
	// The model card's figures, as it rounds them.
	for _, c := range []struct {
		got  float64
		want string
	}{{got.TestMAE, "12.93"}, {got.TestRMSE, "18.07"}, {got.TestMAPE, "0.72"}, {got.NaiveTest["mae"], "12.54"}, {got.NaiveTest["rmse"], "17.62"}, {got.NaiveTest["mape"], "0.70"}} {
		if s := fmt.Sprintf("%.2f", c.got); s != c.want {
			t.Errorf("model card figure %s, computed %s", c.want, s)
		}
	}
	if !strings.Contains(r.Verdict(), "does NOT beat the naive forecast") {
		t.Errorf("verdict: %s", r.Verdict())
	}

	// Written into a copy of the bundle: the manifest's one checksum line
	// changes, and the bundle still loads (checksums, self-test) with the
	// new intervals.
	cp := t.TempDir()
	mustDo(t, os.CopyFS(cp, os.DirFS(dir)))
	written, err := Install(cp, data)
	mustDo(t, err)
	if len(written) != 2 {
		t.Fatalf("written %v", written)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	after, _ := os.ReadFile(filepath.Join(cp, "manifest.json"))
	if d := diffLines(string(before), string(after)); len(d) != 1 || !strings.Contains(d[0], `"backtest.json"`) {
		t.Errorf("manifest changed on %d lines: %q", len(d), d)
	}
	m2, err := serving.LoadDir(context.Background(), cp, "gold", 0)
	mustDo(t, err)
	if bt := m2.Backtest(); bt == nil || len(bt.Horizons) != 20 || !near(bt.Lower, want.RelQ["0.05"], 1e-6) {
		t.Errorf("reloaded backtest: %+v", bt)
	}
}

type goldFile struct {
	N         int                  `json:"n"`
	Split     map[string]SplitInfo `json:"split"`
	TestMAE   float64              `json:"test_mae"`
	TestRMSE  float64              `json:"test_rmse"`
	TestMAPE  float64              `json:"test_mape"`
	NaiveTest map[string]float64   `json:"naive_test"`
	RelQ      map[string]float64   `json:"relative_error_quantiles"`
	AbsQ      map[string]float64   `json:"abs_error_quantiles"`
	Horizons  map[string]struct {
		N        int                `json:"n"`
		MAE      float64            `json:"mae"`
		MAPE     float64            `json:"mape"`
		NaiveMAE float64            `json:"naive_mae"`
		RelQ     map[string]float64 `json:"relative_error_quantiles"`
	} `json:"recursive_horizons"`
}

func diffLines(a, b string) []string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var d []string
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			d = append(d, x+" -> "+y)
		}
	}
	return d
}

// TestReadCSVErrors: every bad input is a *CSVError naming the line and
// the column.
func TestReadCSVErrors(t *testing.T) {
	for _, c := range []struct {
		name, text string
		o          CSVOptions
		line       int
		want       string
	}{
		{"empty", "", CSVOptions{}, 0, "the file is empty"},
		{"no rows", "date,y\n", CSVOptions{}, 0, "no rows after the header"},
		{"missing column", "date,y\n2024-01-01,1\n", CSVOptions{Target: "price"}, 1, `column "price": no such column (the target); the header has "date", "y"`},
		{"missing input column", "date,a,b\n2024-01-01,1,2\n", CSVOptions{Columns: []string{"a", "c"}, Target: "a"}, 1, `column "c": no such column (an input column)`},
		{"missing date column", "d,y\n2024-01-01,1\n", CSVOptions{DateColumn: "Date"}, 1, `column "Date": no such column (--date-column)`},
		{"which column", "date,a,b\n2024-01-01,1,2\n", CSVOptions{}, 1, `2 columns besides the dates ("a", "b"): name the series with --column`},
		{"which target", "a,b\n1,2\n", CSVOptions{Columns: []string{"a", "b"}}, 0, "2 input columns: name the one the model forecasts with --target"},
		{"number", "date,y\n2024-01-01,1\n2024-01-02,1.5x\n", CSVOptions{}, 3, `column "y": "1.5x" is not a number`},
		{"nan", "date,y\n2024-01-01,1\n2024-01-02,2\n2024-01-03,NaN\n", CSVOptions{}, 4, `column "y": "NaN" is not a finite number`},
		{"inf", "y\n1\n-Inf\n", CSVOptions{}, 3, `"-Inf" is not a finite number`},
		{"overflow", "y\n1\n1e999\n", CSVOptions{}, 3, `"1e999" is not a finite number`},
		{"empty value", "date,y\n2024-01-01,\n", CSVOptions{}, 2, `column "y": empty value`},
		{"date", "date,y\n2024-01-01,1\n2024-13-02,2\n", CSVOptions{}, 3, `column "date": "2024-13-02" is not a date like the first row's`},
		{"first date", "date,y\nyesterday,1\n", CSVOptions{}, 2, `"yesterday" is not a date (want ISO 8601`},
		{"descending", "date,y\n2024-01-02,1\n2024-01-01,2\n", CSVOptions{}, 3, "2024-01-01 is not after the previous row's 2024-01-02 (line 2)"},
		{"duplicate date", "date,y\n2024-01-02,1\n\n2024-01-02,2\n", CSVOptions{}, 4, "is not after the previous row's"},
		{"field count", "date,y\n2024-01-01,1,3\n", CSVOptions{}, 2, "wrong number of fields"},
		{"duplicate header", "y,y\n1,2\n", CSVOptions{Target: "y"}, 1, "appears twice"},
		{"date as target", "date,y\n2024-01-01,1\n", CSVOptions{Target: "date"}, 1, "is the date column"},
		{"too big", "y\n1\n2\n3\n", CSVOptions{MaxBytes: 4}, 0, "larger than 4 bytes"},
		{"too many rows", "y\n1\n2\n3\n", CSVOptions{MaxRows: 2}, 0, "more than 2 rows"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(c.text), c.o)
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *CSVError", err, err)
			}
			if ce.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q (line %d), want line %d and %q", err, ce.Line, c.line, c.want)
			}
		})
	}
}

// TestRunErrors: a backtest that cannot run says which option or what in
// the data, as a *ConfigError.
func TestRunErrors(t *testing.T) {
	m := linearModel(t, [3]float32{0, 0, 1}, 1)
	y := make([]float64, 10)
	for i := range y {
		y[i] = float64(i + 1)
	}
	s := readSeries(t, csvOf(y), CSVOptions{})
	noDates := readSeries(t, "y\n1\n2\n3\n4\n5\n6\n7\n8\n", CSVOptions{})
	two := readSeries(t, "a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n", CSVOptions{Columns: []string{"a", "b"}, Target: "a"})
	from := func(d string) time.Time { v, _ := ParseDate(d); return v }
	for _, c := range []struct {
		name  string
		s     *Series
		cfg   Config
		field string
		want  string
	}{
		{"short", readSeries(t, "y\n1\n2\n3\n4\n", CSVOptions{}), Config{Horizon: 2}, "", "the series has 4 rows; model \"lin\" needs at least its window (3) plus the horizon (2): 5"},
		{"test too early", s, Config{TestFrom: from("2024-01-02")}, "", "the test period starts at row 2 (line 3), but a window needs the 3 rows before it: move --test-from later"},
		{"fraction too big", s, Config{TestFraction: 0.9}, "", "move --test-fraction later"},
		{"after the end", s, Config{TestFrom: from("2030-01-01")}, "test-from", "is after the last row"},
		{"no dates", noDates, Config{TestFrom: from("2024-01-01")}, "test-from", "needs dates"},
		{"horizon", s, Config{Horizon: -1}, "horizon", "want at least 1"},
		{"season 1", s, Config{Season: 1}, "season", "a season of 1 row is the naive forecast"},
		{"level", s, Config{Level: 1.5}, "level", "want a coverage in (0, 1)"},
		{"errors", s, Config{Errors: "percent"}, "errors", `"percent": want auto, relative or absolute`},
		{"columns", two, Config{}, "columns", "model \"lin\" takes 1 feature(s) per time step; the series has 2 column(s)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(context.Background(), m, c.s, c.cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *ConfigError", err)
			}
			if ce.Field != c.field || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q (field %q), want field %q and %q", err, ce.Field, c.field, c.want)
			}
		})
	}
}

// TestFrequencyAndGaps: the frequency comes from the dates themselves;
// holes of up to MaxHole periods (holidays) are kept, longer gaps are
// listed and the test windows spanning them left out.
func TestFrequencyAndGaps(t *testing.T) {
	day := func(s string) time.Time { v, _ := ParseDate(s); return v }
	seq := func(start string, n int, step func(time.Time) time.Time) []time.Time {
		d := []time.Time{day(start)}
		for len(d) < n {
			d = append(d, step(d[len(d)-1]))
		}
		return d
	}
	bday := func(t time.Time) time.Time {
		t = t.AddDate(0, 0, 1)
		for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	for _, c := range []struct {
		name  string
		dates []time.Time
		want  string
	}{
		{"business days", seq("2024-01-01", 40, bday), "business days"},
		{"daily", seq("2024-01-01", 40, func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }), "daily"},
		{"weekly", seq("2024-01-07", 40, func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }), "weekly"},
		{"monthly", seq("2024-01-01", 40, func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }), "monthly"},
		{"quarterly", seq("2024-01-01", 40, func(t time.Time) time.Time { return t.AddDate(0, 3, 0) }), "quarterly"},
		{"yearly", seq("2004-01-01", 20, func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }), "yearly"},
		{"hourly", seq("2024-01-01", 40, func(t time.Time) time.Time { return t.Add(time.Hour) }), "every 1h0m0s"},
		{"irregular", seq("2024-01-01", 40, func(t time.Time) time.Time { return t.Add(time.Duration(t.Unix()%7+1) * time.Hour * 5) }), "irregular"},
	} {
		if got := InferFrequency(c.dates).Name; got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}

	// Business days with a 2-day holiday (a hole) and a 10-day closure (a
	// gap) inside the test period.
	dates := seq("2024-01-01", 60, bday)
	var withGaps []time.Time
	for i, d := range dates {
		if i == 10 || i == 11 || (i >= 40 && i < 50) {
			continue
		}
		withGaps = append(withGaps, d)
	}
	f := InferFrequency(withGaps)
	gaps, holes := f.Gaps(withGaps)
	if f.Name != "business days" || holes != 1 || len(gaps) != 1 || gaps[0].Missing != 10 || gaps[0].Row != 38 {
		t.Fatalf("frequency %q, holes %d, gaps %+v", f.Name, holes, gaps)
	}
	var b strings.Builder
	b.WriteString("date,y\n")
	for i, d := range withGaps {
		fmt.Fprintf(&b, "%s,%d\n", d.Format("2006-01-02"), i+1)
	}
	s := readSeries(t, b.String(), CSVOptions{})
	m := linearModel(t, [3]float32{0, 0, 1}, 1)
	r, err := Run(context.Background(), m, s, Config{TestFraction: 0.5, Horizon: 2})
	mustDo(t, err)
	// Test rows 24..47 (0-based); the gap is before row 38: windows whose
	// rows i-3 .. i+1 include 37 and 38 are left out: i = 37..40.
	if r.Skipped != 4 || len(r.Origins) != 20 || r.Holes != 1 {
		t.Errorf("skipped %d, kept %d, holes %d", r.Skipped, len(r.Origins), r.Holes)
	}
	r, err = Run(context.Background(), m, s, Config{TestFraction: 0.5, Horizon: 2, KeepGaps: true})
	mustDo(t, err)
	if r.Skipped != 0 || len(r.Origins) != 24 {
		t.Errorf("--keep-gaps: skipped %d, kept %d", r.Skipped, len(r.Origins))
	}
	if rep := Report(r, "x.csv"); !strings.Contains(rep, "1 gaps [2024-02-23 to 2024-03-11 (10 periods missing)]") {
		t.Errorf("report:\n%s", rep)
	}
}

// TestPlotSVG: the plot is well-formed SVG with the series, the band, the
// histogram and the verdict, and nothing that fetches.
func TestPlotSVG(t *testing.T) {
	m := linearModel(t, [3]float32{0.25, 0.25, 0.5}, 0.5)
	y := make([]float64, 200)
	for i := range y {
		y[i] = 100 + 10*math.Sin(float64(i)/7) + float64(i%5)
	}
	s := readSeries(t, csvOf(y), CSVOptions{})
	for _, cfg := range []Config{{Horizon: 5, Season: 7}, {Horizon: 1, Errors: "absolute"}} {
		r, err := Run(context.Background(), m, s, cfg)
		mustDo(t, err)
		svg := Plot(r)
		d := xml.NewDecoder(bytes.NewReader(svg))
		elems := map[string]int{}
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed XML: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				elems[se.Name.Local]++
			}
		}
		if elems["svg"] != 1 || elems["polyline"] != 2 || elems["polygon"] != 1 || elems["rect"] < 50 {
			t.Errorf("elements %v", elems)
		}
		for _, bad := range []string{"<script", "href", "http:", "https:"} {
			if bytes.Contains(bytes.Replace(svg, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil, 1), []byte(bad)) {
				t.Errorf("the SVG contains %q", bad)
			}
		}
		if !bytes.Contains(svg, []byte("naive forecast (last value) one step ahead")) {
			t.Error("no verdict in the plot")
		}
	}
}

// TestInstall: into a bundle with a manifest that lists no backtest.json,
// the checksum is added; a plain file is just written.
func TestInstall(t *testing.T) {
	dir := t.TempDir()
	mustDo(t, os.WriteFile(filepath.Join(dir, "model.json"), []byte("{}"), 0o644))
	mustDo(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"name":"x","files":{"model.json":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}}`), 0o644))
	w, err := Install(dir, []byte("{\"level\":0.9}\n"))
	mustDo(t, err)
	if len(w) != 2 {
		t.Fatalf("written %v", w)
	}
	var man struct{ Files map[string]string }
	b, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	mustJSON(t, b, &man)
	if len(man.Files) != 2 || man.Files["backtest.json"] == "" {
		t.Errorf("manifest: %s", b)
	}
	// Again: the one line changes.
	_, err = Install(filepath.Join(dir, "backtest.json"), []byte("{\"level\":0.8}\n"))
	mustDo(t, err)
	b2, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if d := diffLines(string(b), string(b2)); len(d) != 1 {
		t.Errorf("manifest diff: %q", d)
	}
	other := filepath.Join(t.TempDir(), "bt.json")
	w, err = Install(other, []byte("{}"))
	if err != nil || len(w) != 1 || w[0] != other {
		t.Errorf("plain file: %v %v", w, err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}
