package gpt2

// Multi-vector products for batched generation (GenerateBatch). They
// mirror matVecCols and matVecPanel (kernels.go) line for line: every
// vector gets exactly the single-vector result, bit for bit (same kernel,
// same rows grouped by four from lo, same column tails, same panels and
// order of adding them), while each group of weight rows is brought from
// memory once and then run against every vector from the L1 cache.
// Change the two side by side; TestMatVecColsBMatches and
// TestGenerateBatchMatchesOneByOne catch a difference.

// matVecColsB sets ys[v] as matVecCols(m, xs[v], qxs[v], ys[v], lo, hi,
// c0, c1) would, for every v. qxs[v] may be nil (quantised here, as
// matVecCols does); qxs itself is not changed.
func matVecColsB(m *matrix, xs [][]float32, qxs []*qvec, ys [][]float32, lo, hi, c0, c1 int) {
	if len(xs) == 1 || m.f == nil && m.qbits != 8 {
		// one vector, or a quantisation without a multi-vector kernel
		// (q4): one product per vector.
		for v := range xs {
			matVecCols(m, xs[v], qxs[v], ys[v], lo, hi, c0, c1)
		}
		return
	}
	if m.q != nil && useAsm() && hasNil(qxs) {
		qxs = append([]*qvec(nil), qxs...)
		for v, qx := range qxs {
			if qx == nil {
				qxs[v] = quantizeX(xs[v], m.nblk)
			}
		}
	}
	for c, add := c0, false; c < c1 || !add; add = true {
		p0, w := m.panel(c)
		e := min(c1, p0+w)
		matVecPanelB(m, xs, qxs, ys, lo, hi, c, e, add)
		c = e
		if c >= c1 {
			break
		}
	}
}

// useBatch512 says to use the four-vector AVX-512 kernels (q8: with
// VNNI, as its single-vector kernel).
func useBatch512() bool { return haveBatch512 && useAVX512() }

func hasNil(qxs []*qvec) bool {
	for _, q := range qxs {
		if q == nil {
			return true
		}
	}
	return false
}

// matVecPanelB is matVecPanel for every vector: the loops over rows are
// the same, the loop over vectors is inside them.
func matVecPanelB(m *matrix, xs [][]float32, qxs []*qvec, ys [][]float32, lo, hi, c0, c1 int, add bool) {
	K := m.cols
	p0, w := m.panel(c0)
	set := func(y []float32, r int, v float32) {
		if add {
			y[r] += v
		} else {
			y[r] = v
		}
	}
	if m.f != nil {
		// Chunks of whole 4-row groups (cut at multiples of 4, as
		// matVecF32 groups rows), each run against every vector while its
		// rows are in the L1/L2 cache: a row's sum does not depend on the
		// chunk, so every vector gets matVecF32's result.
		const chunk = 32 // rows
		if useBatch512() && len(xs) >= 2 && (c0-p0)%fchunk == 0 && ((c1-p0)%fchunk == 0 || c1 == p0+w) {
			// Whole groups four vectors at a time (dotNilv4AVX512); the
			// rows before the first whole group and after the last, and
			// the vectors left over, through matVecF32 as below.
			nc := (w + fchunk - 1) / fchunk
			k0, k1 := (c0-p0)/fchunk, (c1-p0+fchunk-1)/fchunk
			g0, g1 := (lo+3)/4, hi/4
			if g1 > g0 && enoughX(xs, c0+(k1-k0)*fchunk) {
				base := m.fpanel(p0)
				var xp, yp [4]*float32
				// Chunk after chunk, every vector: the chunk is read
				// from memory once, the passes after the first find it
				// in the cache (a range larger than the cache read once
				// per four vectors went to memory again each time).
				for r0 := 4 * g0; r0 < 4*g1; r0 += chunk {
					n := min(4*g1-r0, chunk) / 4
					for v := 0; v+4 <= len(xs); v += 4 {
						for j := range 4 {
							xp[j], yp[j] = &xs[v+j][c0], &ys[v+j][r0]
						}
						dotNilv4AVX512(&m.f[base+(r0/4*nc+k0)*4*fchunk], &xp, k1-k0, nc*4*fchunk*4, &yp, n, b2i(add))
					}
					for v := len(xs) &^ 3; v < len(xs); v++ {
						y := ys[v]
						matVecF32(m, xs[v], y, r0, r0+4*n, p0, w, c0, c1, add, func(r int, val float32) { set(y, r, val) })
					}
				}
				for v := range xs {
					y := ys[v]
					f := func(r int, val float32) { set(y, r, val) }
					matVecF32(m, xs[v], y, lo, 4*g0, p0, w, c0, c1, add, f)
					matVecF32(m, xs[v], y, 4*g1, hi, p0, w, c0, c1, add, f)
				}
				return
			}
		}
		for r0 := lo; r0 < hi; {
			r1 := min(hi, (r0/chunk+1)*chunk)
			for v := range xs {
				y := ys[v]
				matVecF32(m, xs[v], y, r0, r1, p0, w, c0, c1, add, func(r int, val float32) { set(y, r, val) })
			}
			r0 = r1
		}
		return
	}
	b0, b1 := c0/qblock, (c1+qblock-1)/qblock
	full := min(b1, K/qblock) // blocks [b0, full) have all qblock columns
	if useAsm() && full > b0 && lo%4 == 0 {
		pb0 := p0 / qblock               // the panel's first block
		nbp := (w + qblock - 1) / qblock // its blocks per row
		groups := (m.rows + 3) / 4
		pf := 0
		if b0 == pb0 && b1 == pb0+nbp {
			pf = 4096
		}
		pf0 := pf
		var out [4]float32
		var out16 [16]float32
		var xq4 [4]*int16
		var xs4 [4]*float32
		var yp4 [4]*float32
		x4 := useBatch512() && useVNNI() && len(xs) >= 3
		g := lo / 4
		if gEnd := hi / 4; x4 && full == b1 && gEnd > g {
			// Whole groups, whole blocks: chunks of groups (about 64 KB
			// of weights, kept in L2 from the first pass to the next),
			// each run through the four-vector kernel for four vectors
			// at a time, straight into ys, then the rest one by one.
			chunk := max(1, (64<<10)/(nbp*4*qblock))
			var spare []float32 // a repeated vector's outputs
			for c := g; c < gEnd; c += chunk {
				n := min(chunk, gEnd-c)
				o := pb0*groups + c*nbp + (b0 - pb0)
				pf = pf0
				v := 0
				for ; v < len(xs)-2; v += 4 {
					for j := range 4 {
						qx := qxs[min(v+j, len(xs)-1)]
						xq4[j], xs4[j] = &qx.q[b0*qblock], &qx.s[b0]
						if v+j < len(xs) {
							yp4[j] = &ys[v+j][4*c]
						} else {
							if len(spare) < 4*n {
								spare = make([]float32, 4*chunk)
							}
							yp4[j] = &spare[0]
						}
					}
					dot4q8x4NAVX512(&m.q[o*4*qblock], &m.s[o*4], &xq4, &xs4, full-b0, pf, &yp4, n, nbp, m.smul, b2i(add))
					pf = 0
				}
				for ; v < len(xs); v++ {
					qx := qxs[v]
					dotNq8AVX512(&m.q[o*4*qblock], &m.s[o*4], &qx.q[b0*qblock], &qx.s[b0], full-b0, pf, &ys[v][4*c], n, nbp, m.smul, b2i(add))
					pf = 0
				}
			}
			g = gEnd
		}
		for ; 4*g < hi; g++ {
			pf = pf0
			o := pb0*groups + g*nbp + (b0 - pb0)
			v := 0
			// four vectors at a time (three and a repeated one)
			for ; x4 && v < len(xs)-2; v += 4 {
				for j := range 4 {
					qx := qxs[min(v+j, len(xs)-1)]
					xq4[j], xs4[j] = &qx.q[b0*qblock], &qx.s[b0]
				}
				for j := range 4 {
					yp4[j] = &out16[4*j]
				}
				dot4q8x4NAVX512(&m.q[o*4*qblock], &m.s[o*4], &xq4, &xs4, full-b0, pf, &yp4, 1, nbp, m.smul, 0)
				pf = 0
				for j := 0; j < 4 && v+j < len(xs); j++ {
					for i := 0; i < 4 && 4*g+i < hi; i++ {
						s := out16[4*j+i] // times smul
						if full < b1 {
							s += dotQ8Go(m, 4*g+i, full, b1, xs[v+j])
						}
						set(ys[v+j], 4*g+i, s)
					}
				}
			}
			for ; v < len(xs); v++ {
				x, qx := xs[v], qxs[v]
				// the first vector brings the weights; prefetching
				// ahead again for the others would only cost time
				dot4q8(&m.q[o*4*qblock], &m.s[o*4], &qx.q[b0*qblock], &qx.s[b0], full-b0, pf, &out[0])
				pf = 0
				for i := 0; i < 4 && 4*g+i < hi; i++ {
					s := out[i] * m.smul
					if full < b1 {
						s += dotQ8Go(m, 4*g+i, full, b1, x)
					}
					set(ys[v], 4*g+i, s)
				}
			}
		}
		return
	}
	for r := lo; r < hi; r++ {
		for v, x := range xs {
			set(ys[v], r, dotQ8Go(m, r, b0, b1, x))
		}
	}
}

// enoughX says every x holds n values (the kernels read whole chunks).
func enoughX(xs [][]float32, n int) bool {
	for _, x := range xs {
		if len(x) < n {
			return false
		}
	}
	return true
}
