package kerasfile_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/seqcast/seqcast/kerasfile"
)

// TestTCNStock: the tcn-stock fixture (Keras 3.10, keras-tcn TCN -> Dense)
// reads as 26 TCN arrays, block by block (the first with a
// matching_conv1D from 1 to 64 channels), then the Dense's two.
func TestTCNStock(t *testing.T) {
	m, err := kerasfile.ReadFile("testdata/survey/tcn-stock/tcn_model.keras", nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for k := 0; k < 6; k++ {
		subs := []string{"conv1D_0", "conv1D_1"}
		if k == 0 {
			subs = append(subs, "matching_conv1D")
		}
		for _, s := range subs {
			for v := 0; v < 2; v++ {
				want = append(want, fmt.Sprintf("layers/tcn/residual_block_%d/%s/vars/%d", k, s, v))
			}
		}
	}
	want = append(want, "layers/dense/vars/0", "layers/dense/vars/1")
	var got []string
	for _, w := range m.Weights {
		got = append(got, w.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("weights\n%q\nwant\n%q", got, want)
	}
	if s := m.Weights[0].Shape; !slices.Equal(s, []int{3, 1, 64}) {
		t.Errorf("first kernel %v, want [3 1 64]", s)
	}
}
