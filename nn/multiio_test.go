package nn

import (
	"errors"
	"testing"
)

// multiIOModel is two LSTM stacks on inputs of different shapes, joined by a
// Concatenate and read by two Dense heads; the first LSTM's sequence output
// is a third model output that also feeds the graph.
func multiIOModel(t testing.TB) *Model {
	t.Helper()
	tanh, sig := MustActivation("tanh", false), MustActivation("sigmoid", false)
	lstm := func(name string, u int, seq bool) *LSTM {
		return &LSTM{LayerName: name, Units: u, ReturnSequences: seq, UseBias: true, Activation: tanh, RecurrentActivation: sig}
	}
	nodes := []Node{
		{Layer: lstm("a1", 3, true), Inputs: []int{InputAt(0)}},
		{Layer: lstm("a2", 3, false), Inputs: []int{0}},
		{Layer: lstm("b1", 2, false), Inputs: []int{InputAt(1)}},
		{Layer: &Merge{LayerName: "cat", Op: Concatenate, Axis: -1}, Inputs: []int{1, 2}},
		{Layer: &Dense{LayerName: "h1", Units: 1, UseBias: true}, Inputs: []int{3}},
		{Layer: &Dense{LayerName: "h2", Units: 2, UseBias: true, Activation: tanh}, Inputs: []int{3}},
	}
	m, err := NewGraph("two_in_three_out", []Shape{{6, 2}, {4, 3}}, nodes, []int{4, 5, 0})
	if err != nil {
		t.Fatal(err)
	}
	var arrays [][]float32
	for i, w := range m.Weights() {
		arrays = append(arrays, fwdRand(uint64(100+i), w.Shape.Size()))
	}
	if err := m.SetWeights(arrays); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestForwardMulti checks a two-input, three-output graph against the same
// layers run as separate single-input models, wired by hand, at batch sizes
// around the chunk boundary, and that ForwardMulti allocates nothing.
func TestForwardMulti(t *testing.T) {
	m := multiIOModel(t)
	if !m.MultiIO() {
		t.Fatal("MultiIO() = false")
	}
	wantIn, wantOut := []Shape{{6, 2}, {4, 3}}, []Shape{{1}, {2}, {6, 3}}
	for j, s := range m.InputShapes() {
		if !s.Equal(wantIn[j]) {
			t.Errorf("input %d shape %v, want %v", j, s, wantIn[j])
		}
	}
	for j, s := range m.OutputShapes() {
		if !s.Equal(wantOut[j]) {
			t.Errorf("output %d shape %v, want %v", j, s, wantOut[j])
		}
	}
	// The same layers, with the same weight slices, as chains.
	nd := m.Nodes()
	chain := func(in Shape, ks ...int) *Model {
		var ls []Layer
		var arrays [][]float32
		for _, k := range ks {
			l := nd[k].Layer
			var c Layer
			switch l := l.(type) {
			case *LSTM:
				c = &LSTM{LayerName: l.LayerName, Units: l.Units, ReturnSequences: l.ReturnSequences, UseBias: true, Activation: l.Activation, RecurrentActivation: l.RecurrentActivation}
			case *Dense:
				c = &Dense{LayerName: l.LayerName, Units: l.Units, UseBias: true, Activation: l.Activation}
			}
			ls = append(ls, c)
			for _, p := range l.Weights() {
				arrays = append(arrays, p.Value)
			}
		}
		cm, err := NewSequential("chain", in, ls...)
		if err != nil {
			t.Fatal(err)
		}
		if err := cm.SetWeights(arrays); err != nil {
			t.Fatal(err)
		}
		return cm
	}
	a1, a2, b, h1, h2 := chain(Shape{6, 2}, 0), chain(Shape{6, 3}, 1), chain(Shape{4, 3}, 2), chain(Shape{5}, 4), chain(Shape{5}, 5)
	for _, n := range []int{1, 3, chunk + 5} {
		x0, x1 := fwdRand(7, n*12), fwdRand(8, n*12)
		dsts := [][]float32{make([]float32, n), make([]float32, 2*n), make([]float32, 18*n)}
		if err := m.ForwardMulti(dsts, [][]float32{x0, x1}, n); err != nil {
			t.Fatal(err)
		}
		seq, _ := a1.Predict(x0, n)
		ha, _ := a2.Predict(seq, n)
		hb, _ := b.Predict(x1, n)
		cat := make([]float32, 0, 5*n)
		for i := range n {
			cat = append(cat, ha[3*i:3*i+3]...)
			cat = append(cat, hb[2*i:2*i+2]...)
		}
		y1, _ := h1.Predict(cat, n)
		y2, _ := h2.Predict(cat, n)
		fwdClose(t, dsts[0], f64(y1))
		fwdClose(t, dsts[1], f64(y2))
		fwdClose(t, dsts[2], f64(seq))
		if a := testing.AllocsPerRun(5, func() { _ = m.ForwardMulti(dsts, [][]float32{x0, x1}, n) }); a != 0 {
			t.Errorf("n=%d: ForwardMulti allocates %v times per run, want 0", n, a)
		}
	}
}

func TestForwardMultiErrors(t *testing.T) {
	m := multiIOModel(t)
	if err := m.Forward(make([]float32, 1), make([]float32, 12), 1); !errors.Is(err, ErrMultiIO) {
		t.Errorf("Forward on a multi-IO model: %v, want ErrMultiIO", err)
	}
	if _, err := m.Predict(make([]float32, 12), 1); !errors.Is(err, ErrMultiIO) {
		t.Errorf("Predict on a multi-IO model: %v, want ErrMultiIO", err)
	}
	ok := func() ([][]float32, [][]float32) {
		return [][]float32{make([]float32, 2), make([]float32, 4), make([]float32, 36)}, [][]float32{make([]float32, 24), make([]float32, 24)}
	}
	for _, tc := range []struct {
		name   string
		mutate func(d, x [][]float32) ([][]float32, [][]float32)
		n      int
	}{
		{"one input", func(d, x [][]float32) ([][]float32, [][]float32) { return d, x[:1] }, 2},
		{"two outputs", func(d, x [][]float32) ([][]float32, [][]float32) { return d[:2], x }, 2},
		{"short second input", func(d, x [][]float32) ([][]float32, [][]float32) { x[1] = x[1][:23]; return d, x }, 2},
		{"short third output", func(d, x [][]float32) ([][]float32, [][]float32) { d[2] = d[2][:35]; return d, x }, 2},
		{"zero batch", func(d, x [][]float32) ([][]float32, [][]float32) { return d, x }, 0},
	} {
		d, x := tc.mutate(ok())
		if err := m.ForwardMulti(d, x, tc.n); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	d, x := ok()
	if err := m.ForwardMulti(d, x, 2); err != nil {
		t.Errorf("valid call: %v", err)
	}
	// Graph construction errors.
	dense := func() *Dense { return &Dense{LayerName: "d", Units: 1} }
	for _, tc := range []struct {
		name    string
		inputs  []Shape
		nodes   []Node
		outputs []int
	}{
		{"no input", nil, []Node{{Layer: dense(), Inputs: []int{Input}}}, []int{0}},
		{"no output", []Shape{{2}}, []Node{{Layer: dense(), Inputs: []int{Input}}}, nil},
		{"output out of range", []Shape{{2}}, []Node{{Layer: dense(), Inputs: []int{Input}}}, []int{1}},
		{"input out of range", []Shape{{2}}, []Node{{Layer: dense(), Inputs: []int{InputAt(1)}}}, []int{0}},
	} {
		if _, err := NewGraph("bad", tc.inputs, tc.nodes, tc.outputs); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestSingleIOThroughForwardMulti checks that ForwardMulti on a one-input,
// one-output model gives Forward's bytes.
func TestSingleIOThroughForwardMulti(t *testing.T) {
	m := goldModel(t)
	x, n := goldInput(t)
	want, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(want))
	if err := m.ForwardMulti([][]float32{got}, [][]float32{x}, n); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: ForwardMulti %v, Forward %v", i, got[i], want[i])
		}
	}
}

func BenchmarkForwardMulti(b *testing.B) {
	m := multiIOModel(b)
	const n = 64
	x0, x1 := fwdRand(7, n*12), fwdRand(8, n*12)
	dsts := [][]float32{make([]float32, n), make([]float32, 2*n), make([]float32, 18*n)}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.ForwardMulti(dsts, [][]float32{x0, x1}, n); err != nil {
			b.Fatal(err)
		}
	}
}
