package gpt2

import (
	"context"
	"math"
	"slices"
	"time"

	"deskbot/model"
)

var _ model.BatchGenerator = (*Model)(nil)

// batchLimit is the most sequences decoded together; further requests
// wait for a sequence to end and take its place. A variable for tests.
var batchLimit = 16

// batchStep, when set (tests), is called before each batched step with
// the number of sequences in it.
var batchStep func(n int)

// GenerateBatch generates for several requests at once: each prompt is
// run on its own (as Generate runs it), then every step decodes one token
// for all the live sequences together, reading each weight once per step
// for all of them (see matVecColsB). Each request keeps its own sampler,
// stop strings, token limit, attention cache, streaming and Result, with
// Generate's semantics; greedy (and seeded) results are those Generate
// gives, bit for bit (TestGenerateBatchMatchesOneByOne).
//
// At most batchLimit sequences (fewer when their attention caches would
// not fit in memory together) run at once; when one ends the next request
// starts. A request's FirstToken and Total count from when its prompt
// starts. A bad request (a token id outside the vocabulary, a prompt
// longer than the context...) gets its error and a nil Result; an emit
// error ends only its request (partial Result, FinishReason "cancelled").
// When ctx is cancelled, the running requests end as in Generate and
// those not started get context.Cause(ctx) and a nil Result. emit is
// called from the calling goroutine only. GenerateBatch and Generate are
// serialised.
func (m *Model) GenerateBatch(ctx context.Context, reqs []model.Request, emit func(i int, t model.Token) error) ([]*model.Result, []error) {
	res := make([]*model.Result, len(reqs))
	errs := make([]error, len(reqs))
	if emit == nil {
		emit = func(int, model.Token) error { return nil }
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.layers == nil {
		for i := range errs {
			errs[i] = errClosed
		}
		return res, errs
	}
	threads := m.pool.size() // fixed for the whole batch, as in Generate
	var live []*seq
	idx := map[*seq]int{}
	var liveKV int64
	end := func(sq *seq, err error) {
		i := idx[sq]
		res[i], errs[i] = sq.res, err
		liveKV -= sq.kv
		delete(idx, sq)
		m.putState(sq.st)
		sq.st = nil
	}
	next := 0 // the first request not started
	var pending *seq
	var starting []*seq // started in this round, prompts not run yet
	for {
		// Start requests while there is room.
		for len(live) < batchLimit && (pending != nil || next < len(reqs)) {
			if ctx.Err() != nil {
				break
			}
			sq := pending
			if sq == nil {
				i := next
				next++
				var err error
				sq, err = m.newSeq(reqs[i], func(t model.Token) error { return emit(i, t) }, time.Now())
				if err != nil {
					errs[i] = err
					continue
				}
				idx[sq] = i
				if sq.done {
					end(sq, nil)
					continue
				}
			}
			// The caches of the live sequences and this one must fit
			// (one alone was checked by newSeq).
			if limit := memoryLimit(); len(live) > 0 && limit > 0 && liveKV+sq.kv > limit {
				pending = sq
				break
			}
			pending = nil
			sq.start = time.Now()
			liveKV += sq.kv
			sq.st = m.newState(sq.ctxN)
			sq.st.threads = threads
			starting = append(starting, sq)
			live = append(live, sq)
		}
		// The prompts of the sequences starting now, together (see
		// forwardMany); a one-token prompt as forward runs it.
		var many []*seq
		for _, sq := range starting {
			if len(sq.ids) >= 2 {
				many = append(many, sq)
				continue
			}
			_, sq.err = sq.st.forward(ctx, sq.ids, false) // the logits in sq.st.logits
		}
		if len(many) > 0 {
			sts, ids := make([]*state, len(many)), make([][]int, len(many))
			for i, sq := range many {
				sts[i], ids[i] = sq.st, sq.ids
			}
			err := forwardMany(ctx, m, sts, ids)
			for _, sq := range many {
				sq.err = err
			}
		}
		kept := live[:0]
		for _, sq := range live {
			if !slices.Contains(starting, sq) {
				kept = append(kept, sq)
				continue
			}
			if sq.err != nil {
				_, err := sq.cancel(sq.err)
				end(sq, err)
				continue
			}
			if done, err := sq.take(ctx, sq.st.logits); done {
				end(sq, err)
				continue
			}
			kept = append(kept, sq)
		}
		clear(live[len(kept):])
		live = kept
		starting = starting[:0]
		if len(live) == 0 {
			if ctx.Err() == nil && (pending != nil || next < len(reqs)) {
				continue // every sequence started ended at once
			}
			break
		}
		if batchStep != nil {
			batchStep(len(live))
		}
		if err := decodeBatch(ctx, m, live, threads); err != nil {
			for _, sq := range live {
				_, err := sq.cancel(err)
				end(sq, err)
			}
			live = live[:0]
			break
		}
		kept = live[:0]
		for _, sq := range live {
			if done, err := sq.take(ctx, sq.st.logits); done {
				end(sq, err)
				continue
			}
			kept = append(kept, sq)
		}
		clear(live[len(kept):])
		live = kept
	}
	if pending != nil || next < len(reqs) {
		// ctx was cancelled before these started.
		cause := context.Cause(ctx)
		if pending != nil {
			i := idx[pending]
			errs[i] = cause
		}
		for i := next; i < len(reqs); i++ {
			errs[i] = cause
		}
	}
	return res, errs
}

// splitBatch makes decodeBatch give each goroutine its share of the
// sequences for the whole step (see decodeBatch); tests turn it off to
// compare.
var splitBatch = true

// decodeBatch runs one token (sq.next) through the model for every
// sequence, at its own position, and leaves its logits in sq.st.logits.
// Each sequence's arithmetic is that of a one-token state.forward, with
// the same thread count: decode (fused) with several threads, the
// per-matrix path with one (or when unfused is set).
//
// With at least two sequences a thread, each goroutine takes its share of
// the sequences through the whole step, decode's pieces one after another
// (decode's result does not depend on how its pieces are shared out): one
// wait a step instead of two a layer, where the helper, woken late, or
// the other, left with the last piece, idled (two cores were 170 % busy).
// Both read the same weights at about the same time. Quantised weights
// only: a q8 batch is bound by the multiplies (8 at once: 2.9x one stream's
// tokens/s shared, 3.2-3.3x split; BenchmarkGenerateBatch, interleaved),
// an f32 one by memory, and split each goroutine read the weights from
// memory again (3.8-4.1x shared, 2.9-3.0x split).
func decodeBatch(ctx context.Context, m *Model, seqs []*seq, threads int) error {
	if !splitBatch || threads < 2 || unfused || len(seqs) < 2*threads || m.wte.q == nil {
		return decodeSeqs(ctx, m, seqs, threads, threads)
	}
	errs := make([]error, threads)
	runEach(threads, func(g int) {
		share := seqs[g*len(seqs)/threads : (g+1)*len(seqs)/threads]
		if errs[g] = decodeSeqs(ctx, m, share, threads, 1); errs[g] != nil {
			return
		}
		for _, sq := range share { // see seq.prepare
			if sq.smp != nil {
				sq.prepare(sq.st.logits)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeSeqs is decodeBatch for seqs on par goroutines, with the
// arithmetic of threads.
func decodeSeqs(ctx context.Context, m *Model, seqs []*seq, threads, par int) error {
	cfg := m.cfg
	E, F, H := cfg.NEmbd, cfg.inner(), cfg.NHead
	hd := E / H
	B := len(seqs)
	eps := float32(cfg.LayerNormEpsilon)
	perF, nf := cfg.mlpSlice()
	fb := (F + qblock - 1) / qblock
	q8 := m.wte.q != nil && useAsm()
	fused := threads > 1 && !unfused
	xs, hs, qkvs, atts, tmps, ffs, outs := vecs(B), vecs(B), vecs(B), vecs(B), vecs(B), vecs(B), vecs(B)
	qhs, qatts, qffs := make([]*qvec, B), make([]*qvec, B), make([]*qvec, B)
	ctxN := 0
	for b, sq := range seqs {
		s := sq.st
		s.grow(1, threads)
		if s.parts == nil {
			s.parts = make([]float32, max(H, nf)*E)
			s.logitsFor(m)
			nbE := (E + qblock - 1) / qblock
			s.qh, s.qatt, s.qff = newQvecFor(nbE, m), newQvecFor(nbE, m), newQvecFor(fb, m)
		}
		xs[b], hs[b], qkvs[b], atts[b], tmps[b], ffs[b] = s.x[:E], s.h[:E], s.qkv[:3*E], s.att[:E], s.tmp[:E], s.ff[:F]
		outs[b] = s.logits
		qhs[b], qatts[b], qffs[b] = s.qh, s.qatt, s.qff
		ctxN = max(ctxN, s.ctxN)
		pos := s.n
		m.wte.row(sq.next, xs[b])
		p := m.wpe[pos*E : (pos+1)*E]
		for i, x := range xs[b] {
			xs[b][i] = x + p[i]
		}
	}
	// per goroutine: attention scores, and the outputs of one piece for
	// every sequence
	probs := make([][]float32, max(par, 1))
	ysp := make([][][]float32, len(probs))
	for i := range probs {
		probs[i] = make([]float32, ctxN)
		ysp[i] = vecs(B)
	}
	// parts sets ys to piece j's partial sums of every sequence.
	parts := func(ys [][]float32, j int) [][]float32 {
		for b, sq := range seqs {
			ys[b] = sq.st.parts[j*E : (j+1)*E]
		}
		return ys
	}
	// mm is forward's one-token product: outs[b] = act(W·ins[b] + bias).
	mm := func(w *matrix, bias []float32, ins [][]float32, qv []*qvec, outs [][]float32, act string) {
		qxs := make([]*qvec, B)
		if w.q != nil && useAsm() {
			for b := range ins {
				qxs[b] = qv[b]
				qxs[b].quantize(ins[b], 0, w.nblk)
			}
		}
		run(par, w.rows, 4, func(_, lo, hi int) {
			matVecColsB(w, ins, qxs, outs, lo, hi, 0, w.cols)
			for _, out := range outs {
				o := out[lo:hi]
				for i := range o {
					o[i] += bias[lo+i]
				}
				if act != "" {
					activate(act, o)
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
		sc := scale
		if cfg.ScaleAttnByInverseLayerIdx {
			sc /= float32(li + 1)
		}
		for b := range seqs {
			layerNorm(hs[b], xs[b], ly.ln1g, ly.ln1b, eps)
			if q8 && fused {
				qhs[b].quantize(hs[b], 0, ly.attn.nblk)
			}
		}
		if fused {
			// decode's first step: per head, its q, k, v rows, its
			// attention and its share of the output projection
			fuse := cfg.fuseProj(ly.proj.q != nil)
			runN(par, H, func(part, hh int) {
				lo, hi := hh*hd, (hh+1)*hd
				for j := 0; j < 3; j++ {
					r0, r1 := j*E+lo, j*E+hi
					matVecColsB(&ly.attn, hs, qhs, qkvs, r0, r1, 0, ly.attn.cols)
					for _, qkv := range qkvs {
						for r := r0; r < r1; r++ {
							qkv[r] += ly.attnB[r]
						}
					}
				}
				for b, sq := range seqs {
					s, qkv := sq.st, qkvs[b]
					kc, vc := s.k[li], s.v[li]
					pos := s.n
					copy(kc[pos*E+lo:pos*E+hi], qkv[E+lo:E+hi])
					copy(vc[pos*E+lo:pos*E+hi], qkv[2*E+lo:2*E+hi])
					attend(atts[b][lo:hi], qkv[lo:hi], kc, vc, E, lo, pos+1, sc, probs[part])
					if fuse && q8 {
						qatts[b].quantize(atts[b], lo/qblock, (hi+qblock-1)/qblock)
					}
				}
				if fuse {
					matVecColsB(&ly.proj, atts, qatts, parts(ysp[part], hh), 0, E, lo, hi)
				}
			})
			if fuse {
				for b, sq := range seqs {
					sq.st.addParts(xs[b], ly.projB, H)
				}
			} else {
				qxs := make([]*qvec, B)
				if q8 {
					for b := range seqs {
						qxs[b] = qatts[b]
						qxs[b].quantize(atts[b], 0, ly.proj.nblk)
					}
				}
				run(par, E, 4, func(_, lo, hi int) { matVecColsB(&ly.proj, atts, qxs, tmps, lo, hi, 0, ly.proj.cols) })
				for b, x := range xs {
					for i := range x {
						x[i] += tmps[b][i] + ly.projB[i]
					}
				}
			}
			for b := range seqs {
				layerNorm(hs[b], xs[b], ly.ln2g, ly.ln2b, eps)
				if q8 {
					qhs[b].quantize(hs[b], 0, ly.fc.nblk)
				}
			}
			// decode's second step: per slice of the hidden units, its fc
			// rows, the activation and its share of mlp.c_proj
			runN(par, nf, func(part, i int) {
				c0, c1 := i*perF, min((i+1)*perF, F)
				matVecColsB(&ly.fc, hs, qhs, ffs, c0, c1, 0, ly.fc.cols)
				for b, ff := range ffs {
					o := ff[c0:c1]
					for j := range o {
						o[j] += ly.fcB[c0+j]
					}
					activate(cfg.Activation, o)
					if q8 {
						qffs[b].quantize(ff, c0/qblock, (c1+qblock-1)/qblock)
					}
				}
				matVecColsB(&ly.fc2, ffs, qffs, parts(ysp[part], i), 0, E, c0, c1)
			})
			for b, sq := range seqs {
				sq.st.addParts(xs[b], ly.fc2B, nf)
			}
			continue
		}
		// forward's per-matrix path, one token
		mm(&ly.attn, ly.attnB, hs, qhs, qkvs, "")
		for b, sq := range seqs {
			s := sq.st
			pos := s.n
			copy(s.k[li][pos*E:(pos+1)*E], qkvs[b][E:2*E])
			copy(s.v[li][pos*E:(pos+1)*E], qkvs[b][2*E:3*E])
		}
		run(par, H*B, 1, func(part, lo, hi int) {
			for j := lo; j < hi; j++ {
				hh, b := j%H, j/H
				s := seqs[b].st
				attend(atts[b][hh*hd:(hh+1)*hd], qkvs[b][hh*hd:(hh+1)*hd], s.k[li], s.v[li], E, hh*hd, s.n+1, sc, probs[part])
			}
		})
		mm(&ly.proj, ly.projB, atts, qatts, tmps, "")
		for b, x := range xs {
			for i := range x {
				x[i] += tmps[b][i]
			}
		}
		for b := range seqs {
			layerNorm(hs[b], xs[b], ly.ln2g, ly.ln2b, eps)
		}
		mm(&ly.fc, ly.fcB, hs, qhs, ffs, cfg.Activation)
		mm(&ly.fc2, ly.fc2B, ffs, qffs, tmps, "")
		for b, x := range xs {
			for i := range x {
				x[i] += tmps[b][i]
			}
		}
	}
	for _, sq := range seqs {
		sq.st.n++
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	qxs := make([]*qvec, B)
	for b := range seqs {
		layerNorm(hs[b], xs[b], m.lnfg, m.lnfb, eps)
		if m.wte.q != nil && useAsm() { // q8 (decode), or forward's test
			qxs[b] = qhs[b]
			qxs[b].quantize(hs[b], 0, m.wte.nblk)
		}
	}
	run(par, cfg.VocabSize, 4, func(_, lo, hi int) { matVecColsB(&m.wte, hs, qxs, outs, lo, hi, 0, m.wte.cols) })
	return nil
}

func vecs(n int) [][]float32 { return make([][]float32, n) }
