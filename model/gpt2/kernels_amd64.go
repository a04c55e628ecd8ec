//go:build amd64 && !purego

package gpt2

import "golang.org/x/sys/cpu"

var haveAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// haveAVX512 says the q8 kernel can use 512-bit registers (AVX-512 F and
// BW, with the OS saving their state, which x/sys/cpu checks).
var haveAVX512 = haveAsm && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// dotAVX returns a·b over n floats; n is a multiple of 8.
//
//go:noescape
func dotAVX(a, b *float32, n int) float32

// axpyAVX does y += a*x over n floats; n is a multiple of 8.
//
//go:noescape
func axpyAVX(y, x *float32, a float32, n int)

// dot4AVX sets out[i] = w[i*ldw:][:n] · x[:n] for i < 4; n is a multiple of 8.
//
//go:noescape
func dot4AVX(w *float32, ldw int, x *float32, n int, out *float32)

// dot3x4AVX sets out[i*4+j] = w[i*ldw:][:n] · x[j*ldx:][:n] for i < 3,
// j < 4; n is a multiple of 8.
//
//go:noescape
func dot3x4AVX(w *float32, ldw int, x *float32, ldx int, n int, out *float32)

// dotNilvAVX512 sets (add == 0) or adds to y[4g+i] the product of row
// 4g+i with x[:16*nchunk], for ngroups groups of four rows stored
// interleaved in chunks of 16 floats per row (see matrix.setF), gstride
// bytes apart. Each row has one 512-bit accumulator whose halves are
// dotNilvAVX's two 8-wide ones, added the same way at the end.
//
//go:noescape
func dotNilvAVX512(w *float32, x *float32, nchunk, gstride int, y *float32, ngroups, add int)

// dotNilvAVX is dotNilvAVX512 with 256-bit registers.
//
//go:noescape
func dotNilvAVX(w *float32, x *float32, nchunk, gstride int, y *float32, ngroups, add int)

// dotNq8AVX512 computes ngroups groups of four q8 rows (see
// matrix.quantize), gblk blocks apart, against x quantised to int16 (see
// quantizeX) over nblk blocks: y[4g+i] is set (add == 0) or added to
// smul * sum over blocks b of f16(s[4b+i]) * xs[b] * (row i of the group's
// block b · xq[32b:][:32]), the block's 128 bytes at q[128b:] in q8at's
// order. It prefetches the weights pf bytes ahead (0: none beyond
// the current line). The scales are positive normal float16 values or 0
// (their blocks are all zero): they are widened with integer shifts, which
// needs no F16C.
//
//go:noescape
func dotNq8AVX512(q *int8, s *uint16, xq *int16, xs *float32, nblk, pf int, y *float32, ngroups, gblk int, smul float32, add int)

// dotNq8AVX is dotNq8AVX512 with 256-bit registers.
//
//go:noescape
func dotNq8AVX(q *int8, s *uint16, xq *int16, xs *float32, nblk, pf int, y *float32, ngroups, gblk int, smul float32, add int)

// quantAVX512 is qvec.quantize for nblk whole blocks (AVX-512): x[:32*nblk]
// into q[:32*nblk] and s[:nblk].
//
//go:noescape
func quantAVX512(x *float32, q *int16, s *float32, nblk int)

// geluNewAVX512 applies GPT-2's tanh GELU in place to x[:n], n a multiple
// of 16.
//
//go:noescape
func geluNewAVX512(x *float32, n int)

// expAVX512 sets x[i] = exp(x[i]) for i < n, n a multiple of 16.
//
//go:noescape
func expAVX512(x *float32, n int)

// wsum64AVX512 sets o[:64] = sum over u < n of p[u] * v[u*ld:][:64].
//
//go:noescape
func wsum64AVX512(v *float32, ld int, p *float32, n int, o *float32)
