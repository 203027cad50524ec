package nn

import (
	"strings"
	"testing"
)

func TestConcatenate(t *testing.T) {
	// Two samples each; a is (2, 3), b is (2, 1), c is (1, 3).
	a := []float32{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16}
	b := []float32{-1, -2, -11, -12}
	c := []float32{7, 8, 9, 17, 18, 19}
	cases := []struct {
		name  string
		axis  int
		in    []Shape
		xs    [][]float32
		shape Shape
		want  []float64
	}{
		{"features, axis -1", -1, []Shape{{2, 3}, {2, 1}}, [][]float32{a, b}, Shape{2, 4},
			[]float64{1, 2, 3, -1, 4, 5, 6, -2, 11, 12, 13, -11, 14, 15, 16, -12}},
		{"features, axis 2", 2, []Shape{{2, 3}, {2, 1}}, [][]float32{a, b}, Shape{2, 4},
			[]float64{1, 2, 3, -1, 4, 5, 6, -2, 11, 12, 13, -11, 14, 15, 16, -12}},
		{"time, axis 1", 1, []Shape{{2, 3}, {1, 3}}, [][]float32{a, c}, Shape{3, 3},
			[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
		{"time, axis -2", -2, []Shape{{1, 3}, {2, 3}}, [][]float32{c, a}, Shape{3, 3},
			[]float64{7, 8, 9, 1, 2, 3, 4, 5, 6, 17, 18, 19, 11, 12, 13, 14, 15, 16}},
		{"three inputs, rank 1", -1, []Shape{{1}, {2}, {1}}, [][]float32{{1, 2}, {3, 4, 5, 6}, {7, 8}}, Shape{4},
			[]float64{1, 3, 4, 7, 2, 5, 6, 8}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &Merge{LayerName: "cat", Op: Concatenate, Axis: tc.axis}
			out, y := fwdLayer(t, l, tc.in, nil, 2, tc.xs...)
			if !out.Equal(tc.shape) {
				t.Fatalf("shape %v, want %v", out, tc.shape)
			}
			fwdClose(t, y, tc.want)
		})
	}
}

func TestElementwiseMerge(t *testing.T) {
	a := []float32{1, 2, 3, 4}
	b := []float32{10, 20, 30, 40}
	c := []float32{-1, 0.5, 2, 0}
	cases := []struct {
		op    MergeOp
		class string
		xs    [][]float32
		want  []float64
	}{
		{Add, "Add", [][]float32{a, b, c}, []float64{10, 22.5, 35, 44}},
		{Subtract, "Subtract", [][]float32{a, b}, []float64{-9, -18, -27, -36}},
		{Multiply, "Multiply", [][]float32{a, b, c}, []float64{-10, 20, 180, 0}},
		{Average, "Average", [][]float32{a, b}, []float64{5.5, 11, 16.5, 22}},
		{Add, "Add", [][]float32{a}, []float64{1, 2, 3, 4}},
	}
	for _, tc := range cases {
		l := &Merge{LayerName: "m", Op: tc.op}
		in := make([]Shape, len(tc.xs))
		for i := range in {
			in[i] = Shape{2}
		}
		out, y := fwdLayer(t, l, in, nil, 2, tc.xs...)
		if !out.Equal(Shape{2}) || l.Class() != tc.class {
			t.Errorf("%s: shape %v class %s", tc.class, out, l.Class())
		}
		fwdClose(t, y, tc.want)
	}
}

func TestMergeErrors(t *testing.T) {
	cases := []struct {
		l    *Merge
		in   []Shape
		want string
	}{
		{&Merge{LayerName: "cat", Axis: 0}, []Shape{{2, 3}, {2, 3}}, `layer "cat" (Concatenate): axis: 0 is out of range for inputs of shape (None, 2, 3) (want -2..-1 or 1..2)`},
		{&Merge{LayerName: "cat", Axis: 3}, []Shape{{2, 3}, {2, 3}}, "axis: 3 is out of range"},
		{&Merge{LayerName: "cat", Axis: -3}, []Shape{{2, 3}, {2, 3}}, "axis: -3 is out of range"},
		{&Merge{LayerName: "cat", Axis: -1}, []Shape{{2, 3}, {3, 3}}, "input 1 has shape (None, 3, 3), input 0 has (None, 2, 3): shapes must match except on axis -1"},
		{&Merge{LayerName: "cat", Axis: -1}, []Shape{{2, 3}, {6}}, "ranks differ"},
		{&Merge{LayerName: "cat", Axis: -1}, nil, "want at least 1 input"},
		{&Merge{LayerName: "add", Op: Add}, []Shape{{2, 3}, {2, 1}}, `layer "add" (Add): input 1 has shape (None, 2, 1), input 0 has (None, 2, 3): shapes must match`},
		{&Merge{LayerName: "sub", Op: Subtract}, []Shape{{2}, {2}, {2}}, `layer "sub" (Subtract): want 2 input(s), got 3`},
		{&Merge{LayerName: "x", Op: MergeOp(9)}, []Shape{{2}}, "unknown merge op 9"},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestBranchingModelAllocs(t *testing.T) {
	// input (8, 2) -> conv same | conv causal -> concat -> maxpool -> flatten -> dense
	relu := MustActivation("relu", false)
	nodes := []Node{
		{Layer: &Conv1D{LayerName: "a", Filters: 3, KernelSize: 3, Padding: "same", UseBias: true, Activation: relu}, Inputs: []int{Input}},
		{Layer: &Conv1D{LayerName: "b", Filters: 2, KernelSize: 2, DilationRate: 2, Padding: "causal"}, Inputs: []int{Input}},
		{Layer: &Merge{LayerName: "cat", Op: Concatenate, Axis: -1}, Inputs: []int{0, 1}},
		{Layer: &Pooling1D{LayerName: "pool", Kind: MaxPool, PoolSize: 2}, Inputs: []int{2}},
		{Layer: &BatchNormalization{LayerName: "bn", Axis: -1, Epsilon: 1e-3, Center: true, Scale: true}, Inputs: []int{3}},
		{Layer: &Flatten{LayerName: "flat"}, Inputs: []int{4}},
		{Layer: &Dense{LayerName: "out", Units: 3, UseBias: true}, Inputs: []int{5}},
	}
	m, err := NewModel("branch", Shape{8, 2}, nodes)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.OutputShape(); !got.Equal(Shape{3}) {
		t.Fatalf("output shape %v", got)
	}
	var arrays [][]float32
	for i, w := range m.Weights() {
		v := fwdRand(uint64(i), w.Shape.Size())
		if w.Name == "moving_variance" {
			for j := range v {
				v[j] += 1.5
			}
		}
		arrays = append(arrays, v)
	}
	if err := m.SetWeights(arrays); err != nil {
		t.Fatal(err)
	}
	const n = 5
	x, dst := fwdRand(99, n*16), make([]float32, n*3)
	if err := m.Forward(dst, x, n); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(10, func() { _ = m.Forward(dst, x, n) }); allocs != 0 {
		t.Errorf("Model.Forward allocates %v times per run", allocs)
	}
	// Batching does not change any sample's result.
	for b := 0; b < n; b++ {
		y, err := m.Predict(x[b*16:(b+1)*16], 1)
		if err != nil {
			t.Fatal(err)
		}
		fwdClose(t, y, f64(dst[b*3:(b+1)*3]))
	}
}

func TestLayersConcurrentForward(t *testing.T) {
	// Built layers are read-only in Forward: many goroutines share one.
	m, err := NewSequential("par", Shape{12, 3},
		&Conv1D{LayerName: "c", Filters: 4, KernelSize: 3, Padding: "same", UseBias: true, Activation: MustActivation("tanh", false)},
		&LayerNormalization{LayerName: "ln", Axis: -1, Epsilon: 1e-3, Center: true, Scale: true},
		&PReLU{LayerName: "p", SharedAxes: []int{1}},
		&Pooling1D{LayerName: "ap", Kind: AvgPool, PoolSize: 3, Strides: 2, Padding: "same"},
		&GlobalPooling1D{LayerName: "g", Kind: MaxPool},
		&Dense{LayerName: "d", Units: 2, UseBias: true, Activation: MustActivation("softmax", false)},
	)
	if err != nil {
		t.Fatal(err)
	}
	var arrays [][]float32
	for i, w := range m.Weights() {
		arrays = append(arrays, fwdRand(uint64(i+20), w.Shape.Size()))
	}
	if err := m.SetWeights(arrays); err != nil {
		t.Fatal(err)
	}
	x := fwdRand(5, 4*36)
	want, err := m.Predict(x, 4)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []float32)
	for g := 0; g < 4; g++ {
		go func() {
			var y []float32
			for range 20 {
				y, _ = m.Predict(x, 4)
			}
			done <- y
		}()
	}
	for g := 0; g < 4; g++ {
		fwdClose(t, <-done, f64(want))
	}
}
