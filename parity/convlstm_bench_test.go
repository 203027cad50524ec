package parity

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/seqcast/seqcast/nn"
	"github.com/seqcast/seqcast/weights"
)

// BenchmarkConvLSTM2DTutorial runs the tutorial's ConvLSTM forecaster
// (golden convlstm2d_tutorial_k2_12: ConvLSTM2D(64, (1, 2), relu) over
// (2, 1, 3, 1), Flatten, Dense(1)) at batch 1 (latency) and 64:
//
//	go test -run '^$' -bench ConvLSTM2DTutorial ./parity/
func BenchmarkConvLSTM2DTutorial(b *testing.B) {
	dir := filepath.Join("testdata", "golden", "convlstm2d_tutorial_k2_12")
	bd, err := weights.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	x, _, err := readNPY(filepath.Join(dir, "input.npy"))
	if err != nil {
		b.Fatal(err)
	}
	benchModel(b, bd.Model, x)
}

// benchModel runs m.Forward at batch 1 (latency) and 64 (throughput) on
// samples cycled from x, and reports samples/s and, on Linux, cpu-us/sample:
// the benchmark thread's own CPU time, meaningful on a shared machine.
func benchModel(b *testing.B, m *nn.Model, samples []float32) {
	per := m.InputShape().Size()
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			x := make([]float32, batch*per)
			for i := range x {
				x[i] = samples[i%len(samples)]
			}
			dst := make([]float32, batch*m.OutputShape().Size())
			if err := m.Forward(dst, x, batch); err != nil {
				b.Fatal(err)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, cpuOK := threadCPU()
			for b.Loop() {
				if err := m.Forward(dst, x, batch); err != nil {
					b.Fatal(err)
				}
			}
			cpu1, _ := threadCPU()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
			if cpuOK {
				b.ReportMetric((cpu1-cpu0).Seconds()*1e6/float64(b.N*batch), "cpu-us/sample")
			}
		})
	}
}
