package kerasconfig

import (
	"math"
	"os"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// TestDialectsAgree loads the same topology written in different dialects
// with the same weights and expects bit-identical outputs.
func TestDialectsAgree(t *testing.T) {
	pairs := [][2]string{
		{"../testdata/bench/gold/model.json", "testdata/configs/keras212_sequential_gold.json"},
		{"testdata/configs/keras212_functional.json", "testdata/configs/keras3_functional.json"},
	}
	for _, pair := range pairs {
		t.Run(pair[1], func(t *testing.T) {
			var outs [2][]float32
			for k, file := range pair {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				m, _, err := Parse(data, Options{})
				if err != nil {
					t.Fatal(err)
				}
				setTestWeights(t, m)
				x := make([]float32, 3*m.InputShape().Size())
				for i := range x {
					x[i] = float32(math.Sin(float64(i) * 0.37))
				}
				if outs[k], err = m.Predict(x, 3); err != nil {
					t.Fatal(err)
				}
			}
			for i := range outs[0] {
				if outs[0][i] != outs[1][i] || math.IsNaN(float64(outs[0][i])) || math.IsInf(float64(outs[0][i]), 0) {
					t.Fatalf("output %d: %v vs %v", i, outs[0][i], outs[1][i])
				}
			}
		})
	}
}

// setTestWeights fills every weight with a deterministic pattern.
func setTestWeights(t testing.TB, m *nn.Model) {
	t.Helper()
	refs := m.Weights()
	arrays := make([][]float32, len(refs))
	for i, r := range refs {
		arrays[i] = make([]float32, r.Shape.Size())
		for j := range arrays[i] {
			arrays[i][j] = float32(math.Cos(float64(i*7919+j)*0.61)) * 0.3
		}
	}
	if err := m.SetWeights(arrays); err != nil {
		t.Fatal(err)
	}
}
