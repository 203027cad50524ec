package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// fwdLayer builds l on the input shapes, sets its weights (in Weights()
// order), prepares it and runs Forward on n samples per input. It fails the
// test if any step errs or Forward allocates, and hands scratch filled with
// NaN so that layers relying on zeroed scratch show up.
func fwdLayer(t testing.TB, l Layer, in []Shape, weights [][]float32, n int, xs ...[]float32) (Shape, []float32) {
	t.Helper()
	out, err := l.Build(in)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ps := l.Weights()
	if len(ps) != len(weights) {
		t.Fatalf("%d weight arrays listed, test gives %d", len(ps), len(weights))
	}
	for i, p := range ps {
		p.Value = weights[i]
	}
	if err := l.Prepare(); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	y := make([]float32, n*out.Size())
	for i := range y {
		y[i] = float32(math.NaN())
	}
	scratch := make([]float32, l.ScratchSize(n))
	for i := range scratch {
		scratch[i] = float32(math.NaN())
	}
	l.Forward(y, xs, n, scratch)
	if allocs := testing.AllocsPerRun(3, func() { l.Forward(y, xs, n, scratch) }); allocs != 0 {
		t.Errorf("Forward allocates %v times per run", allocs)
	}
	return out, y
}

// fwdClose fails unless got and want agree within 1e-5 + 1e-5*|want|.
func fwdClose(t testing.TB, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= 1e-5+1e-5*math.Abs(want[i])) {
			t.Fatalf("[%d] = %g, want %g\n got  %v\n want %v", i, got[i], want[i], got, want)
		}
	}
}

// fwdRand returns n uniform values in [-1, 1) from a fixed seed.
func fwdRand(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// naiveDense is x (rows, in) · w (in, units) + b in float64.
func naiveDense(x, w, b []float32, rows, in, units int) []float64 {
	y := make([]float64, rows*units)
	for r := 0; r < rows; r++ {
		for u := 0; u < units; u++ {
			s := 0.0
			if b != nil {
				s = float64(b[u])
			}
			for k := 0; k < in; k++ {
				s += float64(x[r*in+k]) * float64(w[k*units+u])
			}
			y[r*units+u] = s
		}
	}
	return y
}

func TestDenseHand(t *testing.T) {
	l := &Dense{LayerName: "d", Units: 2, UseBias: true}
	x := []float32{1, 2, 3, 4, 5, 6}
	kernel := []float32{1, 0, 0, 1, 1, 1}
	out, y := fwdLayer(t, l, []Shape{{3}}, [][]float32{kernel, {0.5, -0.5}}, 2, x)
	if !out.Equal(Shape{2}) {
		t.Errorf("shape %v", out)
	}
	fwdClose(t, y, []float64{4.5, 4.5, 10.5, 10.5})
	if w := l.Weights(); w[0].Name != "kernel" || !w[0].Shape.Equal(Shape{3, 2}) || w[1].Name != "bias" || !w[1].Shape.Equal(Shape{2}) {
		t.Errorf("weights %v %v", w[0], w[1])
	}
}

func TestDenseRandom(t *testing.T) {
	cases := []struct {
		shape      Shape
		units, n   int
		bias       bool
		activation string
	}{
		{Shape{5}, 1, 3, true, "linear"},
		{Shape{7, 17}, 200, 19, true, "relu"}, // 133 rows, 200 columns: several GEMM tiles
		{Shape{2, 3, 4}, 6, 2, false, "tanh"},
		{Shape{4, 3}, 5, 2, true, "softmax"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.shape, c.units, c.activation), func(t *testing.T) {
			in := c.shape[len(c.shape)-1]
			rows := c.n * c.shape.Size() / in
			x := fwdRand(1, c.n*c.shape.Size())
			w := fwdRand(2, in*c.units)
			var b []float32
			ws := [][]float32{w}
			if c.bias {
				b = fwdRand(3, c.units)
				ws = append(ws, b)
			}
			l := &Dense{LayerName: "d", Units: c.units, UseBias: c.bias, Activation: MustActivation(c.activation, false)}
			out, y := fwdLayer(t, l, []Shape{c.shape}, ws, c.n, x)
			want := append(c.shape[:len(c.shape)-1:len(c.shape)-1], c.units)
			if !out.Equal(want) {
				t.Fatalf("shape %v, want %v", out, want)
			}
			ref := naiveDense(x, w, b, rows, in, c.units)
			r32 := make([]float32, len(ref))
			for i, v := range ref {
				r32[i] = float32(v)
			}
			l.Activation.Apply(r32, c.units)
			fwdClose(t, y, f64(r32))
		})
	}
}

func TestDenseErrors(t *testing.T) {
	cases := []struct {
		l    Layer
		in   []Shape
		want string
	}{
		{&Dense{LayerName: "d", Units: 0}, []Shape{{3}}, `layer "d" (Dense): units: must be positive, got 0`},
		{&Dense{LayerName: "d", Units: 2}, []Shape{{}}, "want rank >= 1"},
		{&Dense{LayerName: "d", Units: 2}, []Shape{{3}, {3}}, "want 1 input(s), got 2"},
		{&TimeDistributed{LayerName: "td", Inner: &Dense{LayerName: "d", Units: 2}}, []Shape{{3}}, "want rank >= 2"},
		{&TimeDistributed{LayerName: "td", Inner: &Dense{LayerName: "d"}}, []Shape{{4, 3}}, `layer "td" (TimeDistributed): layer "d" (Dense): units`},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.l.Name(), err, c.want)
		}
	}
}

func TestTimeDistributed(t *testing.T) {
	// TimeDistributed(Dense) on (T, F) equals Dense on (T, F).
	x := fwdRand(4, 2*5*3)
	w, b := fwdRand(5, 3*4), fwdRand(6, 4)
	td := &TimeDistributed{LayerName: "td", Inner: &Dense{LayerName: "d", Units: 4, UseBias: true}}
	out, y := fwdLayer(t, td, []Shape{{5, 3}}, [][]float32{w, b}, 2, x)
	if !out.Equal(Shape{5, 4}) || td.Weights()[0].Name != "kernel" {
		t.Fatalf("shape %v weights %v", out, td.Weights())
	}
	fwdClose(t, y, naiveDense(x, w, b, 10, 3, 4))

	// TimeDistributed(Conv1D) on (T, L, C) is a batch of n*T convolutions.
	conv := &Conv1D{LayerName: "c", Filters: 2, KernelSize: 2, Padding: "causal"}
	td = &TimeDistributed{LayerName: "td", Inner: conv}
	xs := []float32{1, 2, 3, 4, 5, 6} // n=1, T=2, L=3, C=1
	out, y = fwdLayer(t, td, []Shape{{2, 3, 1}}, [][]float32{{1, 0, 10, 1}}, 1, xs)
	if !out.Equal(Shape{2, 3, 2}) {
		t.Fatalf("shape %v", out)
	}
	// filter 0: x[t-1] + 10x[t]; filter 1: x[t] (per time step, causal)
	fwdClose(t, y, []float64{10, 1, 21, 2, 32, 3, 40, 4, 54, 5, 65, 6})
}

func TestRHSMulAdd(t *testing.T) {
	for _, sz := range [][3]int{{1, 1, 1}, {65, 193, 3}, {130, 400, 7}, {64, 192, 64}, {7, 15, 5}, {9, 1, 33}, {3, 16, 2}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b := fwdRand(7, m*k), fwdRand(8, k*n)
		for _, r := range []rhs{newRHS(b, k, n), {k: k, n: n, data: b}, {k: k, n: n, trans: true, data: transpose(b, k, n)}} {
			c := make([]float32, m*n)
			r.mulAdd(m, a, k, c, n)
			fwdClose(t, c, naiveDense(a, b, nil, m, k, n))
			if allocs := testing.AllocsPerRun(3, func() { r.mulAdd(m, a, k, c, n) }); allocs != 0 {
				t.Errorf("%v trans=%v: %v allocs", sz, r.trans, allocs)
			}
		}
	}
}

func BenchmarkDense(b *testing.B) {
	// A batch of 32 windows of (60, 64) through Dense(32): 1920x64x32.
	const n, T, F, U = 32, 60, 64, 32
	l := &Dense{LayerName: "d", Units: U, UseBias: true, Activation: MustActivation("relu", false)}
	if _, err := l.Build([]Shape{{T, F}}); err != nil {
		b.Fatal(err)
	}
	l.kernel.Value, l.bias.Value = fwdRand(1, F*U), fwdRand(2, U)
	if err := l.Prepare(); err != nil {
		b.Fatal(err)
	}
	x, y := [][]float32{fwdRand(3, n*T*F)}, make([]float32, n*T*U)
	b.ReportAllocs()
	for b.Loop() {
		l.Forward(y, x, n, nil)
	}
}
