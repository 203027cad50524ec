//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// haveAVX2FMA selects the assembly kernels in rnn_amd64.s, and
// haveAVX512 the wider matrix kernel among them. Both are set once at
// start-up from the CPU's features and never change.
var (
	haveAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512  = haveAVX2FMA && cpu.X86.HasAVX512F
)

//go:noescape
func tanhVec(x *float32, n int)

//go:noescape
func sigmoidVec(x *float32, n int)

//go:noescape
func lstmGates(z, c, h *float32, up int)

//go:noescape
func gemm4x16(k int, a *float32, lda int, b *float32, c *float32, ldc int)

//go:noescape
func gemv64(k int, a *float32, b *float32, pstride int, c *float32)

//go:noescape
func gemv16(k int, a *float32, b *float32, c *float32)

//go:noescape
func gemm8x32z(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int)

//go:noescape
func lstmGatesZ(z, c, h *float32, up int)

//go:noescape
func gemv128z(k int, a *float32, b *float32, pstride int, c *float32)

//go:noescape
func gemm8x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm1x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm2x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm3x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm4x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm5x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm6x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm7x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)

//go:noescape
func lstmStepR64(k int, h *float32, u *float32, up int, z *float32, c *float32, hout *float32)

//go:noescape
func lstmStepR32(k int, h *float32, u *float32, up int, z *float32, c *float32, hout *float32)

//go:noescape
func lstmStepR16(k int, h *float32, u *float32, up int, z *float32, c *float32, hout *float32)

//go:noescape
func lstmSeqR64(T int, z *float32, zstride int, u *float32, c *float32, h *float32, hstride int, gs *float32)

//go:noescape
func lstmSeqR32(T int, z *float32, zstride int, u *float32, c *float32, h *float32, hstride int, gs *float32)

//go:noescape
func lstmSeqR16(T int, z *float32, zstride int, u *float32, c *float32, h *float32, hstride int, gs *float32)

//go:noescape
func gemm1x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func gemm2x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func gemm3x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func gemm4x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func gemm5x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func gemm6x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func gemm7x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func gemm8x32zbi(n int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, idx *int32)

//go:noescape
func nonZeroMask8(n int, a *float32, lda int, mask *uint16)
