package serving

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/bundle"
)

const absoluteBacktest = `{"format":"seqcast-backtest/1","level":0.9,"n":100,"interval":"absolute","scale":50,
 "error_quantiles":{"0.05":-2,"0.50":0.1,"0.95":3},
 "recursive_horizons":{"2":{"error_quantiles":{"0.05":-4,"0.95":5}}}}`

// TestAbsoluteBacktest: "interval": "absolute" brackets p with p + q
// whatever p's sign and size, and labels by the width over "scale".
func TestAbsoluteBacktest(t *testing.T) {
	bt, err := ParseBacktest([]byte(absoluteBacktest))
	must(t, err)
	if !bt.Absolute || bt.Scale != 50 || bt.Lower != -2 || bt.Upper != 3 || len(bt.Horizons) != 1 {
		t.Fatalf("parsed %+v", bt)
	}
	for _, c := range []struct {
		v      float64
		h      int
		lo, hi float64
	}{{0, 1, -2, 3}, {-0.5, 1, -2.5, 2.5}, {100, 2, 96, 105}, {-100, 2, -104, -95}} {
		iv := bt.interval(c.v, c.h)
		if iv.Lower != c.lo || iv.Upper != c.hi || iv.Level != 0.9 {
			t.Errorf("interval(%g, %d) = %+v, want [%g, %g]", c.v, c.h, iv, c.lo, c.hi)
		}
	}
	// Width 5 over scale 50 = 0.1: low, whatever the forecast (even 0).
	if c := bt.confidence(bt.interval(0, 1), 0); c != "low" {
		t.Errorf("confidence %s", c)
	}
	wide, err := ParseBacktest([]byte(strings.Replace(absoluteBacktest, `"scale":50`, `"scale":500`, 1)))
	must(t, err)
	if c := wide.confidence(wide.interval(0, 1), 0); c != "high" { // 5/500 = 0.01
		t.Errorf("scale 500: confidence %s", c)
	}
	// The relative files of before are read as they were.
	rel, err := ParseBacktest([]byte(backtestJSON))
	must(t, err)
	if rel.Absolute {
		t.Error("a file without \"interval\" is absolute")
	}

	for _, c := range []struct{ name, from, to, want string }{
		{"unknown kind", `"interval":"absolute"`, `"interval":"percent"`, `interval "percent": want "relative" or "absolute"`},
		{"no scale", `"scale":50,`, ``, `needs a positive "scale"`},
		{"zero scale", `"scale":50`, `"scale":0`, `needs a positive "scale"`},
		{"relative quantiles too", `"error_quantiles":{"0.05"`, `"relative_error_quantiles":{"0.05":-1,"0.95":1},"error_quantiles":{"0.05"`, "an absolute backtest gives error_quantiles"},
		{"no quantiles", `"error_quantiles":{"0.05":-2,"0.50":0.1,"0.95":3},`, ``, "error_quantiles: no 0.05 quantile"},
		{"relative per step", `"2":{"error_quantiles"`, `"2":{"relative_error_quantiles"`, `recursive_horizons["2"] has relative_error_quantiles`},
	} {
		_, err := ParseBacktest([]byte(strings.Replace(absoluteBacktest, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// TestKerasBacktestBeside: a backtest.json beside a version folder's Keras
// file gives the model its intervals (and a new fingerprint); beside two
// Keras files it belongs to neither and is not read.
func TestKerasBacktestBeside(t *testing.T) {
	root, v1 := airKerasFolder(t)
	reg := NewRegistry(Options{}, ModelsDir(root))
	must(t, reg.Load(context.Background()))
	m, err := reg.Get("air", 0)
	must(t, err)
	if m.Backtest() != nil {
		t.Fatal("a backtest without backtest.json")
	}
	write(t, filepath.Join(v1, BacktestFile), backtestJSON)
	must(t, reg.Reload(context.Background(), ""))
	m2, err := reg.Get("air", 0)
	must(t, err)
	if bt := m2.Backtest(); bt == nil || bt.N != 500 || m2.Fingerprint() == m.Fingerprint() {
		t.Fatalf("backtest.json beside the Keras file: %+v, fingerprint changed %v", bt, m2.Fingerprint() != m.Fingerprint())
	}
	preds, err := m2.PredictWindows(context.Background(), [][]float64{make([]float64, 24*7)}, 1)
	must(t, err)
	if preds[0].Interval == nil {
		t.Error("no interval from backtest.json beside the Keras file")
	}

	// A single Keras file source reads it the same way; with a second
	// Keras file in the folder it is not read.
	src := KerasFile("air", 1, filepath.Join(v1, "cnn_bilstm_model.keras"), bundle.KerasOptions{ScalerX: filepath.Join(v1, "scaler_X.pkl"), ScalerY: filepath.Join(v1, "scaler_y.pkl")})
	fs, err := src.Scan(nil)
	must(t, err)
	b, err := fs[0].Read(nil)
	must(t, err)
	if _, ok := b.File(BacktestFile); !ok {
		t.Error("KerasFile: no backtest.json")
	}
	write(t, filepath.Join(v1, "other.keras"), "x")
	b, err = fs[0].Read(nil)
	must(t, err)
	if _, ok := b.File(BacktestFile); ok {
		t.Error("backtest.json read beside two Keras files")
	}
	// An unreadable backtest.json beside the file fails the version.
	must(t, os.Remove(filepath.Join(v1, "other.keras")))
	write(t, filepath.Join(v1, BacktestFile), `{"level":2}`)
	if err := reg.Reload(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "backtest.json: level 2") {
		t.Errorf("bad backtest.json: %v", err)
	}
}

// airKerasFolder is a models dir holding air/1/ with the air-quality Keras
// file and its scaler pickles, configured by air/model.yaml.
func airKerasFolder(t testing.TB) (root, v1 string) {
	t.Helper()
	root = t.TempDir()
	v1 = filepath.Join(root, "air", "1")
	for _, f := range []string{"cnn_bilstm_model.keras", "scaler_X.pkl", "scaler_y.pkl"} {
		b, err := os.ReadFile(filepath.Join(airQuality, f))
		must(t, err)
		write(t, filepath.Join(v1, f), string(b))
	}
	write(t, filepath.Join(root, "air", "model.yaml"), "keras:\n  scaler_x: scaler_X.pkl\n  scaler_y: scaler_y.pkl\n")
	return root, v1
}
