package nn

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// embeddingModel is a store-id Embedding (input 1, shape (1,)) flattened and
// concatenated with a Dense of a numeric (3,) input (input 0), read by one
// Dense; input_dim 5, output_dim 2, embeddings row k = (10k, 10k+1).
func embeddingModel(t *testing.T) (*Model, *Embedding) {
	t.Helper()
	emb := &Embedding{LayerName: "store_emb", InputDim: 5, OutputDim: 2}
	nodes := []Node{
		{Layer: emb, Inputs: []int{InputAt(1)}},
		{Layer: &Flatten{LayerName: "flat"}, Inputs: []int{0}},
		{Layer: &Merge{LayerName: "cat", Op: Concatenate, Axis: -1}, Inputs: []int{InputAt(0), 1}},
	}
	m, err := NewGraph("emb", []Shape{{3}, {1}}, nodes, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	table := make([]float32, 10)
	for k := range 5 {
		table[2*k], table[2*k+1] = float32(10*k), float32(10*k+1)
	}
	if err := m.SetWeights([][]float32{table}); err != nil {
		t.Fatal(err)
	}
	return m, emb
}

// TestEmbeddingIDs: Keras's int32 cast truncates toward zero (3.7 -> 3,
// -0.5 -> 0, 4.999 -> 4); non-finite ids and ids outside [0, input_dim)
// after truncation, at either end, are an *IndexError naming the layer, the
// input, the sample and the value, before anything runs.
func TestEmbeddingIDs(t *testing.T) {
	m, _ := embeddingModel(t)
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		id   float32
		row  int // -1: refused
	}{
		{"zero", 0, 0},
		{"integral", 2, 2},
		{"truncated", 3.7, 3},
		{"last", 4.999, 4},
		{"negative fraction truncates to 0", -0.5, 0},
		{"below", -1, -1},
		{"far below", -1e6, -1},
		{"input_dim", 5, -1},
		{"above", 5.5, -1},
		{"far above", 1e30, -1},
		{"NaN", float32(math.NaN()), -1},
		{"+Inf", inf, -1},
		{"-Inf", -inf, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			num := []float32{1, 2, 3, 4, 5, 6}
			ids := []float32{1, tc.id} // the bad id is in sample 1
			dst := make([]float32, 2*5)
			err := m.ForwardMulti([][]float32{dst}, [][]float32{num, ids}, 2)
			if tc.row < 0 {
				var ie *IndexError
				if !errors.As(err, &ie) {
					t.Fatalf("id %g: got %v, want an *IndexError", tc.id, err)
				}
				if ie.Layer != "store_emb" || ie.Input != 1 || ie.Sample != 1 || ie.Position != 0 || ie.InputDim != 5 ||
					math.Float32bits(ie.Value) != math.Float32bits(tc.id) {
					t.Fatalf("id %g: error %+v", tc.id, *ie)
				}
				for _, want := range []string{`"store_emb"`, "sample 1", "[0, 5)"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %s", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []float32{1, 2, 3, 10, 11, 4, 5, 6, float32(10 * tc.row), float32(10*tc.row + 1)}
			for i := range want {
				if dst[i] != want[i] {
					t.Fatalf("id %g: got %v, want %v", tc.id, dst, want)
				}
			}
		})
	}
}

// TestEmbeddingSequenceForward: a (T,) id input through Forward gives a
// (T, output_dim) output of rows, and a bad id in the last sample is refused.
func TestEmbeddingSequenceForward(t *testing.T) {
	emb := &Embedding{LayerName: "e", InputDim: 3, OutputDim: 2}
	m, err := NewSequential("seq", Shape{4}, emb)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.OutputShape(); !got.Equal(Shape{4, 2}) {
		t.Fatalf("output shape %v", got)
	}
	if err := m.SetWeights([][]float32{{0, 1, 2, 3, 4, 5}}); err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 2*8)
	if err := m.Forward(dst, []float32{0, 1, 2, 1.5, 2, 2, 0, 0}, 2); err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 1, 2, 3, 4, 5, 2, 3, 4, 5, 4, 5, 0, 1, 0, 1}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("got %v, want %v", dst, want)
		}
	}
	err = m.Forward(dst, []float32{0, 1, 2, 1, 2, 2, 0, 3}, 2)
	var ie *IndexError
	if !errors.As(err, &ie) || ie.Sample != 1 || ie.Position != 3 || ie.Value != 3 || ie.Input != 0 {
		t.Fatalf("got %v", err)
	}
	// Run on its own, the layer never reads another row for a bad id.
	out := make([]float32, 8)
	emb.Forward(out, [][]float32{{0, 7, -3, float32(math.NaN())}}, 1, nil)
	for _, v := range out[2:] {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("bad ids gave %v, want NaN rows", out)
		}
	}
}

// TestEmbeddingRefused: an Embedding fed by another layer is refused by
// name; input_dim and output_dim must be positive; a wrong-sized matrix is
// refused by Prepare.
func TestEmbeddingRefused(t *testing.T) {
	_, err := NewSequential("after", Shape{3}, &Flatten{LayerName: "f"}, &Embedding{LayerName: "late", InputDim: 4, OutputDim: 2})
	if err == nil || !strings.Contains(err.Error(), `"late"`) || !strings.Contains(err.Error(), `"f"`) {
		t.Fatalf("Embedding after Flatten: %v", err)
	}
	for _, e := range []*Embedding{{LayerName: "z", InputDim: 0, OutputDim: 2}, {LayerName: "z", InputDim: 2, OutputDim: 0}} {
		if _, err := NewSequential("bad", Shape{3}, e); err == nil {
			t.Errorf("input_dim %d output_dim %d accepted", e.InputDim, e.OutputDim)
		}
	}
	m, err := NewSequential("short", Shape{3}, &Embedding{LayerName: "s", InputDim: 4, OutputDim: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetWeights([][]float32{make([]float32, 7)}); err == nil {
		t.Error("a 7-value matrix for (4, 2) accepted")
	}
}

// TestModelCheckIDs: CheckIDs refuses what Forward would, and checks nothing
// for a model without Embedding or a batch of the wrong size (Forward
// reports that).
func TestModelCheckIDs(t *testing.T) {
	m, err := NewSequential("ids", Shape{2}, &Embedding{LayerName: "e", InputDim: 3, OutputDim: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		x    []float32
		n    int
		fail bool
	}{
		{[]float32{0, 2, 2.9, 1}, 2, false},
		{[]float32{0, 2, 3, 1}, 2, true},
		{[]float32{0, 2, 3}, 2, false}, // wrong length: left to Forward
	} {
		err := m.CheckIDs(tc.x, tc.n)
		var ie *IndexError
		if errors.As(err, &ie) != tc.fail {
			t.Errorf("CheckIDs(%v): %v", tc.x, err)
		}
	}
	plain, err := NewSequential("plain", Shape{2}, &Flatten{LayerName: "f"})
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.CheckIDs([]float32{-5, 1e9}, 1); err != nil {
		t.Errorf("a model without Embedding: %v", err)
	}
}

// TestEmbeddingMaskZero: with mask_zero the LSTM skips id-0 steps, so a
// left-padded sequence answers what its unpadded tail does; the mask is
// Keras's input != 0 on the raw value, so 0.5 (row 0) is a kept step; a
// (T, F) input is refused.
func TestEmbeddingMaskZero(t *testing.T) {
	tanh, sig := MustActivation("tanh", false), MustActivation("sigmoid", false)
	build := func(T int) *Model {
		t.Helper()
		m, err := NewSequential("mz", Shape{T},
			&EmbeddingMaskZero{Embedding{LayerName: "e", InputDim: 4, OutputDim: 3}},
			&LSTM{LayerName: "l", Units: 2, UseBias: true, Activation: tanh, RecurrentActivation: sig})
		if err != nil {
			t.Fatal(err)
		}
		var arrays [][]float32
		for i, w := range m.Weights() {
			arrays = append(arrays, fwdRand(uint64(7+i), w.Shape.Size()))
		}
		if err := m.SetWeights(arrays); err != nil {
			t.Fatal(err)
		}
		return m
	}
	run := func(m *Model, x ...float32) []float32 {
		t.Helper()
		y := make([]float32, 2)
		if err := m.Forward(y, x, 1); err != nil {
			t.Fatal(err)
		}
		return y
	}
	m3, m1 := build(3), build(1)
	padded, alone, half := run(m3, 0, 0, 2), run(m1, 2), run(m3, 0, 0.5, 2)
	if padded[0] != alone[0] || padded[1] != alone[1] {
		t.Errorf("[0 0 2] gives %v, [2] gives %v: padding steps were not skipped", padded, alone)
	}
	if half[0] == padded[0] && half[1] == padded[1] {
		t.Errorf("[0 0.5 2] gives the same as [0 0 2]: 0.5 must be a kept step (row 0)")
	}
	if _, err := NewSequential("2d", Shape{3, 2}, &EmbeddingMaskZero{Embedding{LayerName: "e", InputDim: 4, OutputDim: 3}}); err == nil ||
		!strings.Contains(err.Error(), "(timesteps,)") {
		t.Errorf("a (3, 2) input with mask_zero: %v", err)
	}
	var ie *IndexError
	if err := m3.Forward(make([]float32, 2), []float32{0, 4, 1}, 1); !errors.As(err, &ie) || ie.Layer != "e" {
		t.Errorf("id 4 of 4 with mask_zero: %v", err)
	}
}
