package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of the batch-1 and front-end fast paths (lstmstep.go,
// conv_kernels.go): every assembly kernel against its Go twin and float64.

// sameFloat is == that also holds for two NaNs.
func sameFloat(a, b float32) bool { return a == b || a != a && b != b }

func TestSmallGemmBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, m := range []int{1, 3, 58} {
		for _, n := range []int{5, 8, 16, 40, 64, 200} {
			for _, k := range []int{0, 1, 3, 9} {
				for _, relu := range []bool{false, true} {
					lda, ldc := k+2, n+3
					a := randSlice(rng, m*lda, 1)
					b := randSlice(rng, k*n, 1)
					bias := randSlice(rng, n, 1)
					c := randSlice(rng, m*ldc, 1)
					cgo := append([]float32(nil), c...)
					smallGemmBias(m, n, k, a, lda, b, c, ldc, bias, relu)
					smallGemmBiasGo(m, n, k, a, lda, b, cgo, ldc, bias, relu)
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							idx := i*ldc + j
							if j >= n { // the gap between rows is untouched
								if c[idx] != cgo[idx] {
									t.Fatalf("m=%d n=%d k=%d: gap [%d,%d] written", m, n, k, i, j)
								}
								continue
							}
							want := float64(bias[j])
							for kk := 0; kk < k; kk++ {
								want += float64(a[i*lda+kk]) * float64(b[kk*n+j])
							}
							if relu {
								want = math.Max(want, 0)
							}
							for name, got := range map[string]float32{"dispatch": c[idx], "go": cgo[idx]} {
								if d := math.Abs(float64(got) - want); d > 1e-5 {
									t.Fatalf("%s m=%d n=%d k=%d relu=%v: c[%d,%d] = %v, want %v", name, m, n, k, relu, i, j, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
	// ReLU keeps NaN, as reluSlice does.
	nan := float32(math.NaN())
	a := []float32{nan, 1}
	b := make([]float32, 16)
	c := make([]float32, 16)
	smallGemmBias(1, 16, 1, a, 1, b, c, 16, make([]float32, 16), true)
	for j, v := range c {
		if v == v {
			t.Fatalf("relu(NaN) column %d = %v, want NaN", j, v)
		}
	}
}

func TestMaxRows(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, n := range []int{1, 7, 8, 9, 64, 67} {
		a, b := make([]float32, n), make([]float32, n)
		special := []float32{nan, inf, -inf, 0, 1, -1}
		for i := range a {
			a[i] = special[i%len(special)]
			b[i] = special[(i/len(special)+i)%len(special)]
		}
		dst := make([]float32, n)
		maxRows(dst, a, b)
		inPlace := append([]float32(nil), a...)
		maxRows(inPlace, inPlace, b)
		for i := range a {
			want := max(a[i], b[i])
			if !sameFloat(dst[i], want) || !sameFloat(inPlace[i], want) {
				t.Fatalf("n=%d: max(%v, %v) = %v (in place %v), want %v", n, a[i], b[i], dst[i], inPlace[i], want)
			}
		}
	}
}

// TestLSTMStep checks the fused step (lstmStep, on this CPU's kernels) and
// its portable twins against float64, over unit counts that take every
// unit-block kernel.
func TestLSTMStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for _, up := range []int{16, 32, 48, 64, 80, 96, 112, 128} {
		for _, k := range []int{0, 1, 5, up - 3, up} {
			g := 4 * up
			h := randSlice(rng, k+1, 1)
			uk := randSlice(rng, max(k, 1)*g, 0.3)
			up1 := make([]float32, len(uk))
			packPanels(up1, uk, max(k, 1), g, g)
			ur := packRows(uk, max(k, 1), up)
			z0 := randSlice(rng, g, 2)
			c0 := randSlice(rng, up, 2)
			impls := map[string]func(z, c, hn []float32){
				"dispatch": func(z, c, hn []float32) { lstmStep(k, h, up1, ur, z, c, hn, up) },
				"rows-go":  func(z, c, hn []float32) { lstmStepRowsGo(k, h, ur, z, c, hn, up) },
				"split":    func(z, c, hn []float32) { lstmStepSplit(k, h, up1, z, c, hn, up) },
				"go": func(z, c, hn []float32) {
					if k > 0 {
						gemmAccGo(1, g, k, h, k, up1, z, g)
					}
					lstmGatesGo(z, c, hn, up)
				},
			}
			for name, f := range impls {
				z := append([]float32(nil), z0...)
				c := append([]float32(nil), c0...)
				hn := make([]float32, up)
				f(z, c, hn)
				for j := 0; j < up; j++ {
					var pre [4]float64
					for q := range pre {
						pre[q] = float64(z0[q*up+j])
						for kk := 0; kk < k; kk++ {
							pre[q] += float64(h[kk]) * float64(uk[kk*g+q*up+j])
						}
					}
					wc := sig(pre[1])*float64(c0[j]) + sig(pre[0])*math.Tanh(pre[2])
					wh := sig(pre[3]) * math.Tanh(wc)
					if math.Abs(float64(c[j])-wc) > 1e-5 || math.Abs(float64(hn[j])-wh) > 1e-5 {
						t.Fatalf("%s up=%d k=%d unit %d: c, h = %v, %v; want %v, %v", name, up, k, j, c[j], hn[j], wc, wh)
					}
				}
			}
		}
	}
}

// TestRecurrentBatchOne runs the recurrent layers on one sample (the
// step-by-step path, or runSeq at 16, 32 and 64 units) and on rnnChunk+1
// samples (a batched chunk, then a lone sample), including unit counts past
// one 64-unit block.
func TestRecurrentBatchOne(t *testing.T) {
	cases := append([]rnnCase(nil), rnnCases...)
	cases = append(cases,
		rnnCase{name: "u40_seq", units: 40, T: 5, F: 3, seq: true},
		rnnCase{name: "u64_back", units: 64, T: 4, F: 6, back: true},
		rnnCase{name: "u80_seq_back", units: 80, T: 3, F: 2, seq: true, back: true},
		rnnCase{name: "u96", units: 96, T: 3, F: 5},
		rnnCase{name: "u32_seq_back", units: 32, T: 6, F: 3, seq: true, back: true},
		rnnCase{name: "u64_seq", units: 64, T: 3, F: 2, seq: true},
	)
	for _, n := range []int{1, rnnChunk + 1} {
		for _, tc := range cases {
			tc.n = n
			t.Run(fmt.Sprintf("n=%d/%s", n, tc.name), func(t *testing.T) { testRNN(t, tc) })
		}
	}
}

// TestBidirectionalBatchOne: one sample (and a batch ending in a lone
// sample) through Bidirectional LSTMs of one, several and a ragged number of
// 16-unit blocks, every merge mode.
func TestBidirectionalBatchOne(t *testing.T) {
	for _, units := range []int{3, 32, 40, 72} {
		for _, seq := range []bool{false, true} {
			for _, mode := range []string{"concat", "sum", "ave", "mul"} {
				for _, n := range []int{1, rnnChunk + 1} {
					name := fmt.Sprintf("u%d/seq=%v/%s/n=%d", units, seq, mode, n)
					t.Run(name, func(t *testing.T) {
						rng := rand.New(rand.NewPCG(25, uint64(len(name))))
						const T, F = 5, 4
						base := rnnCase{name: "x", units: units, T: T, F: F, seq: seq}
						fc, fw := base.cell(rng)
						bcase := base
						bcase.back = true
						bc, bw := bcase.cell(rng)
						bi := &Bidirectional{LayerName: "bidirectional", ForwardLayer: base.layer(fc), BackwardLayer: bcase.layer(bc), MergeMode: mode}
						x := randSlice(rng, n*T*F, 1.5)
						got := runLayer(t, bi, Shape{T, F}, append(fw, bw...), x, n)
						want := make([][][]float64, n)
						for b := range want {
							want[b] = refBidir(fc, bc, mode, sampleRows(x, b, T, F))
						}
						checkClose(t, got, want)
					})
				}
			}
		}
	}
}

// TestLSTMSeqKernel runs the whole-sequence kernels (lstmSeqR16, 32, 64)
// against their Go twin, lstmStepRowsGo step after step, with z rows read
// forwards and backwards and outputs to rows forwards and backwards.
func TestLSTMSeqKernel(t *testing.T) {
	if !haveAVX512 {
		t.Log("lstmSeqR: not run: this CPU (or build) lacks AVX-512F; its Go twin lstmStepRowsGo is tested in TestLSTMStep")
		return
	}
	rng := rand.New(rand.NewPCG(26, 27))
	for _, up := range []int{16, 32, 64} {
		for _, T := range []int{1, 2, 5} {
			for _, back := range []bool{false, true} {
				for _, neg := range []bool{false, true} {
					g := 4 * up
					uk := randSlice(rng, up*g, 0.3)
					ur, us := packRows(uk, up, up), packSeqRows(uk, up, up)
					z := randSlice(rng, T*g, 2)
					// The Go twin, processing order.
					c := make([]float32, up)
					h := make([]float32, up)
					want := make([][]float32, T)
					for i := 0; i < T; i++ {
						tt := i
						if back {
							tt = T - 1 - i
						}
						zi := append([]float32(nil), z[tt*g:][:g]...)
						hn := make([]float32, up)
						k := up
						if i == 0 {
							k = 0
						}
						lstmStepRowsGo(k, h, ur, zi, c, hn, up)
						h, want[i] = hn, hn
					}
					// The kernel, outputs in rows of ldo with a gap.
					ldo := up + 3
					out := make([]float32, T*ldo)
					ck := make([]float32, up)
					gs := make([]float32, g)
					zz := append([]float32(nil), z...)
					zp, zs := &zz[0], 4*g
					if back {
						zp, zs = &zz[(T-1)*g], -4*g
					}
					hp, hs := &out[0], 4*ldo
					if neg { // step i's output in row T-1-i
						hp, hs = &out[(T-1)*ldo], -4*ldo
					}
					switch up {
					case 64:
						lstmSeqR64(T, zp, zs, &us[0], &ck[0], hp, hs, &gs[0])
					case 32:
						lstmSeqR32(T, zp, zs, &us[0], &ck[0], hp, hs, &gs[0])
					default:
						lstmSeqR16(T, zp, zs, &us[0], &ck[0], hp, hs, &gs[0])
					}
					for i := 0; i < T; i++ {
						row := i
						if neg {
							row = T - 1 - i
						}
						for j := 0; j < up; j++ {
							got := out[row*ldo+j]
							if d := math.Abs(float64(got - want[i][j])); d > 1e-5 {
								t.Fatalf("up=%d T=%d back=%v neg=%v: step %d unit %d = %v, want %v", up, T, back, neg, i, j, got, want[i][j])
							}
						}
						for j := up; j < ldo && row*ldo+j < len(out); j++ {
							if out[row*ldo+j] != 0 {
								t.Fatalf("up=%d T=%d: gap after row %d written", up, T, row)
							}
						}
					}
					for j := range ck {
						if math.Abs(float64(ck[j]-c[j])) > 1e-5 {
							t.Fatalf("up=%d T=%d back=%v: c[%d] = %v, want %v", up, T, back, j, ck[j], c[j])
						}
					}
				}
			}
		}
	}
}
