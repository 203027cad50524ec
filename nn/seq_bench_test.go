package nn

import (
	"fmt"
	"testing"
)

// Benchmarks of the sequence layers: go test -run '^$' -bench 'SimpleRNN|Masked|Permute|Conv1DTranspose' ./nn/

// benchLayer builds l on in with seeded weights and times Forward on batch
// samples (zero allocations required).
func benchLayer(b *testing.B, l Layer, in Shape, batch int, mask []float32) {
	out, err := l.Build([]Shape{in})
	if err != nil {
		b.Fatal(err)
	}
	for i, p := range l.Weights() {
		p.Value = fwdRand(uint64(90+i), p.Shape.Size())
	}
	if err := l.Prepare(); err != nil {
		b.Fatal(err)
	}
	ins := [][]float32{fwdRand(99, batch*in.Size())}
	y := make([]float32, batch*out.Size())
	scratch := make([]float32, l.ScratchSize(batch))
	run := func() { l.Forward(y, ins, batch, scratch) }
	if mask != nil {
		ml := l.(MaskedLayer)
		run = func() { ml.ForwardMasked(y, ins, mask, batch, scratch) }
	}
	measure(b, batch, run)
}

func BenchmarkSimpleRNN(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("T=60,F=8,u=32,batch=%d", batch), func(b *testing.B) {
			benchLayer(b, &SimpleRNN{LayerName: "r", Units: 32, UseBias: true, ReturnSequences: true,
				Activation: MustActivation("tanh", false)}, Shape{60, 8}, batch, nil)
		})
	}
}

// BenchmarkMaskedLSTM compares an LSTM with and without a mask (a quarter
// of the steps masked), batch 64, T=60, F=8, 32 units.
func BenchmarkMaskedLSTM(b *testing.B) {
	const batch, T = 64, 60
	mask := make([]float32, batch*T)
	for i := range mask {
		if i%T >= T/4 {
			mask[i] = 1
		}
	}
	for _, m := range []struct {
		name string
		mask []float32
	}{{"unmasked", nil}, {"masked", mask}} {
		b.Run(m.name, func(b *testing.B) {
			benchLayer(b, &LSTM{LayerName: "l", Units: 32, UseBias: true, Activation: MustActivation("tanh", false),
				RecurrentActivation: MustActivation("sigmoid", false)}, Shape{T, 8}, batch, m.mask)
		})
	}
}

func BenchmarkPermute(b *testing.B) {
	benchLayer(b, &Permute{LayerName: "p", Dims: []int{2, 1}}, Shape{20, 128}, 64, nil)
}

func BenchmarkConv1DTranspose(b *testing.B) {
	benchLayer(b, &Conv1DTranspose{LayerName: "ct", Filters: 32, KernelSize: 3, Strides: 2, DilationRate: 1,
		Padding: "same", OutputPadding: -1, UseBias: true}, Shape{30, 32}, 64, nil)
}
