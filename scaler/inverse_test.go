package scaler

import (
	"errors"
	"math"
	"testing"
)

// TestInverseInput: InverseInput undoes ScaleWindow for every per-column
// affine input scaler (to float32 rounding) and refuses window_zscore.
func TestInverseInput(t *testing.T) {
	const T, F = 4, 2
	raw := []float64{1900, -3, 1950.5, 0, 2010, 7.25, 1875, 12}
	for _, tc := range []struct {
		name, input string
		ok          bool
	}{
		{"identity", `{"kind":"identity"}`, true},
		{"minmax", `{"kind":"minmax","feature_range":[0,1],"clip":true,"scale":[0.001,0.05],"min":[-1.8,0.2]}`, true},
		{"minmax features", `{"kind":"minmax","scale":[0.05],"min":[0.2],"features":[1]}`, true},
		{"standard", `{"kind":"standard","mean":[1900,4],"scale":[50,3]}`, true},
		{"standard no mean", `{"kind":"standard","mean":null,"scale":[50,3]}`, true},
		{"robust", `{"kind":"robust","center":[1925,5],"scale":[80,6]}`, true},
		{"window_zscore", `{"kind":"window_zscore","epsilon":1e-8}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(`{"format":"seqcast-scaler/1","window":4,"input":` + tc.input + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Check(T, F, 1); err != nil {
				t.Fatal(err)
			}
			if p.InvertibleInput() != tc.ok {
				t.Fatalf("InvertibleInput %v, want %v", p.InvertibleInput(), tc.ok)
			}
			x := make([]float32, T*F)
			if _, err := p.ScaleWindow(x, raw, T, F); err != nil {
				t.Fatal(err)
			}
			back := make([]float64, T*F)
			err = p.InverseInput(back, x, F)
			if !tc.ok {
				if !errors.Is(err, ErrNeedsWindow) {
					t.Fatalf("InverseInput: %v, want ErrNeedsWindow", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range back {
				if d := math.Abs(v - raw[i]); d > 1e-6*math.Max(1, math.Abs(raw[i]))*8 {
					t.Errorf("value %d: %v, want %v", i, v, raw[i])
				}
			}
			if n := testing.AllocsPerRun(10, func() { _ = p.InverseInput(back, x, F) }); n != 0 {
				t.Errorf("%v allocations", n)
			}
		})
	}
	// A minmax input beyond feature_range maps beyond the data range (no clip).
	p, _ := Parse([]byte(`{"format":"seqcast-scaler/1","window":1,"input":{"kind":"minmax","clip":true,"scale":[0.5],"min":[0]}}`))
	back := make([]float64, 1)
	if err := p.InverseInput(back, []float32{-1}, 1); err != nil || back[0] != -2 {
		t.Errorf("minmax -1: %v %v, want -2", back, err)
	}
	if err := p.InverseInput(back, []float32{1, 2}, 1); err == nil {
		t.Error("a short dst is accepted")
	}
}
