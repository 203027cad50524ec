package parity

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/nn"
)

// rwAttentionCNNBiLSTM is the attention CNN-BiLSTM survey fixture (Keras
// 2.10 .h5, Apache-2.0, LICENSE and README beside it), kept once in the
// repository under kerasfile/testdata/survey. Its input windows and
// float64 reference outputs are in testdata/fixtures/attention-cnn-bilstm,
// written by tools/attention_reference.py (h5py and numpy, independent of
// seqcast's readers and engine). No outputs computed by Keras come with
// the file.
var rwAttentionCNNBiLSTM = filepath.Join("..", "kerasfile", "testdata", "survey", "attention-cnn-bilstm", "stock_model.h5")

// loadAttentionCNNBiLSTM reads the fixture with kerasfile and builds it
// with kerasconfig.
func loadAttentionCNNBiLSTM(tb testing.TB) *nn.Model {
	tb.Helper()
	f, err := kerasfile.ReadFile(rwAttentionCNNBiLSTM, nil)
	if err != nil {
		tb.Fatal(err)
	}
	m, info, err := kerasconfig.Parse(f.Config, kerasconfig.Options{KerasVersion: f.KerasVersion})
	if err != nil {
		tb.Fatal(err)
	}
	if info.Keras3 || info.KerasVersion != "2.10.0" || !slices.Equal([]int(m.InputShape()), []int{20, 7}) {
		tb.Fatalf("Keras3 %v, version %q, input %v", info.Keras3, info.KerasVersion, m.InputShape())
	}
	arrays := make([][]float32, len(f.Weights))
	for i, w := range f.Weights {
		arrays[i] = w.Data
	}
	if err := m.SetWeights(arrays); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestRealWorldAttentionCNNBiLSTM: Conv1D -> Bidirectional(LSTM with Keras
// 2's hard_sigmoid, implementation=1) -> Permute((2, 1)) -> Dense(20,
// softmax) -> Permute((2, 1)) -> Multiply -> Flatten -> Dense, read from
// the .h5, must match the independent float64 reference on 16 windows
// within 1e-5 + 1e-5*|ref|, at batch 16 and one window at a time, and
// again in a batch of 80 (two chunks).
func TestRealWorldAttentionCNNBiLSTM(t *testing.T) {
	m := loadAttentionCNNBiLSTM(t)
	dir := filepath.Join(rwFixtures, "attention-cnn-bilstm")
	x64, xs := rwReadNPY(t, filepath.Join(dir, "input.npy"))
	x := make([]float32, len(x64))
	for i, v := range x64 {
		x[i] = float32(v) // float32 on disk: exact
	}
	want, ws := rwReadNPY(t, filepath.Join(dir, "reference.npy"))
	if !slices.Equal(xs, []int{16, 20, 7}) || !slices.Equal(ws, []int{16, 1}) {
		t.Fatalf("input %v, reference %v", xs, ws)
	}
	check := func(name string, got []float32, want []float64) {
		worst := 0.0
		for i, w := range want {
			d := math.Abs(float64(got[i]) - w)
			if !(d <= 1e-5+1e-5*math.Abs(w)) {
				t.Fatalf("%s: output %d = %.9g, reference %.9g (|err| %.3g)", name, i, got[i], w, d)
			}
			worst = max(worst, d)
		}
		t.Logf("%s: %d outputs, max |err| vs float64 reference %.3g", name, len(want), worst)
	}
	got, err := m.Predict(x, 16)
	if err != nil {
		t.Fatal(err)
	}
	check("batch 16", got, want)
	one := make([]float32, 0, 16)
	for i := 0; i < 16; i++ {
		y, err := m.Predict(x[i*140:(i+1)*140], 1)
		if err != nil {
			t.Fatal(err)
		}
		one = append(one, y...)
	}
	check("batch 1", one, want)
	var big []float32
	var bigWant []float64
	for i := 0; i < 5; i++ {
		big = append(big, x...)
		bigWant = append(bigWant, want...)
	}
	got, err = m.Predict(big, 80)
	if err != nil {
		t.Fatal(err)
	}
	check("batch 80", got, bigWant)
}

// BenchmarkAttentionCNNBiLSTM runs the fixture at batch 1 (latency) and 64
// (throughput); compare with nn's BenchmarkGold:
//
//	go test -run '^$' -bench 'AttentionCNNBiLSTM' ./parity/
//	go test -run '^$' -bench 'Gold/batch=(1|64)$' ./nn/
func BenchmarkAttentionCNNBiLSTM(b *testing.B) {
	m := loadAttentionCNNBiLSTM(b)
	dir := filepath.Join(rwFixtures, "attention-cnn-bilstm")
	x64, err := rwParseNPYFile(filepath.Join(dir, "input.npy"))
	if err != nil {
		b.Fatal(err)
	}
	x32 := make([]float32, len(x64))
	for i, v := range x64 {
		x32[i] = float32(v)
	}
	benchModel(b, m, x32) // convlstm_bench_test.go
}

func rwParseNPYFile(path string) ([]float64, error) {
	v, _, err := rwParseNPY(path)
	return v, err
}
