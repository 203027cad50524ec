package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The activation sweep: every smooth activation, on every kernel that
// computes it (the generic Go one, and the AVX2 and AVX-512 ones, standalone
// and fused into the LSTM cell, where this build and CPU have them), against
// float64 over the whole float32 range, by relative error wherever the
// exact result is a normal float32; and every piecewise-linear activation
// against Keras's own float32 formula, exactly.
//
// Where the exact result is below FLT_MIN (subnormal or zero), the kernel
// may flush: it must be within FLT_MIN of it. Where it overflows float32,
// the kernel must give the same infinity. NaN must give NaN.

// Bounds of the worst relative error, stated per kernel family: a few ulp
// (one ulp is 6e-8 to 1.2e-7 relative). The float64-based functions round
// once at the end (<= 0.5 ulp, 6e-8) plus float64's own error.
const (
	boundF64    = 1.2e-7 // activations computed in float64, rounded once
	boundGo     = 2.5e-7 // sigmoid32, tanh32, Exp32 (exact division)
	boundAVX2   = 3e-7   // VRCPPS (2^-11.4) and one correction
	boundAVX512 = 2.5e-7 // VRCP14PS (2^-14) and one correction
	boundSoftmx = 2.5e-7 // float64 sum, two float32 roundings
)

// sweepCuts are the values next to which the sweep looks closely: the
// kernels' own cut-offs (tanh's clamp at 10 and its rounding to 1 past
// 9.01, exp's clamp at ±88 and flush below -87.68, ln FLT_MIN, overflow,
// Exp32's range, tanh_shrink's series at 0.05), the piecewise-linear
// activations' corners, and 0.625 (where tanh used to switch formulas).
var sweepCuts = []float64{
	0, 0.05, 0.5, 0.625, 1, 2.5, 3, 6, 9, 9.01, 10, 15, 20,
	87.33654475055310898657, 87.68, 88, 88.3, 88.72283935546875, 88.8, 103.972, 104,
}

// sweepPoints returns at least a million float32 inputs: the special
// values, every float32 exponent (a stride through the bit patterns of
// both signs), dense grids on [-100, 100] and [-1, 1], and the 64 floats on
// either side of every cut-off of either sign.
func sweepPoints() []float32 {
	inf := float32(math.Inf(1))
	xs := []float32{
		0, float32(math.Copysign(0, -1)), inf, -inf, float32(math.NaN()),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.Float32frombits(0x00800000), -math.Float32frombits(0x00800000),
		math.MaxFloat32, -math.MaxFloat32,
	}
	const stride = 0x7f800000 / 320000
	for b := uint32(0); b < 0x7f800000; b += stride {
		x := math.Float32frombits(b)
		xs = append(xs, x, -x)
	}
	for i := 0; i <= 300000; i++ {
		xs = append(xs, float32(-100+200*float64(i)/300000))
	}
	for i := 0; i <= 100000; i++ {
		xs = append(xs, float32(-1+2*float64(i)/100000))
	}
	for _, c := range sweepCuts {
		for _, s := range []float64{1, -1} {
			b := math.Float32bits(float32(s * c))
			for k := -64; k <= 64; k++ {
				v := math.Float32frombits(uint32(int64(b) + int64(k)))
				if c == 0 { // the 64 smallest floats of either sign
					v = math.Float32frombits(uint32(max(k, -k)) | math.Float32bits(float32(s))&(1<<31))
				}
				xs = append(xs, v)
			}
		}
	}
	return xs
}

// sweepResult is the worst relative error of one function on one kernel.
type sweepResult struct {
	worst  float64
	at     float32
	got    float32
	points int
}

// wantOf is f at every point of xs, in float64.
func wantOf(xs []float32, f func(float64) float64) []float64 {
	w := make([]float64, len(xs))
	for i, x := range xs {
		w[i] = f(float64(x))
	}
	return w
}

// checkSweep compares got[i] (the kernel's value at xs[i]) with want[i]
// (the exact value, in float64) and fails the test at the first
// disagreement beyond the rules above or when the worst relative error
// exceeds bound.
func checkSweep(t *testing.T, name string, xs, got []float32, want []float64, bound float64) sweepResult {
	t.Helper()
	r := sweepResult{points: len(xs)}
	bad := 0
	fail := func(format string, args ...any) {
		if bad++; bad <= 5 {
			t.Errorf("%s: "+format, append([]any{name}, args...)...)
		}
	}
	for i, x := range xs {
		g := float64(got[i])
		w := want[i]
		switch {
		case math.IsNaN(w):
			if !math.IsNaN(g) {
				fail("f(%g) = %g, want NaN", x, g)
			}
		case math.IsNaN(g):
			fail("f(%g) = NaN, want %g", x, w)
		case math.IsInf(float64(float32(w)), 0):
			if g != float64(float32(w)) {
				fail("f(%g) = %g, want %g (overflow)", x, g, w)
			}
		case math.Abs(w) < 0x1p-126:
			if math.Abs(g-w) > 0x1p-126 {
				fail("f(%g) = %g, want %g (below FLT_MIN: within FLT_MIN)", x, g, w)
			}
		default:
			if e := math.Abs(g-w) / math.Abs(w); e > r.worst {
				r.worst, r.at, r.got = e, x, got[i]
			}
		}
	}
	t.Logf("%-28s worst relative error %.3g at x=%g (got %g), bound %.2g, %d points", name, r.worst, r.at, r.got, bound, r.points)
	if r.worst > bound {
		t.Errorf("%s: worst relative error %.3g at x=%g (got %.9g) exceeds %.2g", name, r.worst, r.at, r.got, bound)
	}
	return r
}

// float64 references.
func sigmoid64(v float64) float64 {
	if v < 0 {
		e := math.Exp(v)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(-v))
}

func softplusRef(v float64) float64 { return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) }

func eluRef(alpha float64) func(float64) float64 {
	return func(v float64) float64 {
		if v > 0 {
			return v
		}
		return alpha * math.Expm1(v)
	}
}

// tanhShrinkRef is x - tanh(x), by its Taylor series (12 terms) where the
// difference cancels.
func tanhShrinkRef(v float64) float64 {
	if math.Abs(v) >= 0.3 {
		return v - math.Tanh(v)
	}
	// tanh(x) = sum 2^(2n)(2^(2n)-1) B_2n x^(2n-1) / (2n)!; x - tanh(x)
	// starts at x^3/3.
	c := []float64{1.0 / 3, -2.0 / 15, 17.0 / 315, -62.0 / 2835, 1382.0 / 155925, -21844.0 / 6081075,
		929569.0 / 638512875, -6404582.0 / 10854718875, 443861162.0 / 1856156927625,
		-18888466084.0 / 194896477400625, 113927491862.0 / 2900518163668125, -58870668456604.0 / 3698160658676859375}
	z := v * v
	s := 0.0
	for i := len(c) - 1; i >= 0; i-- {
		s = s*z + c[i]
	}
	return v * z * s
}

// smoothCases are the smooth activations computed through Activation.Apply
// (on amd64, sigmoid and tanh run the AVX2 kernel there, with the generic
// one on the tail) and their float64 definitions.
var smoothCases = []struct {
	name string
	ref  func(float64) float64
}{
	{"sigmoid", sigmoid64},
	{"tanh", math.Tanh},
	{"exponential", math.Exp},
	{"softplus", softplusRef},
	{"softsign", func(v float64) float64 {
		if math.IsInf(v, 0) {
			return math.Copysign(1, v)
		}
		return v / (1 + math.Abs(v))
	}},
	{"elu", eluRef(1)},
	{"selu", func(v float64) float64 { return seluScale * eluRef(seluAlpha)(v) }},
	{"gelu", func(v float64) float64 {
		if math.IsInf(v, -1) {
			return 0
		}
		return v * 0.5 * math.Erfc(-v/math.Sqrt2)
	}},
	{"swish", func(v float64) float64 {
		if math.IsInf(v, -1) {
			return 0
		}
		return v * sigmoid64(v)
	}},
	{"silu", func(v float64) float64 {
		if math.IsInf(v, -1) {
			return 0
		}
		return v * sigmoid64(v)
	}},
	{"mish", func(v float64) float64 {
		if math.IsInf(v, -1) {
			return 0
		}
		return v * math.Tanh(softplusRef(v))
	}},
	{"celu", func(v float64) float64 { return math.Max(v, 0) + math.Expm1(math.Min(v, 0)) }},
	{"log_sigmoid", func(v float64) float64 { return -softplusRef(-v) }},
	{"squareplus", func(v float64) float64 {
		if math.IsInf(v, -1) {
			return 0
		}
		if v < 0 { // (v + s)/2 = 2/(s - v), s = sqrt(v^2+4)
			return 2 / (math.Hypot(v, 2) - v)
		}
		return (v + math.Hypot(v, 2)) / 2
	}},
	{"tanh_shrink", tanhShrinkRef},
}

// TestActivationSweep sweeps every smooth activation, on every kernel.
func TestActivationSweep(t *testing.T) {
	xs := sweepPoints()
	if len(xs) < 1_000_000 {
		t.Fatalf("the sweep has %d points, want at least 1e6", len(xs))
	}
	got := make([]float32, len(xs))
	run := func(name string, want []float64, bound float64, f func(y []float32)) {
		copy(got, xs)
		f(got)
		checkSweep(t, name, xs, got, want, bound)
	}
	wantSig, wantTanh := wantOf(xs, sigmoid64), wantOf(xs, math.Tanh)
	scalar := func(f func(float32) float32) func([]float32) {
		return func(y []float32) {
			for i, v := range y {
				y[i] = f(v)
			}
		}
	}

	// Generic Go kernels, scalar: every build.
	run("sigmoid/go", wantSig, boundGo, scalar(sigmoid32))
	run("tanh/go", wantTanh, boundGo, scalar(tanh32))
	run("exp/go (Exp32)", wantOf(xs, math.Exp), boundGo, scalar(Exp32))
	run("exp/go (u<=0, in sigmoid)", wantOf(xs, func(v float64) float64 {
		if v > 0 {
			return math.NaN() // not its domain: checked as NaN below
		}
		return math.Exp(v)
	}), boundGo, scalar(func(v float32) float32 {
		if v > 0 {
			return float32(math.NaN())
		}
		return expNeg32(v)
	}))

	// Vector kernels, standalone.
	if haveAVX2FMA {
		vec := func(k func(*float32, int)) func([]float32) {
			return func(y []float32) {
				n := len(y) &^ 7
				k(&y[0], n)
				var tail [8]float32 // the last len(y)%8 points, padded
				copy(tail[:], y[n:])
				k(&tail[0], 8)
				copy(y[n:], tail[:])
			}
		}
		run("sigmoid/avx2", wantSig, boundAVX2, vec(sigmoidVec))
		run("tanh/avx2", wantTanh, boundAVX2, vec(tanhVec))
	} else {
		t.Logf("sigmoid/avx2, tanh/avx2: not run: %s", noVector("AVX2 and FMA"))
	}

	// Every smooth activation through Activation.Apply.
	for _, c := range smoothCases {
		bound, want := boundF64, []float64(nil)
		switch c.name {
		case "sigmoid", "tanh":
			bound, want = boundGo, wantSig
			if haveAVX2FMA {
				bound = boundAVX2
			}
			if c.name == "tanh" {
				want = wantTanh
			}
		default:
			want = wantOf(xs, c.ref)
		}
		a := MustActivation(c.name, true)
		run(c.name+"/Activation", want, bound, func(y []float32) { a.Apply(y, len(y)) })
	}

	// The LSTM cell kernels, where sigmoid and tanh are fused.
	testFusedGates(t, xs, wantSig, wantTanh)
}

// noVector says why a vector kernel could not run here.
func noVector(feature string) string {
	if !asmBuilt {
		return "this is the pure-Go build (-tags purego or not amd64): only the generic kernels exist"
	}
	return "this CPU lacks " + feature
}

// gateKernel is one implementation of the LSTM cell update (z: four blocks
// of up pre-activations i, f, c, o; c in place; h out).
type gateKernel struct {
	name  string
	have  bool
	need  string
	bound float64
	run   func(z, c, h []float32, up int)
}

func gateKernels() []gateKernel {
	u1 := make([]float32, 1)
	return []gateKernel{
		{"lstmGatesGo", true, "", boundGo, lstmGatesGo},
		{"lstmGates/avx2", haveAVX2FMA, "AVX2 and FMA", boundAVX2, func(z, c, h []float32, up int) { lstmGates(&z[0], &c[0], &h[0], up) }},
		{"lstmGatesZ/avx512", haveAVX512, "AVX-512F", boundAVX512, func(z, c, h []float32, up int) { lstmGatesZ(&z[0], &c[0], &h[0], up) }},
		// up = 112 runs lstmStepR64, lstmStepR32 and lstmStepR16.
		{"lstmStepR64+32+16/avx512", haveAVX512, "AVX-512F", boundAVX512, func(z, c, h []float32, up int) { lstmStep(0, nil, u1, u1, z, c, h, up) }},
		{"lstmSeqR64+32+16/avx512", haveAVX512, "AVX-512F", boundAVX512, seqGates},
	}
}

// seqGates is the cell update of the whole-sequence kernels (lstmSeqR64,
// 32 and 16, one step each) over up = 112 units in blocks of 64, 32 and 16
// (each kernel wants its own units' four gate blocks side by side).
func seqGates(z, c, h []float32, up int) {
	for ub := 0; ub < up; {
		w := stepBlock(up - ub)
		zb := make([]float32, 4*w)
		for q := 0; q < 4; q++ {
			copy(zb[q*w:][:w], z[q*up+ub:][:w])
		}
		u, gs := make([]float32, w*4*w), make([]float32, 4*w)
		switch w {
		case 64:
			lstmSeqR64(1, &zb[0], 0, &u[0], &c[ub], &h[ub], 4*w, &gs[0])
		case 32:
			lstmSeqR32(1, &zb[0], 0, &u[0], &c[ub], &h[ub], 4*w, &gs[0])
		default:
			lstmSeqR16(1, &zb[0], 0, &u[0], &c[ub], &h[ub], 4*w, &gs[0])
		}
		ub += w
	}
}

// testFusedGates isolates each activation inside the fused cell kernels by
// setting the other gates to values where they are exactly 0 or 1
// (sigmoid(-Inf) = 0, sigmoid(+Inf) = tanh(+Inf) = 1), and sweeps it:
//
//	i: c' = sigmoid(x)*tanh(+Inf) + sigmoid(-Inf)*0   (read in c)
//	f: c' = sigmoid(x)*1 + sigmoid(-Inf)*tanh(0)      (c)
//	g: c' = sigmoid(+Inf)*tanh(x) + sigmoid(-Inf)*0   (c)
//	o: h = sigmoid(x)*tanh(sigmoid(+Inf)*Inf)         (h)
//	c: h = sigmoid(+Inf)*tanh(sigmoid(+Inf)*x + 0)    (h)
func testFusedGates(t *testing.T, xs []float32, wantSig, wantTanh []float64) {
	const up = 112
	inf := float32(math.Inf(1))
	modes := []struct {
		gate       string
		want       []float64
		zi, zf, zc float32 // the swept one is ignored
		zo, c0     float32
		readH      bool
	}{
		{"i", wantSig, 0, -inf, inf, 0, 0, false},
		{"f", wantSig, -inf, 0, 0, 0, 1, false},
		{"g", wantTanh, inf, -inf, 0, 0, 0, false},
		{"o", wantSig, -inf, inf, 0, 0, inf, true},
		{"c", wantTanh, -inf, inf, 0, inf, 0, true},
	}
	got := make([]float32, len(xs))
	z := make([]float32, 4*up)
	c := make([]float32, up)
	h := make([]float32, up)
	for _, k := range gateKernels() {
		if !k.have {
			t.Logf("%s: not run: %s", k.name, noVector(k.need))
			continue
		}
		for _, m := range modes {
			for b := 0; b < len(xs); b += up {
				blk := xs[b:min(b+up, len(xs))]
				for j := 0; j < up; j++ {
					x := float32(0)
					if j < len(blk) {
						x = blk[j]
					}
					z[j], z[up+j], z[2*up+j], z[3*up+j], c[j] = m.zi, m.zf, m.zc, m.zo, m.c0
					switch m.gate {
					case "i":
						z[j] = x
					case "f":
						z[up+j] = x
					case "g":
						z[2*up+j] = x
					case "o":
						z[3*up+j] = x
					case "c":
						c[j] = x
					}
				}
				k.run(z, c, h, up)
				out := c
				if m.readH {
					out = h
				}
				copy(got[b:], out[:len(blk)])
			}
			fn := "sigmoid"
			if m.gate == "g" || m.gate == "c" {
				fn = "tanh"
			}
			checkSweep(t, fmt.Sprintf("%s/%s (gate %s)", fn, k.name, m.gate), xs, got, m.want, k.bound)
		}
	}
}

// TestSoftmaxSweep checks softmax and log_softmax element by element on
// over a million values in rows of 1 to 40, spread wide enough that many
// outputs are tiny (or below FLT_MIN), against float64.
func TestSoftmaxSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 4))
	var xs []float32
	var rows []int
	for len(xs) < 1_000_000 {
		n := 1 + len(rows)%40
		spread := []float64{1, 30, 100, 1e4}[len(rows)%4]
		for range n {
			xs = append(xs, float32(spread*(2*rng.Float64()-1)))
		}
		rows = append(rows, n)
	}
	for _, name := range []string{"softmax", "log_softmax"} {
		want := make([]float64, len(xs))
		got := append([]float32(nil), xs...)
		a := MustActivation(name, true)
		off := 0
		for _, n := range rows {
			row := xs[off : off+n]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, float64(v))
			}
			// s = 1 + s1, s1 the sum without the first maximum: log(s)
			// is log1p(s1), which stays accurate when s1 is tiny.
			s1, skipped := 0.0, false
			for _, v := range row {
				if float64(v) == m && !skipped {
					skipped = true
					continue
				}
				s1 += math.Exp(float64(v) - m)
			}
			for i, v := range row {
				if name == "softmax" {
					want[off+i] = math.Exp(float64(v)-m) / (1 + s1)
				} else {
					want[off+i] = (float64(v) - m) - math.Log1p(s1)
				}
			}
			a.Apply(got[off:off+n], n)
			off += n
		}
		checkSweep(t, name+"/Activation", xs, got, want, boundSoftmx)
	}
	// Masked (-Inf) entries give 0; a NaN poisons its row, as in Keras.
	x := []float32{float32(math.Inf(-1)), 0, 0, float32(math.NaN()), 1, 2}
	MustActivation("softmax", true).Apply(x, 3)
	if x[0] != 0 || x[1] != 0.5 || x[2] != 0.5 {
		t.Errorf("softmax(-Inf, 0, 0) = %v, want 0, 0.5, 0.5", x[:3])
	}
	for _, v := range x[3:] {
		if v == v {
			t.Errorf("softmax(NaN, 1, 2) = %v, want NaN", x[3:])
		}
	}
}

// pieceCases are the piecewise-linear (and piecewise-quadratic)
// activations with Keras's float32 formula, op by op; float32()
// conversions stop Go from fusing a multiply and an add. keras3 selects
// hard_sigmoid's definition. NaN: the where()-based ones give what Keras's
// where() gives; the max/min-based ones propagate it.
var pieceCases = []struct {
	name   string
	keras3 bool
	keras  func(x float32) float32
}{
	{"relu", true, func(x float32) float32 { return max(x, 0) }},
	{"relu6", true, func(x float32) float32 { return min(max(x, 0), 6) }},
	{"leaky_relu", true, func(x float32) float32 { // tf.nn.leaky_relu(x, 0.2)
		if x > 0 || x != x {
			return x
		}
		return float32(0.2) * x
	}},
	// Keras 2 / TF.js: clip(0.2*x + 0.5, 0, 1).
	{"hard_sigmoid", false, func(x float32) float32 { return min(max(float32(float32(0.2)*x)+0.5, 0), 1) }},
	// Keras 3: relu6(x + 3) / 6.
	{"hard_sigmoid", true, func(x float32) float32 { return min(max(float32(x+3), 0), 6) / 6 }},
	{"hard_silu", true, func(x float32) float32 { return x * float32(min(max(float32(x+3), 0), 6)/6) }},
	{"hard_swish", true, func(x float32) float32 { return x * float32(min(max(float32(x+3), 0), 6)/6) }},
	{"hard_tanh", true, func(x float32) float32 { return min(max(x, -1), 1) }},
	{"sparse_plus", true, func(x float32) float32 { // where(x<=-1, 0, where(x<1, (x+1)^2/4, x))
		switch {
		case x <= -1:
			return 0
		case x < 1:
			y := float32(x + 1)
			return float32(y*y) * 0.25
		}
		return x
	}},
	{"soft_shrink", true, func(x float32) float32 {
		switch {
		case x > 0.5:
			return x - 0.5
		case x < -0.5:
			return x + 0.5
		}
		return 0
	}},
	{"hard_shrink", true, func(x float32) float32 {
		if abs32(x) > 0.5 {
			return x
		}
		return 0
	}},
	{"linear", true, func(x float32) float32 { return x }},
}

// TestPiecewiseActivationsExact requires the piecewise activations to
// equal Keras's float32 formula exactly (relative error means nothing at
// their zero crossings), and the ReLU fused into the Conv1D kernel too.
func TestPiecewiseActivationsExact(t *testing.T) {
	xs := sweepPoints()
	same := func(a, b float32) bool { return a == b || (a != a && b != b) }
	for _, c := range pieceCases {
		got := append([]float32(nil), xs...)
		MustActivation(c.name, c.keras3).Apply(got, len(got))
		bad := 0
		for i, x := range xs {
			if want := c.keras(x); !same(got[i], want) {
				if bad++; bad <= 5 {
					t.Errorf("%s (keras3=%v): f(%g) = %g, want %g", c.name, c.keras3, x, got[i], want)
				}
			}
		}
		t.Logf("%-28s equal to Keras's formula on all %d points", fmt.Sprintf("%s (keras3=%v)", c.name, c.keras3), len(xs))
	}

	// Conv1D's fused bias+ReLU, as bias 0 + x*1 over 8 columns.
	relu := func(x float32) float32 { return max(x, 0) }
	const n = 8
	b := make([]float32, n)
	for i := range b {
		b[i] = 1
	}
	bias := make([]float32, n)
	c := make([]float32, len(xs)*n)
	impls := []struct {
		name string
		have bool
		run  func()
	}{
		{"smallGemmBiasGo", true, func() { smallGemmBiasGo(len(xs), n, 1, xs, 1, b, c, n, bias, true) }},
		{"biasGemmSmall/avx2", haveAVX2FMA, func() { biasGemmSmall(len(xs), n, 1, &xs[0], 1, &b[0], &c[0], n, &bias[0], true) }},
	}
	for _, im := range impls {
		if !im.have {
			t.Logf("relu/%s: not run: %s", im.name, noVector("AVX2 and FMA"))
			continue
		}
		clear(c)
		im.run()
		bad := 0
		for i, x := range xs {
			for j := 0; j < n; j++ {
				if !same(c[i*n+j], relu(x)) {
					if bad++; bad <= 5 {
						t.Errorf("relu/%s: f(%g) = %g, want %g", im.name, x, c[i*n+j], relu(x))
					}
				}
			}
		}
		t.Logf("%-28s equal to max(x, 0) on all %d points", "relu/"+im.name, len(xs))
	}
}
