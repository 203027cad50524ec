package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// salesCSV is the sales fixture's series (8 weekly lags -> next week) as a
// CSV with weekly dates: see backtest/testdata/README.md.
const salesCSV = "../../backtest/testdata/sales_weekly.csv"

// TestBacktestKerasThenServe is a user's path through the real binary: a
// Keras file in a models dir's version folder, `seqcast backtest` on their
// CSV writing backtest.json beside it, then `seqcast serve` answering
// /predict with the interval and confidence that file gives. The one-step
// MAE equals the one of Keras's own predictions on the same 72 test
// windows.
func TestBacktestKerasThenServe(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary and serves over loopback")
	}
	root := t.TempDir()
	v1 := filepath.Join(root, "sales", "1")
	b, err := os.ReadFile(filepath.Join(salesDir, "nb10_bilstm_baseline_80_20.keras"))
	mustDo(t, err)
	writeFile(t, filepath.Join(v1, "model.keras"), b)
	writeFile(t, filepath.Join(root, "sales", "model.yaml"), []byte("keras:\n  window_zscore: true\n"))
	svg := filepath.Join(root, "backtest.svg")
	cmd := exec.Command(seqcastBinary(t), "backtest", "--model", v1, "--window-zscore", "--csv", salesCSV, "--date-column", "week",
		"--test-from", "2021-08-08", "--horizon", "4", "--season", "52", "--out", v1, "--plot", svg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("seqcast backtest: %v\n%s", err, out)
	}
	for _, want := range []string{
		"model sales (window 8) on " + salesCSV + ", column sales: 364 rows",
		"frequency weekly",
		"test: targets 2021-08-08 to 2022-12-18, 72 windows, horizon 4 (one batched forward pass per step)",
		"verdict: The model beats the naive forecast (last value) one step ahead",
		"It beats the seasonal naive (season 52)",
		"wrote " + filepath.Join(v1, "backtest.json"),
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(v1, "backtest.json"))
	mustDo(t, err)
	var f struct {
		TestMAE float64            `json:"test_mae"`
		N       int                `json:"n"`
		Q       map[string]float64 `json:"relative_error_quantiles"`
	}
	mustDo(t, json.Unmarshal(data, &f))
	// Keras: mean |y_true - nb10_bilstm_baseline_y_pred| over
	// keras_predictions_80_20.npz = 7338.768147786458.
	if f.N != 72 || math.Abs(f.TestMAE-7338.768147786458)/7338.768147786458 > 1e-5 {
		t.Errorf("n %d, test MAE %.9g; Keras's is 7338.768147786458", f.N, f.TestMAE)
	}
	if st, err := os.Stat(svg); err != nil || st.Size() < 5000 {
		t.Errorf("plot: %v", err)
	}

	p := startBinary(t, nil, "--models-dir", root)
	window := `[38593, 58685, 26239, 39208, 31314, 42468, 32365, 36032]`
	r := p.call(t, "POST", "/predict", `{"model":"sales","historical_prices":`+window+`}`)
	if r.status != 200 {
		t.Fatalf("predict: %d %s", r.status, r.raw)
	}
	price, _ := r.body["predicted_price"].(float64)
	iv, _ := r.body["interval"].(map[string]any)
	if iv == nil || r.body["confidence"] == nil {
		t.Fatalf("no interval: %s", r.raw)
	}
	lo, hi := iv["lower"].(float64), iv["upper"].(float64)
	wantLo, wantHi := price+math.Abs(price)*f.Q["0.05"], price+math.Abs(price)*f.Q["0.95"]
	if math.Abs(lo-wantLo) > 1e-6*math.Abs(price) || math.Abs(hi-wantHi) > 1e-6*math.Abs(price) || iv["level"] != 0.9 {
		t.Errorf("interval %v, want [%g, %g] from backtest.json", iv, wantLo, wantHi)
	}
	// Width ~0.7 of the forecast: "low", honestly.
	if r.body["confidence"] != "low" {
		t.Errorf("confidence %v", r.body["confidence"])
	}
}

// TestBacktestCommandErrors: usage mistakes exit 2 naming the flag; bad
// data exits 1 naming the line; --json prints backtest.json alone.
func TestBacktestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	mustDo(t, os.WriteFile(bad, []byte("week,sales\n2016-01-03,1\n2016-01-10,oops\n"), 0o644))
	short := filepath.Join(dir, "short.csv")
	mustDo(t, os.WriteFile(short, []byte("week,sales\n2016-01-03,1\n2016-01-10,2\n2016-01-17,3\n"), 0o644))
	keras := filepath.Join(salesDir, "nb10_bilstm_baseline_80_20.keras")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--csv", salesCSV}, 2, "--model and --csv are required"},
		{[]string{"--model", gold, "--csv", salesCSV, "--test-from", "2020-01-01", "--test-fraction", "0.3"}, 2, "--test-from and --test-fraction are exclusive"},
		{[]string{"--model", gold, "--csv", salesCSV, "--column", "a", "--columns", "a,b"}, 2, "--column and --columns are exclusive"},
		{[]string{"--model", gold, "--csv", salesCSV, "--test-from", "soon"}, 2, `--test-from: "soon" is not a date`},
		{[]string{"--model", keras, "--window-zscore", "--csv", salesCSV, "--column", "price"}, 1, `column "price": no such column (the target); the header has "week", "sales"`},
		{[]string{"--model", keras, "--window-zscore", "--csv", bad, "--date-column", "week"}, 1, `bad.csv: line 3: column "sales": "oops" is not a number`},
		{[]string{"--model", keras, "--window-zscore", "--csv", short, "--column", "sales"}, 1, "the series has 3 rows; model \"nb10_bilstm_baseline_80_20\" needs at least its window (8) plus the horizon (20): 28"},
		{[]string{"--model", keras, "--window-zscore", "--csv", salesCSV, "--column", "sales", "--horizon", "0"}, 2, "--horizon: want at least 1, got 0"},
		{[]string{"--model", keras, "--window-zscore", "--csv", salesCSV, "--columns", "sales,week", "--target", "sales", "--date-column", "week"}, 1, "is the date column"},
		{[]string{"--model", dir, "--csv", salesCSV, "--column", "sales"}, 1, "holds no model.json and 0 Keras files"},
	} {
		code, stdout, stderr := runCmd(append([]string{"backtest"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want %d and %q; stderr:\n%s\nstdout:\n%s", c.args, code, c.code, c.want, stderr, stdout)
		}
	}
	code, stdout, stderr := runCmd("backtest", "--model", keras, "--window-zscore", "--csv", salesCSV, "--date-column", "week", "--horizon", "2", "--json")
	var f map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &f) != nil || f["format"] != "seqcast-backtest/1" {
		t.Fatalf("--json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The last 20% of 364 rows: 73 windows.
	if n, _ := f["n"].(float64); n != 73 || strconv.Quote(f["interval"].(string)) != `"relative"` {
		t.Errorf("--json: n %v interval %v", f["n"], f["interval"])
	}
}

// TestBacktestProgress: the bar is drawn on a terminal once the run has
// taken more than progressDelay, cleared at the end; never elsewhere.
func TestBacktestProgress(t *testing.T) {
	var buf strings.Builder
	p := &progress{w: &buf, tty: true}
	p.start(4)
	p.observe("m", 1, 100, 0) // too early: not drawn
	p.t0 = p.t0.Add(-time.Second)
	for range 3 {
		p.observe("m", 1, 100, 0)
	}
	p.done()
	s := buf.String()
	if strings.Contains(s, "step 1/4") || !strings.Contains(s, "\rbacktest [##############################] step 4/4, 100 windows") || !strings.HasSuffix(s, "\r") {
		t.Errorf("terminal: %q", s)
	}
	buf.Reset()
	q := newProgress(&buf) // not a terminal
	q.start(2)
	q.t0 = q.t0.Add(-time.Second)
	q.observe("m", 1, 100, 0)
	q.done()
	if buf.Len() != 0 {
		t.Errorf("not a terminal: %q", buf.String())
	}
	if f, err := os.Open(os.DevNull); err == nil {
		defer f.Close()
		if newProgress(f).tty {
			t.Error("/dev/null is taken for a terminal")
		}
	}
}
