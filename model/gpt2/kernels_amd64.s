//go:build amd64 && !purego

#include "textflag.h"
#include "q8_amd64.h"

// func dotAVX(a, b *float32, n int) float32
TEXT ·dotAVX(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-32, DX

dot_loop32:
	CMPQ AX, DX
	JGE  dot_loop8
	VMOVUPS (SI)(AX*4), Y4
	VMOVUPS 32(SI)(AX*4), Y5
	VMOVUPS 64(SI)(AX*4), Y6
	VMOVUPS 96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ $32, AX
	JMP  dot_loop32

dot_loop8:
	CMPQ AX, CX
	JGE  dot_done
	VMOVUPS (SI)(AX*4), Y4
	VFMADD231PS (DI)(AX*4), Y4, Y0
	ADDQ $8, AX
	JMP  dot_loop8

dot_done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func axpyAVX(y, x *float32, a float32, n int)
TEXT ·axpyAVX(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	VBROADCASTSS a+16(FP), Y15
	MOVQ n+24(FP), CX
	XORQ AX, AX

axpy_loop:
	CMPQ AX, CX
	JGE  axpy_done
	VMOVUPS (DI)(AX*4), Y0
	VFMADD231PS (SI)(AX*4), Y15, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  axpy_loop

axpy_done:
	VZEROUPPER
	RET

// Sums each of four Y registers and stores the four sums at dst.
// Clobbers A, C and X15.
#define HSUM4(A, B, C, D, XA, dst) \
	VHADDPS B, A, A; \
	VHADDPS D, C, C; \
	VHADDPS C, A, A; \
	VEXTRACTF128 $1, A, X15; \
	VADDPS X15, XA, XA; \
	VMOVUPS XA, dst

// func dot4AVX(w *float32, ldw int, x *float32, n int, out *float32)
TEXT ·dot4AVX(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), AX
	MOVQ ldw+8(FP), BX
	SHLQ $2, BX
	LEAQ (AX)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	MOVQ x+16(FP), CX
	MOVQ n+24(FP), DX
	MOVQ DX, R11
	ANDQ $-16, R11
	XORQ SI, SI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

d4_loop16:
	CMPQ SI, R11
	JGE  d4_loop8
	VMOVUPS (CX)(SI*4), Y8
	VMOVUPS 32(CX)(SI*4), Y9
	VFMADD231PS (AX)(SI*4), Y8, Y0
	VFMADD231PS 32(AX)(SI*4), Y9, Y4
	VFMADD231PS (R8)(SI*4), Y8, Y1
	VFMADD231PS 32(R8)(SI*4), Y9, Y5
	VFMADD231PS (R9)(SI*4), Y8, Y2
	VFMADD231PS 32(R9)(SI*4), Y9, Y6
	VFMADD231PS (R10)(SI*4), Y8, Y3
	VFMADD231PS 32(R10)(SI*4), Y9, Y7
	ADDQ $16, SI
	JMP  d4_loop16

d4_loop8:
	CMPQ SI, DX
	JGE  d4_done
	VMOVUPS (CX)(SI*4), Y8
	VFMADD231PS (AX)(SI*4), Y8, Y0
	VFMADD231PS (R8)(SI*4), Y8, Y1
	VFMADD231PS (R9)(SI*4), Y8, Y2
	VFMADD231PS (R10)(SI*4), Y8, Y3
	ADDQ $8, SI
	JMP  d4_loop8

d4_done:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	MOVQ out+32(FP), DI
	HSUM4(Y0, Y1, Y2, Y3, X0, (DI))
	VZEROUPPER
	RET

// func dot3x4AVX(w *float32, ldw int, x *float32, ldx int, n int, out *float32)
TEXT ·dot3x4AVX(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), AX
	MOVQ ldw+8(FP), BX
	SHLQ $2, BX
	LEAQ (AX)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	MOVQ x+16(FP), CX
	MOVQ ldx+24(FP), BX
	SHLQ $2, BX
	LEAQ (CX)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	LEAQ (R11)(BX*1), R12
	MOVQ n+32(FP), DX
	XORQ SI, SI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

d34_loop:
	CMPQ SI, DX
	JGE  d34_done
	VMOVUPS (AX)(SI*4), Y12
	VMOVUPS (R8)(SI*4), Y13
	VMOVUPS (R9)(SI*4), Y14
	VMOVUPS (CX)(SI*4), Y15
	VFMADD231PS Y15, Y12, Y0
	VFMADD231PS Y15, Y13, Y4
	VFMADD231PS Y15, Y14, Y8
	VMOVUPS (R10)(SI*4), Y15
	VFMADD231PS Y15, Y12, Y1
	VFMADD231PS Y15, Y13, Y5
	VFMADD231PS Y15, Y14, Y9
	VMOVUPS (R11)(SI*4), Y15
	VFMADD231PS Y15, Y12, Y2
	VFMADD231PS Y15, Y13, Y6
	VFMADD231PS Y15, Y14, Y10
	VMOVUPS (R12)(SI*4), Y15
	VFMADD231PS Y15, Y12, Y3
	VFMADD231PS Y15, Y13, Y7
	VFMADD231PS Y15, Y14, Y11
	ADDQ $8, SI
	JMP  d34_loop

d34_done:
	MOVQ out+40(FP), DI
	HSUM4(Y0, Y1, Y2, Y3, X0, (DI))
	HSUM4(Y4, Y5, Y6, Y7, X4, 16(DI))
	HSUM4(Y8, Y9, Y10, Y11, X8, 32(DI))
	VZEROUPPER
	RET

// HSUM4 without the store: XA ends holding the four sums.
#define HSUM4R(A, B, C, D, XA) \
	VHADDPS B, A, A; \
	VHADDPS D, C, C; \
	VHADDPS C, A, A; \
	VEXTRACTF128 $1, A, X15; \
	VADDPS X15, XA, XA

// Stores (add == 0) or adds the four sums in X0 at (DI); DI += 16.
#define YOUT(add) \
	CMPQ add, $0; \
	JEQ  2(PC); \
	VADDPS (DI), X0, X0; \
	VMOVUPS X0, (DI); \
	ADDQ $16, DI

// func dotNilvAVX512(w *float32, x *float32, nchunk, gstride int, y *float32, ngroups, add int)
//
// y[4g+i] = (or +=) row 4g+i · x over nchunk chunks of 16, for ngroups
// groups of four rows stored interleaved (see matrix.setF) gstride bytes
// apart. Each row has one 512-bit accumulator whose halves are
// dotNilvAVX's two 8-wide ones, added the same way at the end.
TEXT ·dotNilvAVX512(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), R12
	MOVQ y+32(FP), DI
	MOVQ ngroups+40(FP), R13

nilvz_group:
	TESTQ R13, R13
	JEQ   nilvz_end
	MOVQ  R12, AX
	MOVQ  x+8(FP), CX
	MOVQ  nchunk+16(FP), DX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

nilvz_loop:
	TESTQ DX, DX
	JEQ   nilvz_done
	PREFETCHT0 (AX)
	PREFETCHT0 64(AX)
	PREFETCHT0 128(AX)
	PREFETCHT0 192(AX)
	VMOVUPS (CX), Z8
	VFMADD231PS 0(AX), Z8, Z0
	VFMADD231PS 64(AX), Z8, Z1
	VFMADD231PS 128(AX), Z8, Z2
	VFMADD231PS 192(AX), Z8, Z3
	ADDQ $256, AX
	ADDQ $64, CX
	DECQ DX
	JMP  nilvz_loop

nilvz_done:
	VEXTRACTF64X4 $1, Z0, Y4
	VADDPS Y4, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y5
	VADDPS Y5, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y6
	VADDPS Y6, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y7
	VADDPS Y7, Y3, Y3
	HSUM4R(Y0, Y1, Y2, Y3, X0)
	YOUT(add+48(FP))
	ADDQ gstride+24(FP), R12
	DECQ R13
	JMP  nilvz_group

nilvz_end:
	VZEROUPPER
	RET

// func dotNilvAVX(w *float32, x *float32, nchunk, gstride int, y *float32, ngroups, add int)
//
// dotNilvAVX512 with 256-bit registers, the same sums in the same order.
TEXT ·dotNilvAVX(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), R12
	MOVQ y+32(FP), DI
	MOVQ ngroups+40(FP), R13

nilv_group:
	TESTQ R13, R13
	JEQ   nilv_end
	MOVQ  R12, AX
	MOVQ  x+8(FP), CX
	MOVQ  nchunk+16(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

nilv_loop:
	TESTQ DX, DX
	JEQ   nilv_done
	PREFETCHT0 (AX)
	PREFETCHT0 64(AX)
	PREFETCHT0 128(AX)
	PREFETCHT0 192(AX)
	VMOVUPS (CX), Y8
	VMOVUPS 32(CX), Y9
	VFMADD231PS 0(AX), Y8, Y0
	VFMADD231PS 32(AX), Y9, Y4
	VFMADD231PS 64(AX), Y8, Y1
	VFMADD231PS 96(AX), Y9, Y5
	VFMADD231PS 128(AX), Y8, Y2
	VFMADD231PS 160(AX), Y9, Y6
	VFMADD231PS 192(AX), Y8, Y3
	VFMADD231PS 224(AX), Y9, Y7
	ADDQ $256, AX
	ADDQ $64, CX
	DECQ DX
	JMP  nilv_loop

nilv_done:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	HSUM4R(Y0, Y1, Y2, Y3, X0)
	YOUT(add+48(FP))
	ADDQ gstride+24(FP), R12
	DECQ R13
	JMP  nilv_group

nilv_end:
	VZEROUPPER
	RET

// Index vectors for the q8 kernels (here and in kernels_batch_amd64.s):
// q8perm spreads four row scales over the row's 128-bit lane (its first
// and second 8 entries do it for rows 0-1 and 2-3 at 256 bits); q8pick
// takes element 0 of each 128-bit lane.
DATA ·q8perm+0(SB)/4, $0
DATA ·q8perm+4(SB)/4, $0
DATA ·q8perm+8(SB)/4, $0
DATA ·q8perm+12(SB)/4, $0
DATA ·q8perm+16(SB)/4, $1
DATA ·q8perm+20(SB)/4, $1
DATA ·q8perm+24(SB)/4, $1
DATA ·q8perm+28(SB)/4, $1
DATA ·q8perm+32(SB)/4, $2
DATA ·q8perm+36(SB)/4, $2
DATA ·q8perm+40(SB)/4, $2
DATA ·q8perm+44(SB)/4, $2
DATA ·q8perm+48(SB)/4, $3
DATA ·q8perm+52(SB)/4, $3
DATA ·q8perm+56(SB)/4, $3
DATA ·q8perm+60(SB)/4, $3
GLOBL ·q8perm(SB), RODATA|NOPTR, $64
DATA ·q8pick+0(SB)/4, $0
DATA ·q8pick+4(SB)/4, $4
DATA ·q8pick+8(SB)/4, $8
DATA ·q8pick+12(SB)/4, $12
DATA ·q8pick+16(SB)/4, $0
DATA ·q8pick+20(SB)/4, $0
DATA ·q8pick+24(SB)/4, $0
DATA ·q8pick+28(SB)/4, $0
DATA ·q8pick+32(SB)/4, $0
DATA ·q8pick+36(SB)/4, $0
DATA ·q8pick+40(SB)/4, $0
DATA ·q8pick+44(SB)/4, $0
DATA ·q8pick+48(SB)/4, $0
DATA ·q8pick+52(SB)/4, $0
DATA ·q8pick+56(SB)/4, $0
DATA ·q8pick+60(SB)/4, $0
GLOBL ·q8pick(SB), RODATA|NOPTR, $64

// func dotNq8AVX512(q *int8, s *uint16, xq *int16, xs *float32, nblk, pf int, y *float32, ngroups, gblk int, smul float32, add int)
//
// y[4g+i] = (or +=) smul * (row 4g+i · x) for ngroups groups of four q8
// rows gblk blocks apart (layout: see q8at). Per block, each of its four
// 32-byte chunks (the rows' columns 8k..8k+7) is widened to a register
// holding one row per 128-bit lane and multiplied with those columns of
// x, broadcast to the four lanes; the products are summed exactly in
// int32 (VPMADDWD, then VPDPWSSD), converted once and accumulated with
// the block's scales (each row's times x's) spread over the row's lane.
// The four lanes of a row are summed at the end, (l0+l2)+(l1+l3).
// Needs AVX-512 VNNI. dot4q8x4NAVX512 does the same arithmetic.
TEXT ·dotNq8AVX512(SB), NOSPLIT, $0-88
	MOVQ q+0(FP), R12
	MOVQ s+8(FP), R13
	MOVQ pf+40(FP), R9
	MOVQ y+48(FP), DI
	MOVL $0x38000000, R10
	VMOVD R10, X11
	VPBROADCASTD X11, X11
	VMOVDQU32 ·q8perm(SB), Z14
	VMOVDQU32 ·q8pick(SB), Z3

nq8z_group:
	CMPQ ngroups+56(FP), $0
	JEQ  nq8z_end
	MOVQ R12, AX
	MOVQ R13, BX
	MOVQ xq+16(FP), CX
	MOVQ xs+24(FP), R8
	MOVQ nblk+32(FP), DX
	VXORPS Z0, Z0, Z0

nq8z_loop:
	TESTQ DX, DX
	JEQ   nq8z_done
	PREFETCHT0 (AX)(R9*1)
	PREFETCHT0 64(AX)(R9*1)
	Q8BLOCK
	Q8VEC(CX, R8, Z0)
	ADDQ $128, AX
	ADDQ $8, BX
	ADDQ $64, CX
	ADDQ $4, R8
	DECQ DX
	JMP  nq8z_loop

nq8z_done:
	Q8ROWS(Z0)
	VBROADCASTSS smul+72(FP), X2
	VMULPS X2, X1, X0
	YOUT(add+80(FP))
	MOVQ gblk+64(FP), R10
	SHLQ $7, R10
	ADDQ R10, R12
	MOVQ gblk+64(FP), R10
	SHLQ $3, R10
	ADDQ R10, R13
	DECQ ngroups+56(FP)
	JMP  nq8z_group

nq8z_end:
	VZEROUPPER
	RET

// One 32-byte chunk of a q8 block at 256 bits: rows 0-1 (at QA) and 2-3
// (at QB) widened, times x's eight columns in both 128-bit halves of XV,
// summed into the int32 accumulators I01 and I23.
#define Q8CHUNK(QA, QB, XOFF, I01, I23) \
	VBROADCASTI128 XOFF(CX), Y8; \
	VPMOVSXBW QA, Y4; \
	VPMADDWD Y8, Y4, Y4; \
	VPADDD Y4, I01, I01; \
	VPMOVSXBW QB, Y5; \
	VPMADDWD Y8, Y5, Y5; \
	VPADDD Y5, I23, I23

// func dotNq8AVX(q *int8, s *uint16, xq *int16, xs *float32, nblk, pf int, y *float32, ngroups, gblk int, smul float32, add int)
//
// dotNq8AVX512's arithmetic with 256-bit registers (rows 0-1 in Y0, 2-3
// in Y1; VPMADDWD and VPADDD sum the same int32 values), bit for bit.
TEXT ·dotNq8AVX(SB), NOSPLIT, $0-88
	MOVQ q+0(FP), R12
	MOVQ s+8(FP), R13
	MOVQ pf+40(FP), R9
	MOVQ y+48(FP), DI
	MOVL $0x38000000, R10
	VMOVD R10, X11
	VPBROADCASTD X11, X11
	VMOVDQU ·q8perm(SB), Y14
	VMOVDQU ·q8perm+32(SB), Y15
	VMOVDQU ·q8pick(SB), Y3

nq8_group:
	CMPQ ngroups+56(FP), $0
	JEQ  nq8_end
	MOVQ R12, AX
	MOVQ R13, BX
	MOVQ xq+16(FP), CX
	MOVQ xs+24(FP), R8
	MOVQ nblk+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

nq8_loop:
	TESTQ DX, DX
	JEQ   nq8_done
	PREFETCHT0 (AX)(R9*1)
	PREFETCHT0 64(AX)(R9*1)
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	Q8CHUNK(0(AX), 16(AX), 0, Y12, Y13)
	Q8CHUNK(32(AX), 48(AX), 16, Y12, Y13)
	Q8CHUNK(64(AX), 80(AX), 32, Y12, Y13)
	Q8CHUNK(96(AX), 112(AX), 48, Y12, Y13)
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13
	VPMOVZXWD (BX), X9
	VPSLLD $13, X9, X9
	VPADDD X11, X9, X9
	VBROADCASTSS (R8), X10
	VMULPS X10, X9, X9
	VPERMPS Y9, Y14, Y10
	VPERMPS Y9, Y15, Y2
	VFMADD231PS Y10, Y12, Y0
	VFMADD231PS Y2, Y13, Y1
	ADDQ $128, AX
	ADDQ $8, BX
	ADDQ $64, CX
	ADDQ $4, R8
	DECQ DX
	JMP  nq8_loop

nq8_done:
	Q8ROWS2(Y0, Y2)
	Q8ROWS2(Y1, Y2)
	VPERMPS Y0, Y3, Y0
	VPERMPS Y1, Y3, Y1
	VUNPCKLPD X1, X0, X0
	VBROADCASTSS smul+72(FP), X2
	VMULPS X2, X0, X0
	YOUT(add+80(FP))
	MOVQ gblk+64(FP), R10
	SHLQ $7, R10
	ADDQ R10, R12
	MOVQ gblk+64(FP), R10
	SHLQ $3, R10
	ADDQ R10, R13
	DECQ ngroups+56(FP)
	JMP  nq8_group

nq8_end:
	VZEROUPPER
	RET

// func quantAVX512(x *float32, q *int16, s *float32, nblk int)
//
// qvec.quantize for nblk whole blocks of 32: s[b] = max|x| / 32767 and
// q = x / s[b] rounded to nearest (even), or all zero when max|x| is 0.
TEXT ·quantAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ q+8(FP), DI
	MOVQ s+16(FP), BX
	MOVQ nblk+24(FP), DX
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Z15
	MOVL $0x46fffe00, AX
	VMOVD AX, X14
	MOVL $0x3f800000, AX
	VMOVD AX, X13
	VXORPS X12, X12, X12

quant_loop:
	TESTQ DX, DX
	JEQ   quant_done
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VPANDD Z15, Z0, Z2
	VPANDD Z15, Z1, Z3
	VMAXPS Z3, Z2, Z2
	VEXTRACTF64X4 $1, Z2, Y3
	VMAXPS Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VMAXPS X3, X2, X2
	VPERMILPS $0x4e, X2, X3
	VMAXPS X3, X2, X2
	VPERMILPS $0xb1, X2, X3
	VMAXPS X3, X2, X2
	VDIVSS X14, X2, X4
	VMOVSS X4, (BX)
	VUCOMISS X12, X2
	JEQ quant_zero
	VDIVSS X4, X13, X6
	VBROADCASTSS X6, Z6
	VMULPS Z6, Z0, Z0
	VMULPS Z6, Z1, Z1
	VCVTPS2DQ Z0, Z0
	VCVTPS2DQ Z1, Z1
	VPMOVDW Z0, (DI)
	VPMOVDW Z1, 32(DI)
	JMP quant_next

quant_zero:
	VPXORD Z0, Z0, Z0
	VMOVDQU64 Z0, (DI)

quant_next:
	ADDQ $128, SI
	ADDQ $64, DI
	ADDQ $4, BX
	DECQ DX
	JMP  quant_loop

quant_done:
	VZEROUPPER
	RET

#define BCONST(imm, Z) \
	MOVL $imm, AX; \
	VMOVD AX, X9; \
	VPBROADCASTD X9, Z

// func geluNewAVX512(x *float32, n int)
//
// GPT-2's tanh GELU in place over n floats (a multiple of 16), as
// x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3), which is
// 0.5 x (1 + tanh u); exp as 2^t = 2^round(t) * p(t - round(t)), p the
// degree-6 Taylor polynomial of 2^f (relative error about 1e-7).
TEXT ·geluNewAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), DX
	BCONST(0x3d372713, Z10)
	BCONST(0xbfcc422a, Z11)
	BCONST(0x3fb8aa3b, Z12)
	BCONST(0x3f800000, Z13)
	BCONST(0x3f317218, Z14)
	BCONST(0x3e75fdf0, Z15)
	BCONST(0x3d635847, Z16)
	BCONST(0x3c1d955b, Z17)
	BCONST(0x3aaec3ff, Z18)
	BCONST(0x39218489, Z19)

gelu_loop:
	CMPQ DX, $16
	JLT  gelu_done
	VMOVUPS (SI), Z0
	VMULPS Z0, Z0, Z1
	VMULPS Z0, Z1, Z1
	VFMADD213PS Z0, Z10, Z1
	VMULPS Z11, Z1, Z1
	VMULPS Z12, Z1, Z1
	VRNDSCALEPS $0, Z1, Z2
	VSUBPS Z2, Z1, Z1
	VMOVAPS Z19, Z3
	VFMADD213PS Z18, Z1, Z3
	VFMADD213PS Z17, Z1, Z3
	VFMADD213PS Z16, Z1, Z3
	VFMADD213PS Z15, Z1, Z3
	VFMADD213PS Z14, Z1, Z3
	VFMADD213PS Z13, Z1, Z3
	VSCALEFPS Z2, Z3, Z3
	VADDPS Z13, Z3, Z3
	VDIVPS Z3, Z0, Z0
	VMOVUPS Z0, (SI)
	ADDQ $64, SI
	SUBQ $16, DX
	JMP  gelu_loop

gelu_done:
	VZEROUPPER
	RET

// func expAVX512(x *float32, n int)
//
// exp in place over n floats (a multiple of 16), as in geluNewAVX512:
// 2^round(t) * p(t - round(t)), t = x log2(e); relative error about 1e-7.
TEXT ·expAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), DX
	BCONST(0x3fb8aa3b, Z12)
	BCONST(0x3f800000, Z13)
	BCONST(0x3f317218, Z14)
	BCONST(0x3e75fdf0, Z15)
	BCONST(0x3d635847, Z16)
	BCONST(0x3c1d955b, Z17)
	BCONST(0x3aaec3ff, Z18)
	BCONST(0x39218489, Z19)

exp_loop:
	CMPQ DX, $16
	JLT  exp_done
	VMOVUPS (SI), Z1
	VMULPS Z12, Z1, Z1
	VRNDSCALEPS $0, Z1, Z2
	VSUBPS Z2, Z1, Z1
	VMOVAPS Z19, Z3
	VFMADD213PS Z18, Z1, Z3
	VFMADD213PS Z17, Z1, Z3
	VFMADD213PS Z16, Z1, Z3
	VFMADD213PS Z15, Z1, Z3
	VFMADD213PS Z14, Z1, Z3
	VFMADD213PS Z13, Z1, Z3
	VSCALEFPS Z2, Z3, Z3
	VMOVUPS Z3, (SI)
	ADDQ $64, SI
	SUBQ $16, DX
	JMP  exp_loop

exp_done:
	VZEROUPPER
	RET

// func wsum64AVX512(v *float32, ld int, p *float32, n int, o *float32)
//
// o[:64] = sum over u < n of p[u] * v[u*ld:][:64], each element summed in
// order of u with fused multiply-adds, as axpyAVX does one u at a time.
TEXT ·wsum64AVX512(SB), NOSPLIT, $0-40
	MOVQ v+0(FP), SI
	MOVQ ld+8(FP), BX
	SHLQ $2, BX
	MOVQ p+16(FP), R8
	MOVQ n+24(FP), DX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

wsum_loop:
	TESTQ DX, DX
	JEQ   wsum_done
	VBROADCASTSS (R8), Z4
	VFMADD231PS 0(SI), Z4, Z0
	VFMADD231PS 64(SI), Z4, Z1
	VFMADD231PS 128(SI), Z4, Z2
	VFMADD231PS 192(SI), Z4, Z3
	ADDQ BX, SI
	ADDQ $4, R8
	DECQ DX
	JMP  wsum_loop

wsum_done:
	MOVQ o+32(FP), DI
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VZEROUPPER
	RET
