package nn

import (
	"errors"
	"math"
	"testing"
)

// coords lists the multi-indices of shape s in row-major order.
func coords(s Shape) [][]int {
	out := [][]int{}
	c := make([]int, len(s))
	for range s.Size() {
		out = append(out, append([]int(nil), c...))
		for d := len(s) - 1; d >= 0; d-- {
			if c[d]++; c[d] < s[d] {
				break
			}
			c[d] = 0
		}
	}
	return out
}

// offset is the row-major offset of multi-index c in shape s.
func offset(s Shape, c []int) int {
	o := 0
	for d := range s {
		o = o*s[d] + c[d]
	}
	return o
}

// without is s with axis p removed.
func without(s Shape, p int) Shape { return append(append(Shape{}, s[:p]...), s[p+1:]...) }

// with is c with value v inserted at axis p.
func with(c []int, p, v int) []int {
	return append(append(append([]int{}, c[:p]...), v), c[p:]...)
}

// dotRef is Keras's batch_dot in float64, per sample: p and q are
// per-sample axes.
func dotRef(a, b Shape, p, q int, x, y []float32, n int, normalize bool, eps float64) []float64 {
	norm := func(s Shape, p int, v []float32) []float64 {
		out := f64(v)
		if !normalize {
			return out
		}
		for _, c := range coords(without(s, p)) {
			ss := 0.0
			for k := range s[p] {
				ss += out[offset(s, with(c, p, k))] * out[offset(s, with(c, p, k))]
			}
			d := math.Max(math.Sqrt(ss), eps)
			for k := range s[p] {
				out[offset(s, with(c, p, k))] /= d
			}
		}
		return out
	}
	var want []float64
	for i := range n {
		xs := norm(a, p, x[i*a.Size():(i+1)*a.Size()])
		ys := norm(b, q, y[i*b.Size():(i+1)*b.Size()])
		ra, rb := coords(without(a, p)), coords(without(b, q))
		for _, ca := range ra {
			for _, cb := range rb {
				s := 0.0
				for k := range a[p] {
					s += xs[offset(a, with(ca, p, k))] * ys[offset(b, with(cb, q, k))]
				}
				want = append(want, s)
			}
		}
	}
	return want
}

func TestDot(t *testing.T) {
	for _, tc := range []struct {
		name      string
		axes      [2]int
		a, b      Shape
		p, q      int // per-sample axes
		normalize bool
		shape     Shape
	}{
		{"luong_scores_2_2", [2]int{2, 2}, Shape{3, 4}, Shape{5, 4}, 1, 1, false, Shape{3, 5}},
		{"luong_context_2_1", [2]int{2, 1}, Shape{3, 5}, Shape{5, 4}, 1, 0, false, Shape{3, 4}},
		{"negative_axes", [2]int{-1, -2}, Shape{3, 5}, Shape{5, 4}, 1, 0, false, Shape{3, 4}},
		{"vectors", [2]int{1, 1}, Shape{6}, Shape{6}, 0, 0, false, Shape{1}},
		{"vectors_cosine", [2]int{-1, -1}, Shape{6}, Shape{6}, 0, 0, true, Shape{1}},
		{"normalize_time_axes", [2]int{1, 1}, Shape{4, 3}, Shape{4, 2}, 0, 0, true, Shape{3, 2}},
		{"rank3_middle", [2]int{2, -1}, Shape{2, 3, 2}, Shape{4, 3}, 1, 1, true, Shape{2, 2, 4}},
		{"vector_matrix", [2]int{1, 2}, Shape{3}, Shape{5, 3}, 0, 1, false, Shape{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 3
			x, y := fwdRand(1, n*tc.a.Size()), fwdRand(2, n*tc.b.Size())
			l := &Dot{LayerName: "dot", Axes: tc.axes, Normalize: tc.normalize}
			out, got := fwdLayer(t, l, []Shape{tc.a, tc.b}, nil, n, x, y)
			if !out.Equal(tc.shape) {
				t.Fatalf("shape %v, want %v", out, tc.shape)
			}
			fwdClose(t, got, dotRef(tc.a, tc.b, tc.p, tc.q, x, y, n, tc.normalize, 1e-7))
		})
	}
}

// TestDotNormEpsilon: a zero vector normalizes to zeros, not NaN, with
// either floor.
func TestDotNormEpsilon(t *testing.T) {
	for _, eps := range []float32{0, 1e-6} {
		l := &Dot{LayerName: "dot", Axes: [2]int{1, 1}, Normalize: true, NormEpsilon: eps}
		_, got := fwdLayer(t, l, []Shape{{3}, {3}}, nil, 1, []float32{0, 0, 0}, []float32{1, 2, 3})
		fwdClose(t, got, []float64{0})
	}
}

func TestDotErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		axes [2]int
		a, b Shape
	}{
		{"batch_axis", [2]int{0, 0}, Shape{3, 4}, Shape{3, 4}},
		{"batch_axis_negative", [2]int{-3, 1}, Shape{3, 4}, Shape{3, 4}},
		{"out_of_range", [2]int{3, 1}, Shape{3, 4}, Shape{3, 4}},
		{"lengths_differ", [2]int{2, 2}, Shape{3, 4}, Shape{3, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&Dot{LayerName: "dot", Axes: tc.axes}).Build([]Shape{tc.a, tc.b})
			var se *ShapeError
			if !errors.As(err, &se) || se.Layer != "dot" || se.Class != "Dot" {
				t.Fatalf("want a *ShapeError naming the layer, got %v", err)
			}
		})
	}
	if _, err := (&Dot{LayerName: "dot", Axes: [2]int{1, 1}}).Build([]Shape{{3}}); err == nil {
		t.Fatal("one input: no error")
	}
}

func TestMaximumMinimum(t *testing.T) {
	a := []float32{1, -2, 3, 4}
	b := []float32{0, 5, 3, -4}
	c := []float32{2, -7, 1, 0}
	for _, tc := range []struct {
		op    MergeOp
		class string
		want  []float64
	}{
		{Maximum, "Maximum", []float64{2, 5, 3, 4}},
		{Minimum, "Minimum", []float64{0, -7, 1, -4}},
	} {
		l := &Merge{LayerName: "m", Op: tc.op}
		if l.Class() != tc.class {
			t.Errorf("Class %q, want %q", l.Class(), tc.class)
		}
		_, got := fwdLayer(t, l, []Shape{{2}, {2}, {2}}, nil, 2, a, b, c)
		fwdClose(t, got, tc.want)
	}
	if _, err := (&Merge{LayerName: "m", Op: Maximum}).Build([]Shape{{2}, {3}}); err == nil {
		t.Fatal("Maximum of (2) and (3): no error")
	}
}

// BenchmarkLuongDot runs the two Dots of a Luong-attention block at the
// survey's sizes (60 steps, 64 units): scores Dot(axes=[2, 2]) of (60, 64)
// and (60, 64), context Dot(axes=[2, 1]) of (60, 60) and (60, 64), per
// sample:
//
//	go test -run '^$' -bench LuongDot ./nn/
func BenchmarkLuongDot(b *testing.B) {
	for _, tc := range []struct {
		name string
		axes [2]int
		a, b Shape
	}{
		{"scores", [2]int{2, 2}, Shape{60, 64}, Shape{60, 64}},
		{"context", [2]int{2, 1}, Shape{60, 60}, Shape{60, 64}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := &Dot{LayerName: "dot", Axes: tc.axes}
			out, err := l.Build([]Shape{tc.a, tc.b})
			if err != nil {
				b.Fatal(err)
			}
			x, y := fwdRand(1, tc.a.Size()), fwdRand(2, tc.b.Size())
			dst := make([]float32, out.Size())
			b.ReportAllocs()
			for b.Loop() {
				l.Forward(dst, [][]float32{x, y}, 1, nil)
			}
		})
	}
}
