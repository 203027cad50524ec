package nn

import (
	"math"
	"strings"
	"testing"
)

// actSweep returns n+1 evenly spaced points in [lo, hi].
func actSweep(lo, hi float64, n int) []float32 {
	x := make([]float32, n+1)
	for i := range x {
		x[i] = float32(lo + (hi-lo)*float64(i)/float64(n))
	}
	return x
}

func TestActivationAccuracy(t *testing.T) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	cases := []struct {
		name   string
		keras3 bool
		ref    func(float64) float64
		lo, hi float64
	}{
		{"linear", false, func(v float64) float64 { return v }, -10, 10},
		{"relu", false, func(v float64) float64 { return math.Max(v, 0) }, -10, 10},
		{"relu6", false, func(v float64) float64 { return math.Min(math.Max(v, 0), 6) }, -10, 10},
		{"sigmoid", false, sig, -100, 100},
		{"sigmoid", false, sig, -8, 8},
		{"tanh", false, math.Tanh, -30, 30},
		{"tanh", false, math.Tanh, -1, 1},
		{"hard_sigmoid", false, func(v float64) float64 { return math.Min(math.Max(0.2*v+0.5, 0), 1) }, -5, 5},
		{"hard_sigmoid", true, func(v float64) float64 { return math.Min(math.Max(v+3, 0), 6) / 6 }, -5, 5},
		{"softplus", false, func(v float64) float64 { return math.Log1p(math.Exp(v)) }, -30, 30},
		{"softsign", false, func(v float64) float64 { return v / (1 + math.Abs(v)) }, -30, 30},
		{"elu", false, func(v float64) float64 { return map[bool]float64{true: v, false: math.Exp(v) - 1}[v > 0] }, -10, 10},
		{"selu", false, func(v float64) float64 {
			if v > 0 {
				return 1.0507009873554805 * v
			}
			return 1.0507009873554805 * 1.6732632423543772 * (math.Exp(v) - 1)
		}, -10, 10},
		{"gelu", false, func(v float64) float64 { return v * 0.5 * math.Erfc(-v/math.Sqrt2) }, -10, 10},
		{"swish", false, func(v float64) float64 { return v * sig(v) }, -30, 30},
		{"silu", false, func(v float64) float64 { return v * sig(v) }, -30, 30},
		{"exponential", false, math.Exp, -10, 10},
		{"mish", false, func(v float64) float64 { return v * math.Tanh(math.Log1p(math.Exp(v))) }, -10, 10},
		{"hard_swish", false, func(v float64) float64 { return v * math.Min(math.Max(v+3, 0), 6) / 6 }, -5, 5},
		{"leaky_relu", false, func(v float64) float64 { return map[bool]float64{true: v, false: 0.2 * v}[v > 0] }, -5, 5},
		{"celu", false, func(v float64) float64 { return math.Max(v, 0) + math.Min(0, math.Exp(v)-1) }, -10, 10},
		{"hard_tanh", false, func(v float64) float64 { return math.Min(math.Max(v, -1), 1) }, -3, 3},
		{"squareplus", false, func(v float64) float64 { return (v + math.Sqrt(v*v+4)) / 2 }, -30, 30},
		{"sparse_plus", false, func(v float64) float64 {
			switch {
			case v <= -1:
				return 0
			case v >= 1:
				return v
			}
			return (v + 1) * (v + 1) / 4
		}, -3, 3},
		{"soft_shrink", false, func(v float64) float64 { return math.Copysign(math.Max(math.Abs(v)-0.5, 0), v) }, -3, 3},
		{"hard_shrink", false, func(v float64) float64 { return map[bool]float64{true: v, false: 0}[math.Abs(v) > 0.5] }, -3, 3},
		{"tanh_shrink", false, func(v float64) float64 { return v - math.Tanh(v) }, -5, 5},
		{"log_sigmoid", false, func(v float64) float64 { return math.Log(sig(v)) }, -30, 30},
	}
	for _, c := range cases {
		a, err := NewActivation(c.name, c.keras3)
		if err != nil {
			t.Fatal(err)
		}
		x := actSweep(c.lo, c.hi, 20001)
		y := append([]float32(nil), x...)
		a.Apply(y, len(y))
		worst := 0.0
		for i, v := range x {
			want := c.ref(float64(v))
			err := math.Abs(float64(y[i])-want) / (1 + math.Abs(want))
			worst = math.Max(worst, err)
		}
		// float32 rounding of the result alone is ~6e-8 relative.
		if worst > 1e-6 {
			t.Errorf("%s (keras3=%v) on [%g, %g]: worst scaled error %.3g > 1e-6", c.name, c.keras3, c.lo, c.hi, worst)
		}
	}
}

func TestSigmoidTanhEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	x := []float32{-inf, inf, 0, -1e30, 1e30}
	s := append([]float32(nil), x...)
	Sigmoid(s)
	for i, want := range []float32{0, 1, 0.5, 0, 1} {
		if math.Abs(float64(s[i]-want)) > 1e-30 && !(want == 0 && s[i] < 1e-37) {
			t.Errorf("Sigmoid(%g) = %g, want %g", x[i], s[i], want)
		}
	}
	th := append([]float32(nil), x...)
	Tanh(th)
	for i, want := range []float32{-1, 1, 0, -1, 1} {
		if th[i] != want {
			t.Errorf("Tanh(%g) = %g, want %g", x[i], th[i], want)
		}
	}
	nan := []float32{float32(math.NaN())}
	Tanh(nan)
	if nan[0] == nan[0] {
		t.Errorf("Tanh(NaN) = %g, want NaN", nan[0])
	}
	if Exp32(0) != 1 || Exp32(1) != float32(math.E) {
		t.Errorf("Exp32(0)=%g Exp32(1)=%g", Exp32(0), Exp32(1))
	}
}

func TestExp32Accuracy(t *testing.T) {
	worst := 0.0
	for _, v := range actSweep(-87, 88, 200001) {
		want := math.Exp(float64(v))
		got := float64(Exp32(v))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Errorf("Exp32 worst relative error %.3g > 3e-7", worst)
	}
}

func TestSoftmax(t *testing.T) {
	a := MustActivation("softmax", false)
	x := []float32{1, 2, 3, 1000, 1000, 1000, -1e30, 0, 0}
	a.Apply(x, 3)
	e := math.Exp(1.0)
	s := 1 + e + e*e
	want := []float64{1 / s, e / s, e * e / s, 1. / 3, 1. / 3, 1. / 3, 0, 0.5, 0.5}
	for i := range want {
		if math.Abs(float64(x[i])-want[i]) > 1e-7 {
			t.Errorf("softmax[%d] = %g, want %g", i, x[i], want[i])
		}
	}
	ls := MustActivation("log_softmax", false)
	y := []float32{1, 2, 3}
	ls.Apply(y, 3)
	for i, v := range []float64{1, 2, 3} {
		if w := v - 1 - math.Log(s); math.Abs(float64(y[i])-(w)) > 1e-6 {
			t.Errorf("log_softmax[%d] = %g, want %g", i, y[i], w)
		}
	}
}

func TestNewActivationNames(t *testing.T) {
	for _, name := range SupportedActivations() {
		a, err := NewActivation(name, false)
		if err != nil || a.Name != name {
			t.Errorf("NewActivation(%q) = %q, %v", name, a.Name, err)
		}
	}
	a, err := NewActivation("", true)
	if err != nil || a.Name != "linear" || !a.IsLinear() {
		t.Errorf(`NewActivation("") = %+v, %v`, a, err)
	}
	var zero Activation
	x := []float32{-1, 2}
	zero.Apply(x, 2)
	if x[0] != -1 || x[1] != 2 {
		t.Errorf("zero Activation changed its input: %v", x)
	}
	_, err = NewActivation("swishy", false)
	if err == nil || !strings.Contains(err.Error(), `"swishy"`) || !strings.Contains(err.Error(), "sigmoid, silu") {
		t.Errorf("unknown activation: error %v", err)
	}
}

func TestActivationAllocs(t *testing.T) {
	x := actSweep(-5, 5, 255)
	for _, name := range SupportedActivations() {
		a := MustActivation(name, true)
		if n := testing.AllocsPerRun(10, func() { a.Apply(x, 16) }); n != 0 {
			t.Errorf("%s: %v allocs per Apply", name, n)
		}
	}
}

func BenchmarkSigmoid(b *testing.B) {
	x := actSweep(-8, 8, 1023)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		copy(y, x)
		Sigmoid(y)
	}
}

func BenchmarkTanh(b *testing.B) {
	x := actSweep(-8, 8, 1023)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		copy(y, x)
		Tanh(y)
	}
}
