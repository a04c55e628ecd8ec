package gpt2

import "math"

// q4: 4-bit weights (Options.Quant "q4").
//
// Each row is cut in blocks of qblock (32) weights; a block is 16 bytes of
// 4-bit codes n in [0, 15] and one float16 scale d (times the matrix's
// common power of two m.smul), the weight being (n-8)*d: 4.5 bits a weight,
// as ggml's q4_0. Byte j of a block holds weight j in its low nibble and
// weight j+16 in its high one. The scale is the block's largest-magnitude
// weight divided by -8 (so that weight is exactly -8*d and the others fall
// in [-8, 7]*d, sixteen levels) and may be negative; see q4Scale. A block that is all
// zero, or too small for a normal float16 scale, has scale 0 and codes 8.
//
// The layout is q8's (see matrix.quantize): rows in groups of 4, for each
// group and block the 4 rows' 16 bytes side by side (64 bytes) and their 4
// scales too, in column panels (matrix.pw) when asked; padding (columns
// past m.cols, rows past m.rows) has code 8, a zero weight. m.q holds the
// bytes (as int8), m.s the scales, m.qbits is 4.
//
// The matrix-vector kernels take the input quantised to int8 per block
// (qvec.b, scale qvec.bs), ggml's q8_0: VPDPBUSD (AVX-512 VNNI) or
// VPMADDUBSW (AVX2) multiply the unsigned codes with the signed int8 input;
// the code's offset of 8 is taken off with -8 * the block's input sum
// (qvec.bc), computed once per input block, not per row.

// q4Search turns on q4Scale's search (a variable for the quality
// benchmark, which compares it with ggml's plain scale).
var q4Search = true

// q4Scale chooses a block's scale d (weights (n-8)*d): among the scales
// that put the largest-magnitude weight big at -D, for D = 7, 7.5, 8, 8.5,
// the one whose codes, with their least-squares scale, leave the smallest
// squared error; that least-squares scale is d. (D from 6.5 to 9 in steps
// of 1/4 lowers the error on Gaussian weights only from 0.0812 to 0.0808
// of their RMS, at three times the cost; ggml's scale gives 0.0863.)
// Without q4Search: big / -8, as ggml's q4_0.
func q4Scale(v []float32, big float32) float32 {
	if !q4Search || big == 0 {
		return big / -8
	}
	best, bestD := float32(-1), big/-8
	for k := 0; k <= 3; k++ {
		inv := -(7 + 0.5*float32(k)) / big
		var wc, cc float32
		for _, w := range v {
			c := max(-8, min(7, round32(w*inv)))
			wc += w * c
			cc += c * c
		}
		// squared error with the best scale for these codes:
		// sum w^2 - wc^2/cc; the largest wc^2/cc wins
		if cc > 0 && wc*wc/cc > best {
			best, bestD = wc*wc/cc, wc/cc
		}
	}
	return bestD
}

// q4Bytes is the size of one row's block: 32 codes of 4 bits.
const q4Bytes = qblock / 2

// q4Zero is a byte of two zero weights (code 8 in both nibbles).
const q4Zero = int8(-120) // 0x88

// embedQ4 says whether the tied embedding / lm_head (wte) is stored in q4
// in q4 mode; false keeps it in q8. A variable for the quality benchmark,
// which compares the two.
var embedQ4 = true

// quantize4 stores w (rows x cols, row-major) in q4; see the comment above.
func (m *matrix) quantize4(w []float32) {
	m.nblk = (m.cols + qblock - 1) / qblock
	m.qbits = 4
	groups := (m.rows + 3) / 4
	m.q = m.mem.i8(groups * m.nblk * 4 * q4Bytes)
	for i := range m.q {
		m.q[i] = q4Zero
	}
	m.s = m.mem.u16(groups * m.nblk * 4)
	var amax float32
	for _, v := range w[:m.rows*m.cols] {
		amax = max(amax, abs32(v))
	}
	// The largest |scale| is about 2^13 before the common factor, as q8's.
	e := 0
	if amax > 0 && !math.IsInf(float64(amax), 0) && !math.IsNaN(float64(amax)) {
		_, exp := math.Frexp(float64(amax / 8))
		e = 14 - exp
	}
	up := float32(math.Ldexp(1, e))
	m.smul = float32(math.Ldexp(1, -e))
	// rows in parallel (the scale search is most of a load's time)
	run(PhysicalCores(), m.rows, 4, func(_, r0, r1 int) { m.quantize4Rows(w, r0, r1, up) })
}

// quantize4Rows quantises rows [r0, r1) of w (see quantize4).
func (m *matrix) quantize4Rows(w []float32, r0, r1 int, up float32) {
	var codes [qblock]int8
	for r := r0; r < r1; r++ {
		row := w[r*m.cols : (r+1)*m.cols]
		for b := 0; b < m.nblk; b++ {
			lo, hi := b*qblock, min((b+1)*qblock, m.cols)
			var big float32 // the weight of largest magnitude, signed
			for _, v := range row[lo:hi] {
				if abs32(v) > abs32(big) {
					big = v
				}
			}
			h := f32ToF16(q4Scale(row[lo:hi], big) * up)
			if h&0x7c00 == 0 || h&0x7c00 == 0x7c00 { // zero, subnormal, inf
				continue
			}
			q, si := m.qblk(r, b)
			m.s[si] = h
			inv := 1 / (f16ToF32(h) * m.smul)
			for j := range codes {
				codes[j] = 8
			}
			for j := lo; j < hi; j++ {
				codes[j-lo] = int8(max(0, min(15, round32(row[j]*inv)+8)))
			}
			for j := 0; j < q4Bytes; j++ {
				q[j] = int8(uint8(codes[j]) | uint8(codes[j+q4Bytes])<<4)
			}
		}
	}
}

// row4 writes row r of a q4 matrix as float32 into dst (the prompt path
// dequantises tiles of rows with it: it walks the row's blocks directly).
func (m *matrix) row4(r int, dst []float32) {
	g, i := r/4, r%4
	groups := (m.rows + 3) / 4
	for p0 := 0; p0 < m.cols; {
		_, w := m.panel(p0)
		pb0, nbp := p0/qblock, (w+qblock-1)/qblock
		si := (pb0*groups+g*nbp)*4 + i // block pb0's scale; the next are 4 apart
		for b := pb0; b < pb0+nbp; b, si = b+1, si+4 {
			s := f16ToF32(m.s[si]) * m.smul
			q := m.q[si*q4Bytes : si*q4Bytes+q4Bytes]
			lo := b * qblock
			if lo+qblock <= m.cols {
				d := dst[lo : lo+qblock]
				for j, c := range q {
					d[j] = float32(int(uint8(c)&15)-8) * s
					d[j+q4Bytes] = float32(int(uint8(c)>>4)-8) * s
				}
				continue
			}
			d := dst[lo:m.cols]
			for j := range d {
				c := uint8(q[j%q4Bytes])
				if j >= q4Bytes {
					c >>= 4
				}
				d[j] = float32(int(c&15)-8) * s
			}
		}
		p0 += w
	}
}

// dotQ4Go is the dot product of q4 row r of m with x over blocks b0 to b1.
func dotQ4Go(m *matrix, r, b0, b1 int, x []float32) float32 {
	var sum float32
	for b := b0; b < b1; b++ {
		q, si := m.qblk(r, b)
		xb := x[b*qblock : min((b+1)*qblock, m.cols)]
		var acc float32
		if len(xb) == qblock {
			xl, xh := xb[:q4Bytes], xb[q4Bytes:qblock]
			for j, c := range q[:q4Bytes] {
				acc += float32(int(uint8(c)&15)-8)*xl[j] + float32(int(uint8(c)>>4)-8)*xh[j]
			}
		} else {
			for j, v := range xb {
				c := uint8(q[j%q4Bytes])
				if j >= q4Bytes {
					c >>= 4
				}
				acc += float32(int(c&15)-8) * v
			}
		}
		sum += acc * f16ToF32(m.s[si])
	}
	return sum * m.smul
}

// dotQ4Q8Go is what the assembly kernels compute for q4 row r of m over
// blocks b0 to b1, with x quantised to int8 in qx: integer dot products per
// block, scaled. Tests compare the kernels with it.
func dotQ4Q8Go(m *matrix, r, b0, b1 int, qx *qvec) float32 {
	var sum float32
	for b := b0; b < b1; b++ {
		q, si := m.qblk(r, b)
		xb := qx.b[b*qblock : (b+1)*qblock]
		var acc int32
		for j, c := range q[:q4Bytes] {
			acc += int32(uint8(c)&15)*int32(xb[j]) + int32(uint8(c)>>4)*int32(xb[j+q4Bytes])
		}
		acc += qx.bc[4*b]
		sum += float32(acc) * (f16ToF32(m.s[si]) * qx.bs[b])
	}
	return sum * m.smul
}

// quantize8 sets blocks [b0, b1) of v's int8 form from x (blocks past
// len(x) are zero): scale amax/127 per block, and the block's correction
// for the q4 codes' offset, -8 * the sum of its int8 values.
func (v *qvec) quantize8(x []float32, b0, b1 int) {
	for b := b0; b < b1; b++ {
		q := v.b[b*qblock : (b+1)*qblock]
		clear(q)
		v.bs[b] = 0
		v.bc[4*b] = 0
		if b*qblock >= len(x) {
			continue
		}
		xb := x[b*qblock : min((b+1)*qblock, len(x))]
		var amax float32
		for _, f := range xb {
			amax = max(amax, abs32(f))
		}
		if amax == 0 {
			continue
		}
		s := amax / 127
		v.bs[b] = s
		inv := 1 / s
		var sum int32
		for j, f := range xb {
			c := int8(max(-127, min(127, round32(f*inv))))
			q[j] = c
			sum += int32(c)
		}
		v.bc[4*b] = -8 * sum
	}
}

// matVecPanelQ4 is matVecPanel for a q4 matrix.
func matVecPanelQ4(m *matrix, x []float32, qx *qvec, y []float32, lo, hi, c0, c1 int, add bool) {
	p0, w := m.panel(c0)
	b0, b1 := c0/qblock, (c1+qblock-1)/qblock
	set := func(r int, v float32) {
		if add {
			y[r] += v
		} else {
			y[r] = v
		}
	}
	if useAsm() && haveAsmQ4 && qx != nil && lo%4 == 0 && b1 > b0 {
		vnni := useVNNI() // (called directly: through a func value, out would escape to the heap)
		pb0 := p0 / qblock
		nbp := (w + qblock - 1) / qblock
		groups := (m.rows + 3) / 4
		pf := 0
		if b0 == pb0 && b1 == pb0+nbp {
			pf = 4096
		}
		var out [4]float32
		for g := lo / 4; 4*g < hi; g++ {
			o := pb0*groups + g*nbp + (b0 - pb0)
			if vnni {
				dot4q4VNNI(&m.q[o*4*q4Bytes], &m.s[o*4], &qx.b[b0*qblock], &qx.bs[b0], &qx.bc[4*b0], b1-b0, pf, &out[0])
			} else {
				dot4q4AVX(&m.q[o*4*q4Bytes], &m.s[o*4], &qx.b[b0*qblock], &qx.bs[b0], &qx.bc[4*b0], b1-b0, pf, &out[0])
			}
			for i := 0; i < 4 && 4*g+i < hi; i++ {
				set(4*g+i, out[i]*m.smul)
			}
		}
		return
	}
	for r := lo; r < hi; r++ {
		set(r, dotQ4Go(m, r, b0, b1, x))
	}
}

// useQ4 says whether the loader stores tensor name in q4.
func (l *loader) useQ4(name string) bool {
	return l.q4 && (embedQ4 || name != "wte.weight")
}
