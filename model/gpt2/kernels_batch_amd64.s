//go:build amd64 && !purego

#include "textflag.h"
#include "q8_amd64.h"

// Sums the lanes of each row in ACC (Q8ROWS), multiplies the
// four row sums by smul and stores (add == 0) or adds them at vector V's
// output, y[V] + R14 (Z3: q8pick). Clobbers DX.
#define Q8NOUT(ACC, V) \
	Q8ROWS(ACC); \
	VBROADCASTSS smul+72(FP), X2; \
	VMULPS X2, X1, X1; \
	MOVQ y+48(FP), DX; \
	MOVQ V(DX), DX; \
	ADDQ R14, DX; \
	CMPQ add+80(FP), $0; \
	JEQ 2(PC); \
	VADDPS (DX), X1, X1; \
	VMOVUPS X1, (DX)

// Stores (add == 0) or adds the four sums in X0 at (DI); DI += 16 (as in
// kernels_amd64.s).
#define YOUT(add) \
	CMPQ add, $0; \
	JEQ  2(PC); \
	VADDPS (DI), X0, X0; \
	VMOVUPS X0, (DI); \
	ADDQ $16, DI


// Sums each of four Y registers and stores the four sums at dst, exactly
// as HSUM4 in kernels_amd64.s (keep the two the same). Clobbers A, C and
// X15.
#define HSUM4B(A, B, C, D, XA, dst) \
	VHADDPS B, A, A; \
	VHADDPS D, C, C; \
	VHADDPS C, A, A; \
	VEXTRACTF128 $1, A, X15; \
	VADDPS X15, XA, XA; \
	VMOVUPS XA, dst

// The last step of dot4x4AVX512 for one vector: the halves of its four
// accumulators added as dot4AVX adds its two (low, then high) and the
// four sums stored at dst. With TAIL, the last 8 columns (weights in
// Y0-Y3, the vector's at (X)(SI*4)) go into the low halves first, as in
// dot4AVX's d4_loop8.
#define F32OUT(A0, A1, A2, A3, L0, L1, L2, L3, dst) \
	VEXTRACTF64X4 $1, A0, Y8; \
	VEXTRACTF64X4 $1, A1, Y9; \
	VEXTRACTF64X4 $1, A2, Y10; \
	VEXTRACTF64X4 $1, A3, Y11; \
	VADDPS Y8, L0, Y12; \
	VADDPS Y9, L1, Y13; \
	VADDPS Y10, L2, Y14; \
	VADDPS Y11, L3, Y15; \
	HSUM4B(Y12, Y13, Y14, Y15, X12, dst)

#define F32TAIL(X, L0, L1, L2, L3) \
	VMOVUPS (X)(SI*4), Y4; \
	VFMADD231PS Y0, Y4, L0; \
	VFMADD231PS Y1, Y4, L1; \
	VFMADD231PS Y2, Y4, L2; \
	VFMADD231PS Y3, Y4, L3

// Reduces the four 512-bit accumulators A0..A3 (rows 0-3 of one vector)
// as dotNilvAVX512 does and stores or adds the four sums at (DI).
#define ILVOUT(A0, A1, A2, A3, Y0_, Y1_, Y2_, Y3_, X0_) \
	VEXTRACTF64X4 $1, A0, Y4; \
	VADDPS Y4, Y0_, Y0_; \
	VEXTRACTF64X4 $1, A1, Y5; \
	VADDPS Y5, Y1_, Y1_; \
	VEXTRACTF64X4 $1, A2, Y6; \
	VADDPS Y6, Y2_, Y2_; \
	VEXTRACTF64X4 $1, A3, Y7; \
	VADDPS Y7, Y3_, Y3_; \
	VHADDPS Y1_, Y0_, Y0_; \
	VHADDPS Y3_, Y2_, Y2_; \
	VHADDPS Y2_, Y0_, Y0_; \
	VEXTRACTF128 $1, Y0_, X15; \
	VADDPS X15, X0_, X0_

// func dotNilv4AVX512(w *float32, x *[4]*float32, nchunk, gstride int, y *[4]*float32, ngroups, add int)
//
// dotNilvAVX512 for four vectors at once: each weight chunk is loaded
// once for the four; every vector's sums are the single kernel's, bit for
// bit (one accumulator per row and vector, the same reduction).
TEXT ·dotNilv4AVX512(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), R12
	MOVQ x+8(FP), R8
	MOVQ 0(R8), R9
	MOVQ 8(R8), R10
	MOVQ 16(R8), R11
	MOVQ 24(R8), R13
	MOVQ y+32(FP), R8
	MOVQ ngroups+40(FP), BX
	XORQ SI, SI

nilv4_group:
	TESTQ BX, BX
	JEQ   nilv4_end
	MOVQ  R12, AX
	MOVQ  nchunk+16(FP), DX
	XORQ  CX, CX
	VXORPS Z16, Z16, Z16
	VXORPS Z17, Z17, Z17
	VXORPS Z18, Z18, Z18
	VXORPS Z19, Z19, Z19
	VXORPS Z20, Z20, Z20
	VXORPS Z21, Z21, Z21
	VXORPS Z22, Z22, Z22
	VXORPS Z23, Z23, Z23
	VXORPS Z24, Z24, Z24
	VXORPS Z25, Z25, Z25
	VXORPS Z26, Z26, Z26
	VXORPS Z27, Z27, Z27
	VXORPS Z28, Z28, Z28
	VXORPS Z29, Z29, Z29
	VXORPS Z30, Z30, Z30
	VXORPS Z31, Z31, Z31

nilv4_loop:
	TESTQ DX, DX
	JEQ   nilv4_done
	VMOVUPS 0(AX), Z8
	VMOVUPS 64(AX), Z9
	VMOVUPS 128(AX), Z10
	VMOVUPS 192(AX), Z11
	VMOVUPS (R9)(CX*1), Z12
	VMOVUPS (R10)(CX*1), Z13
	VMOVUPS (R11)(CX*1), Z14
	VMOVUPS (R13)(CX*1), Z15
	VFMADD231PS Z12, Z8, Z16
	VFMADD231PS Z12, Z9, Z17
	VFMADD231PS Z12, Z10, Z18
	VFMADD231PS Z12, Z11, Z19
	VFMADD231PS Z13, Z8, Z20
	VFMADD231PS Z13, Z9, Z21
	VFMADD231PS Z13, Z10, Z22
	VFMADD231PS Z13, Z11, Z23
	VFMADD231PS Z14, Z8, Z24
	VFMADD231PS Z14, Z9, Z25
	VFMADD231PS Z14, Z10, Z26
	VFMADD231PS Z14, Z11, Z27
	VFMADD231PS Z15, Z8, Z28
	VFMADD231PS Z15, Z9, Z29
	VFMADD231PS Z15, Z10, Z30
	VFMADD231PS Z15, Z11, Z31
	ADDQ $256, AX
	ADDQ $64, CX
	DECQ DX
	JMP  nilv4_loop

nilv4_done:
	// vector 0
	VMOVAPS Z16, Z0
	VMOVAPS Z17, Z1
	VMOVAPS Z18, Z2
	VMOVAPS Z19, Z3
	ILVOUT(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, X0)
	MOVQ 0(R8), DI
	ADDQ SI, DI
	YOUT(add+48(FP))
	// vector 1
	VMOVAPS Z20, Z0
	VMOVAPS Z21, Z1
	VMOVAPS Z22, Z2
	VMOVAPS Z23, Z3
	ILVOUT(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, X0)
	MOVQ 8(R8), DI
	ADDQ SI, DI
	YOUT(add+48(FP))
	// vector 2
	VMOVAPS Z24, Z0
	VMOVAPS Z25, Z1
	VMOVAPS Z26, Z2
	VMOVAPS Z27, Z3
	ILVOUT(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, X0)
	MOVQ 16(R8), DI
	ADDQ SI, DI
	YOUT(add+48(FP))
	// vector 3
	VMOVAPS Z28, Z0
	VMOVAPS Z29, Z1
	VMOVAPS Z30, Z2
	VMOVAPS Z31, Z3
	ILVOUT(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3, X0)
	MOVQ 24(R8), DI
	ADDQ SI, DI
	YOUT(add+48(FP))
	ADDQ $16, SI
	ADDQ gstride+24(FP), R12
	DECQ BX
	JMP  nilv4_group

nilv4_end:
	VZEROUPPER
	RET

// func dot4q8x4NAVX512(q *int8, s *uint16, xq *[4]*int16, xs *[4]*float32, nblk, pf int, y *[4]*float32, ngroups, gblk int, smul float32, add int)
//
// dotNq8AVX512 for four vectors at once, into y[v] (4 results a group):
// each block of a group's four rows is loaded, widened and scaled once
// for the four, with one accumulator per vector (Z16-Z19). Needs AVX-512
// VNNI.
TEXT ·dot4q8x4NAVX512(SB), NOSPLIT, $0-88
	MOVL $0x38000000, DX
	VMOVD DX, X11
	VPBROADCASTD X11, X11
	VMOVDQU32 ·q8perm(SB), Z14
	VMOVDQU32 ·q8pick(SB), Z3
	XORQ R14, R14
	MOVQ pf+40(FP), R9

q8n_group:
	CMPQ ngroups+56(FP), $0
	JEQ  q8n_end
	MOVQ q+0(FP), AX
	MOVQ s+8(FP), BX
	MOVQ xq+16(FP), R10
	MOVQ 0(R10), CX
	MOVQ 8(R10), SI
	MOVQ 16(R10), DI
	MOVQ 24(R10), R11
	MOVQ xs+24(FP), R10
	MOVQ 0(R10), R8
	MOVQ 8(R10), R12
	MOVQ 16(R10), R13
	MOVQ 24(R10), R10
	MOVQ nblk+32(FP), DX
	VXORPS Z16, Z16, Z16
	VXORPS Z17, Z17, Z17
	VXORPS Z18, Z18, Z18
	VXORPS Z19, Z19, Z19

q8n_loop:
	TESTQ DX, DX
	JEQ   q8n_done
	PREFETCHT0 (AX)(R9*1)
	PREFETCHT0 64(AX)(R9*1)
	Q8BLOCK
	Q8VEC(CX, R8, Z16)
	Q8VEC(SI, R12, Z17)
	Q8VEC(DI, R13, Z18)
	Q8VEC(R11, R10, Z19)
	ADDQ $128, AX
	ADDQ $8, BX
	ADDQ $64, CX
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R11
	ADDQ $4, R8
	ADDQ $4, R12
	ADDQ $4, R13
	ADDQ $4, R10
	DECQ DX
	JMP  q8n_loop

q8n_done:
	Q8NOUT(Z16, 0)
	Q8NOUT(Z17, 8)
	Q8NOUT(Z18, 16)
	Q8NOUT(Z19, 24)
	ADDQ $16, R14
	MOVQ gblk+64(FP), DX
	SHLQ $7, DX
	ADDQ DX, q+0(FP)
	MOVQ gblk+64(FP), DX
	SHLQ $3, DX
	ADDQ DX, s+8(FP)
	DECQ ngroups+56(FP)
	JMP  q8n_group

q8n_end:
	VZEROUPPER
	RET
