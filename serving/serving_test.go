package serving

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/seqcast/seqcast/weights"
)

// benchGold is the untrained gold-architecture bundle (identity scaler).
const benchGold = "../testdata/bench/gold"

// bundleFS loads dir into a MapFS and adds (or, with nil, removes) files.
func bundleFS(t testing.TB, dir string, extra map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, p))
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

const minmaxScaler = `{"format":"seqcast-scaler/1","window":60,
 "input": {"kind":"minmax","feature_range":[0,1],"clip":false,"data_min":[1000],"data_max":[3000],"scale":[0.0005],"min":[-0.5]},
 "output":{"kind":"minmax","feature_range":[0,1],"clip":false,"data_min":[1000],"data_max":[3000],"scale":[0.0005],"min":[-0.5]}}`

const backtestJSON = `{"format":"seqcast-backtest/1","level":0.9,"n":500,
 "relative_error_quantiles":{"0.05":-0.012,"0.25":-0.004,"0.50":0.0,"0.75":0.004,"0.95":0.011},
 "recursive_horizons":{"1":{"relative_error_quantiles":{"0.05":-0.012,"0.95":0.011}},
   "5":{"relative_error_quantiles":{"0.05":-0.03,"0.95":0.028}}},
 "test_mae":12.5,"test_rmse":17.0,"test_mape":0.8}`

func readNPY(t testing.TB, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, s, err := weights.ReadNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	return d, s
}

func TestRawMatchesTFJS(t *testing.T) {
	m, err := LoadDir(context.Background(), benchGold, "gold", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Window() != 60 || m.Features() != 1 || !m.Univariate() || m.Version() != 1 {
		t.Fatalf("window %d features %d univariate %v version %d", m.Window(), m.Features(), m.Univariate(), m.Version())
	}
	x, xs := readNPY(t, benchGold+"/input.npy")
	want, _ := readNPY(t, benchGold+"/expected.npy")
	y, err := m.Raw(context.Background(), x, xs[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if d := math.Abs(float64(y[i] - want[i])); d > 1e-5+1e-5*math.Abs(float64(want[i])) {
			t.Fatalf("output %d: got %g want %g", i, y[i], want[i])
		}
	}
	// The identity pipeline: Forecast equals Raw on the same window.
	w := make([]float64, 70) // longer than the window: the last 60 count
	for i := 0; i < 60; i++ {
		w[10+i] = float64(x[i])
	}
	p, err := m.Forecast(context.Background(), [][]float64{w}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p[0].Value != float64(y[0]) || p[0].Interval != nil || p[0].Confidence != "low" {
		t.Fatalf("forecast %+v, raw %g", p[0], y[0])
	}
}

func TestForecastScalerBacktestRecursive(t *testing.T) {
	fsys := bundleFS(t, benchGold, map[string]string{ScalerFile: minmaxScaler, BacktestFile: backtestJSON})
	m, err := LoadFS(context.Background(), fsys, "gold", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() != 3 || m.Backtest() == nil || m.Backtest().Metrics["mae"] != 12.5 {
		t.Fatalf("version %d backtest %+v", m.Version(), m.Backtest())
	}
	ctx := context.Background()
	w := make([]float64, 60)
	for i := range w {
		w[i] = 1800 + 50*math.Sin(float64(i)/7)
	}
	// By hand: scale, raw forward, inverse; then slide and repeat.
	manual := func(w []float64) float64 {
		x := make([]float32, 60)
		for i, v := range w {
			x[i] = float32(v*0.0005 - 0.5)
		}
		y, err := m.Raw(ctx, x, 1)
		if err != nil {
			t.Fatal(err)
		}
		return (float64(y[0]) + 0.5) / 0.0005
	}
	preds, err := m.Forecast(ctx, [][]float64{w, w}, 7)
	if err != nil {
		t.Fatal(err)
	}
	cur := append([]float64(nil), w...)
	for s := 0; s < 7; s++ {
		want := manual(cur)
		if got := preds[1].Forecast[s]; math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Fatalf("step %d: got %g want %g", s+1, got, want)
		}
		cur = append(cur[1:], want)
	}
	p := preds[0]
	if p.Value != p.Forecast[0] || len(p.Intervals) != 7 {
		t.Fatalf("%+v", p)
	}
	if iv := *p.Interval; math.Abs(iv.Lower-p.Value*(1-0.012)) > 1e-9 || math.Abs(iv.Upper-p.Value*1.011) > 1e-9 || iv.Level != 0.9 {
		t.Fatalf("interval %+v for %g", iv, p.Value)
	}
	// Step 3 interpolates between the measured steps 1 and 5; step 7 widens
	// step 5's by sqrt(7/5).
	lo3, hi3 := m.Backtest().quantilesAt(3)
	if math.Abs(lo3-(-0.021)) > 1e-12 || math.Abs(hi3-0.0195) > 1e-12 {
		t.Fatalf("step 3 quantiles %g %g", lo3, hi3)
	}
	lo7, _ := m.Backtest().quantilesAt(7)
	if math.Abs(lo7-(-0.03*math.Sqrt(1.4))) > 1e-12 {
		t.Fatalf("step 7 lower %g", lo7)
	}
}

func TestConfidenceLabels(t *testing.T) {
	bt := &Backtest{Level: 0.9, HighWidth: 0.02, MediumWidth: 0.05}
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{{-0.005, 0.005, "high"}, {-0.015, 0.015, "medium"}, {-0.03, 0.03, "low"}} {
		bt.Lower, bt.Upper = tc.lo, tc.hi
		if got := bt.confidence(bt.interval(2000, 1), 2000); got != tc.want {
			t.Errorf("width %g: got %s want %s", tc.hi-tc.lo, got, tc.want)
		}
	}
}

func TestParseBacktestErrors(t *testing.T) {
	for name, body := range map[string]string{
		"format":   `{"format":"other/1","level":0.9}`,
		"level":    `{"level":1.5}`,
		"missing":  `{"level":0.9,"relative_error_quantiles":{"0.50":0}}`,
		"order":    `{"level":0.9,"relative_error_quantiles":{"0.05":0.1,"0.95":-0.1}}`,
		"horizon":  `{"level":0.9,"relative_error_quantiles":{"0.05":-0.1,"0.95":0.1},"recursive_horizons":{"x":{}}}`,
		"thresh":   `{"level":0.9,"relative_error_quantiles":{"0.05":-0.1,"0.95":0.1},"confidence_thresholds":{"high":0.1,"medium":0.05}}`,
		"not json": `{`,
	} {
		if _, err := ParseBacktest([]byte(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestForecastInputErrors(t *testing.T) {
	m, err := LoadDir(context.Background(), benchGold, "gold", 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	long := make([]float64, 60)
	bad := make([]float64, 61)
	bad[5] = math.Inf(1)
	for name, tc := range map[string]struct {
		w [][]float64
		h int
	}{
		"short":    {[][]float64{long, long[:59]}, 1},
		"inf":      {[][]float64{bad}, 1},
		"horizon0": {[][]float64{long}, 0},
		"empty":    {nil, 1},
	} {
		_, err := m.Forecast(ctx, tc.w, tc.h)
		var ie *InputError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInput) {
			t.Errorf("%s: got %v, want an InputError", name, err)
		}
	}
	if _, err := m.Raw(ctx, make([]float32, 59), 1); !errors.Is(err, ErrInput) {
		t.Errorf("raw short: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	for name, extra := range map[string]map[string]string{
		"scaler window": {ScalerFile: strings.Replace(minmaxScaler, `"window":60`, `"window":30`, 1)},
		"scaler json":   {ScalerFile: `{`},
		"backtest":      {BacktestFile: `{"level":2}`},
		"model json":    {"model.json": `{}`},
	} {
		if _, err := LoadFS(ctx, bundleFS(t, benchGold, extra), "gold", 1, nil); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// copyDir copies a bundle directory (tests build models dirs from it).
func copyDir(t testing.TB, src, dst string, extra map[string]string) {
	t.Helper()
	for p, f := range bundleFS(t, src, extra) {
		out := filepath.Join(dst, p)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRegistryModelsDirReload(t *testing.T) {
	root := t.TempDir()
	copyDir(t, benchGold, filepath.Join(root, "gold", "1"), nil)
	copyDir(t, benchGold, filepath.Join(root, "gold", "2"), map[string]string{BacktestFile: backtestJSON})
	copyDir(t, benchGold, filepath.Join(root, "other", "7"), nil)
	if err := os.MkdirAll(filepath.Join(root, "gold", "notaversion"), 0o755); err != nil {
		t.Fatal(err)
	}
	var forwards int
	reg := NewRegistry(Options{Observer: func(string, int64, int, time.Duration) { forwards++ }}, ModelsDir(root))
	if reg.Ready() {
		t.Fatal("ready before Load")
	}
	ctx := context.Background()
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if !reg.Ready() || reg.Default() != "gold" || strings.Join(reg.Names(), ",") != "gold,other" || len(reg.Models()) != 3 {
		t.Fatalf("ready %v default %q names %v", reg.Ready(), reg.Default(), reg.Names())
	}
	if forwards != 0 {
		t.Fatalf("warm-up passes were observed: %d", forwards)
	}
	m, err := reg.Get("", 0)
	if err != nil || m.Version() != 2 || m.Backtest() == nil {
		t.Fatalf("default: %v %v", m, err)
	}
	if _, err := m.Forecast(ctx, [][]float64{make([]float64, 60)}, 1); err != nil || forwards != 1 {
		t.Fatalf("forecast: %v, %d forwards", err, forwards)
	}
	if m1, err := reg.Get("gold", 1); err != nil || m1.Version() != 1 || m1.Fingerprint() == m.Fingerprint() {
		t.Fatalf("version 1: %v", err)
	}
	for _, tc := range []struct {
		name string
		v    int64
	}{{"gold", 9}, {"nope", 0}} {
		if _, err := reg.Get(tc.name, tc.v); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q, %d): %v", tc.name, tc.v, err)
		}
	}
	// A broken version 3 fails the reload and keeps version 2.
	copyDir(t, benchGold, filepath.Join(root, "gold", "3"), map[string]string{"model.json": `{"broken":`})
	if err := reg.Reload(ctx, "gold"); err == nil {
		t.Fatal("reload of a broken version succeeded")
	}
	if m2, _ := reg.Get("gold", 0); m2 != m {
		t.Fatal("failed reload replaced the model")
	}
	st, err := reg.Status("gold")
	if err != nil || st.LastError == "" || len(st.Versions) != 2 || st.Versions[0].Version != 2 {
		t.Fatalf("status %+v %v", st, err)
	}
	// Fixed: the reload swaps in version 3.
	copyDir(t, benchGold, filepath.Join(root, "gold", "3"), nil)
	if err := reg.Reload(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if m3, _ := reg.Get("gold", 0); m3.Version() != 3 || m3 == m {
		t.Fatalf("after reload: version %d", m3.Version())
	}
	if st, _ := reg.Status("gold"); st.LastError != "" || len(st.Versions) != 3 {
		t.Fatalf("status after reload %+v", st)
	}
	if err := reg.Reload(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reload unknown: %v", err)
	}
}

func TestRegistryLoadFailsAndSources(t *testing.T) {
	ctx := context.Background()
	if err := NewRegistry(Options{}, ModelsDir(t.TempDir())).Load(ctx); err == nil {
		t.Error("empty models dir loaded")
	}
	if err := NewRegistry(Options{}, BundleDir("x", 0, "/nonexistent")).Load(ctx); err == nil {
		t.Error("missing bundle dir loaded")
	}
	dup := NewRegistry(Options{}, BundleDir("gold", 0, benchGold), Embedded("gold", 0, os.DirFS(benchGold)))
	if err := dup.Load(ctx); err == nil {
		t.Error("duplicate names loaded")
	}
	reg := NewRegistry(Options{Default: "b"}, BundleDir("a", 0, benchGold), Embedded("b", 4, os.DirFS(benchGold)))
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := reg.Get("", 0); m.Name() != "b" || m.Version() != 4 || m.Origin() != "embedded:b" {
		t.Fatalf("default %s v%d %s", m.Name(), m.Version(), m.Origin())
	}
	if err := NewRegistry(Options{Default: "zzz"}, BundleDir("a", 0, benchGold)).Load(ctx); err == nil {
		t.Error("unknown default accepted")
	}
}

func TestManifestVersion(t *testing.T) {
	for in, want := range map[string]int64{"": 1, "3": 3, "v12": 12, "1.0.0": 1, "-2": 1} {
		if got := manifestVersion(in); got != want {
			t.Errorf("%q: got %d want %d", in, got, want)
		}
	}
}

func BenchmarkForecast(b *testing.B) {
	m, err := LoadFS(context.Background(), bundleFS(b, benchGold, map[string]string{ScalerFile: minmaxScaler, BacktestFile: backtestJSON}), "gold", 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	w := make([]float64, 60)
	for i := range w {
		w[i] = 1800 + float64(i)
	}
	ws := [][]float64{w}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Forecast(ctx, ws, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func TestForecastUnscalableValues(t *testing.T) {
	huge := `{"format":"seqcast-scaler/1","window":60,"input":{"kind":"standard","mean":[0],"scale":[1e-30]},"output":{"kind":"identity"}}`
	m, err := LoadFS(context.Background(), bundleFS(t, benchGold, map[string]string{ScalerFile: huge}), "gold", 1, nil)
	if err != nil {
		t.Skipf("scaler refused at load: %v", err)
	}
	w := make([]float64, 60)
	for i := range w {
		w[i] = 1e10
	}
	if _, err := m.Forecast(context.Background(), [][]float64{w}, 1); !errors.Is(err, ErrInput) {
		t.Fatalf("got %v, want an input error", err)
	}
}
