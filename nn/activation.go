package nn

import (
	"fmt"
	"math"
	"strings"
)

// Activation is an element-wise (or, for softmax, last-axis) function applied
// in place. The zero value is "linear".
type Activation struct {
	Name string
	fn   func(x []float32, last int)
}

// Apply applies the activation to x in place; last is the length of the last
// axis (softmax normalises over it; element-wise functions ignore it).
func (a Activation) Apply(x []float32, last int) {
	if a.fn != nil {
		a.fn(x, last)
	}
}

// IsLinear reports whether the activation leaves its input unchanged.
func (a Activation) IsLinear() bool { return a.fn == nil }

// Keras 3 defaults where an activation takes a parameter.
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
	// leaky_relu as a string activation (Keras 3) uses negative_slope 0.2.
	leakyReLUSlope = 0.2
)

// SupportedActivations lists every activation name NewActivation accepts,
// sorted.
func SupportedActivations() []string {
	return []string{
		"celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid",
		"hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear",
		"log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid",
		"silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus",
		"squareplus", "swish", "tanh", "tanh_shrink",
	}
}

// activationFunc maps a Keras config name to its implementation (nil for
// linear); ok is false for an unknown name.
func activationFunc(name string, keras3 bool) (fn func(x []float32, last int), ok bool) {
	switch name {
	case "", "linear":
		return nil, true
	case "relu":
		return func(x []float32, _ int) { reluSlice(x) }, true
	case "relu6":
		return func(x []float32, _ int) { clipSlice(x, 0, 6) }, true
	case "sigmoid":
		return func(x []float32, _ int) { Sigmoid(x) }, true
	case "tanh":
		return func(x []float32, _ int) { Tanh(x) }, true
	case "hard_sigmoid":
		if keras3 {
			return hardSigmoid3, true
		}
		return hardSigmoid2, true
	case "softmax":
		return softmax, true
	case "log_softmax":
		return logSoftmax, true
	case "softplus":
		return func(x []float32, _ int) { mapSlice64(x, softplus64) }, true
	case "softsign":
		return softsign, true
	case "elu":
		return func(x []float32, _ int) { mapSlice64(x, func(v float64) float64 { return elu64(v, 1) }) }, true
	case "selu":
		return func(x []float32, _ int) {
			mapSlice64(x, func(v float64) float64 { return seluScale * elu64(v, seluAlpha) })
		}, true
	case "gelu":
		return func(x []float32, _ int) { mapSlice64(x, gelu64) }, true
	case "swish", "silu":
		return swish, true
	case "hard_silu", "hard_swish":
		return hardSwish, true
	case "mish":
		return func(x []float32, _ int) {
			mapSlice64(x, func(v float64) float64 { return v * math.Tanh(softplus64(v)) })
		}, true
	case "exponential":
		return func(x []float32, _ int) { mapSlice64(x, math.Exp) }, true
	case "leaky_relu":
		return func(x []float32, _ int) {
			for i, v := range x {
				x[i] = max(v, 0) + leakyReLUSlope*min(v, 0)
			}
		}, true
	case "celu": // alpha 1: max(x, 0) + expm1(min(x, 0))
		return func(x []float32, _ int) {
			mapSlice64(x, func(v float64) float64 { return math.Max(v, 0) + math.Expm1(math.Min(v, 0)) })
		}, true
	case "hard_tanh":
		return func(x []float32, _ int) { clipSlice(x, -1, 1) }, true
	case "squareplus": // b 4
		return func(x []float32, _ int) {
			mapSlice64(x, func(v float64) float64 { return (v + math.Sqrt(v*v+4)) / 2 })
		}, true
	case "sparse_plus":
		return func(x []float32, _ int) {
			for i, v := range x {
				switch {
				case v <= -1:
					x[i] = 0
				case v < 1:
					x[i] = (v + 1) * (v + 1) / 4
				}
			}
		}, true
	case "soft_shrink": // threshold 0.5
		return func(x []float32, _ int) {
			for i, v := range x {
				switch {
				case v > 0.5:
					x[i] = v - 0.5
				case v < -0.5:
					x[i] = v + 0.5
				default:
					x[i] = 0
				}
			}
		}, true
	case "hard_shrink": // threshold 0.5
		return func(x []float32, _ int) {
			for i, v := range x {
				if v <= 0.5 && v >= -0.5 {
					x[i] = 0
				}
			}
		}, true
	case "tanh_shrink":
		return func(x []float32, _ int) { mapSlice64(x, func(v float64) float64 { return v - math.Tanh(v) }) }, true
	case "log_sigmoid":
		return func(x []float32, _ int) { mapSlice64(x, func(v float64) float64 { return -softplus64(-v) }) }, true
	}
	return nil, false
}

// NewActivation looks up a Keras activation by its config name. keras3
// selects the Keras 3 definition where the two differ (hard_sigmoid:
// Keras 2 and TF.js compute clip(0.2x+0.5, 0, 1), Keras 3 relu6(x+3)/6).
// Unknown names are an error that lists what is supported. The empty name
// and "linear" give the identity; "gelu" is the exact erf form (Keras's
// default approximate=False).
//
// Every function computes in float32 storage with float64 intermediates where
// that matters; sigmoid and tanh use fast float32 kernels (see Sigmoid, Tanh)
// whose error is below 1e-6.
func NewActivation(name string, keras3 bool) (Activation, error) {
	fn, ok := activationFunc(name, keras3)
	if !ok {
		return Activation{}, fmt.Errorf("nn: unknown activation %q (supported: %s)", name, strings.Join(SupportedActivations(), ", "))
	}
	if name == "" {
		name = "linear"
	}
	return Activation{Name: name, fn: fn}, nil
}

// MustActivation is NewActivation that panics on an unknown name; for tests
// and hand-built models.
func MustActivation(name string, keras3 bool) Activation {
	a, err := NewActivation(name, keras3)
	if err != nil {
		panic(err)
	}
	return a
}

// Exp32 is a float32 exp accurate to about 2 ulp (Cephes expf), saturating at
// exp(±88). It is much faster than float64 math.Exp and is what Sigmoid and
// Tanh use.
func Exp32(x float32) float32 {
	const (
		hi    = 88.3
		lo    = -87.3
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	if x > hi {
		x = hi
	} else if x < lo {
		x = lo
	} else if x != x { // NaN
		return x
	}
	// n = round(x / ln 2), computed without calling math.Floor.
	t := x*log2e + 0.5
	n := int32(t)
	if float32(n) > t {
		n--
	}
	z := float32(n)
	x = x - z*c1 - z*c2
	z = x * x
	y := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
	y = y*z + x + 1
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// Sigmoid replaces every x[i] by 1/(1+exp(-x[i])) (the exact logistic
// function Keras and TF.js use; absolute error < 1e-7). Safe for any input,
// including ±Inf; it does not allocate. Recurrent layers call it per step.
func Sigmoid(x []float32) {
	for i, v := range x {
		x[i] = 1 / (1 + Exp32(-v))
	}
}

// Tanh replaces every x[i] by tanh(x[i]) (Cephes tanhf: a polynomial for
// |x| < 0.625, 1-2/(exp(2|x|)+1) beyond; absolute error < 2e-7). It does not
// allocate. Recurrent layers call it per step.
func Tanh(x []float32) {
	for i, v := range x {
		x[i] = tanh32(v)
	}
}

// Sigmoid32 is the scalar form of Sigmoid.
func Sigmoid32(v float32) float32 { return 1 / (1 + Exp32(-v)) }

// Tanh32 is the scalar form of Tanh.
func Tanh32(v float32) float32 { return tanh32(v) }

func tanh32(v float32) float32 {
	a := v
	if a < 0 {
		a = -a
	}
	if a < 0.625 {
		z := v * v
		return ((((-5.70498872745e-3*z+2.06390887954e-2)*z-5.37397155531e-2)*z+1.33314422036e-1)*z-3.33332819422e-1)*z*v + v
	}
	if a != a {
		return v
	}
	e := Exp32(2 * a)
	r := 1 - 2/(e+1)
	if v < 0 {
		return -r
	}
	return r
}

// reluSlice uses the builtin max, which compiles without a branch: on
// inputs of random sign it is ~5x faster than an if.
func reluSlice(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

func clipSlice(x []float32, lo, hi float32) {
	for i, v := range x {
		x[i] = min(max(v, lo), hi)
	}
}

func mapSlice64(x []float32, f func(float64) float64) {
	for i, v := range x {
		x[i] = float32(f(float64(v)))
	}
}

func softplus64(v float64) float64 {
	// max(v,0) + log1p(exp(-|v|)) is exact in float64 and never overflows.
	return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v)))
}

func elu64(v, alpha float64) float64 {
	if v > 0 {
		return v
	}
	return alpha * math.Expm1(v)
}

func gelu64(v float64) float64 {
	return 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
}

func softsign(x []float32, _ int) {
	for i, v := range x {
		a := v
		if a < 0 {
			a = -a
		}
		x[i] = v / (1 + a)
	}
}

func swish(x []float32, _ int) {
	for i, v := range x {
		x[i] = v / (1 + Exp32(-v))
	}
}

func hardSigmoid2(x []float32, _ int) {
	for i, v := range x {
		x[i] = min(max(0.2*v+0.5, 0), 1)
	}
}

// hardSigmoid3 is Keras 3's relu6(x+3)/6.
func hardSigmoid3(x []float32, _ int) {
	for i, v := range x {
		x[i] = min(max(v+3, 0), 6) / 6
	}
}

// hardSwish is Keras 3's hard_silu: x * relu6(x+3)/6.
func hardSwish(x []float32, _ int) {
	for i, v := range x {
		x[i] = v * (min(max(v+3, 0), 6) / 6)
	}
}

// softmax normalises each run of last values: exp(x-max)/sum, with the sum
// accumulated in float64.
func softmax(x []float32, last int) {
	if last <= 0 {
		return
	}
	for off := 0; off+last <= len(x); off += last {
		row := x[off : off+last]
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		var s float64
		for i, v := range row {
			e := math.Exp(float64(v) - float64(m))
			row[i] = float32(e)
			s += e
		}
		inv := 1 / s
		for i, v := range row {
			row[i] = float32(float64(v) * inv)
		}
	}
}

func logSoftmax(x []float32, last int) {
	if last <= 0 {
		return
	}
	for off := 0; off+last <= len(x); off += last {
		row := x[off : off+last]
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - float64(m))
		}
		ls := math.Log(s) + float64(m)
		for i, v := range row {
			row[i] = float32(float64(v) - ls)
		}
	}
}
