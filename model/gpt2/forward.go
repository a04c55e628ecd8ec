package gpt2

import (
	"context"
	"math"
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
	threads int         // goroutines per step
}

func (m *Model) newState(ctxN int) *state {
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
	for len(s.scr) < threads {
		s.scr = append(s.scr, make([]float32, 3*max(E, F)))
		s.probs = append(s.probs, make([]float32, s.ctxN))
	}
}

// forward runs tokens at positions s.n.. through the model, extends the
// cache and returns the logits of the last token (all tokens' logits, T x
// vocab, when all is set).
func (s *state) forward(ctx context.Context, tokens []int, all bool) ([]float32, error) {
	m := s.m
	cfg := m.cfg
	T := len(tokens)
	E, F, H := cfg.NEmbd, cfg.inner(), cfg.NHead
	hd := E / H
	if s.threads == 0 {
		s.threads = m.pool.size() // fixed for the whole generation
	}
	threads := s.threads
	s.grow(T, threads)
	pos0 := s.n
	x := s.x[:T*E]
	row := make([]float32, E)
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
		post := func(lo, hi int) {
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
		if T == 1 {
			var qx *qvec
			if w.q != nil && useAsm() {
				qx = quantizeX(in, w.nblk)
			}
			run(threads, rows, 4, func(_, lo, hi int) { matVec(w, in, qx, out, lo, hi); post(lo, hi) })
		} else {
			run(threads, rows, 3, func(part, lo, hi int) {
				matMul(w, in, T, out, rows, lo, hi, s.scr[part])
				post(lo, hi)
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
		run(threads, H*T, 1, func(part, lo, hi int) {
			for j := lo; j < hi; j++ {
				hh, t := j%H, j/H
				q := qkv[t*3*E+hh*hd : t*3*E+(hh+1)*hd]
				n := pos0 + t + 1
				p := s.probs[part][:n]
				mx := float32(math.Inf(-1))
				for u := 0; u < n; u++ {
					p[u] = dot(q, kc[u*E+hh*hd:u*E+(hh+1)*hd]) * sc
					mx = max(mx, p[u])
				}
				var sum float64
				for u := range p {
					e := float32(math.Exp(float64(p[u] - mx)))
					p[u] = e
					sum += float64(e)
				}
				inv := float32(1 / sum)
				o := att[t*E+hh*hd : t*E+(hh+1)*hd]
				clear(o)
				for u := range p {
					axpy(o, p[u]*inv, vc[u*E+hh*hd:u*E+(hh+1)*hd])
				}
			}
		})
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
	V := cfg.VocabSize
	first := T - 1
	if all {
		first = 0
	}
	logits := make([]float32, (T-first)*V)
	hn := make([]float32, E)
	for t := first; t < T; t++ {
		layerNorm(hn, x[t*E:(t+1)*E], m.lnfg, m.lnfb, float32(cfg.LayerNormEpsilon))
		out := logits[(t-first)*V : (t-first+1)*V]
		var qx *qvec
		if m.wte.q != nil && useAsm() {
			qx = quantizeX(hn, m.wte.nblk)
		}
		run(threads, V, 4, func(_, lo, hi int) { matVec(&m.wte, hn, qx, out, lo, hi) })
	}
	return logits, nil
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
		const c = 0.7978845608028654 // sqrt(2/pi)
		for i, x := range v {
			f := float64(x)
			v[i] = float32(0.5 * f * (1 + math.Tanh(c*(f+0.044715*f*f*f))))
		}
	}
}
