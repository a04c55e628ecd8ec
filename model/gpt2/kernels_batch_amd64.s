//go:build amd64 && !purego

#include "textflag.h"

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

// One vector against the four rows in Z4-Z7 (int16) for one block: xq at
// XQ, its block scale at XS, row scales (float32, X9) times it stored at
// SLOT(SP), accumulated into A0-A3 as dotNq8AVX512 does for one vector.
#define Q8VEC(XQ, XS, SLOT, A0, A1, A2, A3) \
	VMOVDQU64 (XQ), Z8; \
	VBROADCASTSS (XS), X10; \
	VMULPS X10, X9, X12; \
	VMOVUPS X12, SLOT(SP); \
	VPMADDWD Z8, Z4, Z0; \
	VPMADDWD Z8, Z5, Z1; \
	VPMADDWD Z8, Z6, Z2; \
	VPMADDWD Z8, Z7, Z3; \
	VCVTDQ2PS Z0, Z0; \
	VCVTDQ2PS Z1, Z1; \
	VCVTDQ2PS Z2, Z2; \
	VCVTDQ2PS Z3, Z3; \
	VFMADD231PS.BCST SLOT(SP), Z0, A0; \
	VFMADD231PS.BCST SLOT+4(SP), Z1, A1; \
	VFMADD231PS.BCST SLOT+8(SP), Z2, A2; \
	VFMADD231PS.BCST SLOT+12(SP), Z3, A3

// Adds the halves of four 512-bit accumulators as dotNq8AVX512 does and
// stores the four row sums at dst.
#define Q8OUT(A0, A1, A2, A3, Y0L, Y1L, Y2L, Y3L, dst) \
	VEXTRACTF64X4 $1, A0, Y4; \
	VADDPS Y4, Y0L, Y0; \
	VEXTRACTF64X4 $1, A1, Y5; \
	VADDPS Y5, Y1L, Y1; \
	VEXTRACTF64X4 $1, A2, Y6; \
	VADDPS Y6, Y2L, Y2; \
	VEXTRACTF64X4 $1, A3, Y7; \
	VADDPS Y7, Y3L, Y3; \
	HSUM4B(Y0, Y1, Y2, Y3, X0, dst)

// func dot4q8x4AVX512(q *int8, s *uint16, xq *[4]*int16, xs *[4]*float32, nblk, pf int, out *[16]float32)
//
// dotNq8AVX512 for four vectors at once: each block of the four rows is
// loaded and widened once and applied to every vector, with one set of
// accumulators per vector (Z16-Z31), in the single kernel's order.
TEXT ·dot4q8x4AVX512(SB), NOSPLIT, $64-56
	MOVL $0x38000000, DX
	VMOVD DX, X11
	VPBROADCASTD X11, X11
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
	MOVQ pf+40(FP), R9
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

q8x4_loop:
	TESTQ DX, DX
	JEQ   q8x4_done
	PREFETCHT0 (AX)(R9*1)
	PREFETCHT0 64(AX)(R9*1)
	// the four rows' float16 scales as float32 (see SCALES4)
	VPMOVZXWD (BX), X9
	VPSLLD $13, X9, X9
	VPADDD X11, X9, X9
	VPMOVSXBW 0(AX), Z4
	VPMOVSXBW 32(AX), Z5
	VPMOVSXBW 64(AX), Z6
	VPMOVSXBW 96(AX), Z7
	Q8VEC(CX, R8, 0, Z16, Z17, Z18, Z19)
	Q8VEC(SI, R12, 16, Z20, Z21, Z22, Z23)
	Q8VEC(DI, R13, 32, Z24, Z25, Z26, Z27)
	Q8VEC(R11, R10, 48, Z28, Z29, Z30, Z31)
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
	JMP  q8x4_loop

q8x4_done:
	MOVQ out+48(FP), DI
	Q8OUT(Z16, Z17, Z18, Z19, Y16, Y17, Y18, Y19, (DI))
	Q8OUT(Z20, Z21, Z22, Z23, Y20, Y21, Y22, Y23, 16(DI))
	Q8OUT(Z24, Z25, Z26, Z27, Y24, Y25, Y26, Y27, 32(DI))
	Q8OUT(Z28, Z29, Z30, Z31, Y28, Y29, Y30, Y31, 48(DI))
	VZEROUPPER
	RET

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
