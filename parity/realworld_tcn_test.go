package parity

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// TestRealWorldTCNStock: the tcn-stock fixture (Keras 3.10, keras-tcn's
// TCN with 64 filters, kernel 3, dilations 1..32, skip connections, the
// last step, then Dense(1), on windows of 60 closing prices), read from its
// .keras file with its real weights, matches the float64 evaluation of its
// config by internal/ref64's TCN loops within 1e-5 + 1e-5*|ref| on 32
// seeded windows. No Keras outputs come with the file.
func TestRealWorldTCNStock(t *testing.T) {
	f, m := rwKeras(t, filepath.Join(rwSurvey, "tcn-stock", "tcn_model.keras"), nil)
	if !slices.Equal([]int(m.InputShape()), []int{60, 1}) || !slices.Equal([]int(m.OutputShape()), []int{1}) {
		t.Fatalf("input %v, output %v", m.InputShape(), m.OutputShape())
	}
	const n = 32
	// scaled prices: the author's MinMaxScaler maps them into [0, 1]
	x, xt := rwInput(60, n, 60, 1, (*rand.Rand).Float64)
	got, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	rwCompareEval(t, f, evalTCNModel, f.Config, xt, got)
}
