package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// measure runs f (which processes samples samples) b.N times and reports,
// besides ns/op and allocations, samples/s and, on Linux, cpu-us/sample: the
// benchmark thread's own CPU time, which stays meaningful when other
// processes share the cores.
func measure(b *testing.B, samples int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := threadCPU()
	for b.Loop() {
		f()
	}
	cpu1, _ := threadCPU()
	b.ReportMetric(float64(b.N*samples)/b.Elapsed().Seconds(), "samples/s")
	if cpuOK {
		b.ReportMetric((cpu1-cpu0).Seconds()*1e6/float64(b.N*samples), "cpu-us/sample")
	}
}

// BenchmarkGold runs Model.Forward on the canonical forecaster
// (testdata/bench/gold, real weights) at several batch sizes.
func BenchmarkGold(b *testing.B) {
	m := goldModel(b)
	x64, n64 := goldInput(b)
	per := m.InputShape().Size()
	for _, batch := range []int{1, 64, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			x := make([]float32, batch*per)
			for i := 0; i < batch; i++ {
				j := i % n64
				copy(x[i*per:(i+1)*per], x64[j*per:(j+1)*per])
			}
			dst := make([]float32, batch*m.OutputShape().Size())
			if err := m.Forward(dst, x, batch); err != nil { // warm the workspace pool
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

// BenchmarkLSTM is one LSTM layer alone, batch 1, at the gold model's first
// recurrent size (T=29, F=64, 64 units, return_sequences).
func BenchmarkLSTM(b *testing.B) {
	for _, tc := range []struct {
		T, F, units int
		seq         bool
	}{{29, 64, 64, true}, {29, 128, 32, false}} {
		b.Run(fmt.Sprintf("T=%d/F=%d/units=%d", tc.T, tc.F, tc.units), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			l := &LSTM{LayerName: "lstm", Units: tc.units, ReturnSequences: tc.seq, UseBias: true,
				Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}
			out, err := l.Build([]Shape{{tc.T, tc.F}})
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range l.Weights() {
				p.Value = randSlice(rng, p.Shape.Size(), 0.3)
			}
			if err := l.Prepare(); err != nil {
				b.Fatal(err)
			}
			x := [][]float32{randSlice(rng, tc.T*tc.F, 1)}
			dst := make([]float32, out.Size())
			scratch := make([]float32, l.ScratchSize(1))
			measure(b, 1, func() { l.Forward(dst, x, 1, scratch) })
		})
	}
}

// BenchmarkGRU is one GRU layer alone (reset_after, the Keras default),
// batch 1, at the same size as BenchmarkLSTM's first case.
func BenchmarkGRU(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := &GRU{LayerName: "gru", Units: 64, ReturnSequences: true, UseBias: true, ResetAfter: true,
		Activation: MustActivation("tanh", false), RecurrentActivation: MustActivation("sigmoid", false)}
	out, err := l.Build([]Shape{{29, 64}})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range l.Weights() {
		p.Value = randSlice(rng, p.Shape.Size(), 0.3)
	}
	if err := l.Prepare(); err != nil {
		b.Fatal(err)
	}
	x := [][]float32{randSlice(rng, 29*64, 1)}
	dst := make([]float32, out.Size())
	scratch := make([]float32, l.ScratchSize(1))
	measure(b, 1, func() { l.Forward(dst, x, 1, scratch) })
}
