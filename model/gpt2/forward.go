package gpt2

import (
	"context"
	"math"
	"slices"
	"time"
)

// state is one generation's KV cache and scratch space.
type state struct {
	m       *Model
	ctxN    int         // cache capacity in positions
	k, v    [][]float32 // per layer: ctxN x NEmbd
	n       int         // positions filled
	x       []float32   // T x E residual stream
	h       []float32   // T x E normed
	qkv     []float32   // T x 3E
	att     []float32   // T x E attention output
	tmp     []float32   // T x E
	ff      []float32   // T x F
	probs   [][]float32 // per goroutine: ctxN scores
	scr     [][]float32 // per goroutine: 3*max(E,F) dequant scratch
	cap     int         // T the buffers hold
	mapped  int         // positions of k and v populated (see grow)
	threads int         // goroutines per step

	// one-token steps (decode)
	parts  []float32 // per piece: E partial sums of a split-K product
	logits []float32 // vocab
	qh     *qvec     // normed input, quantised (q8)
	qatt   *qvec     // attention output, quantised (q8)
	qff    *qvec     // MLP hidden, quantised (q8)
	qin    *qvec     // a one-token step's matrix input, quantised (q8, one thread)
	qlm    *qvec     // the lm_head's input, quantised
	row    []float32 // E: a token's embedding, the final normed row
}

// unfused makes one-token steps take the batch path (one parallel step
// per matrix); tests compare the two.
var unfused bool

// spareIdle is how long the states of ended generations are kept when no
// other starts.
var spareIdle = 5 * time.Second

// newState is a state for a generation of ctxN positions: an ended one's
// when one is big enough (m.mu held). A new state's memory costs a page
// fault per 4 KB as the generation first writes it, more under a
// hypervisor (about 13 µs a page here); a batch of 8 caches of 160
// positions is 24,000 pages. The cache's old contents need no clearing:
// attention reads only the positions written since.
func (m *Model) newState(ctxN int) *state {
	m.positions(ctxN)
	best := -1
	for i, s := range m.spare {
		if s.ctxN >= ctxN && (best < 0 || s.ctxN < m.spare[best].ctxN) {
			best = i
		}
	}
	if best >= 0 {
		s := m.spare[best]
		m.spare = slices.Delete(m.spare, best, best+1)
		s.n, s.threads = 0, 0
		return s
	}
	// None is big enough: they go, so that the memory in use stays that of
	// the live generations (which GenerateBatch checks against the
	// machine's).
	m.spare = nil
	return m.freshState(ctxN)
}

// putState keeps s, whose generation has ended, for newState (m.mu held):
// as many as a batch runs at once, until no generation has started for
// spareIdle.
func (m *Model) putState(s *state) {
	if s == nil || m.layers == nil || len(m.spare) >= batchLimit {
		return
	}
	m.spare = append(m.spare, s)
	if m.spareTimer == nil {
		m.spareTimer = time.AfterFunc(spareIdle, func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.spare = nil
		})
	} else {
		m.spareTimer.Reset(spareIdle)
	}
}

func (m *Model) freshState(ctxN int) *state {
	E := m.cfg.NEmbd
	s := &state{m: m, ctxN: ctxN}
	s.k = make([][]float32, m.cfg.NLayer)
	s.v = make([][]float32, m.cfg.NLayer)
	for i := range s.k {
		s.k[i] = make([]float32, ctxN*E)
		s.v[i] = make([]float32, ctxN*E)
	}
	return s
}

func (s *state) grow(T, threads int) {
	E, F := s.m.cfg.NEmbd, s.m.cfg.inner()
	if T > s.cap {
		s.x = make([]float32, T*E)
		s.h = make([]float32, T*E)
		s.qkv = make([]float32, T*3*E)
		s.att = make([]float32, T*E)
		s.tmp = make([]float32, T*E)
		s.ff = make([]float32, T*F)
		s.cap = T
	}
	// The cache's pages for this step's positions and some after, mapped
	// 64 positions at a time (see populate), not a fault at each.
	if end := s.n + T; end > s.mapped {
		to := min(s.ctxN, max(end, s.mapped+64))
		for i := range s.k {
			populate(s.k[i][s.mapped*E : to*E])
			populate(s.v[i][s.mapped*E : to*E])
		}
		s.mapped = to
	}
	for len(s.scr) < threads {
		s.scr = append(s.scr, make([]float32, 3*max(E, F)))
		s.probs = append(s.probs, make([]float32, s.ctxN))
	}
}

// promptChunk is the most tokens of a prompt forward runs through the
// layers at once. The scratch space is about 34 KB a token for 124M (the
// residual stream, q, k and v, the MLP's hidden units...): a 1000-token
// prompt in one piece would take 34 MB more than the model and its cache.
// In pieces of 64 every value is the same, bit for bit (matMul takes
// tokens in groups of four from the first; the piece boundaries are
// multiples of four), and the weights are read once more per 64 tokens.
const promptChunk = 64

// dropScratch gives back the pages of a prompt's scratch space once it has
// run (dropPages: they read as zeros when used again): one-token steps use
// the first row of each buffer, and the rest (1.1 MB for a 32-token prompt
// and 124M, 2.2 MB at most) would otherwise stay resident for the whole
// generation.
func (s *state) dropScratch() {
	if s.cap <= 1 {
		return
	}
	for _, b := range [][]float32{s.x, s.h, s.qkv, s.att, s.tmp, s.ff} {
		dropPages(asBytes(b))
	}
}

// forward runs tokens at positions s.n.. through the model, extends the
// cache and returns the logits of the last token (all tokens' logits, T x
// vocab, when all is set). A long prompt goes through in pieces of
// promptChunk tokens, the last piece at least two (one token alone takes
// another path: decode).
func (s *state) forward(ctx context.Context, tokens []int, all bool) ([]float32, error) {
	for !all && len(tokens) > promptChunk+1 {
		if _, err := s.forwardPiece(ctx, tokens[:promptChunk], false, false); err != nil {
			return nil, err
		}
		tokens = tokens[promptChunk:]
	}
	return s.forwardPiece(ctx, tokens, all, true)
}

// forwardPiece is forward for tokens in one piece; without logits it
// stops after the layers.
func (s *state) forwardPiece(ctx context.Context, tokens []int, all, logits bool) ([]float32, error) {
	m := s.m
	cfg := m.cfg
	T := len(tokens)
	E, F, H := cfg.NEmbd, cfg.inner(), cfg.NHead
	hd := E / H
	if s.threads == 0 {
		s.threads = m.pool.size() // fixed for the whole generation
	}
	threads := s.threads
	// One thread has no steps to save, and the split-K shares read the
	// output projections in strided pieces, slower than whole rows.
	if T == 1 && !all && !unfused && threads > 1 {
		return s.decode(ctx, tokens[0])
	}
	s.grow(T, threads)
	pos0 := s.n
	x := s.x[:T*E]
	// With one thread this path is also the one-token step: it allocates
	// nothing then (a closure handed to run is garbage, and 20 KB a token
	// stayed resident until the collector ran).
	row := s.rowBuf(E)
	for t, id := range tokens {
		m.wte.row(id, row)
		p := m.wpe[(pos0+t)*E : (pos0+t+1)*E]
		xt := x[t*E : (t+1)*E]
		for i := range xt {
			xt[i] = row[i] + p[i]
		}
	}
	// mm computes out[t][r] = act(W·in[t] + b) for all t, in parallel over
	// rows; the bias and the activation (act "" = none) are applied by the
	// goroutine that computed the rows.
	mm := func(w *matrix, b []float32, in []float32, out []float32, act string) {
		rows := w.rows
		if T == 1 {
			qx := s.quantIn(w, in)
			if threads == 1 { // run(1, ...) would call the function once, on all rows
				matVec(w, in, qx, out, 0, rows)
				biasAct(out, b, 1, rows, 0, rows, act)
				return
			}
			run(threads, rows, 4, func(_, lo, hi int) { matVec(w, in, qx, out, lo, hi); biasAct(out, b, 1, rows, lo, hi, act) })
		} else {
			run(threads, rows, 3, func(part, lo, hi int) {
				matMul(w, in, T, out, rows, lo, hi, s.scr[part])
				biasAct(out, b, T, rows, lo, hi, act)
			})
		}
	}
	scale := float32(1 / math.Sqrt(float64(hd)))
	for li := range m.layers {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		ly := &m.layers[li]
		h := s.h[:T*E]
		for t := 0; t < T; t++ {
			layerNorm(h[t*E:(t+1)*E], x[t*E:(t+1)*E], ly.ln1g, ly.ln1b, float32(cfg.LayerNormEpsilon))
		}
		qkv := s.qkv[:T*3*E]
		mm(&ly.attn, ly.attnB, h, qkv, "")
		kc, vc := s.k[li], s.v[li]
		for t := 0; t < T; t++ {
			copy(kc[(pos0+t)*E:(pos0+t+1)*E], qkv[t*3*E+E:t*3*E+2*E])
			copy(vc[(pos0+t)*E:(pos0+t+1)*E], qkv[t*3*E+2*E:t*3*E+3*E])
		}
		sc := scale
		if cfg.ScaleAttnByInverseLayerIdx {
			sc /= float32(li + 1)
		}
		att := s.att[:T*E]
		if threads == 1 {
			s.attendAll(att, qkv, kc, vc, pos0, sc, 0, 0, H*T)
		} else {
			run(threads, H*T, 1, func(part, lo, hi int) { s.attendAll(att, qkv, kc, vc, pos0, sc, part, lo, hi) })
		}
		tmp := s.tmp[:T*E]
		mm(&ly.proj, ly.projB, att, tmp, "")
		for i := range x {
			x[i] += tmp[i]
		}
		for t := 0; t < T; t++ {
			layerNorm(h[t*E:(t+1)*E], x[t*E:(t+1)*E], ly.ln2g, ly.ln2b, float32(cfg.LayerNormEpsilon))
		}
		ff := s.ff[:T*F]
		mm(&ly.fc, ly.fcB, h, ff, cfg.Activation)
		mm(&ly.fc2, ly.fc2B, ff, tmp, "")
		for i := range x {
			x[i] += tmp[i]
		}
	}
	s.n += T
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	if !logits {
		return nil, nil
	}
	V := cfg.VocabSize
	first := T - 1
	if all {
		first = 0
	}
	// The last token's logits go to the state's buffer (a new one each
	// token was 200 KB of garbage per token for 124M: the heap grew 15 MB
	// before the collector took it back); all tokens' to a new slice.
	var lg []float32
	if all {
		lg = make([]float32, (T-first)*V)
	} else {
		lg = s.logitsFor(m)
	}
	hn := row // the embeddings are in x
	for t := first; t < T; t++ {
		layerNorm(hn, x[t*E:(t+1)*E], m.lnfg, m.lnfb, float32(cfg.LayerNormEpsilon))
		out := lg[(t-first)*V : (t-first+1)*V]
		qx := s.quantLM(hn)
		if threads == 1 {
			matVec(&m.wte, hn, qx, out, 0, V)
		} else {
			run(threads, V, 4, func(_, lo, hi int) { matVec(&m.wte, hn, qx, out, lo, hi) })
		}
	}
	return lg, nil
}

// rowBuf is an E-wide scratch row of the state's.
func (s *state) rowBuf(E int) []float32 {
	if len(s.row) < E {
		s.row = make([]float32, E)
	}
	return s.row[:E]
}

// quantIn is in quantised for a one-token product with w (the state's
// qvec), or nil where the kernels take float32.
func (s *state) quantIn(w *matrix, in []float32) *qvec {
	if w.q == nil || !useAsm() {
		return nil
	}
	if s.qin == nil || len(s.qin.s) < w.nblk {
		s.qin = newQvecFor(max(w.nblk, (s.m.cfg.inner()+qblock-1)/qblock), s.m)
	}
	s.qin.quantize(in, 0, w.nblk)
	return s.qin
}

// quantLM is the final normed row quantised for the lm_head (as
// quantizeX, into the state's qvec), or nil.
func (s *state) quantLM(hn []float32) *qvec {
	wte := &s.m.wte
	if wte.q == nil || !useAsm() {
		return nil
	}
	if s.qlm == nil || len(s.qlm.s) != wte.nblk {
		s.qlm = newQvec(wte.nblk)
	}
	s.qlm.quantize(hn, 0, wte.nblk)
	return s.qlm
}

// attendAll is the attention of (head, token) pairs [lo, hi) of a
// piece starting at position pos0 (j = t*H + head), with part's scratch.
func (s *state) attendAll(att, qkv, kc, vc []float32, pos0 int, sc float32, part, lo, hi int) {
	E, H := s.m.cfg.NEmbd, s.m.cfg.NHead
	hd := E / H
	for j := lo; j < hi; j++ {
		hh, t := j%H, j/H
		attend(att[t*E+hh*hd:t*E+(hh+1)*hd], qkv[t*3*E+hh*hd:t*3*E+(hh+1)*hd], kc, vc, E, hh*hd, pos0+t+1, sc, s.probs[part])
	}
}

// biasAct adds b to rows [lo, hi) of each of the T outputs in out (rows
// wide) and applies the activation act ("" = none).
func biasAct(out, b []float32, T, rows, lo, hi int, act string) {
	for t := 0; t < T; t++ {
		o := out[t*rows+lo : t*rows+hi]
		for i := range o {
			o[i] += b[lo+i]
		}
		if act != "" {
			activate(act, o)
		}
	}
}

// attend sets o to the attention of query q over the first n cached
// positions of one head: the head's keys and values are k[u*E+off:][:len(q)]
// and v[u*E+off:][:len(q)]; p (at least n long) is scratch.
func attend(o, q, k, v []float32, E, off, n int, sc float32, p []float32) {
	hd := len(q)
	p = p[:n]
	u := 0
	if useAsm() && hd >= 8 {
		hd8 := hd &^ 7
		var out [4]float32
		for ; u+4 <= n; u += 4 {
			dot4AVX(&k[u*E+off], E, &q[0], hd8, &out[0])
			for i := 0; i < 4; i++ {
				s := out[i]
				for j := hd8; j < hd; j++ {
					s += q[j] * k[(u+i)*E+off+j]
				}
				p[u+i] = s
			}
		}
	}
	for ; u < n; u++ {
		p[u] = dot(q, k[u*E+off:u*E+off+hd])
	}
	mx := float32(math.Inf(-1))
	for u := range p {
		p[u] *= sc
		mx = max(mx, p[u])
	}
	u = 0
	if useAVX512() {
		for ; u < len(p); u++ {
			p[u] -= mx
		}
		n16 := len(p) &^ 15
		if n16 > 0 {
			expAVX512(&p[0], n16)
		}
		for u = n16; u < len(p); u++ {
			p[u] = float32(math.Exp(float64(p[u])))
		}
	} else {
		for ; u < len(p); u++ {
			p[u] = float32(math.Exp(float64(p[u] - mx)))
		}
	}
	var sum float64
	for _, e := range p {
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for u := range p {
		p[u] *= inv
	}
	if hd == 64 && useAVX512() {
		wsum64AVX512(&v[off], E, &p[0], n, &o[0])
		return
	}
	clear(o)
	for u := range p {
		axpy(o, p[u], v[u*E+off:u*E+off+hd])
	}
}

// decode runs one token at position s.n (the generation step). Each layer
// is two parallel steps instead of five:
//   - per head: its q, k and v rows, its attention, and its share of the
//     output projection (the columns that read this head), summed after;
//   - per slice of the MLP's hidden units: those fc rows, the activation,
//     and their share of fc2 (the columns that read them), summed after.
//
// The partial sums are added in a fixed order, so the result does not
// depend on the thread count. A q8 projection whose head width is not a
// multiple of qblock gets its own step.
func (s *state) decode(ctx context.Context, id int) ([]float32, error) {
	m := s.m
	cfg := m.cfg
	E, F, H := cfg.NEmbd, cfg.inner(), cfg.NHead
	hd := E / H
	threads := s.threads
	s.grow(1, threads)
	eps := float32(cfg.LayerNormEpsilon)
	// pieces of the MLP: nf slices of F, multiples of qblock but the last
	fb := (F + qblock - 1) / qblock
	perF, nf := cfg.mlpSlice()
	if s.parts == nil {
		s.parts = make([]float32, max(H, nf)*E)
		s.logitsFor(m)
		nbE := (E + qblock - 1) / qblock
		s.qh, s.qatt, s.qff = newQvecFor(nbE, m), newQvecFor(nbE, m), newQvecFor(fb, m)
	}
	q8 := m.wte.q != nil && useAsm()
	pos := s.n
	x := s.x[:E]
	m.wte.row(id, x)
	p := m.wpe[pos*E : (pos+1)*E]
	for i := range x {
		x[i] += p[i]
	}
	h, qkv, att, ff := s.h[:E], s.qkv[:3*E], s.att[:E], s.ff[:F]
	scale := float32(1 / math.Sqrt(float64(hd)))
	for li := range m.layers {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		ly := &m.layers[li]
		layerNorm(h, x, ly.ln1g, ly.ln1b, eps)
		if q8 {
			s.qh.quantize(h, 0, ly.attn.nblk)
		}
		sc := scale
		if cfg.ScaleAttnByInverseLayerIdx {
			sc /= float32(li + 1)
		}
		kc, vc := s.k[li], s.v[li]
		fuse := cfg.fuseProj(ly.proj.q != nil)
		runN(threads, H, func(part, hh int) {
			lo, hi := hh*hd, (hh+1)*hd
			for j := 0; j < 3; j++ {
				r0, r1 := j*E+lo, j*E+hi
				matVec(&ly.attn, h, s.qh, qkv, r0, r1)
				for r := r0; r < r1; r++ {
					qkv[r] += ly.attnB[r]
				}
			}
			copy(kc[pos*E+lo:pos*E+hi], qkv[E+lo:E+hi])
			copy(vc[pos*E+lo:pos*E+hi], qkv[2*E+lo:2*E+hi])
			attend(att[lo:hi], qkv[lo:hi], kc, vc, E, lo, pos+1, sc, s.probs[part])
			if fuse {
				if q8 {
					s.qatt.quantize(att, lo/qblock, (hi+qblock-1)/qblock)
				}
				matVecCols(&ly.proj, att, s.qatt, s.parts[hh*E:(hh+1)*E], 0, E, lo, hi)
			}
		})
		if fuse {
			s.addParts(x, ly.projB, H)
		} else {
			tmp := s.tmp[:E]
			var qx *qvec
			if q8 {
				qx = s.qatt
				qx.quantize(att, 0, ly.proj.nblk)
			}
			run(threads, E, 4, func(_, lo, hi int) { matVec(&ly.proj, att, qx, tmp, lo, hi) })
			for i := range x {
				x[i] += tmp[i] + ly.projB[i]
			}
		}
		layerNorm(h, x, ly.ln2g, ly.ln2b, eps)
		if q8 {
			s.qh.quantize(h, 0, ly.fc.nblk)
		}
		runN(threads, nf, func(_, i int) {
			c0, c1 := i*perF, min((i+1)*perF, F)
			matVec(&ly.fc, h, s.qh, ff, c0, c1)
			o := ff[c0:c1]
			for j := range o {
				o[j] += ly.fcB[c0+j]
			}
			activate(cfg.Activation, o)
			if q8 {
				s.qff.quantize(ff, c0/qblock, (c1+qblock-1)/qblock)
			}
			matVecCols(&ly.fc2, ff, s.qff, s.parts[i*E:(i+1)*E], 0, E, c0, c1)
		})
		s.addParts(x, ly.fc2B, nf)
	}
	s.n++
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	layerNorm(h, x, m.lnfg, m.lnfb, eps)
	if q8 {
		s.qh.quantize(h, 0, m.wte.nblk)
	}
	out := s.logits
	run(threads, cfg.VocabSize, 4, func(_, lo, hi int) { matVec(&m.wte, h, s.qh, out, lo, hi) })
	return out, nil
}

// addParts adds the bias and the first n partial sums in s.parts to x.
// (axpy with a = 1 is the same sum, bit for bit: 1*p is exact.)
func (s *state) addParts(x, bias []float32, n int) {
	E := len(x)
	axpy(x, 1, bias[:E])
	for j := 0; j < n; j++ {
		axpy(x, 1, s.parts[j*E:(j+1)*E])
	}
}

func layerNorm(dst, x, g, b []float32, eps float32) {
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var vr float64
	for _, v := range x {
		d := float64(v) - mean
		vr += d * d
	}
	vr /= float64(len(x))
	inv := float32(1 / math.Sqrt(vr+float64(eps)))
	mf := float32(mean)
	for i, v := range x {
		dst[i] = (v-mf)*inv*g[i] + b[i]
	}
}

func activate(kind string, v []float32) {
	switch kind {
	case "gelu":
		for i, x := range v {
			f := float64(x)
			v[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
		}
	case "relu":
		for i, x := range v {
			v[i] = max(x, 0)
		}
	default: // gelu_new, gelu_pytorch_tanh, gelu_fast
		if n := len(v) &^ 15; useAVX512() && n > 0 {
			geluNewAVX512(&v[0], n)
			v = v[n:]
		}
		const c = 0.7978845608028654 // sqrt(2/pi)
		for i, x := range v {
			f := float64(x)
			v[i] = float32(0.5 * f * (1 + math.Tanh(c*(f+0.044715*f*f*f))))
		}
	}
}
