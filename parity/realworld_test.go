package parity

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/scaler"
	"github.com/seqcast/seqcast/weights"
)

// Real-world parity: models that other people trained and saved with real
// Keras (parity/testdata/fixtures, copied with their LICENSE and README),
// exported by tools/export_keras.py into bundles (`make fixtures`), loaded
// with package weights, scaled with package scaler, run with package nn, and
// compared with the numbers Keras itself produced.

const rwFixtures = "testdata/fixtures"

var rwSalesModels = []string{
	"nb08_cnn_baseline_80_20",
	"nb09_cnn_ga_best_80_20",
	"nb10_bilstm_baseline_80_20",
	"nb11_bilstm_ga_best_80_20",
}

// rwRun loads a bundle and runs raw windows (n*T*F float64) through
// scale -> model -> inverse, as the server does.
func rwRun(t *testing.T, dir string, raw []float64, n int) []float64 {
	t.Helper()
	b, err := weights.Load(dir)
	if err != nil {
		t.Fatalf("weights.Load: %v", err)
	}
	if b.ScalerJSON == nil {
		t.Fatalf("%s: bundle has no scaler.json", dir)
	}
	if b.SelfTestError < 0 {
		t.Errorf("%s: bundle has no self-test", dir)
	}
	p, err := scaler.Parse(b.ScalerJSON)
	if err != nil {
		t.Fatal(err)
	}
	in, out := b.Model.InputShape(), b.Model.OutputShape()
	if len(in) != 2 {
		t.Fatalf("model input shape %v, want (T, F)", in)
	}
	T, F, W := in[0], in[1], out.Size()
	if err := p.Check(T, F, W); err != nil {
		t.Fatal(err)
	}
	if len(raw) != n*T*F {
		t.Fatalf("%d raw values for %d windows of %dx%d", len(raw), n, T, F)
	}
	x := make([]float32, n*T*F)
	if err := p.ScaleBatch(x, raw, n, F); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, n*W)
	if err := b.Model.Forward(y, x, n); err != nil {
		t.Fatal(err)
	}
	res := make([]float64, n*W)
	if err := p.InverseBatch(res, y, raw, n, F); err != nil {
		t.Fatal(err)
	}
	return res
}

func rwCompare(t *testing.T, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d predictions, want %d", len(got), len(want))
	}
	worst, at := 0.0, 0
	for i := range want {
		if r := math.Abs(got[i]-want[i]) / math.Abs(want[i]); !(r <= worst) {
			worst, at = r, i
		}
	}
	if !(worst <= rel) {
		t.Errorf("max relative error %.3g at %d (got %.9g, Keras %.9g), want <= %g", worst, at, got[at], want[at], rel)
	}
	t.Logf("%d predictions, max relative error vs Keras %.3g", len(want), worst)
}

// TestRealWorldSales: per-window z-score (population std + 1e-8), the
// model, and the inverse with the same window's statistics must reproduce
// what Keras 3.14 predicted for all 72 test windows of each of the four
// sales-bilstm models.
func TestRealWorldSales(t *testing.T) {
	dir := filepath.Join(rwFixtures, "sales-bilstm")
	raw, shape := rwReadNPY(t, filepath.Join(dir, "npy", "x_test.npy"))
	if len(shape) != 2 || shape[0] != 72 || shape[1] != 8 {
		t.Fatalf("x_test.npy shape %v, want (72, 8)", shape)
	}
	for _, m := range rwSalesModels {
		t.Run(m, func(t *testing.T) {
			want, _ := rwReadNPY(t, filepath.Join(dir, "npy", "keras_pred_"+m+".npy"))
			got := rwRun(t, filepath.Join(dir, "bundles", m), raw, 72)
			rwCompare(t, got, want, 1e-5)
		})
	}
}

// TestRealWorldAirQuality: raw sensor windows -> scaler_X (MinMax) -> the
// Keras 3.13 Conv1D/BiLSTM model -> scaler_y inverse must reproduce the six
// predictions the upstream notebook printed.
func TestRealWorldAirQuality(t *testing.T) {
	dir := filepath.Join(rwFixtures, "airquality-cnn-bilstm")
	raw, shape := rwReadNPY(t, filepath.Join(dir, "x_printed_raw.npy"))
	if len(shape) != 3 || shape[0] != 6 {
		t.Fatalf("x_printed_raw.npy shape %v, want (6, 24, 7)", shape)
	}
	want, _ := rwReadNPY(t, filepath.Join(dir, "keras_printed_predictions.npy"))
	got := rwRun(t, filepath.Join(dir, "bundles", "cnn_bilstm_model"), raw, 6)
	rwCompare(t, got, want, 1e-6)
}

var rwShapeRE = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)

// rwReadNPY reads a little-endian C-order float32 or float64 .npy as float64.
func rwReadNPY(t *testing.T, path string) ([]float64, []int) {
	t.Helper()
	v, shape, err := rwParseNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	return v, shape
}

func rwParseNPY(path string) ([]float64, []int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, nil, fmt.Errorf("%s: not a .npy file", path)
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, nil, fmt.Errorf("%s: npy version %d", path, b[6])
	}
	if off+hlen > len(b) {
		return nil, nil, fmt.Errorf("%s: truncated header", path)
	}
	h := string(b[off : off+hlen])
	data := b[off+hlen:]
	if strings.Contains(h, "'fortran_order': True") {
		return nil, nil, fmt.Errorf("%s: fortran order", path)
	}
	m := rwShapeRE.FindStringSubmatch(h)
	if m == nil {
		return nil, nil, fmt.Errorf("%s: no shape in header %q", path, h)
	}
	var shape []int
	n := 1
	for _, s := range strings.Split(m[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: shape %q", path, m[1])
		}
		shape = append(shape, d)
		n *= d
	}
	out := make([]float64, n)
	switch {
	case strings.Contains(h, "'<f4'"):
		if len(data) != 4*n {
			return nil, nil, fmt.Errorf("%s: %d data bytes for %d float32", path, len(data), n)
		}
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		}
	case strings.Contains(h, "'<f8'"):
		if len(data) != 8*n {
			return nil, nil, fmt.Errorf("%s: %d data bytes for %d float64", path, len(data), n)
		}
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	default:
		return nil, nil, fmt.Errorf("%s: dtype in %q is not <f4 or <f8", path, h)
	}
	return out, shape, nil
}
