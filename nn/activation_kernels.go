package nn

import "math"

// The float32 sigmoid and tanh kernels, scalar (here) and vector
// (activation_amd64.h, written by asm_gen.go, used by rnn_amd64.s and
// gen_amd64.s). Both paths compute the same formulas, accurate to a few ulp
// relative to float64 wherever the result is a normal float32 (see
// TestActivationSweep for the bounds each path reaches):
//
//	t = exp(-|x|)          sigmoid(x) = t/(1+t) for x < 0, 1 - t/(1+t) otherwise
//	m = expm1(2x)          tanh(x) = m/(m+2), with x clamped to [-10, 10]
//
// so that sigmoid's negative tail, where it is close to e^x and far below
// any absolute error bound, is as accurate relatively as the rest
// (TensorFlow computes it from exp there too), and tanh near 0, where it
// is close to x, too. (The AVX-512 sigmoid computes 1/(1+exp(-x)) with x
// clamped to [-88, 88], which is as accurate there: see activation_amd64.h.)
//
// exp(u) for u <= 0 is Cephes expf: u is clamped at -88, reduced by n =
// round(u*log2e), r = u - n*ln2 in [-ln2/2, ln2/2], exp(r) = 1 + r + r^2 P(r)
// (degree 7) and a scale by 2^n built in the exponent bits, which is zero
// for n = -127 (u < -87.68, where exp(u) is below FLT_MIN anyway: the
// kernels flush to zero there, as TensorFlow with flush-to-zero does).
// expm1(u) is the same reduction with expm1(r) = r + r^2 P(r), then
// 2^n*expm1(r) + (2^n - 1), which keeps its relative accuracy near 0.

// Constants of the kernels (the vector ones hold the same values).
const (
	expLo   = -88.0
	log2e32 = 1.44269504088896341
	// Cephes's split of ln 2: expC1 has few enough bits that n*expC1 is
	// exact for |n| <= 128 (the vector kernels use FMA with ln2 rounded to
	// float32 and its remainder instead).
	expC1 = 0.693359375
	expC2 = -2.12194440e-4
	expP5 = 1.9875691500e-4
	expP4 = 1.3981999507e-3
	expP3 = 8.3334519073e-3
	expP2 = 4.1665795894e-2
	expP1 = 1.6666665459e-1
	expP0 = 5.0000001201e-1
	// tanh(x) rounds to ±1 beyond ±9.01: its argument is clamped here.
	tanhClamp = 10
)

// expReduce splits u (finite, within float32 exp's range) into n =
// round(u*log2e) and exp(u - n*ln2), which is in [0.7, 1.42].
func expReduce(u float32) (int32, float32) {
	n, r, p := expSplit(u)
	return n, float32(float32(p*r+1)*r) + 1
}

// expSplit reduces u (finite, within float32 exp's range) to n =
// round(u*log2e), r = u - n*ln2 and p = P(r), so that exp(u) = 2^n *
// (1 + r + r^2 p).
func expSplit(u float32) (n int32, r, p float32) {
	// round to nearest, ties to even: adding and subtracting 1.5*2^23
	// rounds any |v| < 2^22 (float32 conversions stop fusion or folding).
	const magic = 12582912
	fn := float32(float32(u*log2e32)+magic) - magic
	r = float32(u-fn*expC1) - fn*expC2
	p = float32(float32(float32(float32(float32(expP5*r+expP4)*r+expP3)*r+expP2)*r+expP1)*r) + expP0
	return int32(fn), r, p
}

// expm1T is expm1(u) for |u| <= 2*tanhClamp (see above).
func expm1T(u float32) float32 {
	n, r, p := expSplit(u)
	m := float32(r*r)*p + r
	if n == 0 {
		return m
	}
	s := math.Float32frombits(uint32(n+127) << 23)
	return s*m + (s - 1)
}

// expNeg32 is exp(u) for u <= 0 (or NaN), 0 below -87.68 (see above).
func expNeg32(u float32) float32 {
	if !(u >= expLo) {
		if u != u {
			return u
		}
		u = expLo
	}
	n, y := expReduce(u)
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// Exp32 is exp(x) in float32, within 2 ulp of float64's over the whole
// range where the result is a normal number; it overflows to +Inf above
// 88.72 and underflows gradually to 0 below -87.34. It is much faster than
// float64 math.Exp.
func Exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.8:
		return float32(math.Inf(1))
	case x < -104:
		return 0
	}
	n, y := expReduce(x)
	// 2^n in two factors, each a normal number, so that the result rounds
	// once however far it underflows.
	n1 := n / 2
	n2 := n - n1
	return y * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}

// sigmoid32 is the logistic function 1/(1+exp(-x)) (see above).
func sigmoid32(x float32) float32 {
	t := expNeg32(-abs32(x))
	q := t / (1 + t)
	if x < 0 {
		return q
	}
	return 1 - q
}

// tanh32 is tanh(x) (see above).
func tanh32(x float32) float32 {
	if x != x {
		return x
	}
	m := expm1T(2 * min(max(x, -tanhClamp), tanhClamp))
	return m / (m + 2)
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// Sigmoid replaces every x[i] by 1/(1+exp(-x[i])), accurate to a few ulp
// relative to float64 wherever the result is a normal number (including
// the negative tail, down to FLT_MIN), 0 below that; ±Inf give 0 and 1,
// NaN stays NaN. It does not allocate; on amd64 it runs the AVX2 kernel.
func Sigmoid(x []float32) { sigmoidSlice(x) }

// Tanh replaces every x[i] by tanh(x[i]), accurate to a few ulp relative
// to float64 (tiny inputs included); ±Inf give ±1, NaN stays NaN. It does
// not allocate; on amd64 it runs the AVX2 kernel.
func Tanh(x []float32) { tanhSlice(x) }

// Sigmoid32 is the scalar form of Sigmoid.
func Sigmoid32(v float32) float32 { return sigmoid32(v) }

// Tanh32 is the scalar form of Tanh.
func Tanh32(v float32) float32 { return tanh32(v) }

// tanhSlice applies tanh in place.
func tanhSlice(x []float32) { vecSlice(x, tanhVec, tanh32) }

// sigmoidSlice applies sigmoid in place.
func sigmoidSlice(x []float32) { vecSlice(x, sigmoidVec, sigmoid32) }

// vecSlice applies an activation in place: its AVX2 kernel vec on whole
// vectors of 8 where the CPU has it, its scalar form f on the rest.
func vecSlice(x []float32, vec func(*float32, int), f func(float32) float32) {
	i := 0
	if haveAVX2FMA && len(x) >= 8 {
		i = len(x) &^ 7
		vec(&x[0], i)
	}
	for ; i < len(x); i++ {
		x[i] = f(x[i])
	}
}
