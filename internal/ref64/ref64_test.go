package ref64

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randT(r *rand.Rand, shape ...int) Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = r.Float64()*2 - 1
	}
	return t
}

func maxDiff(t *testing.T, a, b Tensor) float64 {
	t.Helper()
	if len(a.Data) != len(b.Data) {
		t.Fatalf("sizes %d and %d", len(a.Data), len(b.Data))
	}
	m := 0.0
	for i := range a.Data {
		m = math.Max(m, math.Abs(a.Data[i]-b.Data[i]))
	}
	return m
}

// TestTwoFormulations: the explicit loops and Keras's einsum equations
// agree to 1e-12 for every option.
func TestTwoFormulations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name                 string
		tq, tv, fq, fv, fk   int
		h, kd, vd, o         int
		bias, causal, crossK bool
	}{
		{"self", 5, 5, 4, 4, 4, 2, 3, 3, 4, true, false, false},
		{"causal", 6, 6, 3, 3, 3, 3, 2, 2, 3, true, true, false},
		{"cross_key_nobias", 4, 7, 3, 5, 2, 2, 3, 4, 6, false, false, true},
		{"cross_causal", 7, 4, 3, 5, 5, 1, 4, 2, 2, true, true, false},
	} {
		t.Run("mha_"+tc.name, func(t *testing.T) {
			q, v := randT(r, 2, tc.tq, tc.fq), randT(r, 2, tc.tv, tc.fv)
			k := v
			if tc.crossK {
				k = randT(r, 2, tc.tv, tc.fk)
			}
			w := MHAWeights{Wq: randT(r, tc.fq, tc.h, tc.kd), Wk: randT(r, k.Shape[2], tc.h, tc.kd),
				Wv: randT(r, tc.fv, tc.h, tc.vd), Wo: randT(r, tc.h, tc.vd, tc.o)}
			if tc.bias {
				w.Bq, w.Bk, w.Bv, w.Bo = randT(r, tc.h, tc.kd), randT(r, tc.h, tc.kd), randT(r, tc.h, tc.vd), randT(r, tc.o)
			}
			a, b := MHA(q, v, k, w, tc.causal), MHAEinsum(q, v, k, w, tc.causal)
			if d := maxDiff(t, a, b); d > 1e-12 {
				t.Errorf("loops and einsum differ by %g", d)
			}
		})
	}
	for _, mode := range []AttentionMode{Dot, Concat, Additive} {
		for _, scale := range []bool{false, true} {
			for _, causal := range []bool{false, true} {
				q, v, k := randT(r, 2, 5, 3), randT(r, 2, 6, 4), randT(r, 2, 6, 3)
				w := AttentionWeights{ConcatWeight: 0.7}
				if scale {
					w.Scale = []float64{1.3}
					if mode == Additive {
						w.Scale = []float64{0.5, -1.2, 0.9}
					}
				}
				a, b := Attention(q, v, k, mode, w, causal), AttentionEinsum(q, v, k, mode, w, causal)
				if d := maxDiff(t, a, b); d > 1e-12 {
					t.Errorf("attention mode %d scale %v causal %v: loops and einsum differ by %g", mode, scale, causal, d)
				}
			}
		}
	}
}

// TestEinsumDense: EinsumDense "abc,cd->abd" with bias "d" is a Dense
// written out by hand.
func TestEinsumDense(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x, k, b := randT(r, 2, 3, 4), randT(r, 4, 5), randT(r, 5)
	y := EinsumDense("abc,cd->abd", "", x, k, b, "relu")
	for i := 0; i < 2*3; i++ {
		for o := 0; o < 5; o++ {
			s := b.Data[o]
			for c := 0; c < 4; c++ {
				s += x.Data[i*4+c] * k.Data[c*5+o]
			}
			if got := y.Data[i*5+o]; math.Abs(got-math.Max(s, 0)) > 1e-14 {
				t.Fatalf("(%d, %d): %g, want %g", i, o, got, math.Max(s, 0))
			}
		}
	}
}
