package gpt2

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deskbot/model"
)

// TestMatVecColsBMatches checks the multi-vector product against
// matVecCols run on each vector alone, bit for bit: f32 and q8, panels,
// row ranges that do and do not start on a group of four, column ranges
// inside a panel, every kernel set.
func TestMatVecColsBMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, K := range []int{20, 40, 64, 100, 768} {
		for _, rows := range []int{5, 13, 64} {
			for _, c := range []struct {
				q8 bool
				pw int
			}{{false, 0}, {true, 0}, {false, 32}, {true, 32}, {true, 64}} {
				w := randVec(r, rows*K)
				m := matrix{rows: rows, cols: K, pw: c.pw}
				if c.q8 {
					m.quantize(w)
				} else {
					m.setF(w)
				}
				// column ranges: all, and (panelled) the second panel
				cols := [][2]int{{0, K}}
				if c.pw > 0 && c.pw < K {
					cols = append(cols, [2]int{c.pw, min(2*c.pw, K)})
				}
				for _, B := range []int{1, 2, 3, 5, 8, 11} {
					xs := make([][]float32, B)
					qxs := make([]*qvec, B)
					for v := range xs {
						xs[v] = randVec(r, K)
						qxs[v] = quantizeX(xs[v], m.nblk)
					}
					for _, variant := range kernelVariants() {
						useVariant(t, variant)
						for _, rr := range [][2]int{{0, rows}, {4, rows}, {1, rows - 1}, {2, 3}} {
							for _, cc := range cols {
								for _, givenQ := range []bool{false, true} {
									q := qxs
									if !givenQ {
										q = make([]*qvec, B)
									}
									got, want := make([][]float32, B), make([][]float32, B)
									for v := range xs {
										got[v], want[v] = make([]float32, rows), make([]float32, rows)
										matVecCols(&m, xs[v], q[v], want[v], rr[0], rr[1], cc[0], cc[1])
									}
									matVecColsB(&m, xs, q, got, rr[0], rr[1], cc[0], cc[1])
									for v := range xs {
										for i := range got[v] {
											if math.Float32bits(got[v][i]) != math.Float32bits(want[v][i]) {
												t.Fatalf("%s K=%d rows=%d q8=%v pw=%d B=%d rows %v cols %v quantised %v: vector %d row %d: %v, alone %v",
													variant, K, rows, c.q8, c.pw, B, rr, cc, givenQ, v, i, got[v][i], want[v][i])
											}
										}
									}
									if !givenQ && slices.ContainsFunc(q, func(x *qvec) bool { return x != nil }) {
										t.Fatal("matVecColsB changed the caller's qxs")
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

type genOut struct {
	res  *model.Result
	err  error
	toks []model.Token
}

// oneByOne runs every request through Generate.
func oneByOne(m *Model, reqs []model.Request) []genOut {
	out := make([]genOut, len(reqs))
	for i, r := range reqs {
		o := &out[i]
		o.res, o.err = m.Generate(context.Background(), r, collect(&o.toks))
	}
	return out
}

// batched runs the requests through GenerateBatch.
func batched(ctx context.Context, m *Model, reqs []model.Request) []genOut {
	out := make([]genOut, len(reqs))
	res, errs := m.GenerateBatch(ctx, reqs, func(i int, t model.Token) error {
		out[i].toks = append(out[i].toks, t)
		return nil
	})
	for i := range out {
		out[i].res, out[i].err = res[i], errs[i]
	}
	return out
}

// sameOutputs fails unless got and want agree on everything but timings.
func sameOutputs(t *testing.T, got, want []genOut) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if (g.err == nil) != (w.err == nil) || g.err != nil && g.err.Error() != w.err.Error() {
			t.Fatalf("request %d: error %v, one by one %v", i, g.err, w.err)
		}
		if (g.res == nil) != (w.res == nil) {
			t.Fatalf("request %d: result %+v, one by one %+v", i, g.res, w.res)
		}
		if g.res != nil {
			a, b := *g.res, *w.res
			a.FirstToken, a.Total, b.FirstToken, b.Total = 0, 0, 0, 0
			if !slices.Equal(a.IDs, b.IDs) || a.Text != b.Text || a.FinishReason != b.FinishReason ||
				!slices.Equal(a.PromptIDs, b.PromptIDs) || a.PromptTokens != b.PromptTokens || a.OutputTokens != b.OutputTokens {
				t.Fatalf("request %d:\nbatch      %+v\none by one %+v", i, a, b)
			}
			if g.res.OutputTokens > 0 && (g.res.FirstToken <= 0 || g.res.Total < g.res.FirstToken) {
				t.Fatalf("request %d: timings %v %v", i, g.res.FirstToken, g.res.Total)
			}
		}
		if !slices.Equal(g.toks, w.toks) {
			t.Fatalf("request %d: emitted %+v, one by one %+v", i, g.toks, w.toks)
		}
	}
}

// batchRequests are prompts of different lengths (the empty one too),
// token counts that end by length, by the context's end and maybe by
// end of text, greedy and seeded sampling, a stop string, IgnoreEOS.
func batchRequests(prompt []int, vocab int) []model.Request {
	n := len(prompt)
	return []model.Request{
		{PromptIDs: prompt, MaxTokens: 12},
		{PromptIDs: prompt[:1], MaxTokens: 7},
		{PromptIDs: prompt[:n/2], MaxTokens: 100}, // to the context's end
		{Prompt: "", MaxTokens: 5},
		{PromptIDs: prompt[n/3:], MaxTokens: 9, Temperature: 0.9, TopK: 40, Seed: 3},
		{PromptIDs: prompt, MaxTokens: 10, Temperature: 1.3, TopP: 0.9, RepetitionPenalty: 1.2, Seed: 4},
		{PromptIDs: []int{vocab - 1, 0, vocab / 2}, MaxTokens: 11, IgnoreEOS: true},
		{PromptIDs: prompt[2:], MaxTokens: 8, Stop: []string{"e", " t"}},
	}
}

// TestGenerateBatchMatchesOneByOne: every request's ids, text, stream and
// finish reason are those Generate gives, for f32 and q8, the tiny
// reference models and a GPT-2-124M-shaped random model with two layers,
// 1 to 3 threads, every kernel set.
func TestGenerateBatchMatchesOneByOne(t *testing.T) {
	type subject struct {
		name   string
		m      *Model
		prompt []int
	}
	var subjects []subject
	for _, name := range tinyModels {
		dir := filepath.Join("testdata", name)
		e := readExpected(t, dir)
		for _, quant := range []string{"", "q8"} {
			subjects = append(subjects, subject{name + "/" + quant, load(t, dir, Options{Quant: quant, Threads: 1}), e.PromptIDs})
		}
	}
	cfg := Configs["gpt2"]
	cfg.NLayer, cfg.NPositions = 2, 48
	prompt := make([]int, 21)
	for i := range prompt {
		prompt[i] = (i*7919 + 13) % cfg.VocabSize
	}
	tok, err := BuiltinTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, quant := range []string{"", "q8"} {
		m := randomModel(cfg, quant, 5)
		m.tok = tok
		subjects = append(subjects, subject{"124M-shaped/" + quant, m, prompt})
	}
	for _, s := range subjects {
		reqs := batchRequests(s.prompt, s.m.cfg.VocabSize)
		big := s.m.cfg.VocabSize > 1000
		if big { // fewer and shorter: each token reads 50257 x 768 weights
			reqs = []model.Request{reqs[0], reqs[1], reqs[4], reqs[6]}
			for i := range reqs {
				reqs[i].MaxTokens = min(reqs[i].MaxTokens, 4)
			}
		}
		for _, v := range kernelVariants() {
			for _, threads := range []int{1, 2, 3} {
				if big && threads == 3 && v != "avx512" {
					continue // the same paths as threads=2
				}
				if big && raceOn && (v == "portable" || threads != 2) {
					continue // too slow under -race; run without it
				}
				t.Run(fmt.Sprintf("%s/%s/threads=%d", s.name, v, threads), func(t *testing.T) {
					useVariant(t, v)
					s.m.pool.threads = threads
					steps, most := 0, 0
					batchStep = func(n int) { steps++; most = max(most, n) }
					defer func() { batchStep = nil }()
					got := batched(context.Background(), s.m, reqs)
					if most < 2 {
						t.Fatalf("at most %d sequences in a step", most)
					}
					want := oneByOne(s.m, reqs)
					sameOutputs(t, got, want)
					for i, o := range got {
						if o.err != nil {
							t.Fatalf("request %d: %v", i, o.err)
						}
					}
				})
			}
		}
	}
}

// TestGenerateBatchUnfused: the per-matrix one-token path with several
// threads (tests' unfused switch) is mirrored too.
func TestGenerateBatchUnfused(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	e := readExpected(t, dir)
	for _, quant := range []string{"", "q8"} {
		m := load(t, dir, Options{Quant: quant, Threads: 2})
		reqs := batchRequests(e.PromptIDs, m.cfg.VocabSize)
		unfused = true
		got, want := batched(context.Background(), m, reqs), oneByOne(m, reqs)
		unfused = false
		sameOutputs(t, got, want)
	}
}

// TestGenerateBatchRefill: more requests than batchLimit run in turns (a
// finished sequence's place goes to the next request), and so do
// requests whose caches do not fit in memory together.
func TestGenerateBatchRefill(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f16")
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	var reqs []model.Request
	for i := 0; i < 9; i++ {
		reqs = append(reqs, model.Request{PromptIDs: e.PromptIDs[i%5:], MaxTokens: 2 + 3*i%7, Temperature: float64(i%2) * 0.8, Seed: int64(i)})
	}
	want := oneByOne(m, reqs)
	most := 0
	batchStep = func(n int) { most = max(most, n) }
	defer func() { batchStep = nil }()

	old := batchLimit
	batchLimit = 3
	got := batched(context.Background(), m, reqs)
	batchLimit = old
	sameOutputs(t, got, want)
	if most != 3 {
		t.Fatalf("batch limit 3: at most %d sequences in a step", most)
	}

	// memory for the caches of two sequences only (each to the context's
	// end)
	for i := range reqs {
		reqs[i].MaxTokens = 100
	}
	want = oneByOne(m, reqs)
	most = 0
	kv := 8 * int64(m.cfg.NLayer) * int64(m.cfg.NPositions) * int64(m.cfg.NEmbd)
	oldMem := memoryLimit
	memoryLimit = func() int64 { return 2 * kv }
	defer func() { memoryLimit = oldMem }()
	got = batched(context.Background(), m, reqs)
	sameOutputs(t, got, want)
	if most != 2 {
		t.Fatalf("memory for 2 caches: at most %d sequences in a step", most)
	}
}

// TestGenerateBatchBadRequests: a bad request gets its error (the one
// Generate gives) and a nil Result; the others go on.
func TestGenerateBatchBadRequests(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-bf16") // n_positions 32, vocab 300
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	reqs := []model.Request{
		{PromptIDs: e.PromptIDs, MaxTokens: 6},
		{PromptIDs: []int{1, 300, 2}, MaxTokens: 6},
		{PromptIDs: e.PromptIDs[3:], MaxTokens: 6},
		{PromptIDs: make([]int, 32), MaxTokens: 1},
		{PromptIDs: e.PromptIDs, MaxTokens: -1},
		{PromptIDs: e.PromptIDs, MaxTokens: 0},
		{PromptIDs: e.PromptIDs, MaxTokens: 4, Temperature: -1},
		{PromptIDs: []int{-5}, MaxTokens: 4},
		{PromptIDs: e.PromptIDs[:2], MaxTokens: 8},
	}
	got, want := batched(context.Background(), m, reqs), oneByOne(m, reqs)
	sameOutputs(t, got, want)
	for i, o := range got {
		bad := slices.Contains([]int{1, 3, 4, 6, 7}, i)
		if bad != (o.err != nil) || bad != (o.res == nil) {
			t.Fatalf("request %d: %v %+v", i, o.err, o.res)
		}
	}
	if !errors.Is(got[3].err, ErrPromptTooLong) || !strings.Contains(got[1].err.Error(), "token id 300 is outside the vocabulary") {
		t.Fatalf("errors: %v; %v", got[3].err, got[1].err)
	}
	if got[5].res.FinishReason != "length" || len(got[5].res.IDs) != 0 {
		t.Fatalf("0 tokens: %+v", got[5].res)
	}
	// an empty batch, a closed model
	if res, errs := m.GenerateBatch(context.Background(), nil, nil); len(res) != 0 || len(errs) != 0 {
		t.Fatal("empty batch")
	}
	m.Close()
	res, errs := m.GenerateBatch(context.Background(), reqs[:2], nil)
	if res[0] != nil || !errors.Is(errs[0], errClosed) || !errors.Is(errs[1], errClosed) {
		t.Fatalf("closed model: %v %v", res, errs)
	}
}

// TestGenerateBatchEmitError: an emit error ends its own request only.
func TestGenerateBatchEmitError(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f16")
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	reqs := []model.Request{
		{PromptIDs: e.PromptIDs, MaxTokens: 10, IgnoreEOS: true},
		{PromptIDs: e.PromptIDs[2:], MaxTokens: 10, IgnoreEOS: true},
		{PromptIDs: e.PromptIDs[5:], MaxTokens: 10, IgnoreEOS: true},
	}
	want := oneByOne(m, reqs)
	boom := errors.New("the sheet is read-only")
	n := 0
	res, errs := m.GenerateBatch(context.Background(), reqs, func(i int, t model.Token) error {
		if i == 1 {
			if n++; n == 3 {
				return boom
			}
		}
		return nil
	})
	if !errors.Is(errs[1], boom) || res[1].FinishReason != "cancelled" || !slices.Equal(res[1].IDs, want[1].res.IDs[:3]) {
		t.Fatalf("request 1: %v %+v", errs[1], res[1])
	}
	for _, i := range []int{0, 2} {
		if errs[i] != nil || !slices.Equal(res[i].IDs, want[i].res.IDs) || res[i].FinishReason != "length" {
			t.Fatalf("request %d: %v %+v, alone %+v", i, errs[i], res[i], want[i].res)
		}
	}
}

// TestGenerateBatchCancel: cancelling ctx ends the running requests with
// their partial results and context.Cause; those not started get the
// cause and no result.
func TestGenerateBatchCancel(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	var reqs []model.Request
	for i := 0; i < 5; i++ {
		reqs = append(reqs, model.Request{PromptIDs: e.PromptIDs[i:], MaxTokens: 12, IgnoreEOS: true})
	}
	want := oneByOne(m, reqs)
	old := batchLimit
	batchLimit = 2
	defer func() { batchLimit = old }()
	cause := errors.New("the user pressed stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	n := 0
	res, errs := m.GenerateBatch(ctx, reqs, func(i int, t model.Token) error {
		if n++; n == 7 {
			cancel(cause)
		}
		return nil
	})
	for i := range reqs {
		if !errors.Is(errs[i], cause) {
			t.Fatalf("request %d: error %v", i, errs[i])
		}
		if i >= 2 {
			if res[i] != nil {
				t.Fatalf("request %d was not started but has %+v", i, res[i])
			}
			continue
		}
		if res[i] == nil || res[i].FinishReason != "cancelled" || len(res[i].IDs) == 0 || len(res[i].IDs) >= 12 ||
			!slices.Equal(res[i].IDs, want[i].res.IDs[:len(res[i].IDs)]) {
			t.Fatalf("request %d: %+v, alone %v", i, res[i], want[i].res.IDs)
		}
	}
	// cancelled before anything starts
	res, errs = m.GenerateBatch(ctx, reqs[:2], nil)
	if res[0] != nil || !errors.Is(errs[0], cause) || !errors.Is(errs[1], cause) {
		t.Fatalf("pre-cancelled: %v %v", res, errs)
	}
}

// TestGenerateBatchIgnoreEOS: with the end-of-text token as the greedy
// choice, a request ends at once ("eos") and the same one with IgnoreEOS
// gives all its tokens, as one by one.
func TestGenerateBatchIgnoreEOS(t *testing.T) {
	cfg := Config{NLayer: 2, NHead: 2, NEmbd: 64, NInner: 256, NPositions: 40, VocabSize: 97,
		LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: 96}
	for _, quant := range []string{"", "q8"} {
		m := randomModel(cfg, quant, 9)
		m.pool.threads = 2
		m.tok, _ = BuiltinTokenizer()
		prompt := []int{5, 17, 33}
		first, err := m.Generate(context.Background(), model.Request{PromptIDs: prompt, MaxTokens: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.cfg.EOSTokenID = first.IDs[0]
		reqs := []model.Request{
			{PromptIDs: prompt, MaxTokens: 8},
			{PromptIDs: prompt, MaxTokens: 8, IgnoreEOS: true},
			{PromptIDs: []int{1, 2}, MaxTokens: 8, IgnoreEOS: true},
		}
		got, want := batched(context.Background(), m, reqs), oneByOne(m, reqs)
		sameOutputs(t, got, want)
		if got[0].res.FinishReason != "eos" || len(got[0].res.IDs) != 0 || len(got[1].res.IDs) != 8 || slices.Contains(got[1].res.IDs, first.IDs[0]) {
			t.Fatalf("%s: %+v; %+v", quant, got[0].res, got[1].res)
		}
	}
}

// TestGenerateBatchStop: a stop string ends its request as in Generate.
func TestGenerateBatchStop(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-bf16")
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	full, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 12}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := string(m.Tokenizer().TokenBytes(full.IDs[6]))
	reqs := []model.Request{
		{PromptIDs: e.PromptIDs, MaxTokens: 12, Stop: []string{"never appears", stop}},
		{PromptIDs: e.PromptIDs, MaxTokens: 12},
		{PromptIDs: e.PromptIDs[4:], MaxTokens: 12, Stop: []string{stop}},
	}
	got, want := batched(context.Background(), m, reqs), oneByOne(m, reqs)
	sameOutputs(t, got, want)
	if got[0].res.FinishReason != "stop" || got[1].res.FinishReason == "stop" || len(got[0].res.IDs) > 7 {
		t.Fatalf("%+v; %+v", got[0].res, got[1].res)
	}
}

// TestGenerateBatchConcurrent: Generate and GenerateBatch on one model
// from several goroutines are serialised (run with -race).
func TestGenerateBatchConcurrent(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f16")
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	reqs := batchRequests(e.PromptIDs, m.cfg.VocabSize)
	want := oneByOne(m, reqs)
	var wg sync.WaitGroup
	outs := make([][]genOut, 4)
	for g := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g%2 == 0 {
				outs[g] = batched(context.Background(), m, reqs)
			} else {
				outs[g] = oneByOne(m, reqs)
			}
		}()
	}
	wg.Wait()
	for _, o := range outs {
		sameOutputs(t, o, want)
	}
}

// GenerateAll takes the batched path for a local model.
func TestGenerateAllBatches(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f16")
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	steps := 0
	batchStep = func(n int) { steps++ }
	defer func() { batchStep = nil }()
	reqs := batchRequests(e.PromptIDs, m.cfg.VocabSize)
	res, errs := model.GenerateAll(context.Background(), m, reqs, nil)
	want := oneByOne(m, reqs)
	for i := range reqs {
		if errs[i] != nil || !slices.Equal(res[i].IDs, want[i].res.IDs) {
			t.Fatalf("request %d: %v %+v", i, errs[i], res[i])
		}
	}
	if steps == 0 {
		t.Fatal("GenerateAll did not use GenerateBatch")
	}
}

// TestDecodeBatchBitIdentical compares the logits of batched steps with
// those of one-token state.forward calls on each sequence alone, bit for
// bit, teacher-forced: f32, q8 and q4, head widths that do and do not fill
// q8 blocks or groups of four rows, 1 to 3 threads (sequences split
// between the goroutines or not: see decodeBatch), every kernel set.
func TestDecodeBatchBitIdentical(t *testing.T) {
	for _, shape := range []struct{ E, H, F int }{{64, 2, 256}, {128, 2, 200}, {40, 4, 160}, {48, 4, 96}} {
		cfg := Config{NLayer: 2, NHead: shape.H, NEmbd: shape.E, NInner: shape.F, NPositions: 32, VocabSize: 301,
			LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: 300}
		for _, quant := range []string{"", "q8", "q4"} {
			m := randomModel(cfg, quant, uint64(shape.E+shape.H))
			for _, v := range kernelVariants() {
				for _, c := range []struct {
					threads int
					split   bool
				}{{1, false}, {2, false}, {2, true}, {3, false}, {3, true}} {
					threads := c.threads
					t.Run(fmt.Sprintf("E=%d/H=%d/%s/%s/threads=%d/split=%v", shape.E, shape.H, quant, v, threads, c.split), func(t *testing.T) {
						useVariant(t, v)
						m.pool.threads = threads
						splitBatch = c.split
						defer func() { splitBatch = true }()
						// seven: each goroutine takes two or more when split
						prompts := [][]int{{3, 14, 15, 92}, {65}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {7, 7}, {100, 200, 3}, {9}, {42, 43, 44, 45, 46}}
						alone := make([]*state, len(prompts))
						seqs := make([]*seq, len(prompts))
						next := make([]int, len(prompts))
						for i, p := range prompts {
							alone[i] = m.newState(cfg.NPositions)
							lg, err := alone[i].forward(context.Background(), p, false)
							if err != nil {
								t.Fatal(err)
							}
							next[i] = argmax(lg)
							st := m.newState(cfg.NPositions)
							st.threads = threads
							if _, err := st.forward(context.Background(), p, false); err != nil {
								t.Fatal(err)
							}
							seqs[i] = &seq{st: st}
						}
						for step := 0; step < 10; step++ {
							for i, sq := range seqs {
								sq.next = next[i]
							}
							if err := decodeBatch(context.Background(), m, seqs, threads); err != nil {
								t.Fatal(err)
							}
							for i, sq := range seqs {
								want, err := alone[i].forward(context.Background(), []int{next[i]}, false)
								if err != nil {
									t.Fatal(err)
								}
								for j, w := range want {
									if g := sq.st.logits[j]; math.Float32bits(g) != math.Float32bits(w) {
										t.Fatalf("step %d sequence %d: logit %d is %v batched, %v alone", step, i, j, g, w)
									}
								}
								next[i] = argmax(want)
							}
						}
					})
				}
			}
		}
	}
}

// BenchmarkGenerateBatch generates 128 tokens (greedy, IgnoreEOS) for 8
// prompts of 8 tokens at once with GenerateBatch, and for one of them
// alone with Generate (the baseline), on the GPT-2-124M-shaped random
// checkpoint at 2 threads. Each iteration runs both, in alternating
// order; the times include the prompts. It reports each one's total
// tokens/s and their ratio.
func BenchmarkGenerateBatch(b *testing.B) {
	const B, N = 8, 128
	for _, quant := range []string{"", "q8", "q4"} {
		name := quant
		if name == "" {
			name = "f32"
		}
		b.Run(name+"/threads=2", func(b *testing.B) {
			m := benchModel(b, quant)
			m.pool.threads = 2
			reqs := make([]model.Request, B)
			for i := range reqs {
				ids := make([]int, 8)
				for j := range ids {
					ids[j] = (i*1009 + j*7919 + 464) % m.cfg.VocabSize
				}
				reqs[i] = model.Request{PromptIDs: ids, MaxTokens: N, IgnoreEOS: true}
			}
			var one, all time.Duration
			single := func() {
				t0 := time.Now()
				if _, err := m.Generate(context.Background(), reqs[0], nil); err != nil {
					b.Fatal(err)
				}
				one += time.Since(t0)
			}
			batch := func() {
				t0 := time.Now()
				_, errs := m.GenerateBatch(context.Background(), reqs, nil)
				all += time.Since(t0)
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					single()
					batch()
				} else {
					batch()
					single()
				}
				i++
			}
			oneTPS := float64(N*i) / one.Seconds()
			allTPS := float64(B*N*i) / all.Seconds()
			b.ReportMetric(oneTPS, "tok/s-1-stream")
			b.ReportMetric(allTPS, "tok/s-8-batch")
			b.ReportMetric(allTPS/oneTPS, "batch/1-stream")
		})
	}
}

// BenchmarkMatVecB runs the lm_head-shaped product (50257 x 768, larger
// than the caches) for 8 vectors on one goroutine: "batch" with
// matVecColsB (the weights read once), "each" with matVecCols per vector
// (the baseline), alternating in each iteration. It reports the products
// per second of each and their ratio.
func BenchmarkMatVecB(b *testing.B) {
	const rows, K, B = 50257, 768, 8
	r := rand.New(rand.NewPCG(7, 8))
	w := randVec(r, rows*K)
	xs, ys := make([][]float32, B), make([][]float32, B)
	for v := range xs {
		xs[v], ys[v] = randVec(r, K), make([]float32, rows)
	}
	for _, quant := range []string{"f32", "q8"} {
		m := matrix{rows: rows, cols: K}
		if quant == "q8" {
			m.quantize(w)
		} else {
			m.setF(w) // the run layout (groups of four rows)
		}
		qxs := make([]*qvec, B)
		for v := range qxs {
			qxs[v] = quantizeX(xs[v], m.nblk)
		}
		for _, variant := range kernelVariants() {
			if variant == "portable" {
				continue
			}
			b.Run(quant+"/"+variant, func(b *testing.B) {
				useVariant(b, variant)
				var each, batch time.Duration
				n := 0
				for b.Loop() {
					t0 := time.Now()
					matVecColsB(&m, xs, qxs, ys, 0, rows, 0, K)
					t1 := time.Now()
					for v := range xs {
						matVecCols(&m, xs[v], qxs[v], ys[v], 0, rows, 0, K)
					}
					batch += t1.Sub(t0)
					each += time.Since(t1)
					n++
				}
				b.ReportMetric(float64(B*n)/batch.Seconds(), "products/s-batch")
				b.ReportMetric(float64(B*n)/each.Seconds(), "products/s-each")
				b.ReportMetric(each.Seconds()/batch.Seconds(), "speedup")
			})
		}
	}
}

// TestForwardManyBitIdentical runs several prompts through forwardMany
// and each through state.forward alone, and compares the logits of the
// last token and the attention caches bit for bit: f32 and q8, shapes
// with more rows than a block of promptRows and fewer, prompt lengths
// that do and do not fill groups of four tokens, 1 to 3 threads, every
// kernel set.
func TestForwardManyBitIdentical(t *testing.T) {
	for _, shape := range []struct{ E, H, F int }{{64, 2, 256}, {128, 2, 200}, {40, 4, 160}} {
		cfg := Config{NLayer: 2, NHead: shape.H, NEmbd: shape.E, NInner: shape.F, NPositions: 32, VocabSize: 301,
			LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: 300}
		for _, quant := range []string{"", "q8"} {
			m := randomModel(cfg, quant, uint64(shape.E*shape.H))
			for _, v := range kernelVariants() {
				for _, threads := range []int{1, 2, 3} {
					t.Run(fmt.Sprintf("E=%d/H=%d/%s/%s/threads=%d", shape.E, shape.H, quant, v, threads), func(t *testing.T) {
						useVariant(t, v)
						m.pool.threads = threads
						prompts := [][]int{{3, 14}, {1, 2, 3, 4, 5, 6, 7}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13}, {7, 7, 7, 7}}
						many := make([]*state, len(prompts))
						for i := range prompts {
							many[i] = m.newState(cfg.NPositions)
							many[i].threads = threads
						}
						if err := forwardMany(context.Background(), m, many, prompts); err != nil {
							t.Fatal(err)
						}
						for i, p := range prompts {
							alone := m.newState(cfg.NPositions)
							alone.threads = threads
							want, err := alone.forward(context.Background(), p, false)
							if err != nil {
								t.Fatal(err)
							}
							if many[i].n != alone.n {
								t.Fatalf("prompt %d: position %d, alone %d", i, many[i].n, alone.n)
							}
							same := func(what string, g, w []float32) {
								for j := range w {
									if math.Float32bits(g[j]) != math.Float32bits(w[j]) {
										t.Fatalf("prompt %d: %s[%d] is %v together, %v alone", i, what, j, g[j], w[j])
									}
								}
							}
							same("logit", many[i].logits, want)
							for li := range m.layers {
								n := len(p) * cfg.NEmbd
								same(fmt.Sprintf("layer %d key", li), many[i].k[li][:n], alone.k[li][:n])
								same(fmt.Sprintf("layer %d value", li), many[i].v[li][:n], alone.v[li][:n])
							}
						}
					})
				}
			}
		}
	}
}

// countCtx is a context whose Err turns to Canceled at its n-th call: a
// cancel at every point GenerateBatch looks, the prompts included.
type countCtx struct {
	context.Context
	calls, n int
}

func (c *countCtx) Err() error {
	if c.calls++; c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

// TestGenerateBatchCancelEverywhere cancels GenerateBatch at each point
// where it checks its context in turn, the joint prompts (forwardMany)
// included: every request ends with the cancel error, and what a request
// generated before is what it generates alone.
func TestGenerateBatchCancelEverywhere(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	e := readExpected(t, dir)
	m := load(t, dir, Options{Threads: 2})
	reqs := []model.Request{
		{PromptIDs: e.PromptIDs, MaxTokens: 5, IgnoreEOS: true},
		{PromptIDs: e.PromptIDs[1:], MaxTokens: 5, IgnoreEOS: true},
		{PromptIDs: e.PromptIDs[:1], MaxTokens: 5, IgnoreEOS: true},
	}
	want := oneByOne(m, reqs)
	for n := 1; ; n++ {
		ctx := &countCtx{Context: context.Background(), n: n}
		res, errs := m.GenerateBatch(ctx, reqs, nil)
		done := true
		for i := range reqs {
			if errs[i] == nil {
				if !slices.Equal(res[i].IDs, want[i].res.IDs) {
					t.Fatalf("cancel at check %d: request %d: %v, alone %v", n, i, res[i].IDs, want[i].res.IDs)
				}
				continue
			}
			done = false
			if !errors.Is(errs[i], context.Canceled) {
				t.Fatalf("cancel at check %d: request %d: error %v", n, i, errs[i])
			}
			if res[i] != nil && (res[i].FinishReason != "cancelled" || !slices.Equal(res[i].IDs, want[i].res.IDs[:len(res[i].IDs)])) {
				t.Fatalf("cancel at check %d: request %d: %+v, alone %v", n, i, res[i], want[i].res.IDs)
			}
		}
		if done {
			t.Logf("every request done before check %d", n)
			return
		}
		if n > 1000 {
			t.Fatal("still cancelled after 1000 checks")
		}
	}
}

// BenchmarkQ8Batch4InCache runs the four-vector q8 kernel over a matrix
// that stays in L2 (512 x 768: 400 KB with its scales) on one goroutine:
// the kernel's arithmetic without memory, as ns per vector and block of
// four rows.
func BenchmarkQ8Batch4InCache(b *testing.B) {
	if !useBatch512() || !useVNNI() {
		b.Skip("no AVX-512 VNNI")
	}
	const rows, K = 512, 768
	r := rand.New(rand.NewPCG(1, 2))
	m := matrix{rows: rows, cols: K}
	m.quantize(randVec(r, rows*K))
	var xq [4]*int16
	var xs, ys [4]*float32
	for j := range 4 {
		qx := quantizeX(randVec(r, K), m.nblk)
		xq[j], xs[j] = &qx.q[0], &qx.s[0]
		ys[j] = &make([]float32, rows)[0]
	}
	for b.Loop() {
		dot4q8x4NAVX512(&m.q[0], &m.s[0], &xq, &xs, m.nblk, 0, &ys, rows/4, m.nblk, m.smul, 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(4*rows/4*m.nblk), "ns/vector-block")
}
