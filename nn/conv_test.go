package nn

import (
	"fmt"
	"strings"
	"testing"
)

func TestConv1DHand(t *testing.T) {
	// One channel, one filter, kernel taps 1, 10, 100 (first tap meets the
	// earliest step), so every output digit names the input it came from.
	x4 := []float32{1, 2, 3, 4}
	x5 := []float32{1, 2, 3, 4, 5}
	cases := []struct {
		name           string
		x              []float32
		k, stride, dil int
		padding        string
		want           []float64
	}{
		{"causal k2", x4, 2, 1, 1, "causal", []float64{10, 21, 32, 43}},
		{"causal k2 d2", x4, 2, 1, 2, "causal", []float64{10, 20, 31, 42}},
		{"causal k3", x4, 3, 1, 1, "causal", []float64{100, 210, 321, 432}},
		{"causal k2 s2", x5, 2, 2, 1, "causal", []float64{10, 32, 54}},
		{"same k3", x4, 3, 1, 1, "same", []float64{210, 321, 432, 43}},
		{"same k2 (extra pad on the right)", x4, 2, 1, 1, "same", []float64{21, 32, 43, 4}},
		{"same k3 s2", x5, 3, 2, 1, "same", []float64{210, 432, 54}},
		{"same k2 d2", x5, 2, 1, 2, "same", []float64{20, 31, 42, 53, 4}},
		{"valid k2 s2", x5, 2, 2, 1, "valid", []float64{21, 43}},
		{"valid k2 d2", x5, 2, 1, 2, "valid", []float64{31, 42, 53}},
		{"valid k3 s3 (tail dropped)", x5, 3, 3, 1, "", []float64{321}},
		{"valid k1 s2", x5, 1, 2, 1, "valid", []float64{1, 3, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kernel := []float32{1, 10, 100}[:c.k]
			l := &Conv1D{LayerName: "conv", Filters: 1, KernelSize: c.k, Strides: c.stride, DilationRate: c.dil, Padding: c.padding}
			out, y := fwdLayer(t, l, []Shape{{len(c.x), 1}}, [][]float32{kernel}, 1, c.x)
			if !out.Equal(Shape{len(c.want), 1}) {
				t.Fatalf("shape %v, want (None, %d, 1)", out, len(c.want))
			}
			fwdClose(t, y, c.want)
		})
	}
}

func TestConv1DPointwise(t *testing.T) {
	// KernelSize 1, stride 1 skips im2col; bias and relu apply.
	l := &Conv1D{LayerName: "pw", Filters: 2, KernelSize: 1, UseBias: true, Activation: MustActivation("relu", false)}
	x := []float32{1, 2, 3, -4}
	_, y := fwdLayer(t, l, []Shape{{2, 2}}, [][]float32{{1, 0, 0, 1}, {0.5, -1}}, 1, x)
	fwdClose(t, y, []float64{1.5, 1, 3.5, 0})
	if l.ScratchSize(10) != 0 {
		t.Errorf("pointwise ScratchSize = %d, want 0", l.ScratchSize(10))
	}
}

// naiveConv1D pads x explicitly (left zeros, right zeros) and convolves
// "valid" in float64; x is (T, C), kernel (K, C, F).
func naiveConv1D(x, kernel, bias []float32, T, C, F, K, stride, dil, left, right int) []float64 {
	P := T + left + right
	p := make([]float32, P*C)
	copy(p[left*C:], x)
	span := dil*(K-1) + 1
	var y []float64
	for o := 0; o*stride+span <= P; o++ {
		for f := 0; f < F; f++ {
			s := 0.0
			if bias != nil {
				s = float64(bias[f])
			}
			for k := 0; k < K; k++ {
				for c := 0; c < C; c++ {
					s += float64(p[(o*stride+k*dil)*C+c]) * float64(kernel[(k*C+c)*F+f])
				}
			}
			y = append(y, s)
		}
	}
	return y
}

func TestConv1DRandom(t *testing.T) {
	// Batched, multi-channel cases against an explicit-padding reference;
	// n*T' > convChunkRows exercises the chunked im2col.
	cases := []struct {
		T, C, F, K, stride, dil, n int
		padding                    string
		left, right                int // the reference's explicit padding
	}{
		{50, 3, 5, 3, 1, 1, 7, "same", 1, 1},
		{50, 3, 5, 4, 1, 1, 7, "same", 1, 2},
		{50, 3, 5, 3, 1, 2, 7, "causal", 4, 0},
		{50, 3, 5, 3, 2, 1, 7, "causal", 2, 0},
		{49, 4, 200, 5, 3, 1, 3, "same", 2, 2}, // T'=17: total (16*3+5-49)=4
		{60, 8, 16, 3, 1, 2, 6, "valid", 0, 0},
		{20, 2, 3, 2, 4, 1, 2, "same", 0, 0},   // T'=5: total max(4*4+2-20, 0) = 0
		{60, 1, 64, 3, 1, 1, 2, "valid", 0, 0}, // the gold model's: all rows in place
		{30, 12, 24, 3, 1, 1, 3, "same", 1, 1}, // K*C = 36 > smallConvK: im2col and GEMM
		{30, 12, 24, 3, 2, 2, 3, "causal", 4, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			x := fwdRand(11, c.n*c.T*c.C)
			kernel, bias := fwdRand(12, c.K*c.C*c.F), fwdRand(13, c.F)
			l := &Conv1D{LayerName: "conv", Filters: c.F, KernelSize: c.K, Strides: c.stride, DilationRate: c.dil, Padding: c.padding, UseBias: true}
			out, y := fwdLayer(t, l, []Shape{{c.T, c.C}}, [][]float32{kernel, bias}, c.n, x)
			var want []float64
			for b := 0; b < c.n; b++ {
				want = append(want, naiveConv1D(x[b*c.T*c.C:(b+1)*c.T*c.C], kernel, bias, c.T, c.C, c.F, c.K, c.stride, c.dil, c.left, c.right)...)
			}
			if out.Size()*c.n != len(want) {
				t.Fatalf("shape %v, reference has %d values", out, len(want))
			}
			fwdClose(t, y, want)

			// The same with a ReLU (fused on the direct path).
			l = &Conv1D{LayerName: "conv", Filters: c.F, KernelSize: c.K, Strides: c.stride, DilationRate: c.dil, Padding: c.padding, UseBias: true,
				Activation: MustActivation("relu", false)}
			_, y = fwdLayer(t, l, []Shape{{c.T, c.C}}, [][]float32{kernel, bias}, c.n, x)
			for i, v := range want {
				want[i] = max(v, 0)
			}
			fwdClose(t, y, want)
		})
	}
}

func TestConv1DShapesAndErrors(t *testing.T) {
	l := &Conv1D{LayerName: "conv1d_1", Filters: 4, KernelSize: 3, UseBias: true}
	out, err := l.Build([]Shape{{10, 2}})
	if err != nil || !out.Equal(Shape{8, 4}) {
		t.Fatalf("Build = %v, %v", out, err)
	}
	w := l.Weights()
	if len(w) != 2 || !w[0].Shape.Equal(Shape{3, 2, 4}) || !w[1].Shape.Equal(Shape{4}) || ParamCount(l) != 28 {
		t.Errorf("weights %v %v, count %d", w[0], w[1], ParamCount(l))
	}
	cases := []struct {
		l    *Conv1D
		in   []Shape
		want string
	}{
		{&Conv1D{LayerName: "c", Filters: 1, KernelSize: 3, Padding: "full"}, []Shape{{5, 1}}, `layer "c" (Conv1D): padding: want "valid", "same" or "causal", got "full"`},
		{&Conv1D{LayerName: "c", Filters: 0, KernelSize: 3}, []Shape{{5, 1}}, "filters: must be positive, got 0"},
		{&Conv1D{LayerName: "c", Filters: 1, KernelSize: 0}, []Shape{{5, 1}}, "kernel_size: must be positive"},
		{&Conv1D{LayerName: "c", Filters: 1, KernelSize: 2, Strides: -1}, []Shape{{5, 1}}, "strides: must be positive, got -1"},
		{&Conv1D{LayerName: "c", Filters: 1, KernelSize: 2, DilationRate: -2}, []Shape{{5, 1}}, "dilation_rate: must be positive, got -2"},
		{&Conv1D{LayerName: "c", Filters: 1, KernelSize: 3, DilationRate: 3}, []Shape{{6, 1}}, "6 steps are fewer than the kernel's span 7"},
		{&Conv1D{LayerName: "c", Filters: 1, KernelSize: 3}, []Shape{{6}}, "input shape (None, 6): want rank 2"},
		{&Conv1D{LayerName: "c", Filters: 1, KernelSize: 3}, []Shape{{6, 1}, {6, 1}}, "want 1 input(s), got 2"},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	// A short kernel value is caught by Prepare.
	l = &Conv1D{LayerName: "c", Filters: 1, KernelSize: 2}
	if _, err := l.Build([]Shape{{4, 1}}); err != nil {
		t.Fatal(err)
	}
	l.Weights()[0].Value = []float32{1}
	if err := l.Prepare(); err == nil || !strings.Contains(err.Error(), "kernel: want 2 values") {
		t.Errorf("Prepare error %v", err)
	}
}

func BenchmarkConv1D(b *testing.B) {
	// 32 windows of (60, 8) through Conv1D(64, 3, same, relu).
	const n, T, C, F, K = 32, 60, 8, 64, 3
	l := &Conv1D{LayerName: "c", Filters: F, KernelSize: K, Padding: "same", UseBias: true, Activation: MustActivation("relu", false)}
	if _, err := l.Build([]Shape{{T, C}}); err != nil {
		b.Fatal(err)
	}
	l.kernel.Value, l.bias.Value = fwdRand(1, K*C*F), fwdRand(2, F)
	if err := l.Prepare(); err != nil {
		b.Fatal(err)
	}
	x, y := [][]float32{fwdRand(3, n*T*C)}, make([]float32, n*T*F)
	scratch := make([]float32, l.ScratchSize(n))
	b.ReportAllocs()
	for b.Loop() {
		l.Forward(y, x, n, scratch)
	}
}
