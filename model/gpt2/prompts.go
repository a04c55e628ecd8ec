package gpt2

import (
	"context"
	"math"
)

// promptRows is the height of the blocks of weight rows that forwardMany
// runs every prompt against before the next block (a multiple of 3, the
// rows matMul takes at a time): 48 rows of 768 float32 columns are
// 147 KB, kept in the L2 cache while the prompts pass over them.
const promptRows = 48

// forwardMany is forward(ctx, ids[i], false) for every state at once: the
// prompts of sequences that start together. Each weight matrix is read
// from memory once for all the prompts instead of once per prompt; every
// sequence gets exactly forward's arithmetic (the same kernels on the same
// tiles of rows and tokens, the same order of sums), so its cache and
// logits are those forward would give, bit for bit. The logits of the
// last token of each prompt are left in s.logits. The states must have the
// same thread count and at least two tokens each (forward decodes a
// single token another way).
func forwardMany(ctx context.Context, m *Model, sts []*state, ids [][]int) error {
	cfg := m.cfg
	E, F, H := cfg.NEmbd, cfg.inner(), cfg.NHead
	hd := E / H
	eps := float32(cfg.LayerNormEpsilon)
	threads := sts[0].threads
	n := len(sts)
	pos0 := make([]int, n)
	for i, s := range sts {
		T := len(ids[i])
		s.grow(T, threads)
		pos0[i] = s.n
		x := s.x[:T*E]
		for t, id := range ids[i] {
			xt := x[t*E : (t+1)*E]
			m.wte.row(id, xt)
			p := m.wpe[(s.n+t)*E : (s.n+t+1)*E]
			for j := range xt {
				xt[j] += p[j]
			}
		}
	}
	// mm is forward's mm for every prompt: out[i][t][r] = act(W·in[i][t]
	// + b), rows split between threads in multiples of 3 as forward splits
	// them, each piece in blocks of promptRows run against every prompt.
	mm := func(w *matrix, b []float32, in, out func(i int) []float32, act string) {
		rows := w.rows
		Xs, Ts, Ys := make([][]float32, n), make([]int, n), make([][]float32, n)
		for i := range sts {
			Xs[i], Ts[i], Ys[i] = in(i), len(ids[i]), out(i)
		}
		run(threads, rows, 3, func(part, lo, hi int) {
			scr := sts[0].scr[part]
			for r0 := lo; r0 < hi; r0 += promptRows {
				matMulMany(w, Xs, Ts, Ys, rows, r0, min(hi, r0+promptRows), scr)
			}
			// the bias and the activation over the whole piece, as
			// forward applies them (the activation's vector kernel and
			// its scalar tail round differently)
			for i := range sts {
				o := out(i)
				for t := range ids[i] {
					ot := o[t*rows+lo : t*rows+hi]
					for j := range ot {
						ot[j] += b[lo+j]
					}
					if act != "" {
						activate(act, ot)
					}
				}
			}
		})
	}
	scale := float32(1 / math.Sqrt(float64(hd)))
	for li := range m.layers {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		ly := &m.layers[li]
		for i, s := range sts {
			for t := range ids[i] {
				layerNorm(s.h[t*E:(t+1)*E], s.x[t*E:(t+1)*E], ly.ln1g, ly.ln1b, eps)
			}
		}
		mm(&ly.attn, ly.attnB, func(i int) []float32 { return sts[i].h }, func(i int) []float32 { return sts[i].qkv }, "")
		sc := scale
		if cfg.ScaleAttnByInverseLayerIdx {
			sc /= float32(li + 1)
		}
		for i, s := range sts {
			T, p0 := len(ids[i]), pos0[i]
			kc, vc, qkv, att := s.k[li], s.v[li], s.qkv, s.att
			for t := 0; t < T; t++ {
				copy(kc[(p0+t)*E:(p0+t+1)*E], qkv[t*3*E+E:t*3*E+2*E])
				copy(vc[(p0+t)*E:(p0+t+1)*E], qkv[t*3*E+2*E:t*3*E+3*E])
			}
			run(threads, H*T, 1, func(part, lo, hi int) {
				for j := lo; j < hi; j++ {
					hh, t := j%H, j/H
					attend(att[t*E+hh*hd:t*E+(hh+1)*hd], qkv[t*3*E+hh*hd:t*3*E+(hh+1)*hd], kc, vc, E, hh*hd, p0+t+1, sc, s.probs[part])
				}
			})
		}
		mm(&ly.proj, ly.projB, func(i int) []float32 { return sts[i].att }, func(i int) []float32 { return sts[i].tmp }, "")
		for i, s := range sts {
			T := len(ids[i])
			x, tmp := s.x[:T*E], s.tmp[:T*E]
			for j := range x {
				x[j] += tmp[j]
			}
			for t := 0; t < T; t++ {
				layerNorm(s.h[t*E:(t+1)*E], x[t*E:(t+1)*E], ly.ln2g, ly.ln2b, eps)
			}
		}
		mm(&ly.fc, ly.fcB, func(i int) []float32 { return sts[i].h }, func(i int) []float32 { return sts[i].ff[:len(ids[i])*F] }, cfg.Activation)
		mm(&ly.fc2, ly.fc2B, func(i int) []float32 { return sts[i].ff }, func(i int) []float32 { return sts[i].tmp }, "")
		for i, s := range sts {
			x, tmp := s.x[:len(ids[i])*E], s.tmp
			for j := range x {
				x[j] += tmp[j]
			}
		}
	}
	for i, s := range sts {
		s.n += len(ids[i])
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	// The last token of every prompt against the vocabulary at once
	// (matVecColsB gives each what forward's matVec gives it).
	hs, outs := vecs(n), vecs(n)
	for i, s := range sts {
		T := len(ids[i])
		hs[i] = make([]float32, E)
		layerNorm(hs[i], s.x[(T-1)*E:T*E], m.lnfg, m.lnfb, eps)
		outs[i] = s.logitsFor(m)
	}
	qxs := make([]*qvec, n)
	if m.wte.q != nil && useAsm() {
		for i := range qxs {
			qxs[i] = quantizeX(hs[i], m.wte.nblk)
		}
	}
	run(threads, cfg.VocabSize, 4, func(_, lo, hi int) { matVecColsB(&m.wte, hs, qxs, outs, lo, hi, 0, m.wte.cols) })
	return nil
}

// logitsFor is s.logits, made the vocabulary's size if it is not.
func (s *state) logitsFor(m *Model) []float32 {
	if len(s.logits) < m.cfg.VocabSize {
		s.logits = make([]float32, m.cfg.VocabSize)
		populate(s.logits)
	}
	return s.logits[:m.cfg.VocabSize]
}
