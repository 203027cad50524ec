package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/internal/ref64"
)

// tcnCase is one TCN configuration of the tests.
type tcnCase struct {
	name string
	l    TCN
	ref  ref64.TCNConfig
	T, C int
}

func tcnCases() []tcnCase {
	mk := func(name string, T, C int, filters []int, k, stacks int, dil []int, pad string, skip, seq, back bool, act string, norm TCNNorm) tcnCase {
		ns := map[TCNNorm]string{TCNNoNorm: "", TCNBatchNorm: "batch", TCNLayerNorm: "layer"}[norm]
		return tcnCase{name: name, T: T, C: C,
			l: TCN{LayerName: "tcn", Filters: filters, KernelSize: k, Stacks: stacks, Dilations: dil, Padding: pad,
				UseSkipConnections: skip, ReturnSequences: seq, GoBackwards: back, Activation: MustActivation(act, true), Norm: norm},
			ref: ref64.TCNConfig{Filters: filters, KernelSize: k, Stacks: stacks, Dilations: dil, Padding: pad,
				Skip: skip, ReturnSequences: seq, GoBackwards: back, Activation: act, Norm: ns}}
	}
	return []tcnCase{
		mk("stock_shape", 60, 1, []int{64}, 3, 1, []int{1, 2, 4, 8, 16, 32}, "causal", true, false, false, "relu", TCNNoNorm),
		mk("noskip_seq", 12, 3, []int{5}, 2, 1, []int{1, 2, 4}, "causal", false, true, false, "relu", TCNNoNorm),
		mk("stacks2_tanh", 10, 2, []int{4}, 3, 2, []int{1, 2}, "causal", true, true, false, "tanh", TCNNoNorm),
		mk("same_last", 9, 2, []int{4}, 3, 1, []int{1, 2}, "same", true, false, false, "relu", TCNNoNorm),
		mk("same_even_seq", 8, 4, []int{4}, 2, 1, []int{1, 2, 4}, "same", false, true, false, "sigmoid", TCNNoNorm),
		mk("batch_norm", 11, 2, []int{6}, 3, 1, []int{1, 2, 4}, "causal", true, false, false, "relu", TCNBatchNorm),
		mk("layer_norm", 11, 3, []int{6}, 2, 2, []int{1, 3}, "causal", false, true, false, "tanh", TCNLayerNorm),
		mk("filter_list_backwards", 9, 2, []int{3, 8, 8}, 2, 1, []int{1, 2, 4}, "causal", false, false, true, "relu", TCNNoNorm),
		mk("layer_norm_last_match_same", 10, 2, []int{4, 4, 6}, 3, 1, []int{1, 2, 4}, "same", false, false, false, "tanh", TCNLayerNorm),
		mk("kernel_longer_than_steps", 3, 2, []int{4}, 5, 2, []int{1, 2}, "causal", true, false, false, "relu", TCNBatchNorm),
		mk("wide_conv_path", 40, 16, []int{24}, 3, 1, []int{1, 4}, "causal", true, true, false, "relu", TCNNoNorm),
	}
}

// tcnRefWeights turns a built TCN's Params (its Weights order) into
// ref64's per-block weights.
func tcnRefWeights(l *TCN) []ref64.TCNBlockWeights {
	ps := l.Weights()
	k := 0
	next := func() *Param { p := ps[k]; k++; return p }
	tensor := func(p *Param) ref64.Tensor { return ref64.Tensor{Shape: []int(p.Shape), Data: f64(p.Value)} }
	var out []ref64.TCNBlockWeights
	for _, b := range l.blocks {
		var w ref64.TCNBlockWeights
		for j := 0; j < 2; j++ {
			w.Kernel[j], w.Bias[j] = tensor(next()), tensor(next())
			switch l.Norm {
			case TCNBatchNorm:
				w.Norm[j] = ref64.TCNNorm{Gamma: f64(next().Value), Beta: f64(next().Value), Mean: f64(next().Value), Variance: f64(next().Value)}
			case TCNLayerNorm:
				w.Norm[j] = ref64.TCNNorm{Gamma: f64(next().Value), Beta: f64(next().Value)}
			}
		}
		if b.match != nil {
			w.MatchKernel, w.MatchBias = tensor(next()), tensor(next())
		}
		out = append(out, w)
	}
	return out
}

// setTCNWeights fills the weights with seeded values (variances positive).
func setTCNWeights(t testing.TB, l *TCN) {
	for i, p := range l.Weights() {
		v := fwdRand(uint64(300+i), p.Shape.Size())
		if len(p.Shape) == 3 { // kernels: keep activations O(1)
			s := float32(1.5 / math.Sqrt(float64(p.Shape[0]*p.Shape[1])))
			for j := range v {
				v[j] *= s
			}
		}
		if strings.HasSuffix(p.Name, "moving_variance") {
			for j := range v {
				v[j] += 1.5
			}
		}
		p.Value = v
	}
	if err := l.Prepare(); err != nil {
		t.Fatal(err)
	}
}

// TestTCNMatchesReference: every option against internal/ref64's float64
// loops (written from keras-tcn's source), 1e-5 + 1e-5*|ref|, batch 3.
func TestTCNMatchesReference(t *testing.T) {
	for _, tc := range tcnCases() {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.l
			out, err := l.Build([]Shape{{tc.T, tc.C}})
			if err != nil {
				t.Fatal(err)
			}
			setTCNWeights(t, &l)
			const n = 3
			x := fwdRand(7, n*tc.T*tc.C)
			y := make([]float32, n*out.Size())
			l.Forward(y, [][]float32{x}, n, make([]float32, l.ScratchSize(n)))
			want := ref64.TCN(tc.ref, ref64.Tensor{Shape: []int{n, tc.T, tc.C}, Data: f64(x)}, tcnRefWeights(&l))
			if len(want.Data) != len(y) {
				t.Fatalf("output %d values, reference %d", len(y), len(want.Data))
			}
			worst := 0.0
			for i, v := range want.Data {
				r := math.Abs(float64(y[i])-v) / (1e-5 + 1e-5*math.Abs(v))
				worst = math.Max(worst, r)
			}
			if worst > 1 {
				t.Fatalf("worst err/tol %.3g", worst)
			}
			t.Logf("out %v, worst err/tol %.3g", out, worst)
		})
	}
}

// TestTCNBuildErrors: bad options fail at Build, naming the option.
func TestTCNBuildErrors(t *testing.T) {
	relu := MustActivation("relu", true)
	for _, tc := range []struct {
		l    TCN
		in   Shape
		want string
	}{
		{TCN{Filters: []int{4}, KernelSize: 2, Stacks: 1, Dilations: []int{1}, Padding: "valid", Activation: relu}, Shape{5, 1}, "padding"},
		{TCN{Filters: []int{4, 5}, KernelSize: 2, Stacks: 1, Dilations: []int{1, 2}, Padding: "causal", UseSkipConnections: true, Activation: relu}, Shape{5, 1}, "skip connections"},
		{TCN{Filters: []int{4}, KernelSize: 2, Stacks: 2000, Dilations: []int{1}, Padding: "causal", Activation: relu}, Shape{5, 1}, "residual blocks"},
		{TCN{Filters: []int{4}, KernelSize: 2, Stacks: 1, Dilations: []int{0}, Padding: "causal", Activation: relu}, Shape{5, 1}, "dilations"},
		{TCN{Filters: []int{4}, KernelSize: 2, Stacks: 1, Dilations: []int{1}, Padding: "causal", Activation: relu}, Shape{5}, "rank 2"},
		{TCN{Filters: []int{1 << 20}, KernelSize: 2, Stacks: 1, Dilations: []int{1}, Padding: "causal", Activation: relu}, Shape{5, 1}, "nb_filters"},
		{TCN{Filters: []int{4}, KernelSize: 1 << 20, Stacks: 1, Dilations: []int{1}, Padding: "causal", Activation: relu}, Shape{5, 1}, "kernel_size"},
		{TCN{Filters: []int{4096}, KernelSize: 2, Stacks: 1, Dilations: []int{1}, Padding: "causal", Activation: relu}, Shape{1 << 13, 1}, "sequence"},
		{TCN{Filters: []int{8192}, KernelSize: 3, Stacks: 1, Dilations: []int{1}, Padding: "causal", Activation: relu}, Shape{5, 1}, "kernel would"},
	} {
		l := tc.l
		l.LayerName = "tcn"
		_, err := l.Build([]Shape{tc.in})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error about %s", tc.l, err, tc.want)
		}
	}
}

// TestTCNNoAllocs: a model with a TCN allocates nothing per Forward.
func TestTCNNoAllocs(t *testing.T) {
	for _, tc := range tcnCases() {
		l := tc.l
		m, err := NewSequential("m", Shape{tc.T, tc.C}, &l)
		if err != nil {
			t.Fatal(err)
		}
		setTCNWeights(t, &l)
		if err := m.Prepare(); err != nil {
			t.Fatal(err)
		}
		n := 5
		x := fwdRand(3, n*tc.T*tc.C)
		dst := make([]float32, n*m.OutputShape().Size())
		if err := m.Forward(dst, x, n); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(5, func() { _ = m.Forward(dst, x, n) }); a != 0 {
			t.Errorf("%s: %g allocations per Forward", tc.name, a)
		}
	}
}

// BenchmarkTCN is the tcn-stock fixture's TCN (T 60, 1 channel, 64 filters,
// kernel 3, dilations 1..32, skip connections, last step) then Dense(1):
//
//	go test -run '^$' -bench TCN ./nn/
func BenchmarkTCN(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("tcn-stock,batch=%d", batch), func(b *testing.B) {
			l := tcnCases()[0].l
			d := &Dense{LayerName: "dense", Units: 1, UseBias: true}
			m, err := NewSequential("m", Shape{60, 1}, &l, d)
			if err != nil {
				b.Fatal(err)
			}
			for i, r := range m.Weights() {
				r.Value = fwdRand(uint64(i), r.Shape.Size())
			}
			if err := m.Prepare(); err != nil {
				b.Fatal(err)
			}
			x := fwdRand(1, batch*60)
			dst := make([]float32, batch)
			if err := m.Forward(dst, x, batch); err != nil {
				b.Fatal(err)
			}
			measure(b, batch, func() {
				if err := m.Forward(dst, x, batch); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
