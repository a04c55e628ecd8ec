// The q8 kernels' shared steps (kernels_amd64.s, kernels_batch_amd64.s):
// the single and the multi-vector kernels must do the same arithmetic,
// bit for bit, so both are written with these.

// One block of a group of four q8 rows (layout: see q8at) at AX, its four
// float16 scales at BX: the scales widened to float32 (X11: 112<<23 in
// each lane) and spread over their rows' 128-bit lanes (Z14: q8perm) into
// Z9, the four 32-byte chunks widened to int16 into Z4-Z7.
#define Q8BLOCK \
	VPMOVZXWD (BX), X9; \
	VPSLLD $13, X9, X9; \
	VPADDD X11, X9, X9; \
	VPERMPS Z9, Z14, Z9; \
	VPMOVSXBW 0(AX), Z4; \
	VPMOVSXBW 32(AX), Z5; \
	VPMOVSXBW 64(AX), Z6; \
	VPMOVSXBW 96(AX), Z7

// One vector (int16 values at XQ, its block scale at XS) against the block
// Q8BLOCK loaded: each chunk's eight columns of x broadcast to the four
// lanes, the products summed exactly in int32 (VPMADDWD, then VPDPWSSD),
// converted once and accumulated into ACC times the rows' scales times
// x's. Clobbers Z1, Z2, Z8, Z12, Z13, Z15. (Reading x already repeated
// four times, rather than broadcasting it, made GenerateBatch slower:
// four times the bytes from the caches.)
#define Q8VEC(XQ, XS, ACC) \
	VBROADCASTI32X4 0(XQ), Z8; \
	VBROADCASTI32X4 16(XQ), Z12; \
	VBROADCASTI32X4 32(XQ), Z13; \
	VBROADCASTI32X4 48(XQ), Z15; \
	VPMADDWD Z8, Z4, Z1; \
	VPDPWSSD Z12, Z5, Z1; \
	VPDPWSSD Z13, Z6, Z1; \
	VPDPWSSD Z15, Z7, Z1; \
	VCVTDQ2PS Z1, Z1; \
	VMULPS.BCST (XS), Z9, Z2; \
	VFMADD231PS Z2, Z1, ACC

// The four row sums of ACC (each row's four lanes, (l0+l2)+(l1+l3)) into
// X1, before the matrix's smul (Z3: q8pick). Clobbers ACC.
#define Q8ROWS(ACC) \
	VPERMILPS $0x4E, ACC, Z1; \
	VADDPS Z1, ACC, ACC; \
	VPERMILPS $0xB1, ACC, Z1; \
	VADDPS Z1, ACC, ACC; \
	VPERMPS ACC, Z3, Z1

// Q8ROWS at 256 bits for the two rows of Y (one per 128-bit half): the
// sums end in elements 0 and 4. Clobbers T.
#define Q8ROWS2(Y, T) \
	VPERMILPS $0x4E, Y, T; \
	VADDPS T, Y, Y; \
	VPERMILPS $0xB1, Y, T; \
	VADDPS T, Y, Y
