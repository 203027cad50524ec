package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGemmBiasSkip checks that leaving out the columns of A that are zero
// in a tile (gemmBiasSkip, the gemm{r}x32zbi kernels) gives the bits of
// gemmBias, with ±0 in A, +0 in the bias, tiles whose first row has no
// zero, and whole tiles of zeros; and the kernels against their Go twin
// gemmBiasIdxGo.
func TestGemmBiasSkip(t *testing.T) {
	if !haveAVX512 {
		t.Log("gemm{r}x32zbi: not run: this CPU (or build) lacks AVX-512F; gemmBiasSkip is gemmBias there, and gemmBiasIdxGo is tested in TestGemmBiasIdxGo")
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, k := range []int{1, 3, 64, 128} {
		for _, n := range []int{32, 64, 256} {
			for _, m := range []int{1, 5, 8, 13, 29, 64} {
				a := make([]float32, m*k)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				// Columns zero in every row, columns zero in some rows,
				// -0 here and there, and a first row without zero in the
				// second tile.
				for j := 0; j < k; j++ {
					switch rng.IntN(4) {
					case 0:
						for i := 0; i < m; i++ {
							a[i*k+j] = 0
						}
					case 1:
						for i := 0; i < m; i++ {
							if rng.IntN(2) == 0 {
								a[i*k+j] = float32(math.Copysign(0, -1))
							}
						}
					}
				}
				if m > 8 {
					for j := 0; j < k; j++ {
						a[8*k+j] = 0.5 + rng.Float32()
					}
				}
				_, bp := randPanels(rng, k, n)
				bias := make([]float32, n)
				for i := range bias {
					if i%3 != 0 {
						bias[i] = rng.Float32() - 0.5
					}
				}
				want := make([]float32, m*n)
				got := make([]float32, m*n)
				gemmBias(m, k, a, k, bp, want, n, bias)
				gemmBiasSkip(m, k, a, k, bp, got, n, bias)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("m=%d k=%d n=%d: element %d: skipping zero columns gives %v (%#x), gemmBias %v (%#x)",
							m, k, n, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
				if !haveAVX512 {
					continue
				}
				// Each kernel against the twin, on the tile of the first
				// r rows, with the columns nonZeroCols lists.
				for r := 1; r <= min(8, m); r++ {
					idx := make([]int32, k)
					cnt := 0
					for j := 0; j < k; j++ {
						if rng.IntN(3) > 0 {
							idx[cnt] = int32(j)
							cnt++
						}
					}
					idx = idx[:cnt]
					ref := make([]float32, r*n)
					gemmBiasIdxGo(r, n, idx, a, k, bp, k*panelWidth, ref, n, bias)
					out := make([]float32, r*n)
					ip := &idx0[0]
					if cnt > 0 {
						ip = &idx[0]
					}
					for j := 0; j < n; j += 2 * panelWidth {
						gemmTileIdx(r, cnt, &a[0], k, &bp[j/panelWidth*k*panelWidth], k*panelWidth, &out[j], n, &bias[j], ip)
					}
					for i := range ref {
						if d := math.Abs(float64(out[i] - ref[i])); d > 1e-6*(1+math.Abs(float64(ref[i]))) {
							t.Fatalf("gemm%dx32zbi k=%d n=%d: element %d is %v, the Go twin %v", r, k, n, i, out[i], ref[i])
						}
					}
				}
			}
		}
	}
}

var idx0 = [1]int32{}

// TestGemmBiasIdxGo checks the Go twin of the gemm{r}x32zbi kernels against
// float64 sums (every build).
func TestGemmBiasIdxGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	const r, k, n = 5, 70, 64
	a := make([]float32, r*k)
	for i := range a {
		a[i] = rng.Float32()*2 - 1
	}
	w, bp := randPanels(rng, k, n)
	bias := make([]float32, n)
	for i := range bias {
		bias[i] = rng.Float32() - 0.5
	}
	var idx []int32
	for j := 0; j < k; j += 1 + j%3 {
		idx = append(idx, int32(j))
	}
	got := make([]float32, r*n)
	gemmBiasIdxGo(r, n, idx, a, k, bp, k*panelWidth, got, n, bias)
	for i := 0; i < r; i++ {
		for j := 0; j < n; j++ {
			s := float64(bias[j])
			for _, c := range idx {
				s += float64(a[i*k+int(c)]) * float64(w[int(c)*n+j])
			}
			if d := math.Abs(float64(got[i*n+j]) - s); d > 1e-5*(1+math.Abs(s)) {
				t.Fatalf("row %d col %d: %v, float64 %v", i, j, got[i*n+j], s)
			}
		}
	}
}

// TestSkipZeroWhenSafe checks that a recurrent layer leaves out zero
// columns only when its kernel has no Inf or NaN and its bias no -0.
func TestSkipZeroWhenSafe(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, c := range []struct {
		name string
		w, b []float32
		want bool
	}{
		{"finite", []float32{1, 0, -2}, []float32{0, 1}, true},
		{"Inf in the kernel", []float32{1, inf, -2}, []float32{0, 1}, false},
		{"NaN in the kernel", []float32{nan, 0, -2}, []float32{0, 1}, false},
		{"-0 in the bias", []float32{1, 0, -2}, []float32{negZero, 1}, false},
	} {
		r := rnnCore{w: c.w, bi: c.b}
		r.setSkipZero()
		if r.skipZero != c.want {
			t.Errorf("%s: skipZero %v, want %v", c.name, r.skipZero, c.want)
		}
	}
}

// randPanels is a random k×n matrix in [-1, 1) and its packed panels.
func randPanels(rng *rand.Rand, k, n int) (w, bp []float32) {
	w = make([]float32, k*n)
	for i := range w {
		w[i] = rng.Float32()*2 - 1
	}
	bp = make([]float32, k*n)
	packPanels(bp, w, k, n, n)
	return w, bp
}

// TestNonZeroMask8 checks the AVX-512 scan of 8-row tiles (nonZeroMask8,
// through nonZeroCols) against its Go twin nonZeroCols8Go.
func TestNonZeroMask8(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	negZero := float32(math.Copysign(0, -1))
	for _, k := range []int{16, 48, 64, 128, 1024} {
		for _, lda := range []int{k, k + 3} {
			a := make([]float32, 8*lda)
			for j := 0; j < k; j++ {
				p := rng.IntN(4) // how often a row is not zero in this column
				for i := 0; i < 8; i++ {
					switch {
					case rng.IntN(8) < p:
						a[i*lda+j] = rng.Float32() - 0.5
					case rng.IntN(2) == 0:
						a[i*lda+j] = negZero
					}
				}
			}
			a[0] = 0 // so that the first row has a zero
			want := make([]int32, k)
			got := make([]int32, k)
			nw := nonZeroCols8Go(want, a, lda, k)
			ng := nonZeroCols(got, a, lda, 8, k)
			if ng != nw || !slices.Equal(got[:ng], want[:nw]) {
				t.Fatalf("k=%d lda=%d: columns %v, the Go twin %v", k, lda, got[:ng], want[:nw])
			}
		}
	}
}
