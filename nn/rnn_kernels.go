package nn

import (
	"math"
	"math/bits"
)

// Kernels shared by the recurrent layers: an accumulating matrix product
// over packed panels and the fused LSTM cell update (its sigmoid and tanh
// are those of activation_kernels.go).
// On amd64 with AVX2 and FMA they run in assembly (rnn_amd64.s), with
// AVX-512 variants of the matrix and LSTM kernels where the CPU has it;
// elsewhere (or with the purego build tag) the pure Go versions below
// compute the same values to within float32 rounding.

// actKind tells the recurrent layers whether an activation has a fast
// in-house implementation.
type actKind uint8

const (
	actOther actKind = iota // use Activation.Apply
	actTanh
	actSigmoid
)

func kindOf(a Activation) actKind {
	switch a.Name {
	case "tanh":
		return actTanh
	case "sigmoid":
		return actSigmoid
	}
	return actOther
}

// applyAct applies a (of kind k) to x in place; x is one sample's vector of
// units, so softmax-like activations normalise over it.
func applyAct(a Activation, k actKind, x []float32) {
	switch k {
	case actTanh:
		tanhSlice(x)
	case actSigmoid:
		sigmoidSlice(x)
	default:
		a.Apply(x, len(x))
	}
}

// panelWidth is the column width of a packed matrix panel (two AVX
// registers of float32).
const panelWidth = 16

// roundUpPanel rounds n up to a multiple of panelWidth.
func roundUpPanel(n int) int { return (n + panelWidth - 1) &^ (panelWidth - 1) }

// packPanels stores the (k, n) row-major matrix src (leading dimension ld,
// n a multiple of panelWidth) as n/panelWidth column panels, each k rows
// of panelWidth contiguous values: element (r, c) goes to
// dst[(c/16*k + r)*16 + c%16]. dst has k*n values.
func packPanels(dst, src []float32, k, n, ld int) {
	for p := 0; p < n/panelWidth; p++ {
		for r := 0; r < k; r++ {
			copy(dst[(p*k+r)*panelWidth:][:panelWidth], src[r*ld+p*panelWidth:][:panelWidth])
		}
	}
}

// gemmAcc computes C += A·B for row-major A (m×k, leading dimension lda),
// B (k×n) packed by packPanels (bp starts at the first panel used) and
// row-major C (m×n, ldc). n must be a multiple of panelWidth.
func gemmAcc(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Bounds are checked once here: the kernels below trust them.
	_ = a[(m-1)*lda+k-1]
	_ = bp[k*n-1]
	_ = c[(m-1)*ldc+n-1]
	if n%panelWidth != 0 {
		panic("nn: gemmAcc: n is not a multiple of the panel width")
	}
	switch {
	case haveAVX512:
		gemmAccAsm(m, n, k, a, lda, bp, c, ldc, true)
	case haveAVX2FMA:
		gemmAccAsm(m, n, k, a, lda, bp, c, ldc, false)
	default:
		gemmAccGo(m, n, k, a, lda, bp, c, ldc)
	}
}

// gemmBias computes C = bias + A·B (bias broadcast to every row of C; A,
// B and C as for gemmAcc, C's row length n = len(bias)). With AVX-512 and
// n a multiple of two panels, C is written by 8-row tiles that start from
// the bias, then one tile of the remaining m%8 rows (gemmTailZB);
// otherwise rows are set to the bias and gemmAcc adds A·B.
func gemmBias(m, k int, a []float32, lda int, bp []float32, c []float32, ldc int, bias []float32) {
	n := len(bias)
	if !haveAVX512 || k == 0 || n%(2*panelWidth) != 0 {
		for i := 0; i < m; i++ {
			copy(c[i*ldc:i*ldc+n], bias)
		}
		gemmAcc(m, n, k, a, lda, bp, c, ldc)
		return
	}
	_ = a[(m-1)*lda+k-1]
	_ = bp[k*n-1]
	_ = c[(m-1)*ldc+n-1]
	gemmBiasAsm(m, n, k, a, lda, bp, c, ldc, bias)
}

// gemmBiasAsm is gemmBias's AVX-512 path (m > 0, k > 0, n a multiple of
// 2*panelWidth, bounds checked).
func gemmBiasAsm(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int, bias []float32) {
	const rowBlock = 128
	ps := k * panelWidth
	for i0 := 0; i0 < m; i0 += rowBlock {
		i1 := min(i0+rowBlock, m)
		for j := 0; j < n; j += 2 * panelWidth {
			b := &bp[j/panelWidth*ps]
			i := i0
			for ; i+8 <= i1; i += 8 {
				gemm8x32zb(k, &a[i*lda], lda, b, ps, &c[i*ldc+j], ldc, &bias[j])
			}
			if i < i1 {
				gemmTailZB(i1-i, k, &a[i*lda], lda, b, ps, &c[i*ldc+j], ldc, &bias[j])
			}
		}
	}
}

// gemmBiasSkip is gemmBias where a column of A that is zero in every row
// of an 8-row tile (ReLU outputs: a filter that did not fire anywhere in
// those steps) is left out of the tile's sums. Its products are all ±0,
// and adding ±0 to a sum leaves it unchanged unless the sum is -0, which
// it never is when no bias is -0 (a sum starts from the bias, and from +0
// only ±0 terms give +0, while rounding never gives -0 for terms of
// opposite signs). B must hold no Inf or NaN (0 × Inf is NaN, not ±0):
// the caller checks both once (rnnCore.skipZero). So C gets the same bits
// as gemmBias gives, with fewer multiply-adds. A tile takes the skipping
// kernels only when its first row has a zero, so other inputs pay one
// pass over that row.
func gemmBiasSkip(m, k int, a []float32, lda int, bp []float32, c []float32, ldc int, bias []float32) {
	n := len(bias)
	if !haveAVX512 || k == 0 || k > maxSkipK || n%(2*panelWidth) != 0 {
		gemmBias(m, k, a, lda, bp, c, ldc, bias)
		return
	}
	_ = a[(m-1)*lda+k-1]
	_ = bp[k*n-1]
	_ = c[(m-1)*ldc+n-1]
	var idx [maxSkipK]int32
	ps := k * panelWidth
	for i := 0; i < m; i += skipRows {
		r := min(skipRows, m-i)
		at := a[i*lda:]
		cnt := nonZeroCols(idx[:k], at, lda, r, k)
		if cnt == k {
			for j := 0; j < n; j += 2 * panelWidth {
				b := &bp[j/panelWidth*ps]
				if r == 8 {
					gemm8x32zb(k, &at[0], lda, b, ps, &c[i*ldc+j], ldc, &bias[j])
				} else {
					gemmTailZB(r, k, &at[0], lda, b, ps, &c[i*ldc+j], ldc, &bias[j])
				}
			}
			continue
		}
		for j := 0; j < n; j += 2 * panelWidth {
			gemmTileIdx(r, cnt, &at[0], lda, &bp[j/panelWidth*ps], ps, &c[i*ldc+j], ldc, &bias[j], &idx[0])
		}
	}
}

// skipRows is the rows of gemmBiasSkip's tiles.
const skipRows = 8

// maxSkipK is the most columns of A gemmBiasSkip skips in (its index list
// is on the stack).
const maxSkipK = 1024

// nonZeroCols writes to idx the columns j < k, in order, where some of the
// r rows of a (leading dimension lda) is not ±0, and returns how many. It
// returns k without writing idx when the first row has no zero.
func nonZeroCols(idx []int32, a []float32, lda, r, k int) int {
	row0 := a[:k]
	zero := false
	for _, v := range row0 {
		if v == 0 {
			zero = true
			break
		}
	}
	if !zero {
		return k
	}
	if r == 8 {
		_ = a[7*lda+k-1]
		if haveAVX512 && k%16 == 0 {
			var masks [maxSkipK / 16]uint16
			nonZeroMask8(k/16, &a[0], lda, &masks[0])
			cnt := 0
			for g, m := range masks[:k/16] {
				for ; m != 0; m &= m - 1 {
					idx[cnt] = int32(16*g + bits.TrailingZeros16(m))
					cnt++
				}
			}
			return cnt
		}
		return nonZeroCols8Go(idx, a, lda, k)
	}
	cnt := 0
	for j := 0; j < k; j++ {
		var bits uint32
		for i := 0; i < r; i++ {
			bits |= math.Float32bits(a[i*lda+j])
		}
		if bits&0x7fffffff != 0 {
			idx[cnt] = int32(j)
			cnt++
		}
	}
	return cnt
}

// nonZeroCols8Go is nonZeroCols for a tile of 8 rows in Go, the twin of
// nonZeroMask8.
func nonZeroCols8Go(idx []int32, a []float32, lda, k int) int {
	cnt := 0
	{
		// The rows' bounds checked once.
		a0 := a[:k]
		a1, a2, a3 := a[lda:][:k], a[2*lda:][:k], a[3*lda:][:k]
		a4, a5, a6, a7 := a[4*lda:][:k], a[5*lda:][:k], a[6*lda:][:k], a[7*lda:][:k]
		idx = idx[:k]
		for j := range a0 {
			bits := math.Float32bits(a0[j]) | math.Float32bits(a1[j]) | math.Float32bits(a2[j]) | math.Float32bits(a3[j]) |
				math.Float32bits(a4[j]) | math.Float32bits(a5[j]) | math.Float32bits(a6[j]) | math.Float32bits(a7[j])
			if bits&0x7fffffff != 0 {
				idx[cnt] = int32(j)
				cnt++
			}
		}
	}
	return cnt
}

// gemmTileIdx calls gemm{r}x32zbi.
func gemmTileIdx(r, n int, a *float32, lda int, b *float32, ps int, c *float32, ldc int, bias *float32, idx *int32) {
	switch r {
	case 1:
		gemm1x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	case 2:
		gemm2x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	case 3:
		gemm3x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	case 4:
		gemm4x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	case 5:
		gemm5x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	case 6:
		gemm6x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	case 7:
		gemm7x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	case 8:
		gemm8x32zbi(n, a, lda, b, ps, c, ldc, bias, idx)
	}
}

// gemmBiasIdxGo is the gemm{r}x32zbi kernels in Go, their portable twin:
// C[0:r, 0:n] = bias + the sum over the columns k of A listed in idx, in
// that order, of A[:, k] times row k of B (packed panels).
func gemmBiasIdxGo(r, n int, idx []int32, a []float32, lda int, bp []float32, ps int, c []float32, ldc int, bias []float32) {
	for i := 0; i < r; i++ {
		for j := 0; j < n; j++ {
			acc := bias[j]
			for _, k := range idx {
				bv := bp[(j/panelWidth)*ps+int(k)*panelWidth+j%panelWidth]
				// The product is exact in float64; the sum is rounded
				// twice (to float64, then float32), which can differ from
				// the kernels' one rounding in the last bit.
				acc = float32(math.FMA(float64(a[i*lda+int(k)]), float64(bv), float64(acc)))
			}
			c[i*ldc+j] = acc
		}
	}
}

// gemmTailZB is gemm8x32zb for r < 8 rows.
func gemmTailZB(r, k int, a *float32, lda int, b *float32, ps int, c *float32, ldc int, bias *float32) {
	switch r {
	case 1:
		gemm1x32zb(k, a, lda, b, ps, c, ldc, bias)
	case 2:
		gemm2x32zb(k, a, lda, b, ps, c, ldc, bias)
	case 3:
		gemm3x32zb(k, a, lda, b, ps, c, ldc, bias)
	case 4:
		gemm4x32zb(k, a, lda, b, ps, c, ldc, bias)
	case 5:
		gemm5x32zb(k, a, lda, b, ps, c, ldc, bias)
	case 6:
		gemm6x32zb(k, a, lda, b, ps, c, ldc, bias)
	case 7:
		gemm7x32zb(k, a, lda, b, ps, c, ldc, bias)
	}
}

// gemmAccAsm is gemmAcc with the assembly kernels (bounds already
// checked): 8-row by 2-panel AVX-512 tiles when wide is set, then 4-row by
// 1-panel AVX2 tiles, then one row at a time.
func gemmAccAsm(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int, wide bool) {
	// Blocks of rows, then panels of B (which stay in L1 while the block's
	// rows go through them), then micro-tiles.
	const rowBlock = 128
	ps := k * panelWidth
	i := 0
	if wide {
		m8 := m &^ 7
		for i0 := 0; i0 < m8; i0 += rowBlock {
			i1 := min(i0+rowBlock, m8)
			j := 0
			for ; j+2*panelWidth <= n; j += 2 * panelWidth {
				b := &bp[j/panelWidth*ps]
				for i := i0; i < i1; i += 8 {
					gemm8x32z(k, &a[i*lda], lda, b, ps, &c[i*ldc+j], ldc)
				}
			}
			if j < n { // one panel left
				b := &bp[j/panelWidth*ps]
				for i := i0; i < i1; i += 4 {
					gemm4x16(k, &a[i*lda], lda, b, &c[i*ldc+j], ldc)
				}
			}
		}
		i = m8
	}
	m4 := m &^ 3
	for i0 := i; i0 < m4; i0 += rowBlock {
		i1 := min(i0+rowBlock, m4)
		for j := 0; j < n; j += panelWidth {
			b := &bp[j/panelWidth*ps]
			for i := i0; i < i1; i += 4 {
				gemm4x16(k, &a[i*lda], lda, b, &c[i*ldc+j], ldc)
			}
		}
	}
	for i := m4; i < m; i++ {
		gemvAcc(n, k, a[i*lda:], bp, c[i*ldc:], wide)
	}
}

// gemvAcc computes c[0:n] += a[0:k]·B with the assembly kernels (B packed,
// bounds already checked), 8 panels at a time with AVX-512 if wide.
func gemvAcc(n, k int, a, bp []float32, c []float32, wide bool) {
	ps := k * panelWidth
	j := 0
	if wide {
		for ; j+8*panelWidth <= n; j += 8 * panelWidth {
			gemv128z(k, &a[0], &bp[j/panelWidth*ps], ps, &c[j])
		}
	}
	for ; j+4*panelWidth <= n; j += 4 * panelWidth {
		gemv64(k, &a[0], &bp[j/panelWidth*ps], ps, &c[j])
	}
	for ; j < n; j += panelWidth {
		gemv16(k, &a[0], &bp[j/panelWidth*ps], &c[j])
	}
}

// gemmAccGo is the portable gemmAcc.
func gemmAccGo(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		arow := a[i*lda : i*lda+k]
		for p := 0; p < n/panelWidth; p++ {
			crow := c[i*ldc+p*panelWidth:][:panelWidth]
			panel := bp[p*k*panelWidth:][:k*panelWidth]
			for kk, av := range arow {
				brow := panel[kk*panelWidth:][:panelWidth]
				for j := range crow {
					crow[j] += av * brow[j]
				}
			}
		}
	}
}

// lstmGatesFast is the LSTM cell update with sigmoid recurrent activation
// and tanh activation: z holds four blocks of up pre-activations (i, f, c,
// o); c and h have up values; up is a multiple of panelWidth.
func lstmGatesFast(z, c, h []float32, up int) {
	_ = z[4*up-1]
	_ = c[up-1]
	_ = h[up-1]
	switch {
	case haveAVX512:
		lstmGatesZ(&z[0], &c[0], &h[0], up)
		return
	case haveAVX2FMA:
		lstmGates(&z[0], &c[0], &h[0], up)
		return
	}
	lstmGatesGo(z, c, h, up)
}

// lstmGatesGo is the portable lstmGatesFast.
func lstmGatesGo(z, c, h []float32, up int) {
	for j := 0; j < up; j++ {
		i := sigmoid32(z[j])
		f := sigmoid32(z[up+j])
		g := tanh32(z[2*up+j])
		o := sigmoid32(z[3*up+j])
		cj := f*c[j] + i*g
		c[j] = cj
		h[j] = o * tanh32(cj)
	}
}
