package gpt2

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestQuantize4Error checks q4's rounding: every weight is rounded with
// its block's stored scale (the nearest of the sixteen levels); with ggml's
// plain scale (no search) the largest-magnitude weight is exact; the
// search lowers the error on Gaussian weights; padding and all-zero blocks
// are zero.
func TestQuantize4Error(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	rmse := map[bool]float64{}
	defer func(old bool) { q4Search = old }(q4Search)
	for _, search := range []bool{false, true} {
		q4Search = search
		var se, ss float64
		for _, c := range []struct{ rows, cols, pw int }{{64, 96, 0}, {7, 45, 0}, {13, 100, 64}, {5, 3, 0}, {64, 768, 0}} {
			w := randVec(r, c.rows*c.cols)
			for k := 0; k < min(32, c.cols); k++ { // row 1, block 0: all zero
				if c.rows > 1 {
					w[c.cols+k] = 0
				}
			}
			m := matrix{rows: c.rows, cols: c.cols, pw: c.pw}
			m.quantize4(w)
			if m.qbits != 4 || len(m.q) != (c.rows+3)/4*m.nblk*4*q4Bytes {
				t.Fatalf("%+v: qbits %d, %d bytes", c, m.qbits, len(m.q))
			}
			row := make([]float32, c.cols)
			for i := 0; i < c.rows; i++ {
				m.row(i, row)
				for b := 0; b < m.nblk; b++ {
					lo, hi := b*qblock, min((b+1)*qblock, c.cols)
					_, si := m.qblk(i, b)
					d := f16ToF32(m.s[si]) * m.smul
					var big float64
					for k := lo; k < hi; k++ {
						big = max(big, math.Abs(float64(w[i*c.cols+k])))
					}
					for k := lo; k < hi; k++ {
						wk := w[i*c.cols+k]
						e := float64(row[k] - wk)
						se += e * e
						ss += float64(wk) * float64(wk)
						if d == 0 {
							if row[k] != 0 {
								t.Fatalf("%+v row %d col %d: scale 0 but weight %v", c, i, k, row[k])
							}
							continue
						}
						// the nearest level: no other code is closer
						code := math.Round(float64(row[k] / d))
						for _, alt := range []float64{code - 1, code + 1} {
							if alt >= -8 && alt <= 7 && math.Abs(alt*float64(d)-float64(wk)) < math.Abs(e)*(1-1e-5)-1e-7 {
								t.Fatalf("%+v search=%v row %d col %d: %v -> %v (code %v), code %v is closer", c, search, i, k, wk, row[k], code, alt)
							}
						}
						if !search && math.Abs(float64(wk)) == big && math.Abs(e) > big/1024 { // -8 * a float16 scale
							t.Fatalf("%+v row %d col %d: the block's largest weight %v came back as %v", c, i, k, wk, row[k])
						}
					}
					if i == 1 && b == 0 && m.s[si] != 0 {
						t.Fatalf("%+v: all-zero block has scale %#x", c, m.s[si])
					}
				}
			}
			// padding: codes 8 (zero weights) past the last column and row
			for g := 0; g < (c.rows+3)/4; g++ {
				for i := 0; i < 4; i++ {
					for b := 0; b < m.nblk; b++ {
						if 4*g+i < c.rows && (b+1)*qblock <= c.cols {
							continue
						}
						q, _ := m.qblk(4*g+i, b)
						for j := 0; j < qblock; j++ {
							col := b*qblock + j
							if 4*g+i < c.rows && col < c.cols {
								continue
							}
							if code := q4code(q, j); code != 8 {
								t.Fatalf("%+v: padding row %d col %d has code %d", c, 4*g+i, col, code)
							}
						}
					}
				}
			}
		}
		rmse[search] = math.Sqrt(se / ss)
	}
	t.Logf("relative RMS weight error: %.4f with ggml's scale, %.4f with the search", rmse[false], rmse[true])
	if rmse[false] > 0.09 || rmse[true] > rmse[false]*0.97 {
		t.Fatalf("relative RMS weight error %.4f (ggml's scale), %.4f (search): want < 0.09 and 3 %% less with the search", rmse[false], rmse[true])
	}
}

func q4code(q []int8, j int) int {
	c := uint8(q[j%q4Bytes])
	if j >= q4Bytes {
		c >>= 4
	}
	return int(c & 15)
}

// TestQ4KernelsAgree checks every q4 kernel this CPU runs (AVX-512 VNNI,
// AVX2, portable): the portable one against the dequantised weights
// (float64), the assembly ones against the same integer arithmetic in Go
// (dotQ4Q8Go) and against the dequantised weights within the error the
// int8 input allows; on rows that do not fill a group, columns that do not
// fill a block, column ranges, panels, adding to y, and matMul (T > 1).
func TestQ4KernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, K := range []int{1, 20, 32, 33, 64, 100, 768, 3072} {
		for _, rows := range []int{1, 3, 4, 5, 13, 64} {
			for _, pw := range []int{0, 32, 64} {
				w := randVec(r, rows*K)
				m := matrix{rows: rows, cols: K, pw: pw}
				m.quantize4(w)
				deq := make([]float32, rows*K)
				for i := 0; i < rows; i++ {
					m.row(i, deq[i*K:(i+1)*K])
				}
				x := randVec(r, K)
				qx := quantizeX(x, m.nblk)
				// column ranges: all, and (with panels) one panel's blocks
				ranges := [][2]int{{0, K}}
				if K > 64 {
					ranges = append(ranges, [2]int{32, 64}, [2]int{64, K})
				}
				for _, cr := range ranges {
					c0, c1 := cr[0], cr[1]
					b0, b1 := c0/qblock, (c1+qblock-1)/qblock
					want := make([]float64, rows)   // dequantised weights, float x
					intRef := make([]float32, rows) // int8 x, as the kernels
					bound := make([]float64, rows)  // |error| the int8 x allows
					for i := 0; i < rows; i++ {
						for k := c0; k < c1; k++ {
							wk := float64(deq[i*K+k])
							want[i] += wk * float64(x[k])
							bound[i] += math.Abs(wk) * float64(qx.bs[k/qblock]) / 2
						}
						intRef[i] = dotQ4Q8Go(&m, i, b0, b1, qx)
					}
					for _, v := range kernelVariants() {
						useVariant(t, v)
						for _, add := range []bool{false, true} {
							got := make([]float32, rows)
							base := float32(0)
							if add {
								base = 1.5
								for i := range got {
									got[i] = base
								}
							}
							if !add {
								matVecCols(&m, x, qx, got, 0, rows, c0, c1)
							} else { // panel by panel, adding
								for c := c0; c < c1; {
									p0, pwid := m.panel(c)
									e := min(c1, p0+pwid)
									matVecPanel(&m, x, qx, got, 0, rows, c, e, true)
									c = e
								}
							}
							name := fmt.Sprintf("%s K=%d rows=%d pw=%d cols=[%d,%d) add=%v", v, K, rows, pw, c0, c1, add)
							for i := range got {
								g := float64(got[i] - base)
								slop := 1e-5*math.Sqrt(float64(c1-c0))*4 + 1e-6
								if v == "portable" {
									if math.Abs(g-want[i]) > slop {
										t.Fatalf("%s: y[%d] = %v, dequantised %v", name, i, g, want[i])
									}
									continue
								}
								if math.Abs(g-float64(intRef[i])) > slop {
									t.Fatalf("%s: y[%d] = %v, integer reference %v", name, i, g, intRef[i])
								}
								if math.Abs(g-want[i]) > bound[i]*1.001+slop {
									t.Fatalf("%s: y[%d] = %v, dequantised %v: error above the int8 input's %v", name, i, g, want[i], bound[i])
								}
							}
						}
					}
				}
				// the prompt path: dequantised tiles, f32 kernels
				for _, T := range []int{2, 5} {
					X := randVec(r, T*K)
					got := make([]float32, T*rows)
					for _, portable := range []bool{false, true} {
						withPortable(t, portable)
						matMul(&m, X, T, got, rows, 0, rows, make([]float32, 3*K))
						for tt := 0; tt < T; tt++ {
							for i := 0; i < rows; i++ {
								var s float64
								for k := 0; k < K; k++ {
									s += float64(deq[i*K+k]) * float64(X[tt*K+k])
								}
								if !close32(got[tt*rows+i], float32(s), math.Sqrt(float64(K))*4) {
									t.Fatalf("matMul K=%d rows=%d pw=%d T=%d portable=%v: [%d][%d] %v want %v", K, rows, pw, T, portable, tt, i, got[tt*rows+i], s)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestQvecInt8 checks the int8 form of a quantised vector: values within
// half a step, the offset correction, zero padding.
func TestQvecInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	x := randVec(r, 70)
	v := quantizeX(x, 4)
	for b := 0; b < 4; b++ {
		var sum int32
		for j := 0; j < qblock; j++ {
			k := b*qblock + j
			c := v.b[k]
			sum += int32(c)
			if k >= len(x) {
				if c != 0 {
					t.Fatalf("padding %d = %d", k, c)
				}
				continue
			}
			if d := math.Abs(float64(float32(c)*v.bs[b] - x[k])); d > float64(v.bs[b])/2*(1+1e-5) {
				t.Fatalf("x[%d] = %v -> %d * %v", k, x[k], c, v.bs[b])
			}
		}
		if v.bc[4*b] != -8*sum || v.bc[4*b+1] != 0 || v.bc[4*b+2] != 0 || v.bc[4*b+3] != 0 {
			t.Fatalf("block %d: correction %v, sum %d", b, v.bc[4*b:4*b+4], sum)
		}
	}
	if v.bs[3] != 0 {
		t.Fatalf("empty block has scale %v", v.bs[3])
	}
}
