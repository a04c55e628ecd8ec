//go:build !amd64 || purego

package gpt2

const haveBatch512 = false

func dotNilv4AVX512(w *float32, x *[4]*float32, nchunk, gstride int, y *[4]*float32, ngroups, add int) {
	panic("gpt2: no assembly kernels")
}

func dot4q8x4NAVX512(q *int8, s *uint16, xq *[4]*int16, xs *[4]*float32, nblk, pf int, y *[4]*float32, ngroups, gblk int, smul float32, add int) {
	panic("gpt2: no assembly kernels")
}
