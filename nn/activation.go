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
		return func(x []float32, _ int) { mapSlice64(x, swish64) }, true
	case "hard_silu", "hard_swish":
		return hardSwish, true
	case "mish":
		return func(x []float32, _ int) {
			mapSlice64(x, func(v float64) float64 {
				if math.IsInf(v, -1) { // the limit, not -Inf*0
					return 0
				}
				return v * math.Tanh(softplus64(v))
			})
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
		return func(x []float32, _ int) { mapSlice64(x, squareplus64) }, true
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
			for i, v := range x { // Keras: where(|x| > 0.5, x, 0), so NaN gives 0
				if !(abs32(v) > 0.5) {
					x[i] = 0
				}
			}
		}, true
	case "tanh_shrink":
		return func(x []float32, _ int) { mapSlice64(x, tanhShrink64) }, true
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
// Every smooth function is accurate to a few ulp relative to float64
// wherever its result is a normal float32: sigmoid and tanh with fast
// float32 kernels (see Sigmoid, Tanh), the others with float64
// intermediates. The piecewise-linear ones (relu variants, both
// hard_sigmoid definitions, hard_tanh, the shrinks) compute Keras's own
// float32 formula, operation by operation, so they equal Keras exactly.
// TestActivationSweep measures all of them.
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

// gelu64 is x*Phi(x) with Phi(x) = erfc(-x/sqrt2)/2, which unlike
// (1+erf(x/sqrt2))/2 keeps its relative accuracy in the negative tail; its
// limit 0 at -Inf.
func gelu64(v float64) float64 {
	if math.IsInf(v, -1) {
		return 0
	}
	return 0.5 * v * math.Erfc(-v/math.Sqrt2)
}

// swish64 is x*sigmoid(x); its limit 0 at -Inf (the product would be NaN).
func swish64(v float64) float64 {
	if math.IsInf(v, -1) {
		return 0
	}
	return v / (1 + math.Exp(-v))
}

// squareplus64 is (x + sqrt(x^2+4))/2, written as 2/(sqrt(x^2+4) - x) for
// x < 0 where the sum would cancel.
func squareplus64(v float64) float64 {
	if v < 0 {
		if math.IsInf(v, -1) {
			return 0
		}
		return 2 / (math.Sqrt(v*v+4) - v)
	}
	return (v + math.Sqrt(v*v+4)) / 2
}

// tanhShrink64 is x - tanh(x), from its series where the difference would
// cancel.
func tanhShrink64(v float64) float64 {
	if a := math.Abs(v); a < 0.05 {
		z := v * v
		return v * z * (1.0/3 + z*(-2.0/15+z*(17.0/315+z*(-62.0/2835+z*1382.0/155925))))
	}
	return v - math.Tanh(v)
}

// softsign is x/(1+|x|), in float64 (one rounding), and its limits ±1 at
// ±Inf (where the quotient would be NaN).
func softsign(x []float32, _ int) {
	mapSlice64(x, func(v float64) float64 {
		if math.IsInf(v, 0) {
			return math.Copysign(1, v)
		}
		return v / (1 + math.Abs(v))
	})
}

// hardSigmoid2 is Keras 2's (and TF.js's) clip(0.2x+0.5, 0, 1) as TF runs
// it: a float32 multiply, then an add (the conversion stops Go fusing them
// into one FMA), then the clip.
func hardSigmoid2(x []float32, _ int) {
	for i, v := range x {
		x[i] = min(max(float32(0.2*v)+0.5, 0), 1)
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
		// log(sum exp(v-m)) = log1p(the sum without one maximum), which
		// keeps its accuracy when the other terms are tiny; v-m is exact.
		var s float64
		skipped := false
		for _, v := range row {
			if v == m && !skipped {
				skipped = true
				continue
			}
			s += math.Exp(float64(v) - float64(m))
		}
		ls := math.Log1p(s)
		for i, v := range row {
			row[i] = float32((float64(v) - float64(m)) - ls)
		}
	}
}
