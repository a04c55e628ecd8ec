//go:build amd64 && !purego

package gpt2

import "golang.org/x/sys/cpu"

// haveBatch512 says the multi-vector AVX-512 kernels can run (they use
// registers 16-31 at 256 bits too: AVX-512 VL).
var haveBatch512 = haveAVX512 && cpu.X86.HasAVX512VL

// dot4q8x4AVX512 sets out[4v:4v+4] to what dot4q8(q, s, xq[v], xs[v],
// nblk, pf, out[4v:]) sets, bit for bit, for v < 4: the four rows' blocks
// are read, widened and scaled once for the four vectors. Needs AVX-512
// VNNI.
//
//go:noescape
func dot4q8x4AVX512(q *int8, s *uint16, xq *[4]*int16, xs *[4]*float32, nblk, pf int, out *[16]float32)

// dotNilv4AVX512 is dotNilvAVX512 for the four vectors x[v] into y[v]
// (each y[v] the first of its ngroups*4 outputs): every vector's sums are
// the single kernel's, bit for bit; each weight chunk is loaded once.
//
//go:noescape
func dotNilv4AVX512(w *float32, x *[4]*float32, nchunk, gstride int, y *[4]*float32, ngroups, add int)

// dot4q8x4NAVX512 is dot4q8x4AVX512 over ngroups groups gblk blocks
// apart, each vector's results (times smul) set (add == 0) or added into
// y[v] as dotNq8AVX512 sets them, bit for bit.
//
//go:noescape
func dot4q8x4NAVX512(q *int8, s *uint16, xq *[4]*int16, xs *[4]*float32, nblk, pf int, y *[4]*float32, ngroups, gblk int, smul float32, add int)
