//go:build amd64 && !purego

#include "textflag.h"

// The vector exp, sigmoid and tanh (SIGMOIDY, TANHY and their
// 16-lane forms ...Z), with their constants: see activation_kernels.go.
#include "activation_amd64.h"

// func tanhVec(x *float32, n int)
// x[0:n] = tanh(x[0:n]) in place; n is a multiple of 8.
TEXT ·tanhVec(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   tanhdone
tanhloop:
	VMOVUPS (SI), Y0
	TANHY(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ  tanhloop
tanhdone:
	VZEROUPPER
	RET

// func sigmoidVec(x *float32, n int)
// x[0:n] = sigmoid(x[0:n]) in place; n is a multiple of 8.
TEXT ·sigmoidVec(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   sigdone
sigloop:
	VMOVUPS (SI), Y0
	SIGMOIDY(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ  sigloop
sigdone:
	VZEROUPPER
	RET

// func lstmGates(z *float32, c *float32, h *float32, up int)
// One LSTM cell update with sigmoid/tanh for up units (a multiple of 8):
// z holds the pre-activations in four blocks of up (i, f, c, o).
// c = f*c + i*tanh(zc); h = o*tanh(c).
TEXT ·lstmGates(SB), NOSPLIT, $0-32
	MOVQ z+0(FP), SI
	MOVQ c+8(FP), DI
	MOVQ h+16(FP), DX
	MOVQ up+24(FP), CX
	MOVQ CX, R8
	SHLQ $2, R8          // block stride in bytes
	SHRQ $3, CX
	JZ   lstmdone
lstmloop:
	VMOVUPS (SI), Y0     // zi
	SIGMOIDY(Y0, Y1, Y2, Y3)
	LEAQ (SI)(R8*2), R9
	VMOVUPS (R9), Y4     // zc
	TANHY(Y4, Y1, Y2, Y3)
	VMULPS Y0, Y4, Y4    // i*g
	VMOVUPS (SI)(R8*1), Y0 // zf
	SIGMOIDY(Y0, Y1, Y2, Y3)
	VMOVUPS (DI), Y8
	VFMADD213PS Y4, Y0, Y8 // c = f*c + i*g
	VMOVUPS Y8, (DI)
	VMOVUPS (R9)(R8*1), Y5 // zo
	SIGMOIDY(Y5, Y1, Y2, Y3)
	TANHY(Y8, Y1, Y2, Y3)
	VMULPS Y5, Y8, Y8
	VMOVUPS Y8, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  lstmloop
lstmdone:
	VZEROUPPER
	RET

// Packed B: the recurrent layers keep weight matrices (k, n) as n/16
// column panels, each k rows of 16 contiguous floats, so that a kernel
// streams through memory instead of striding by a row of B.

// func gemm4x16(k int, a *float32, lda int, b *float32, c *float32, ldc int)
// C[0:4, 0:16] += A[0:4, 0:k] * P where P is one packed panel (k rows of
// 16); leading dimensions in elements; k >= 0.
TEXT ·gemm4x16(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R10
	SHLQ $2, R8
	SHLQ $2, R10
	LEAQ (SI)(R8*1), R11
	LEAQ (SI)(R8*2), R12
	LEAQ (R11)(R8*2), R13
	LEAQ (DX)(R10*1), BX
	LEAQ (DX)(R10*2), R14
	LEAQ (BX)(R10*2), AX
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS (BX), Y2
	VMOVUPS 32(BX), Y3
	VMOVUPS (R14), Y4
	VMOVUPS 32(R14), Y5
	VMOVUPS (AX), Y6
	VMOVUPS 32(AX), Y7
	TESTQ CX, CX
	JZ   g4store
g4loop:
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VBROADCASTSS (SI), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS (R11), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS (R12), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS (R13), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ $4, SI
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	ADDQ $64, DI
	DECQ CX
	JNZ  g4loop
g4store:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (BX)
	VMOVUPS Y3, 32(BX)
	VMOVUPS Y4, (R14)
	VMOVUPS Y5, 32(R14)
	VMOVUPS Y6, (AX)
	VMOVUPS Y7, 32(AX)
	VZEROUPPER
	RET

// func gemv64(k int, a *float32, b *float32, pstride int, c *float32)
// c[0:64] += a[0:k] * (four consecutive packed panels starting at b, each
// pstride elements apart).
TEXT ·gemv64(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ pstride+24(FP), R9
	MOVQ c+32(FP), DX
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VMOVUPS 128(DX), Y4
	VMOVUPS 160(DX), Y5
	VMOVUPS 192(DX), Y6
	VMOVUPS 224(DX), Y7
	TESTQ CX, CX
	JZ   g64store
g64loop:
	VBROADCASTSS (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y8, Y1
	VFMADD231PS (DI)(R9*1), Y8, Y2
	VFMADD231PS 32(DI)(R9*1), Y8, Y3
	VFMADD231PS (DI)(R9*2), Y8, Y4
	VFMADD231PS 32(DI)(R9*2), Y8, Y5
	VFMADD231PS (DI)(R10*1), Y8, Y6
	VFMADD231PS 32(DI)(R10*1), Y8, Y7
	ADDQ $4, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  g64loop
g64store:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func gemv16(k int, a *float32, b *float32, c *float32)
// c[0:16] += a[0:k] * (one packed panel at b); even and odd k accumulate
// separately to halve the FMA dependency chains.
TEXT ·gemv16(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ CX, AX
	SHRQ $1, AX
	JZ   g16tail
g16loop:
	VBROADCASTSS (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y8, Y1
	VBROADCASTSS 4(SI), Y9
	VFMADD231PS 64(DI), Y9, Y2
	VFMADD231PS 96(DI), Y9, Y3
	ADDQ $8, SI
	ADDQ $128, DI
	DECQ AX
	JNZ  g16loop
g16tail:
	ANDQ $1, CX
	JZ   g16store
	VBROADCASTSS (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y8, Y1
g16store:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func gemm8x32z(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int)
// AVX-512: C[0:8, 0:32] += A[0:8, 0:k] * (two consecutive packed panels at
// b, pstride elements apart); leading dimensions in elements; k >= 0.
TEXT ·gemm8x32z(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ pstride+32(FP), R10
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R12
	SHLQ $2, R8
	SHLQ $2, R10
	SHLQ $2, R12
	LEAQ (R8)(R8*2), R9   // 3*lda
	LEAQ (SI)(R8*4), R11  // row 4 of A
	LEAQ (R12)(R12*2), R13 // 3*ldc
	LEAQ (DX)(R12*4), R14  // row 4 of C
	VMOVUPS (DX), Z0
	VMOVUPS 64(DX), Z1
	VMOVUPS (DX)(R12*1), Z2
	VMOVUPS 64(DX)(R12*1), Z3
	VMOVUPS (DX)(R12*2), Z4
	VMOVUPS 64(DX)(R12*2), Z5
	VMOVUPS (DX)(R13*1), Z6
	VMOVUPS 64(DX)(R13*1), Z7
	VMOVUPS (R14), Z8
	VMOVUPS 64(R14), Z9
	VMOVUPS (R14)(R12*1), Z10
	VMOVUPS 64(R14)(R12*1), Z11
	VMOVUPS (R14)(R12*2), Z12
	VMOVUPS 64(R14)(R12*2), Z13
	VMOVUPS (R14)(R13*1), Z14
	VMOVUPS 64(R14)(R13*1), Z15
	TESTQ CX, CX
	JZ   g8store
g8loop:
	VMOVUPS (DI), Z16
	VMOVUPS (DI)(R10*1), Z17
	VBROADCASTSS (SI), Z18
	VBROADCASTSS (SI)(R8*1), Z19
	VBROADCASTSS (SI)(R8*2), Z20
	VBROADCASTSS (SI)(R9*1), Z21
	VFMADD231PS Z16, Z18, Z0
	VFMADD231PS Z17, Z18, Z1
	VFMADD231PS Z16, Z19, Z2
	VFMADD231PS Z17, Z19, Z3
	VFMADD231PS Z16, Z20, Z4
	VFMADD231PS Z17, Z20, Z5
	VFMADD231PS Z16, Z21, Z6
	VFMADD231PS Z17, Z21, Z7
	VBROADCASTSS (R11), Z22
	VBROADCASTSS (R11)(R8*1), Z23
	VBROADCASTSS (R11)(R8*2), Z24
	VBROADCASTSS (R11)(R9*1), Z25
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VFMADD231PS Z16, Z23, Z10
	VFMADD231PS Z17, Z23, Z11
	VFMADD231PS Z16, Z24, Z12
	VFMADD231PS Z17, Z24, Z13
	VFMADD231PS Z16, Z25, Z14
	VFMADD231PS Z17, Z25, Z15
	ADDQ $4, SI
	ADDQ $4, R11
	ADDQ $64, DI
	DECQ CX
	JNZ  g8loop
g8store:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, (DX)(R12*1)
	VMOVUPS Z3, 64(DX)(R12*1)
	VMOVUPS Z4, (DX)(R12*2)
	VMOVUPS Z5, 64(DX)(R12*2)
	VMOVUPS Z6, (DX)(R13*1)
	VMOVUPS Z7, 64(DX)(R13*1)
	VMOVUPS Z8, (R14)
	VMOVUPS Z9, 64(R14)
	VMOVUPS Z10, (R14)(R12*1)
	VMOVUPS Z11, 64(R14)(R12*1)
	VMOVUPS Z12, (R14)(R12*2)
	VMOVUPS Z13, 64(R14)(R12*2)
	VMOVUPS Z14, (R14)(R13*1)
	VMOVUPS Z15, 64(R14)(R13*1)
	VZEROUPPER
	RET

// func lstmGatesZ(z *float32, c *float32, h *float32, up int)
// lstmGates with AVX-512; up is a multiple of 16.
TEXT ·lstmGatesZ(SB), NOSPLIT, $0-32
	MOVQ z+0(FP), SI
	MOVQ c+8(FP), DI
	MOVQ h+16(FP), DX
	MOVQ up+24(FP), CX
	MOVQ CX, R8
	SHLQ $2, R8
	SHRQ $4, CX
	JZ   lstmzdone
lstmzloop:
	VMOVUPS (SI), Z0
	SIGMOIDZ(Z0, Z1, Z2)
	LEAQ (SI)(R8*2), R9
	VMOVUPS (R9), Z4
	TANHZ(Z4, Z10, Z11, Z12)
	VMULPS Z0, Z4, Z4
	VMOVUPS (SI)(R8*1), Z0
	SIGMOIDZ(Z0, Z1, Z2)
	VMOVUPS (DI), Z8
	VFMADD213PS Z4, Z0, Z8
	VMOVUPS Z8, (DI)
	VMOVUPS (R9)(R8*1), Z5
	SIGMOIDZ(Z5, Z13, Z14)
	TANHZ(Z8, Z1, Z2, Z3)
	VMULPS Z5, Z8, Z8
	VMOVUPS Z8, (DX)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	DECQ CX
	JNZ  lstmzloop
lstmzdone:
	VZEROUPPER
	RET

// func gemv128z(k int, a *float32, b *float32, pstride int, c *float32)
// AVX-512: c[0:128] += a[0:k] * (eight consecutive packed panels starting
// at b, each pstride elements apart). Each panel row is one cache line.
TEXT ·gemv128z(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ pstride+24(FP), R9
	MOVQ c+32(FP), DX
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
	LEAQ (DI)(R9*4), R11
	VMOVUPS (DX), Z0
	VMOVUPS 64(DX), Z1
	VMOVUPS 128(DX), Z2
	VMOVUPS 192(DX), Z3
	VMOVUPS 256(DX), Z4
	VMOVUPS 320(DX), Z5
	VMOVUPS 384(DX), Z6
	VMOVUPS 448(DX), Z7
	TESTQ CX, CX
	JZ   g128store
g128loop:
	VBROADCASTSS (SI), Z8
	VFMADD231PS (DI), Z8, Z0
	VFMADD231PS (DI)(R9*1), Z8, Z1
	VFMADD231PS (DI)(R9*2), Z8, Z2
	VFMADD231PS (DI)(R10*1), Z8, Z3
	VFMADD231PS (R11), Z8, Z4
	VFMADD231PS (R11)(R9*1), Z8, Z5
	VFMADD231PS (R11)(R9*2), Z8, Z6
	VFMADD231PS (R11)(R10*1), Z8, Z7
	ADDQ $4, SI
	ADDQ $64, DI
	ADDQ $64, R11
	DECQ CX
	JNZ  g128loop
g128store:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	VMOVUPS Z4, 256(DX)
	VMOVUPS Z5, 320(DX)
	VMOVUPS Z6, 384(DX)
	VMOVUPS Z7, 448(DX)
	VZEROUPPER
	RET

// func gemm8x32zb(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32)
// AVX-512: C[0:8, 0:32] = bias[0:32] + A[0:8, 0:k] * (two packed panels at
// b, pstride elements apart). C is only written, so overlapping tiles are
// harmless; k >= 0.
TEXT ·gemm8x32zb(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ pstride+32(FP), R10
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R12
	MOVQ bias+56(FP), AX
	SHLQ $2, R8
	SHLQ $2, R10
	SHLQ $2, R12
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R8*4), R11
	LEAQ (R12)(R12*2), R13
	LEAQ (DX)(R12*4), R14
	VMOVUPS (AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z1, Z3
	VMOVAPS Z0, Z4
	VMOVAPS Z1, Z5
	VMOVAPS Z0, Z6
	VMOVAPS Z1, Z7
	VMOVAPS Z0, Z8
	VMOVAPS Z1, Z9
	VMOVAPS Z0, Z10
	VMOVAPS Z1, Z11
	VMOVAPS Z0, Z12
	VMOVAPS Z1, Z13
	VMOVAPS Z0, Z14
	VMOVAPS Z1, Z15
	TESTQ CX, CX
	JZ   g8bstore
g8bloop:
	VMOVUPS (DI), Z16
	VMOVUPS (DI)(R10*1), Z17
	VBROADCASTSS (SI), Z18
	VBROADCASTSS (SI)(R8*1), Z19
	VBROADCASTSS (SI)(R8*2), Z20
	VBROADCASTSS (SI)(R9*1), Z21
	VFMADD231PS Z16, Z18, Z0
	VFMADD231PS Z17, Z18, Z1
	VFMADD231PS Z16, Z19, Z2
	VFMADD231PS Z17, Z19, Z3
	VFMADD231PS Z16, Z20, Z4
	VFMADD231PS Z17, Z20, Z5
	VFMADD231PS Z16, Z21, Z6
	VFMADD231PS Z17, Z21, Z7
	VBROADCASTSS (R11), Z22
	VBROADCASTSS (R11)(R8*1), Z23
	VBROADCASTSS (R11)(R8*2), Z24
	VBROADCASTSS (R11)(R9*1), Z25
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VFMADD231PS Z16, Z23, Z10
	VFMADD231PS Z17, Z23, Z11
	VFMADD231PS Z16, Z24, Z12
	VFMADD231PS Z17, Z24, Z13
	VFMADD231PS Z16, Z25, Z14
	VFMADD231PS Z17, Z25, Z15
	ADDQ $4, SI
	ADDQ $4, R11
	ADDQ $64, DI
	DECQ CX
	JNZ  g8bloop
g8bstore:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, (DX)(R12*1)
	VMOVUPS Z3, 64(DX)(R12*1)
	VMOVUPS Z4, (DX)(R12*2)
	VMOVUPS Z5, 64(DX)(R12*2)
	VMOVUPS Z6, (DX)(R13*1)
	VMOVUPS Z7, 64(DX)(R13*1)
	VMOVUPS Z8, (R14)
	VMOVUPS Z9, 64(R14)
	VMOVUPS Z10, (R14)(R12*1)
	VMOVUPS Z11, 64(R14)(R12*1)
	VMOVUPS Z12, (R14)(R12*2)
	VMOVUPS Z13, 64(R14)(R12*2)
	VMOVUPS Z14, (R14)(R13*1)
	VMOVUPS Z15, 64(R14)(R13*1)
	VZEROUPPER
	RET
