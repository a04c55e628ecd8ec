//go:build !amd64 || purego

package gpt2

const (
	haveAsm    = false
	haveAVX512 = false
)

func dotAVX(a, b *float32, n int) float32     { panic("gpt2: no assembly kernels") }
func axpyAVX(y, x *float32, a float32, n int) { panic("gpt2: no assembly kernels") }
func dot4AVX(w *float32, ldw int, x *float32, n int, out *float32) {
	panic("gpt2: no assembly kernels")
}
func dot3x4AVX(w *float32, ldw int, x *float32, ldx int, n int, out *float32) {
	panic("gpt2: no assembly kernels")
}
func dotNilvAVX512(w *float32, x *float32, nchunk, gstride int, y *float32, ngroups, add int) {
	panic("gpt2: no assembly kernels")
}
func dotNilvAVX(w *float32, x *float32, nchunk, gstride int, y *float32, ngroups, add int) {
	panic("gpt2: no assembly kernels")
}
func dotNq8AVX512(q *int8, s *uint16, xq *int16, xs *float32, nblk, pf int, y *float32, ngroups, gblk int, smul float32, add int) {
	panic("gpt2: no assembly kernels")
}
func dotNq8AVX(q *int8, s *uint16, xq *int16, xs *float32, nblk, pf int, y *float32, ngroups, gblk int, smul float32, add int) {
	panic("gpt2: no assembly kernels")
}
func quantAVX512(x *float32, q *int16, s *float32, nblk int) { panic("gpt2: no assembly kernels") }
func geluNewAVX512(x *float32, n int)                        { panic("gpt2: no assembly kernels") }
func expAVX512(x *float32, n int)                            { panic("gpt2: no assembly kernels") }
func wsum64AVX512(v *float32, ld int, p *float32, n int, o *float32) {
	panic("gpt2: no assembly kernels")
}
