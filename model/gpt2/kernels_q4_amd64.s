//go:build amd64 && !purego

#include "textflag.h"

// q4perm: VPERMPS indices spreading four scales over four 128-bit lanes
// ([0 0 0 0 1 1 1 1 2 2 2 2 3 3 3 3]); its halves serve two rows each.
DATA q4perm<>+0(SB)/8, $0x0000000000000000
DATA q4perm<>+8(SB)/8, $0x0000000000000000
DATA q4perm<>+16(SB)/8, $0x0000000100000001
DATA q4perm<>+24(SB)/8, $0x0000000100000001
DATA q4perm<>+32(SB)/8, $0x0000000200000002
DATA q4perm<>+40(SB)/8, $0x0000000200000002
DATA q4perm<>+48(SB)/8, $0x0000000300000003
DATA q4perm<>+56(SB)/8, $0x0000000300000003
GLOBL q4perm<>(SB), RODATA|NOPTR, $64

// func dot4q4VNNI(q *int8, s *uint16, xq *int8, xs *float32, xc *int32, nblk, pf int, out *float32)
//
// Per block: the group's 64 bytes (4 rows x 16) in one register; their low
// nibbles are weights 0-15 of each row (one row per 128-bit lane), their
// high nibbles weights 16-31. x's two halves are broadcast to every lane,
// so two VPDPBUSD give each lane four partial sums of its row, started
// from the input's offset correction ([-8*sum, 0, 0, 0] per lane). The
// lanes are scaled by their row's scale times x's and summed in floats.
TEXT ·dot4q4VNNI(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), AX
	MOVQ s+8(FP), BX
	MOVQ xq+16(FP), CX
	MOVQ xs+24(FP), R8
	MOVQ xc+32(FP), R10
	MOVQ nblk+40(FP), DX
	MOVQ pf+48(FP), R9
	MOVL $0x0f0f0f0f, R11
	VPBROADCASTD R11, Z31
	VMOVDQU32 q4perm<>(SB), Z30
	VXORPS Z0, Z0, Z0
	VXORPS Z16, Z16, Z16
	CMPQ DX, $2
	JLT  q4z_one

q4z_two:
	PREFETCHT0 (AX)(R9*1)
	PREFETCHT0 64(AX)(R9*1)
	VMOVDQU64 (AX), Z1
	VMOVDQU64 64(AX), Z17
	VPSRLW $4, Z1, Z2
	VPSRLW $4, Z17, Z18
	VPANDD Z31, Z1, Z1
	VPANDD Z31, Z2, Z2
	VPANDD Z31, Z17, Z17
	VPANDD Z31, Z18, Z18
	VBROADCASTI32X4 (CX), Z3
	VBROADCASTI32X4 16(CX), Z4
	VBROADCASTI32X4 32(CX), Z19
	VBROADCASTI32X4 48(CX), Z20
	VBROADCASTI32X4 (R10), Z5
	VBROADCASTI32X4 16(R10), Z21
	VPDPBUSD Z3, Z1, Z5
	VPDPBUSD Z19, Z17, Z21
	VPDPBUSD Z4, Z2, Z5
	VPDPBUSD Z20, Z18, Z21
	VCVTDQ2PS Z5, Z5
	VCVTDQ2PS Z21, Z21
	VCVTPH2PS (BX), X6
	VCVTPH2PS 8(BX), X22
	VBROADCASTSS (R8), X7
	VBROADCASTSS 4(R8), X23
	VMULPS X7, X6, X6
	VMULPS X23, X22, X22
	VPERMPS Z6, Z30, Z6
	VPERMPS Z22, Z30, Z22
	VFMADD231PS Z6, Z5, Z0
	VFMADD231PS Z22, Z21, Z16
	ADDQ $128, AX
	ADDQ $16, BX
	ADDQ $64, CX
	ADDQ $8, R8
	ADDQ $32, R10
	SUBQ $2, DX
	CMPQ DX, $2
	JGE  q4z_two

q4z_one:
	TESTQ DX, DX
	JEQ   q4z_done
	VMOVDQU64 (AX), Z1
	VPSRLW $4, Z1, Z2
	VPANDD Z31, Z1, Z1
	VPANDD Z31, Z2, Z2
	VBROADCASTI32X4 (CX), Z3
	VBROADCASTI32X4 16(CX), Z4
	VBROADCASTI32X4 (R10), Z5
	VPDPBUSD Z3, Z1, Z5
	VPDPBUSD Z4, Z2, Z5
	VCVTDQ2PS Z5, Z5
	VCVTPH2PS (BX), X6
	VBROADCASTSS (R8), X7
	VMULPS X7, X6, X6
	VPERMPS Z6, Z30, Z6
	VFMADD231PS Z6, Z5, Z0

q4z_done:
	VADDPS Z16, Z0, Z0
	VEXTRACTF32X4 $1, Z0, X1
	VEXTRACTF32X4 $2, Z0, X2
	VEXTRACTF32X4 $3, Z0, X3
	VHADDPS X1, X0, X0
	VHADDPS X3, X2, X2
	VHADDPS X2, X0, X0
	MOVQ out+56(FP), DI
	VMOVUPS X0, (DI)
	VZEROUPPER
	RET

// Two rows of a q4 group (32 bytes at OFF(AX): 16 a row) against the block
// of x (Y2: x[0:16] in both lanes, Y3: x[16:32]), started from the offset
// correction (Y4), scaled by SC ([s_a x4, s_b x4]) into ACC (row a in the
// low lane, row b in the high one).
#define Q4ROWS2(OFF, SC, ACC) \
	VMOVDQU OFF(AX), Y8; \
	VPSRLW $4, Y8, Y9; \
	VPAND Y15, Y8, Y8; \
	VPAND Y15, Y9, Y9; \
	VPMADDUBSW Y2, Y8, Y8; \
	VPMADDUBSW Y3, Y9, Y9; \
	VPADDW Y9, Y8, Y8; \
	VPMADDWD Y14, Y8, Y8; \
	VPADDD Y4, Y8, Y8; \
	VCVTDQ2PS Y8, Y8; \
	VFMADD231PS SC, Y8, ACC

// func dot4q4AVX(q *int8, s *uint16, xq *int8, xs *float32, xc *int32, nblk, pf int, out *float32)
//
// VPMADDUBSW multiplies the unsigned codes with x's signed bytes (sums of
// two products: at most 2*15*127, no saturation), VPMADDWD sums pairs to
// int32; two rows share a register, one per 128-bit lane.
TEXT ·dot4q4AVX(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), AX
	MOVQ s+8(FP), BX
	MOVQ xq+16(FP), CX
	MOVQ xs+24(FP), R8
	MOVQ xc+32(FP), R10
	MOVQ nblk+40(FP), DX
	MOVQ pf+48(FP), R9
	MOVL $0x0f0f0f0f, R11
	VMOVD R11, X15
	VPBROADCASTD X15, Y15
	MOVL $0x00010001, R11
	VMOVD R11, X14
	VPBROADCASTD X14, Y14
	VMOVDQU q4perm<>+0(SB), Y13
	VMOVDQU q4perm<>+32(SB), Y12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

q4y_loop:
	TESTQ DX, DX
	JEQ   q4y_done
	PREFETCHT0 (AX)(R9*1)
	VBROADCASTI128 (CX), Y2
	VBROADCASTI128 16(CX), Y3
	VBROADCASTI128 (R10), Y4
	VCVTPH2PS (BX), X5
	VBROADCASTSS (R8), X6
	VMULPS X6, X5, X5
	VPERMPS Y5, Y13, Y6
	VPERMPS Y5, Y12, Y7
	Q4ROWS2(0, Y6, Y0)
	Q4ROWS2(32, Y7, Y1)
	ADDQ $64, AX
	ADDQ $8, BX
	ADDQ $32, CX
	ADDQ $4, R8
	ADDQ $16, R10
	DECQ DX
	JMP  q4y_loop

q4y_done:
	VPERM2F128 $0x20, Y1, Y0, Y2
	VPERM2F128 $0x31, Y1, Y0, Y3
	VHADDPS Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VHADDPS X3, X2, X2
	MOVQ out+56(FP), DI
	VMOVUPS X2, (DI)
	VZEROUPPER
	RET
