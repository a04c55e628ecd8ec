//go:build !amd64 || purego

package gpt2

const (
	haveVNNI  = false
	haveAsmQ4 = false
)

func dot4q4AVX(q *int8, s *uint16, xq *int8, xs *float32, xc *int32, nblk, pf int, out *float32) {
	panic("gpt2: no assembly kernels")
}
func dot4q4VNNI(q *int8, s *uint16, xq *int8, xs *float32, xc *int32, nblk, pf int, out *float32) {
	panic("gpt2: no assembly kernels")
}
