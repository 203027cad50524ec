package serving

import (
	"context"
	"math/rand/v2"
	"testing"
)

const zscoreScaler = `{"format":"seqcast-scaler/1","window":60,
 "input":{"kind":"window_zscore","epsilon":1e-8},"output":{"kind":"window_zscore","epsilon":1e-8,"target_feature":0}}`

// tensorModel loads the bench model with scaler.json scalerJSON ("" for
// none) and training statistics of a positive walk around 2,000 (raw values,
// or scale-free ones for a window_zscore model).
func tensorModel(t testing.TB, scalerJSON string, relative bool) *Model {
	t.Helper()
	ts, err := ComputeTrainingStats(walk(rand.New(rand.NewPCG(5, 6)), 3000, 2000, 0.005), 60, []string{"price"}, relative)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := ts.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string]string{TrainingStatsFile: string(stats)}
	if scalerJSON != "" {
		extra[ScalerFile] = scalerJSON
	}
	m, err := LoadFS(context.Background(), bundleFS(t, benchGold, extra), "gold", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCheckTensor: a model input tensor is checked in raw units, through
// the input scaler's inverse; a window_zscore model's cannot be.
func TestCheckTensor(t *testing.T) {
	in := flat(walk(rand.New(rand.NewPCG(7, 8)), 60, 2000, 0.005))
	neg := make([]float64, 60)
	for i, v := range in {
		neg[i] = -v
	}
	for _, tc := range []struct {
		name      string
		scaler    string
		relative  bool
		checkable bool
	}{
		{"no scaler", "", false, true},
		{"minmax", minmaxScaler, false, true},
		{"window_zscore", zscoreScaler, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tensorModel(t, tc.scaler, tc.relative)
			if m.TensorCheckable() != tc.checkable {
				t.Fatalf("TensorCheckable %v, want %v", m.TensorCheckable(), tc.checkable)
			}
			x := make([]float32, 3*60)
			raw := append(append(append([]float64(nil), in...), neg...), in...)
			if err := m.pipe.scaleInput(x, raw, 3); err != nil {
				t.Fatal(err)
			}
			warns, _, ok := m.CheckTensor(x, 3)
			if ok != tc.checkable {
				t.Fatalf("CheckTensor ok %v, want %v", ok, tc.checkable)
			}
			if !tc.checkable {
				if warns != nil {
					t.Fatalf("warnings %+v for a tensor that cannot be checked", warns)
				}
				return
			}
			if len(warns) != 3 || warns[0] != nil || warns[2] != nil || len(warns[1]) != 1 || warns[1][0].Feature != "value" {
				t.Fatalf("warnings %+v: want sample 1's value only", warns)
			}
			if w := warns[1][0]; w.Value > -1900 || w.Value < -2200 {
				t.Errorf("warning value %v: want the raw (unscaled) price", w.Value)
			}
			if _, _, ok := m.CheckTensor(x[:59], 1); ok {
				t.Error("a tensor of the wrong size was checked")
			}
		})
	}
}

// BenchmarkCheckTensor is the per-sample cost of checking a model input
// tensor through the minmax input scaler's inverse.
func BenchmarkCheckTensor(b *testing.B) {
	m := tensorModel(b, minmaxScaler, false)
	raw := flat(walk(rand.New(rand.NewPCG(7, 8)), 60, 2000, 0.005))
	x := make([]float32, 60)
	if err := m.pipe.scaleInput(x, raw, 1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.CheckTensor(x, 1)
	}
}
