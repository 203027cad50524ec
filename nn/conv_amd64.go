//go:build amd64 && !purego

package nn

//go:noescape
func biasGemmSmall(m, n, k int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, relu bool)

//go:noescape
func maxOf(dst, a, b *float32, n int)
