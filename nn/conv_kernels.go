package nn

// Kernels of the convolution and pooling front end: a product with a
// small inner dimension (a Conv1D with few input channels, where im2col and
// a general GEMM cost more than the arithmetic) with the bias and a ReLU
// fused, and an element-wise max of two rows (MaxPooling1D). On amd64 with
// AVX2 and FMA they run in assembly (conv_amd64.s); elsewhere, or with the
// purego build tag, the Go versions below compute the same values to
// within float32 rounding.

// smallGemmBias computes C[i, 0:n] = act(bias + A[i, 0:k]·B) for i < m,
// with row-major A (leading dimension lda), B (k, n) and C (ldc); act is
// ReLU when relu is set, else the identity.
func smallGemmBias(m, n, k int, a []float32, lda int, b, c []float32, ldc int, bias []float32, relu bool) {
	if m == 0 || n == 0 {
		return
	}
	// Bounds are checked once here: the assembly trusts them.
	if k > 0 {
		_ = a[(m-1)*lda+k-1]
		_ = b[k*n-1]
	}
	_ = c[(m-1)*ldc+n-1]
	_ = bias[n-1]
	if haveAVX2FMA && n%8 == 0 {
		ap, bp := &bias[0], &bias[0] // not read when k == 0
		if k > 0 {
			ap, bp = &a[0], &b[0]
		}
		biasGemmSmall(m, n, k, ap, lda, bp, &c[0], ldc, &bias[0], relu)
		return
	}
	smallGemmBiasGo(m, n, k, a, lda, b, c, ldc, bias, relu)
}

// smallGemmBiasGo is the portable smallGemmBias.
func smallGemmBiasGo(m, n, k int, a []float32, lda int, b, c []float32, ldc int, bias []float32, relu bool) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc:][:n]
		copy(crow, bias[:n])
		for kk, av := range a[i*lda:][:k] {
			for j, bv := range b[kk*n:][:n] {
				crow[j] += av * bv
			}
		}
		if relu {
			reluSlice(crow)
		}
	}
}

// maxRows sets dst[i] = max(a[i], b[i]) (Go's max: NaN wins); dst may be a.
func maxRows(dst, a, b []float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	i := 0
	if haveAVX2FMA && n >= 8 {
		i = n &^ 7
		maxOf(&dst[0], &a[0], &b[0], i)
	}
	for ; i < n; i++ {
		dst[i] = max(a[i], b[i])
	}
}
