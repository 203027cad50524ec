package models

import (
	"context"
	"io/fs"
	"testing"

	"github.com/seqcast/seqcast/serving"
)

func TestGoldLoads(t *testing.T) {
	for _, f := range []string{"model.json", "scaler.json", "backtest.json", "manifest.json", "weights/000.npy"} {
		if _, err := fs.Stat(Gold(), f); err != nil {
			t.Errorf("embedded gold bundle: %v", err)
		}
	}
	m, err := serving.LoadFS(context.Background(), Gold(), DefaultName, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Window() != 60 || !m.Univariate() || m.Backtest() == nil {
		t.Fatalf("window %d univariate %v backtest %v", m.Window(), m.Univariate(), m.Backtest())
	}
	w := make([]float64, 60)
	for i := range w {
		w[i] = 1900 + float64(i)
	}
	p, err := m.Forecast(context.Background(), [][]float64{w}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A sensible next price for a gently rising series near 1,960.
	if v := p[0].Value; v < 1850 || v > 2050 {
		t.Fatalf("next price %g", v)
	}
}
