package ref64

import (
	"math/rand/v2"
	"testing"
)

// RandomTCNWeights draws one TCNBlockWeights per residual block for an
// input of C channels.
func randomTCNWeights(r *rand.Rand, c TCNConfig, C int) []TCNBlockWeights {
	var out []TCNBlockWeights
	in := C
	for s := 0; s < c.Stacks; s++ {
		for i := range c.Dilations {
			F := c.FiltersAt(i)
			var w TCNBlockWeights
			cin := in
			for j := 0; j < 2; j++ {
				w.Kernel[j], w.Bias[j] = randT(r, c.KernelSize, cin, F), randT(r, F)
				cin = F
				n := TCNNorm{Gamma: randT(r, F).Data, Beta: randT(r, F).Data, Mean: randT(r, F).Data, Variance: randT(r, F).Data}
				for f := range n.Variance {
					n.Variance[f] += 1.5
				}
				w.Norm[j] = n
			}
			if in != F {
				w.MatchKernel, w.MatchBias = randT(r, 1, in, F), randT(r, F)
			}
			out = append(out, w)
			in = F
		}
	}
	return out
}

// TestTCNTwoFormulations: the loops and the einsum formulation agree to
// 1e-12 for every option.
func TestTCNTwoFormulations(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		c    TCNConfig
		T, C int
	}{
		{"causal_skip_last", TCNConfig{Filters: []int{4}, KernelSize: 3, Stacks: 1, Dilations: []int{1, 2, 4}, Padding: "causal", Skip: true, Activation: "relu"}, 11, 2},
		{"same_noskip_seq", TCNConfig{Filters: []int{3}, KernelSize: 2, Stacks: 2, Dilations: []int{1, 2}, Padding: "same", ReturnSequences: true, Activation: "tanh"}, 9, 3},
		{"same_last_odd", TCNConfig{Filters: []int{3}, KernelSize: 3, Stacks: 1, Dilations: []int{1, 3}, Padding: "same", Skip: true, Activation: "relu"}, 7, 1},
		{"batch_norm", TCNConfig{Filters: []int{4}, KernelSize: 3, Stacks: 2, Dilations: []int{1, 2}, Padding: "causal", Skip: true, Activation: "relu", Norm: "batch"}, 8, 2},
		{"layer_norm_backwards", TCNConfig{Filters: []int{5}, KernelSize: 2, Stacks: 1, Dilations: []int{1, 2, 4}, Padding: "causal", ReturnSequences: true, GoBackwards: true, Activation: "tanh", Norm: "layer"}, 10, 3},
		{"filter_list", TCNConfig{Filters: []int{3, 5, 5}, KernelSize: 2, Stacks: 1, Dilations: []int{1, 2, 4}, Padding: "causal", Activation: "sigmoid"}, 9, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := randT(r, 3, tc.T, tc.C)
			w := randomTCNWeights(r, tc.c, tc.C)
			a, b := TCN(tc.c, x, w), TCNEinsum(tc.c, x, w)
			if d := maxDiff(t, a, b); d > 1e-12 {
				t.Fatalf("loops and einsum differ by %g", d)
			}
		})
	}
}
