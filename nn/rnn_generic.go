//go:build !amd64 || purego

package nn

// haveAVX2FMA is false where rnn_amd64.s is not built: the pure Go kernels
// run instead, and the functions below are never called.
const (
	haveAVX2FMA = false
	haveAVX512  = false
)

func tanhVec(x *float32, n int)                                            { panic("nn: no asm") }
func sigmoidVec(x *float32, n int)                                         { panic("nn: no asm") }
func lstmGates(z, c, h *float32, up int)                                   { panic("nn: no asm") }
func gemm4x16(k int, a *float32, lda int, b *float32, c *float32, ldc int) { panic("nn: no asm") }
func gemv64(k int, a *float32, b *float32, pstride int, c *float32)        { panic("nn: no asm") }
func gemv16(k int, a *float32, b *float32, c *float32)                     { panic("nn: no asm") }
func gemm8x32z(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int) {
	panic("nn: no asm")
}
func lstmGatesZ(z, c, h *float32, up int)                             { panic("nn: no asm") }
func gemv128z(k int, a *float32, b *float32, pstride int, c *float32) { panic("nn: no asm") }
func gemm8x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func gemm1x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func gemm2x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func gemm3x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func gemm4x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func gemm5x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func gemm6x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func gemm7x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32) {
	panic("nn: no asm")
}
func lstmStepR64(k int, h *float32, u *float32, up int, z *float32, c *float32, hout *float32) {
	panic("nn: no asm")
}
func lstmStepR32(k int, h *float32, u *float32, up int, z *float32, c *float32, hout *float32) {
	panic("nn: no asm")
}
func lstmStepR16(k int, h *float32, u *float32, up int, z *float32, c *float32, hout *float32) {
	panic("nn: no asm")
}
func lstmSeqR64(T int, z *float32, zstride int, u *float32, c *float32, h *float32, hstride int, gs *float32) {
	panic("nn: no asm")
}
func lstmSeqR32(T int, z *float32, zstride int, u *float32, c *float32, h *float32, hstride int, gs *float32) {
	panic("nn: no asm")
}
func lstmSeqR16(T int, z *float32, zstride int, u *float32, c *float32, h *float32, hstride int, gs *float32) {
	panic("nn: no asm")
}
func gemm1x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func gemm2x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func gemm3x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func gemm4x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func gemm5x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func gemm6x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func gemm7x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func gemm8x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32) {
	panic("nn: no asm")
}
func nonZeroMask8(n int, a *float32, lda int, mask *uint16) { panic("nn: no asm") }
