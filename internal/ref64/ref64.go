// Package ref64 holds float64 reference implementations, written from
// Keras's own source, of the layers TensorFlow.js lacks
// (MultiHeadAttention, Attention, AdditiveAttention, EinsumDense), for the
// tests of package nn and the parity goldens. It shares no code with nn.
//
// Each attention layer exists twice, built differently, and the tests
// require the two to agree to 1e-12:
//
//   - MHA, Attention: explicit loops over batch, head, query step, key step
//     and feature, following the prose of multi_head_attention.py and
//     attention.py;
//   - MHAEinsum, AttentionEinsum: the einsum equations Keras itself builds
//     (_build_proj_equation, _build_attention_equation, EinsumDense's
//     equation) run by a generic einsum interpreter (Einsum), with softmax
//     over the last axis.
//
// Tensors are row-major float64 with the batch axis first.
package ref64

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is a row-major float64 array.
type Tensor struct {
	Shape []int
	Data  []float64
}

// New returns a zero tensor of the given shape.
func New(shape ...int) Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return Tensor{Shape: append([]int(nil), shape...), Data: make([]float64, n)}
}

// At is the flat offset of an index.
func (t Tensor) At(idx ...int) int {
	o := 0
	for i, v := range idx {
		o = o*t.Shape[i] + v
	}
	return o
}

// Einsum evaluates an explicit two-operand einsum "ab,bc->ac" (letters
// only; every letter absent from the output is summed) by visiting every
// combination of the letters' indices.
func Einsum(eq string, a, b Tensor) Tensor {
	lhs, out, _ := strings.Cut(strings.ReplaceAll(eq, " ", ""), "->")
	as, bs, _ := strings.Cut(lhs, ",")
	size := map[byte]int{}
	for i := range as {
		size[as[i]] = a.Shape[i]
	}
	for i := range bs {
		if d, ok := size[bs[i]]; ok && d != b.Shape[i] {
			panic(fmt.Sprintf("einsum %s: axis %c is %d and %d", eq, bs[i], d, b.Shape[i]))
		}
		size[bs[i]] = b.Shape[i]
	}
	var letters []byte
	for _, s := range []string{out, as, bs} {
		for i := range s {
			if !strings.ContainsRune(string(letters), rune(s[i])) {
				letters = append(letters, s[i])
			}
		}
	}
	oshape := make([]int, len(out))
	for i := range out {
		oshape[i] = size[out[i]]
	}
	res := New(oshape...)
	idx := make(map[byte]int, len(letters))
	offset := func(spec string, t Tensor) int {
		o := 0
		for i := range spec {
			o = o*t.Shape[i] + idx[spec[i]]
		}
		return o
	}
	var rec func(k int)
	rec = func(k int) {
		if k == len(letters) {
			res.Data[offset(out, res)] += a.Data[offset(as, a)] * b.Data[offset(bs, b)]
			return
		}
		for i := 0; i < size[letters[k]]; i++ {
			idx[letters[k]] = i
			rec(k + 1)
		}
	}
	rec(0)
	return res
}

// softmaxLast normalises t over its last axis in place; with causal, the
// last two axes are (query, key) steps and key j > query i is masked out
// (Keras adds -1e9 there, which exp turns into exactly 0).
func softmaxLast(t Tensor, causal bool) {
	n := t.Shape[len(t.Shape)-1]
	rows := t.Shape[len(t.Shape)-2]
	for off := 0; off < len(t.Data); off += n {
		row := t.Data[off : off+n]
		i := (off / n) % rows
		m := math.Inf(-1)
		for j, v := range row {
			if !causal || j <= i {
				m = math.Max(m, v)
			}
		}
		s := 0.0
		for j, v := range row {
			if causal && j > i {
				row[j] = 0
				continue
			}
			row[j] = math.Exp(v - m)
			s += row[j]
		}
		for j := range row {
			row[j] /= s
		}
	}
}

// MHAWeights are MultiHeadAttention's arrays in Keras's shapes; biases are
// nil without use_bias.
type MHAWeights struct {
	Wq, Bq, Wk, Bk, Wv, Bv, Wo, Bo Tensor // Wq (F, H, Kd), Bq (H, Kd), ..., Wo (H, Vd, O), Bo (O)
}

// MHA is MultiHeadAttention on query (B, Tq, Fq), value (B, Tv, Fv) and key
// (B, Tv, Fk) (pass value again for self-attention), by explicit loops.
func MHA(q, v, k Tensor, w MHAWeights, causal bool) Tensor {
	B, Tq, Fq := q.Shape[0], q.Shape[1], q.Shape[2]
	Tv, Fv, Fk := v.Shape[1], v.Shape[2], k.Shape[2]
	H, Kd, Vd, O := w.Wq.Shape[1], w.Wq.Shape[2], w.Wv.Shape[2], w.Wo.Shape[2]
	proj := func(x Tensor, T, F int, W, Bias Tensor, D int) []float64 { // (B, T, H, D)
		out := make([]float64, B*T*H*D)
		for b := 0; b < B; b++ {
			for t := 0; t < T; t++ {
				for h := 0; h < H; h++ {
					for d := 0; d < D; d++ {
						s := 0.0
						if Bias.Data != nil {
							s = Bias.Data[h*D+d]
						}
						for f := 0; f < F; f++ {
							s += x.Data[(b*T+t)*F+f] * W.Data[(f*H+h)*D+d]
						}
						out[((b*T+t)*H+h)*D+d] = s
					}
				}
			}
		}
		return out
	}
	Q := proj(q, Tq, Fq, w.Wq, w.Bq, Kd)
	K := proj(k, Tv, Fk, w.Wk, w.Bk, Kd)
	V := proj(v, Tv, Fv, w.Wv, w.Bv, Vd)
	scale := 1 / math.Sqrt(float64(Kd))
	out := New(B, Tq, O)
	ctx := make([]float64, H*Vd)
	p := make([]float64, Tv)
	for b := 0; b < B; b++ {
		for i := 0; i < Tq; i++ {
			for h := 0; h < H; h++ {
				m := math.Inf(-1)
				for j := 0; j < Tv; j++ {
					if causal && j > i {
						p[j] = math.Inf(-1)
						continue
					}
					s := 0.0
					for d := 0; d < Kd; d++ {
						s += Q[((b*Tq+i)*H+h)*Kd+d] * scale * K[((b*Tv+j)*H+h)*Kd+d]
					}
					p[j] = s
					m = math.Max(m, s)
				}
				sum := expSum(p, m)
				for d := 0; d < Vd; d++ {
					c := 0.0
					for j := 0; j < Tv; j++ {
						c += p[j] / sum * V[((b*Tv+j)*H+h)*Vd+d]
					}
					ctx[h*Vd+d] = c
				}
			}
			for o := 0; o < O; o++ {
				s := 0.0
				if w.Bo.Data != nil {
					s = w.Bo.Data[o]
				}
				for hd := 0; hd < H*Vd; hd++ {
					s += ctx[hd] * w.Wo.Data[hd*O+o]
				}
				out.Data[(b*Tq+i)*O+o] = s
			}
		}
	}
	return out
}

// expSum replaces each p[j] by exp(p[j] - m) (-Inf gives 0) and returns
// their sum: the unnormalised softmax of a row whose maximum is m.
func expSum(p []float64, m float64) float64 {
	sum := 0.0
	for j := range p {
		p[j] = math.Exp(p[j] - m)
		sum += p[j]
	}
	return sum
}

// addBias adds a bias broadcast over the leading axes of t.
func addBias(t, bias Tensor) {
	if bias.Data == nil {
		return
	}
	n := len(bias.Data)
	for i := range t.Data {
		t.Data[i] += bias.Data[i%n]
	}
}

// MHAEinsum is MultiHeadAttention through the equations Keras builds for
// rank-3 inputs with attention_axes (1,): projections "abc,cde->abde",
// scores "aecd,abcd->acbe", combination "acbe,aecd->abcd", output
// "abcd,cde->abe".
func MHAEinsum(q, v, k Tensor, w MHAWeights, causal bool) Tensor {
	Q := Einsum("abc,cde->abde", q, w.Wq)
	addBias(Q, w.Bq)
	K := Einsum("abc,cde->abde", k, w.Wk)
	addBias(K, w.Bk)
	V := Einsum("abc,cde->abde", v, w.Wv)
	addBias(V, w.Bv)
	s := 1 / math.Sqrt(float64(w.Wq.Shape[2]))
	for i := range Q.Data {
		Q.Data[i] *= s
	}
	scores := Einsum("aecd,abcd->acbe", K, Q)
	softmaxLast(scores, causal)
	ctx := Einsum("acbe,aecd->abcd", scores, V)
	out := Einsum("abcd,cde->abe", ctx, w.Wo)
	addBias(out, w.Bo)
	return out
}

// AttentionMode selects the score of Attention.
type AttentionMode int

const (
	Dot      AttentionMode = iota // q·k, times scale
	Concat                        // concat_score_weight * Σ tanh(scale*(q+k))
	Additive                      // Σ scale_d * tanh(q_d + k_d)
)

// AttentionWeights: Scale is nil without use_scale (a scalar for Dot and
// Concat, a vector for Additive); ConcatWeight is the concat score weight.
type AttentionWeights struct {
	Scale        []float64
	ConcatWeight float64
}

// Attention is keras.layers.Attention / AdditiveAttention on query (B, Tq,
// d), value (B, Tv, dv) and key (B, Tv, d), by explicit loops.
func Attention(q, v, k Tensor, mode AttentionMode, w AttentionWeights, causal bool) Tensor {
	B, Tq, d := q.Shape[0], q.Shape[1], q.Shape[2]
	Tv, dv := v.Shape[1], v.Shape[2]
	out := New(B, Tq, dv)
	p := make([]float64, Tv)
	for b := 0; b < B; b++ {
		for i := 0; i < Tq; i++ {
			m := math.Inf(-1)
			for j := 0; j < Tv; j++ {
				s := 0.0
				for c := 0; c < d; c++ {
					qv, kv := q.Data[(b*Tq+i)*d+c], k.Data[(b*Tv+j)*d+c]
					switch mode {
					case Dot:
						s += qv * kv
					case Concat:
						x := qv + kv
						if w.Scale != nil {
							x *= w.Scale[0]
						}
						s += math.Tanh(x)
					case Additive:
						sc := 1.0
						if w.Scale != nil {
							sc = w.Scale[c]
						}
						s += sc * math.Tanh(qv+kv)
					}
				}
				if mode == Dot && w.Scale != nil {
					s *= w.Scale[0]
				}
				if mode == Concat {
					s *= w.ConcatWeight
				}
				if causal && j > i {
					s = math.Inf(-1)
				}
				p[j] = s
				m = math.Max(m, s)
			}
			sum := expSum(p, m)
			for c := 0; c < dv; c++ {
				o := 0.0
				for j := 0; j < Tv; j++ {
					o += p[j] / sum * v.Data[(b*Tv+j)*dv+c]
				}
				out.Data[(b*Tq+i)*dv+c] = o
			}
		}
	}
	return out
}

// AttentionEinsum is Attention through whole-tensor operations as Keras
// writes them: matmul(q, kᵀ) for dot, tanh of the broadcast sum
// (B, Tq, 1, d) + (B, 1, Tv, d) summed over the last axis for concat and
// additive, softmax, then matmul(weights, v).
func AttentionEinsum(q, v, k Tensor, mode AttentionMode, w AttentionWeights, causal bool) Tensor {
	B, Tq, d := q.Shape[0], q.Shape[1], q.Shape[2]
	Tv := v.Shape[1]
	var scores Tensor
	if mode == Dot {
		scores = Einsum("abd,acd->abc", q, k)
		if w.Scale != nil {
			for i := range scores.Data {
				scores.Data[i] *= w.Scale[0]
			}
		}
	} else {
		sum := New(B, Tq, Tv, d)
		for b := 0; b < B; b++ {
			for i := 0; i < Tq; i++ {
				for j := 0; j < Tv; j++ {
					for c := 0; c < d; c++ {
						sum.Data[sum.At(b, i, j, c)] = q.Data[q.At(b, i, c)] + k.Data[k.At(b, j, c)]
					}
				}
			}
		}
		scale := New(d)
		for c := range scale.Data {
			scale.Data[c] = 1
			if w.Scale != nil && mode == Additive {
				scale.Data[c] = w.Scale[c]
			}
		}
		for i, x := range sum.Data {
			if mode == Concat && w.Scale != nil {
				x *= w.Scale[0]
			}
			sum.Data[i] = math.Tanh(x)
		}
		scores = Einsum("abcd,d->abc", sum, scale)
		if mode == Concat {
			for i := range scores.Data {
				scores.Data[i] *= w.ConcatWeight
			}
		}
	}
	softmaxLast(scores, causal)
	return Einsum("abc,acd->abd", scores, v)
}

// Activation applies a Keras activation by name, in float64 (the ones the
// goldens use).
func Activation(name string, x []float64) {
	for i, v := range x {
		switch name {
		case "", "linear":
		case "relu":
			x[i] = math.Max(v, 0)
		case "tanh":
			x[i] = math.Tanh(v)
		case "sigmoid":
			x[i] = 1 / (1 + math.Exp(-v))
		default:
			panic("ref64: activation " + name)
		}
	}
}

// EinsumDense is keras.layers.EinsumDense: einsum(equation, x, kernel) +
// bias (broadcast from bias_axes's first output axis on, as Keras shapes
// it), then the activation. A leading "..." in equation is expanded to the
// letters given in ellipsis.
func EinsumDense(eq, ellipsis string, x, kernel, bias Tensor, activation string) Tensor {
	eq = strings.ReplaceAll(eq, "...", ellipsis)
	y := Einsum(eq, x, kernel)
	if bias.Data != nil {
		broadcastAdd(y, bias)
	}
	Activation(activation, y.Data)
	return y
}

// broadcastAdd adds b to t with numpy's broadcasting (b's axes aligned with
// t's trailing ones; an axis of length 1 repeats).
func broadcastAdd(t, b Tensor) {
	off := len(t.Shape) - len(b.Shape)
	idx := make([]int, len(t.Shape))
	for i := range t.Data {
		r := i
		for a := len(t.Shape) - 1; a >= 0; a-- {
			idx[a] = r % t.Shape[a]
			r /= t.Shape[a]
		}
		o := 0
		for a, d := range b.Shape {
			j := idx[off+a]
			if d == 1 {
				j = 0
			}
			o = o*d + j
		}
		t.Data[i] += b.Data[o]
	}
}
