package nn

import (
	"math"
	"testing"
)

// TestGoldBatchBitExact: a sample's output does not depend on the batch it is
// computed in. The server merges concurrent requests into one forward pass
// (dynamic batching) and caches answers: the same window must give the same
// bits alone, in a batch of 8, and in a batch of 64, or /predict and
// /predict/batch disagree and a cached answer depends on who else asked.
func TestGoldBatchBitExact(t *testing.T) {
	m := goldModel(t)
	x, n := goldInput(t)
	n = min(n, 64)
	batch := make([]float32, n)
	if err := m.Forward(batch, x[:n*60], n); err != nil {
		t.Fatal(err)
	}
	eight := make([]float32, 8)
	if err := m.Forward(eight, x[:8*60], 8); err != nil {
		t.Fatal(err)
	}
	one := make([]float32, 1)
	for i := range n {
		if err := m.Forward(one, x[i*60:(i+1)*60], 1); err != nil {
			t.Fatal(err)
		}
		if math.Float32bits(one[0]) != math.Float32bits(batch[i]) {
			t.Errorf("sample %d: alone %v, in a batch of %d %v", i, one[0], n, batch[i])
		}
		if i < 8 && math.Float32bits(eight[i]) != math.Float32bits(batch[i]) {
			t.Errorf("sample %d: in a batch of 8 %v, in a batch of %d %v", i, eight[i], n, batch[i])
		}
	}
}
