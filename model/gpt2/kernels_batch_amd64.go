//go:build amd64 && !purego

package gpt2

import "golang.org/x/sys/cpu"

// haveBatch512 says the multi-vector AVX-512 kernels can run (they use
// registers 16-31 at 256 bits too: AVX-512 VL).
var haveBatch512 = haveAVX512 && cpu.X86.HasAVX512VL

// dotNilv4AVX512 is dotNilvAVX512 for the four vectors x[v] into y[v]
// (each y[v] the first of its ngroups*4 outputs): every vector's sums are
// the single kernel's, bit for bit; each weight chunk is loaded once.
//
//go:noescape
func dotNilv4AVX512(w *float32, x *[4]*float32, nchunk, gstride int, y *[4]*float32, ngroups, add int)

// dot4q8x4NAVX512 is dotNq8AVX512 for the four vectors xq[v], xs[v]
// into y[v] (4 results a group), bit for bit: each block of a group's four
// rows is loaded, widened and scaled once for the four. Needs AVX-512
// VNNI.
//
//go:noescape
func dot4q8x4NAVX512(q *int8, s *uint16, xq *[4]*int16, xs *[4]*float32, nblk, pf int, y *[4]*float32, ngroups, gblk int, smul float32, add int)
