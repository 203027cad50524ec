//go:build amd64 && !purego

#include "textflag.h"

// func biasGemmSmall(m, n, k int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, relu bool)
// AVX2: C[i, 0:n] = act(bias[0:n] + A[i, 0:k]·B) for i < m, B row-major
// (k, n), act ReLU (NaN propagates) when relu is set, else identity; n is
// a multiple of 8, leading dimensions in elements. Meant for a small k
// (a convolution with few input channels): B stays in L1 while every row
// of A streams through it, 32 columns at a time.
TEXT ·biasGemmSmall(SB), NOSPLIT, $0-73
	MOVQ m+0(FP), R8
	MOVQ n+8(FP), R9
	MOVQ k+16(FP), R10
	MOVQ a+24(FP), SI
	MOVQ lda+32(FP), R11
	MOVQ b+40(FP), DI
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R12
	MOVQ bias+64(FP), AX
	SHLQ $2, R9           // row of B and of bias in bytes
	SHLQ $2, R11
	SHLQ $2, R12
	VXORPS Y15, Y15, Y15
	TESTQ R8, R8
	JZ   bgsdone
bgsrow:
	XORQ R13, R13         // column offset in bytes
bgscol32:
	MOVQ R9, CX
	SUBQ R13, CX
	CMPQ CX, $128
	JLT  bgscol8
	VMOVUPS (AX)(R13*1), Y0
	VMOVUPS 32(AX)(R13*1), Y1
	VMOVUPS 64(AX)(R13*1), Y2
	VMOVUPS 96(AX)(R13*1), Y3
	MOVQ SI, R14
	LEAQ (DI)(R13*1), BX
	MOVQ R10, CX
	TESTQ CX, CX
	JZ   bgsact32
bgsk32:
	VBROADCASTSS (R14), Y4
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y4, Y1
	VFMADD231PS 64(BX), Y4, Y2
	VFMADD231PS 96(BX), Y4, Y3
	ADDQ $4, R14
	ADDQ R9, BX
	DECQ CX
	JNZ  bgsk32
bgsact32:
	CMPB relu+72(FP), $0
	JEQ  bgsst32
	VMAXPS Y0, Y15, Y0
	VMAXPS Y1, Y15, Y1
	VMAXPS Y2, Y15, Y2
	VMAXPS Y3, Y15, Y3
bgsst32:
	VMOVUPS Y0, (DX)(R13*1)
	VMOVUPS Y1, 32(DX)(R13*1)
	VMOVUPS Y2, 64(DX)(R13*1)
	VMOVUPS Y3, 96(DX)(R13*1)
	ADDQ $128, R13
	JMP  bgscol32
bgscol8:
	CMPQ R13, R9
	JGE  bgsnext
	VMOVUPS (AX)(R13*1), Y0
	MOVQ SI, R14
	LEAQ (DI)(R13*1), BX
	MOVQ R10, CX
	TESTQ CX, CX
	JZ   bgsact8
bgsk8:
	VBROADCASTSS (R14), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ $4, R14
	ADDQ R9, BX
	DECQ CX
	JNZ  bgsk8
bgsact8:
	CMPB relu+72(FP), $0
	JEQ  bgsst8
	VMAXPS Y0, Y15, Y0
bgsst8:
	VMOVUPS Y0, (DX)(R13*1)
	ADDQ $32, R13
	JMP  bgscol8
bgsnext:
	ADDQ R11, SI
	ADDQ R12, DX
	DECQ R8
	JNZ  bgsrow
bgsdone:
	VZEROUPPER
	RET

// func maxOf(dst, a, b *float32, n int)
// AVX2: dst[i] = max(a[i], b[i]) for i < n (a multiple of 8), NaN from
// either side propagating as with Go's max; dst may be a.
TEXT ·maxOf(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   maxdone
maxloop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMAXPS Y1, Y0, Y2          // a > b ? a : b (b when either is NaN)
	VCMPPS $3, Y0, Y0, Y3      // a is NaN
	VBLENDVPS Y3, Y0, Y2, Y2   // then a
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  maxloop
maxdone:
	VZEROUPPER
	RET
