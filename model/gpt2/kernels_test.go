package gpt2

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
)

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func close32(a, b float32, scale float64) bool {
	return math.Abs(float64(a)-float64(b)) <= 1e-5*scale+1e-6
}

// TestKernelsAgree checks the assembly kernels (when the CPU has them)
// against the portable ones, and q8 against its dequantised weights.
func TestKernelsAgree(t *testing.T) {
	if !haveAsm {
		t.Log("no AVX2/FMA: only the portable kernels run here")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, K := range []int{1, 7, 8, 20, 33, 64, 100, 768} {
		for _, rows := range []int{1, 3, 4, 5, 13} {
			for _, c := range []struct {
				q8 bool
				pw int
			}{{false, 0}, {true, 0}, {false, 8}, {false, 64}, {true, 32}, {true, 64}} {
				q8 := c.q8
				w := randVec(r, rows*K)
				m := matrix{rows: rows, cols: K, pw: c.pw}
				if q8 {
					m.quantize(w)
				} else {
					m.setF(w)
				}
				deq := make([]float32, rows*K)
				for i := 0; i < rows; i++ {
					m.row(i, deq[i*K:(i+1)*K])
				}
				if !q8 && !slices.Equal(deq, w) {
					t.Fatalf("K=%d rows=%d pw=%d: row() does not give back the weights", K, rows, c.pw)
				}
				for _, T := range []int{1, 2, 4, 5, 9} {
					X := randVec(r, T*K)
					want := make([]float32, T*rows)
					for tt := 0; tt < T; tt++ {
						for i := 0; i < rows; i++ {
							var s float64
							for k := 0; k < K; k++ {
								s += float64(deq[i*K+k]) * float64(X[tt*K+k])
							}
							want[tt*rows+i] = float32(s)
						}
					}
					scale := math.Sqrt(float64(K)) * 4
					for _, portable := range []bool{false, true} {
						ForcePortable = portable
						got := make([]float32, T*rows)
						scr := make([]float32, 3*K)
						if T == 1 {
							matVec(&m, X, nil, got, 0, rows)
						} else {
							matMul(&m, X, T, got, rows, 0, rows, scr)
						}
						tol := scale
						if q8 {
							tol = scale * 10 // x is quantised to int16 too
						}
						for i := range got {
							if !close32(got[i], want[i], tol) {
								t.Fatalf("K=%d rows=%d T=%d q8=%v pw=%d portable=%v: [%d] got %v want %v", K, rows, T, q8, c.pw, portable, i, got[i], want[i])
							}
						}
						// dot and axpy
						a, b := X[:K], deq[:K]
						var s float64
						for k := range a {
							s += float64(a[k]) * float64(b[k])
						}
						if d := dot(a, b); !close32(d, float32(s), scale) {
							t.Fatalf("dot K=%d portable=%v: %v want %v", K, portable, d, s)
						}
						y := append([]float32(nil), b...)
						axpy(y, 0.5, a)
						for k := range y {
							if !close32(y[k], b[k]+0.5*a[k], 1) {
								t.Fatalf("axpy K=%d portable=%v at %d", K, portable, k)
							}
						}
					}
					ForcePortable = false
				}
			}
		}
	}
}

func TestQuantizeError(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	w := randVec(r, 64*96)
	m := matrix{rows: 64, cols: 96}
	m.quantize(w)
	row := make([]float32, 96)
	var worst float64
	for i := 0; i < 64; i++ {
		m.row(i, row)
		for b := 0; b < 3; b++ {
			var amax float64
			for k := b * 32; k < b*32+32; k++ {
				amax = max(amax, math.Abs(float64(w[i*96+k])))
			}
			for k := b * 32; k < b*32+32; k++ {
				worst = max(worst, math.Abs(float64(row[k]-w[i*96+k]))/amax)
			}
		}
	}
	if worst > 0.5/127*(1+1.0/1024)+1e-7 { // half a step; the float16 scale rounds by up to 2^-11
		t.Fatalf("q8 rounding error %.4g of block max, want <= half a step", worst)
	}
}

func TestIdleCores(t *testing.T) {
	n := IdleCores()
	if n < 1 || n > runtime.NumCPU() {
		t.Fatalf("IdleCores %d outside 1..%d", n, runtime.NumCPU())
	}
	if p := newPool(3); p.size() != 3 {
		t.Fatal("explicit thread count ignored")
	}
}

func TestRunCoversOnce(t *testing.T) {
	for _, k := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, 5, 64, 1001} {
			for _, align := range []int{1, 3, 4} {
				hits := make([]int32, n)
				var mu sync.Mutex
				run(k, n, align, func(part, lo, hi int) {
					if part < 0 || part >= max(k, 1) || lo%align != 0 && lo != 0 {
						t.Errorf("part %d lo %d", part, lo)
					}
					mu.Lock()
					for i := lo; i < hi; i++ {
						hits[i]++
					}
					mu.Unlock()
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("k=%d n=%d align=%d: index %d done %d times", k, n, align, i, h)
					}
				}
			}
		}
	}
}

// kernelVariants are the kernel sets this CPU can run: "avx512" (q8 only),
// "avx2", "portable".
func kernelVariants() []string {
	v := []string{"portable"}
	if haveAsm {
		v = append(v, "avx2")
	}
	if haveAVX512 {
		v = append(v, "avx512")
	}
	return v
}

// useVariant selects a kernel set until the test or benchmark ends.
func useVariant(tb testing.TB, v string) {
	oldP, oldA := ForcePortable, forceAVX2
	ForcePortable, forceAVX2 = v == "portable", v == "avx2"
	tb.Cleanup(func() { ForcePortable, forceAVX2 = oldP, oldA })
}

// TestQ8KernelVariants checks every q8 matrix-vector kernel this CPU runs
// against the portable one, on rows that do not fill a group and columns
// that do not fill a block.
func TestQ8KernelVariants(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, K := range []int{32, 40, 96, 768, 3072} {
		for _, rows := range []int{4, 7, 64} {
			w := randVec(r, rows*K)
			x := randVec(r, K)
			m := matrix{rows: rows, cols: K}
			m.quantize(w)
			want := make([]float32, rows)
			useVariant(t, "portable")
			matVec(&m, x, nil, want, 0, rows)
			for _, v := range kernelVariants() {
				useVariant(t, v)
				got := make([]float32, rows)
				matVec(&m, x, nil, got, 0, rows)
				for i := range got {
					if !close32(got[i], want[i], 10*math.Sqrt(float64(K))) {
						t.Fatalf("%s K=%d rows=%d: y[%d] = %v, portable %v", v, K, rows, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkMatVec runs one matrix-vector product on one goroutine over
// the lm_head shape (50257 x 768, larger than the caches) and reports the
// weight bytes streamed per second.
func BenchmarkMatVec(b *testing.B) {
	const rows, K = 50257, 768
	r := rand.New(rand.NewPCG(7, 8))
	w := randVec(r, rows*K)
	x := randVec(r, K)
	y := make([]float32, rows)
	for _, quant := range []string{"f32", "q8", "q4"} {
		m := matrix{rows: rows, cols: K}
		bytes := int64(rows * K * 4)
		switch quant {
		case "q8":
			m.quantize(w)
			bytes = int64(len(m.q) + 2*len(m.s))
		case "q4":
			m.quantize4(w)
			bytes = int64(len(m.q) + 2*len(m.s))
		default:
			m.setF(w)
		}
		for _, v := range kernelVariants() {
			if v == "avx512" && (quant == "f32" || quant == "q4" && !haveVNNI) {
				continue
			}
			b.Run(quant+"/"+v, func(b *testing.B) {
				useVariant(b, v)
				b.SetBytes(bytes)
				for i := 0; i < b.N; i++ {
					matVec(&m, x, nil, y, 0, rows)
				}
			})
		}
	}
}

// TestQuantizeAVX512 checks the AVX-512 activation quantiser against the
// portable one: the same scales, values within one step (ties round to
// even there), zero blocks zero, a partial last block done in Go.
func TestQuantizeAVX512(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{32, 96, 100, 768, 3072 + 5} {
		x := randVec(r, n)
		if n >= 64 {
			clear(x[32:64]) // an all-zero block
		}
		nb := (n + qblock - 1) / qblock
		fast, slow := newQvec(nb), newQvec(nb)
		fast.quantize(x, 0, nb)
		ForcePortable = true
		slow.quantize(x, 0, nb)
		ForcePortable = false
		for b := 0; b < nb; b++ {
			if fast.s[b] != slow.s[b] {
				t.Fatalf("n=%d block %d: scale %g, portable %g", n, b, fast.s[b], slow.s[b])
			}
		}
		for i := range fast.q {
			if d := int(fast.q[i]) - int(slow.q[i]); d < -1 || d > 1 {
				t.Fatalf("n=%d value %d: %d, portable %d", n, i, fast.q[i], slow.q[i])
			}
		}
	}
}

// TestGeluAVX512 checks the AVX-512 GELU against the float64 formula over
// a wide range (including values whose exponentials overflow float32).
func TestGeluAVX512(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512")
	}
	var x []float32
	for v := -60.0; v <= 60; v += 0.0137 {
		x = append(x, float32(v))
	}
	x = append(x, 0, -0.0, 1e-30, -1e-30, 3e4, -3e4, 1e-5)
	got := append([]float32(nil), x...)
	activate("gelu_new", got)
	var worst float64
	for i, v := range x {
		f := float64(v)
		want := 0.5 * f * (1 + math.Tanh(0.7978845608028654*(f+0.044715*f*f*f)))
		e := math.Abs(float64(got[i])-want) / math.Max(math.Abs(want), 1e-3)
		worst = math.Max(worst, e)
		if math.IsNaN(float64(got[i])) || e > 2e-6 {
			t.Fatalf("gelu(%g) = %g, want %g", v, got[i], want)
		}
	}
	t.Logf("largest error %.2g (relative, or absolute below 1e-3)", worst)
}

// TestAttendAVX512 checks attention with the AVX-512 exp and weighted sum
// (head width 64, as in every GPT-2 size) against float64 arithmetic, and
// exp against math.Exp.
func TestAttendAVX512(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512")
	}
	x := []float32{0, -1e-3, -0.5, -1, -7.25, -20, -87, -88.5, -100, -1e4, 0.5, 3, 10, 40, 80, -3.3, -2}
	got := append([]float32(nil), x[:16]...)
	expAVX512(&got[0], 16)
	for i, v := range got {
		want := math.Exp(float64(x[i]))
		if d := math.Abs(float64(v)-want) / math.Max(want, 1e-30); d > 1e-6 && math.Abs(float64(v)-want) > 1e-37 {
			t.Fatalf("exp(%g) = %g, want %g", x[i], v, want)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	const E, hd, off = 768, 64, 128
	for _, n := range []int{1, 7, 16, 33, 160} {
		k, v, q := randVec(r, n*E), randVec(r, n*E), randVec(r, hd)
		for i := range q {
			q[i] *= 8
		}
		o := make([]float32, hd)
		attend(o, q, k, v, E, off, n, 0.125, make([]float32, n))
		s := make([]float64, n)
		mx := math.Inf(-1)
		for u := range s {
			for j := 0; j < hd; j++ {
				s[u] += float64(q[j]) * float64(k[u*E+off+j])
			}
			s[u] *= 0.125
			mx = math.Max(mx, s[u])
		}
		var sum float64
		for u := range s {
			s[u] = math.Exp(s[u] - mx)
			sum += s[u]
		}
		for j := 0; j < hd; j++ {
			var want float64
			for u := range s {
				want += s[u] / sum * float64(v[u*E+off+j])
			}
			if math.Abs(float64(o[j])-want) > 1e-5 {
				t.Fatalf("n=%d: o[%d] = %g, want %g", n, j, o[j], want)
			}
		}
	}
}

// TestQ8KernelsBitIdentical: given the same quantised vector, the AVX2 and
// AVX-512 q8 kernels sum the same int32 values and do the same float
// operations per lane, so their results are equal bit for bit.
func TestQ8KernelsBitIdentical(t *testing.T) {
	if !haveVNNI {
		t.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, K := range []int{32, 96, 768, 3072} {
		const rows = 64
		m := matrix{rows: rows, cols: K}
		m.quantize(randVec(r, rows*K))
		x := randVec(r, K)
		qx := quantizeX(x, m.nblk)
		a, b := make([]float32, rows), make([]float32, rows)
		useVariant(t, "avx2")
		matVec(&m, x, qx, a, 0, rows)
		useVariant(t, "avx512")
		matVec(&m, x, qx, b, 0, rows)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("K=%d row %d: AVX2 %v, AVX-512 %v", K, i, a[i], b[i])
			}
		}
	}
}
