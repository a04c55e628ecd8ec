//go:build amd64 && !purego

package gpt2

import "golang.org/x/sys/cpu"

// haveVNNI says the q4 kernel can use AVX-512 VNNI (VPDPBUSD on 512-bit
// registers, with AVX-512 F, BW and VL).
var haveVNNI = haveAVX512 && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512VL

// haveAsmQ4 says the AVX2 q4 kernel can run: it needs F16C besides AVX2
// and FMA (the scales may be negative float16 values).
var haveAsmQ4 = haveAsm && cpu.X86.HasF16C

// dot4q4AVX computes four rows of a q4 matrix group (see quantize4)
// against x quantised to int8 (see qvec.quantize8): out[i] = sum over nblk
// blocks b of f16(s[4b+i]) * xs[b] * (codes of q[64b+16i:][:16] · xq[32b:][:32]
// + xc[4b]) for i < 4. It prefetches the weights pf bytes ahead (0: none
// beyond the current line).
//
//go:noescape
func dot4q4AVX(q *int8, s *uint16, xq *int8, xs *float32, xc *int32, nblk, pf int, out *float32)

// dot4q4VNNI is dot4q4AVX with AVX-512 VNNI: one VPDPBUSD per half block
// for the four rows together.
//
//go:noescape
func dot4q4VNNI(q *int8, s *uint16, xq *int8, xs *float32, xc *int32, nblk, pf int, out *float32)
