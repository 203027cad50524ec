package nn

import (
	"math"
	"strings"
	"testing"
)

// Tests of Permute, ZeroPadding1D, Cropping1D, UpSampling1D and
// Conv1DTranspose against float64 references written independently of the
// layers.

func TestPermute(t *testing.T) {
	for _, tc := range []struct {
		in   Shape
		dims []int
	}{
		{Shape{5, 3}, []int{2, 1}},
		{Shape{5, 3}, []int{1, 2}},
		{Shape{2, 3, 4}, []int{3, 1, 2}},
		{Shape{2, 3, 4}, []int{2, 3, 1}},
		{Shape{4}, []int{1}},
	} {
		n := 3
		x := fwdRand(7, n*tc.in.Size())
		out, y := fwdLayer(t, &Permute{LayerName: "p", Dims: tc.dims}, []Shape{tc.in}, nil, n, x)
		// Reference: walk every input index and place it.
		want := make([]float64, len(y))
		r := len(tc.in)
		idx := make([]int, r)
		size := tc.in.Size()
		for s := 0; s < n; s++ {
			for flat := 0; flat < size; flat++ {
				rem := flat
				for i := r - 1; i >= 0; i-- {
					idx[i] = rem % tc.in[i]
					rem /= tc.in[i]
				}
				o := 0
				for i, d := range tc.dims {
					o = o*out[i] + idx[d-1]
				}
				want[s*size+o] = float64(x[s*size+flat])
			}
		}
		fwdClose(t, y, want)
	}
	for _, dims := range [][]int{{1, 1}, {1}, {0, 1}, {1, 3}} {
		if _, err := (&Permute{LayerName: "p", Dims: dims}).Build([]Shape{{4, 2}}); err == nil || !strings.Contains(err.Error(), "permutation") {
			t.Errorf("dims %v: err = %v, want a permutation error", dims, err)
		}
	}
}

func TestPaddingLayers(t *testing.T) {
	T, F, n := 4, 2, 2
	x := fwdRand(3, n*T*F)
	at := func(s, t, f int) float64 { return float64(x[(s*T+t)*F+f]) }
	for _, tc := range []struct {
		name  string
		layer Layer
		steps int
		ref   func(s, t, f int) float64
	}{
		{"zeropad", &ZeroPadding1D{LayerName: "z", Left: 2, Right: 1}, 7, func(s, t, f int) float64 {
			if t < 2 || t >= 2+T {
				return 0
			}
			return at(s, t-2, f)
		}},
		{"zeropad0", &ZeroPadding1D{LayerName: "z"}, 4, at},
		{"crop", &Cropping1D{LayerName: "c", Left: 1, Right: 2}, 1, func(s, t, f int) float64 { return at(s, t+1, f) }},
		{"crop_left", &Cropping1D{LayerName: "c", Left: 3}, 1, func(s, t, f int) float64 { return at(s, t+3, f) }},
		{"upsample", &UpSampling1D{LayerName: "u", Size: 3}, 12, func(s, t, f int) float64 { return at(s, t/3, f) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, y := fwdLayer(t, tc.layer, []Shape{{T, F}}, nil, n, x)
			if !out.Equal(Shape{tc.steps, F}) {
				t.Fatalf("shape %v, want (%d, %d)", out, tc.steps, F)
			}
			var want []float64
			for s := 0; s < n; s++ {
				for i := 0; i < tc.steps; i++ {
					for f := 0; f < F; f++ {
						want = append(want, tc.ref(s, i, f))
					}
				}
			}
			fwdClose(t, y, want)
		})
	}
	for _, l := range []Layer{&Cropping1D{LayerName: "c", Left: 2, Right: 2}, &UpSampling1D{LayerName: "u"}, &ZeroPadding1D{LayerName: "z", Left: -1}} {
		if _, err := l.Build([]Shape{{T, F}}); err == nil {
			t.Errorf("%s: Build accepted %+v", l.Class(), l)
		}
	}
	if _, err := (&UpSampling1D{LayerName: "u", Size: 2}).Build([]Shape{{T}}); err == nil {
		t.Error("UpSampling1D accepted a 2-D input")
	}
}

// convTransposeRef is a transposed convolution formulated as a convolution:
// insert Strides-1 zeros between the input steps, pad k-1 zeros on both
// sides, correlate with the tap-reversed dilated kernel (the full output,
// (T-1)*s + k steps), then keep L steps from `before` on.
func convTransposeRef(x, kernel, bias []float32, T, C, F, K, s, d, L, before int) []float64 {
	keff := d*(K-1) + 1
	up := (T-1)*s + 1
	padded := up + 2*(keff-1)
	z := make([]float64, padded*C)
	for i := 0; i < T; i++ {
		for c := 0; c < C; c++ {
			z[(keff-1+i*s)*C+c] = float64(x[i*C+c])
		}
	}
	full := (T-1)*s + keff
	y := make([]float64, L*F)
	for o := 0; o < L; o++ {
		p := o + before // position in the full output
		for f := 0; f < F; f++ {
			v := 0.0
			if bias != nil {
				v = float64(bias[f])
			}
			if p < full {
				for j := 0; j < K; j++ { // reversed tap j reads z[p + (K-1-j)*d]
					q := p + (K-1-j)*d
					for c := 0; c < C; c++ {
						v += z[q*C+c] * float64(kernel[(j*F+f)*C+c])
					}
				}
			}
			y[o*F+f] = v
		}
	}
	return y
}

func TestConv1DTranspose(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		T, C, F, K, s, d, outp int
		padding                string
		bias                   bool
		L                      int
	}{
		{"valid_s1", 5, 2, 3, 3, 1, 1, -1, "valid", true, 7},
		{"valid_s2", 5, 2, 3, 3, 2, 1, -1, "valid", true, 11},
		{"valid_k_lt_s", 4, 3, 2, 2, 3, 1, -1, "valid", false, 12},
		{"same_s2", 5, 2, 4, 3, 2, 1, -1, "same", true, 10},
		{"same_s1_even_k", 6, 2, 2, 4, 1, 1, -1, "same", true, 6},
		{"same_s3_outpad", 4, 2, 3, 5, 3, 1, 2, "same", true, 12},
		{"valid_outpad", 4, 2, 3, 3, 2, 1, 1, "valid", true, 10},
		{"dilated", 5, 2, 2, 3, 1, 2, -1, "valid", true, 9},
		{"dilated_same", 5, 1, 2, 2, 1, 3, -1, "same", false, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 3
			l := &Conv1DTranspose{LayerName: "ct", Filters: tc.F, KernelSize: tc.K, Strides: tc.s, DilationRate: tc.d,
				Padding: tc.padding, OutputPadding: tc.outp, UseBias: tc.bias}
			kernel := fwdRand(11, tc.K*tc.F*tc.C)
			w := [][]float32{kernel}
			var bias []float32
			if tc.bias {
				bias = fwdRand(12, tc.F)
				w = append(w, bias)
			}
			x := fwdRand(13, n*tc.T*tc.C)
			out, y := fwdLayer(t, l, []Shape{{tc.T, tc.C}}, w, n, x)
			if !out.Equal(Shape{tc.L, tc.F}) {
				t.Fatalf("shape %v, want (%d, %d)", out, tc.L, tc.F)
			}
			keff := tc.d*(tc.K-1) + 1
			before := 0
			if tc.padding == "same" {
				before = max((tc.T-1)*tc.s+keff-tc.L, 0) / 2
			}
			var want []float64
			for b := 0; b < n; b++ {
				want = append(want, convTransposeRef(x[b*tc.T*tc.C:(b+1)*tc.T*tc.C], kernel, bias, tc.T, tc.C, tc.F, tc.K, tc.s, tc.d, tc.L, before)...)
			}
			fwdClose(t, y, want)
		})
	}
	if _, err := (&Conv1DTranspose{LayerName: "ct", Filters: 1, KernelSize: 2, Strides: 2, DilationRate: 1, Padding: "same", OutputPadding: 2}).Build([]Shape{{4, 1}}); err == nil {
		t.Error("output_padding >= strides accepted")
	}
	if _, err := (&Conv1DTranspose{LayerName: "ct", Filters: 1, KernelSize: 2, Strides: 1, DilationRate: 1, Padding: "causal", OutputPadding: -1}).Build([]Shape{{4, 1}}); err == nil {
		t.Error("causal padding accepted")
	}
}

// simpleRNNRef is the SimpleRNN recurrence in float64 with a mask (nil:
// none): masked steps keep h; outputs follow Keras's rule.
func simpleRNNRef(x, k, r, b []float32, mask []float32, T, F, u int, seq, back, zero bool, act func(float64) float64) []float64 {
	h := make([]float64, u)
	var out []float64
	if seq {
		out = make([]float64, T*u)
	}
	last := T - 1
	if back {
		last = 0
	}
	for s := 0; s < T; s++ {
		t := s
		if back {
			t = T - 1 - s
		}
		masked := mask != nil && mask[t] == 0
		if !masked {
			nh := make([]float64, u)
			for j := 0; j < u; j++ {
				v := 0.0
				if b != nil {
					v = float64(b[j])
				}
				for f := 0; f < F; f++ {
					v += float64(x[t*F+f]) * float64(k[f*u+j])
				}
				for i := 0; i < u; i++ {
					v += h[i] * float64(r[i*u+j])
				}
				nh[j] = act(v)
			}
			h = nh
		}
		if seq {
			for j := 0; j < u; j++ {
				if !(masked && zero) {
					out[s*u+j] = h[j]
				}
			}
		}
	}
	if seq {
		return out
	}
	if zero && mask != nil && mask[last] == 0 {
		return make([]float64, u)
	}
	return h
}

func TestSimpleRNN(t *testing.T) {
	T, F, u, n := 6, 3, 5, 4
	mask := []float32{
		1, 1, 1, 1, 1, 1,
		0, 0, 1, 1, 1, 1, // left-padded
		1, 0, 1, 0, 1, 0, // holes, last masked
		0, 0, 0, 0, 0, 0, // all masked
	}
	for _, tc := range []struct {
		name                  string
		seq, back, bias, zero bool
		act                   string
		masked                bool
	}{
		{"plain", false, false, true, false, "tanh", false},
		{"seq_backwards", true, true, true, false, "tanh", false},
		{"relu_nobias", true, false, false, false, "relu", false},
		{"masked", false, false, true, false, "tanh", true},
		{"masked_seq", true, false, true, false, "tanh", true},
		{"masked_seq_zero", true, true, true, true, "tanh", true},
		{"masked_last_zero", false, false, true, true, "sigmoid", true},
		{"masked_backwards", false, true, true, false, "tanh", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act := MustActivation(tc.act, false)
			l := &SimpleRNN{LayerName: "rnn", Units: u, ReturnSequences: tc.seq, GoBackwards: tc.back, UseBias: tc.bias,
				Activation: act, ZeroOutputForMask: tc.zero}
			k, r := fwdRand(1, F*u), fwdRand(2, u*u)
			w := [][]float32{k, r}
			var b []float32
			if tc.bias {
				b = fwdRand(3, u)
				w = append(w, b)
			}
			x := fwdRand(4, n*T*F)
			var y []float32
			var m []float32
			if tc.masked {
				m = mask
				y = maskedForward(t, l, Shape{T, F}, w, n, x, m)
			} else {
				_, y = fwdLayer(t, l, []Shape{{T, F}}, w, n, x)
			}
			f := map[string]func(float64) float64{"tanh": math.Tanh, "relu": func(v float64) float64 { return math.Max(v, 0) },
				"sigmoid": func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }}[tc.act]
			var want []float64
			for s := 0; s < n; s++ {
				var ms []float32
				if m != nil {
					ms = m[s*T : (s+1)*T]
				}
				want = append(want, simpleRNNRef(x[s*T*F:(s+1)*T*F], k, r, b, ms, T, F, u, tc.seq, tc.back, tc.zero, f)...)
			}
			fwdClose(t, y, want)
		})
	}
}

// maskedForward is fwdLayer for a MaskedLayer given a mask.
func maskedForward(t testing.TB, l MaskedLayer, in Shape, weights [][]float32, n int, x, mask []float32) []float32 {
	t.Helper()
	out, err := l.Build([]Shape{in})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range l.Weights() {
		p.Value = weights[i]
	}
	if err := l.Prepare(); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, n*out.Size())
	for i := range y {
		y[i] = float32(math.NaN())
	}
	scratch := make([]float32, l.ScratchSize(n))
	for i := range scratch {
		scratch[i] = float32(math.NaN())
	}
	ins := [][]float32{x}
	l.ForwardMasked(y, ins, mask, n, scratch)
	if allocs := testing.AllocsPerRun(3, func() { l.ForwardMasked(y, ins, mask, n, scratch) }); allocs != 0 {
		t.Errorf("ForwardMasked allocates %v times per run", allocs)
	}
	return y
}

func TestSequenceLayersHugeOptions(t *testing.T) {
	huge := 1 << 62
	for _, l := range []Layer{
		&ZeroPadding1D{LayerName: "z", Left: huge, Right: huge},
		&UpSampling1D{LayerName: "u", Size: huge},
		&Conv1DTranspose{LayerName: "ct", Filters: 1, KernelSize: 2, Strides: huge, DilationRate: 1, Padding: "valid", OutputPadding: -1},
		&Conv1DTranspose{LayerName: "ct", Filters: 1, KernelSize: huge, Strides: 1, DilationRate: huge, Padding: "same", OutputPadding: -1},
	} {
		if _, err := l.Build([]Shape{{7, 2}}); err == nil || !strings.Contains(err.Error(), "too large") && !strings.Contains(err.Error(), "up to") && !strings.Contains(err.Error(), "at most") {
			t.Errorf("%s %+v: err = %v", l.Class(), l, err)
		}
	}
}
