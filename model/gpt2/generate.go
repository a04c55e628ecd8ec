package gpt2

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"deskbot/model"
)

var _ model.Generator = (*Model)(nil)

// ErrPromptTooLong is returned when the prompt does not fit the model's
// context (n_positions).
var ErrPromptTooLong = errors.New("gpt2: prompt is longer than the model's context")

// Generate tokenizes the prompt (or takes req.PromptIDs), runs it as one
// batch and then samples up to req.MaxTokens tokens one at a time, calling
// emit for each. MaxTokens 0 only tokenizes.
//
// Streaming: each emitted Token carries its id and the text it releases.
// Text is held back while it ends inside a UTF-8 character or could be the
// start of a stop string; bytes that cannot form valid UTF-8 become U+FFFD.
// Result.Text is exactly the emitted texts joined (the stop string itself
// is not part of it; Result.IDs keeps every sampled token). The end-of-text token ends generation
// (FinishReason "eos") and is neither emitted nor put in Result.IDs.
//
// When ctx is cancelled or emit returns an error, Generate stops at once
// and returns the partial Result (FinishReason "cancelled") together with
// that error (context.Cause(ctx), or emit's error).
func (m *Model) Generate(ctx context.Context, req model.Request, emit func(model.Token) error) (*model.Result, error) {
	start := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.layers == nil {
		return nil, errClosed
	}
	sq, err := m.newSeq(req, emit, start)
	if err != nil {
		return nil, err
	}
	if sq.done {
		return sq.res, nil
	}
	sq.st = m.newState(sq.ctxN)
	defer m.putState(sq.st) // before the unlock
	logits, err := sq.st.forward(ctx, sq.ids, false)
	if err != nil {
		return sq.cancel(err)
	}
	sq.st.dropScratch()
	for {
		if done, err := sq.take(ctx, logits); done {
			return sq.res, err
		}
		if logits, err = sq.st.forward(ctx, []int{sq.next}, false); err != nil {
			return sq.cancel(err)
		}
	}
}

// seq is one request being generated: Generate runs one, GenerateBatch
// several side by side. newSeq checks the request; take handles the
// logits of each step (sampling, streaming, the end).
type seq struct {
	m       *Model
	req     model.Request
	start   time.Time
	res     *model.Result
	ids     []int // the prompt as run (the end-of-text token for an empty one)
	ctxN    int   // positions the cache needs
	kv      int64 // bytes of that cache
	done    bool  // res is final
	st      *state
	smp     *sampler
	out     *streamer
	history []int
	next    int   // the token the next step runs
	err     error // GenerateBatch: its prompt's error

	// pick, set by prepare: the logits' check and the sampled token,
	// made by the goroutine that computed them (decodeBatch)
	picked  bool
	pickErr error
	pick    int
}

// prepare checks logits and samples the next token from them now, for
// take: in a batch step each goroutine does it for its own sequences,
// whose logits are in its cache (read on the other core, a greedy pick took
// about 66 µs in a CPU profile of GenerateBatch, against 33 µs in cache).
func (sq *seq) prepare(logits []float32) {
	sq.picked = true
	if sq.pickErr = checkLogits(logits, len(sq.res.IDs)+1); sq.pickErr == nil {
		sq.pick = sq.smp.sample(logits, sq.history)
	}
}

// newSeq checks req and prepares its generation (without its cache). A
// request for 0 tokens is done at once.
func (m *Model) newSeq(req model.Request, emit func(model.Token) error, start time.Time) (*seq, error) {
	cfg := m.cfg
	res := &model.Result{}
	ids := req.PromptIDs
	if ids == nil {
		ids = m.tok.Encode(req.Prompt)
	}
	for _, id := range ids {
		if id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("gpt2: prompt token id %d is outside the vocabulary (0..%d)", id, cfg.VocabSize-1)
		}
	}
	res.PromptIDs = append([]int(nil), ids...)
	res.PromptTokens = len(ids)
	if req.MaxTokens < 0 {
		return nil, fmt.Errorf("gpt2: max tokens %d is negative", req.MaxTokens)
	}
	sq := &seq{m: m, req: req, start: start, res: res}
	if req.MaxTokens == 0 {
		res.FinishReason = "length"
		res.Total = time.Since(start)
		sq.done = true
		return sq, nil
	}
	if len(ids) == 0 {
		// GPT-2 starts unconditional text after <|endoftext|>.
		ids = []int{min(cfg.EOSTokenID, cfg.VocabSize-1)}
	}
	if len(ids) >= cfg.NPositions {
		return nil, fmt.Errorf("%w: %d tokens, context holds %d", ErrPromptTooLong, len(ids), cfg.NPositions)
	}
	if req.Temperature < 0 || math.IsNaN(req.Temperature) {
		return nil, fmt.Errorf("gpt2: temperature %g must be 0 or more", req.Temperature)
	}
	ctxN := min(cfg.NPositions, len(ids)+req.MaxTokens)
	// The KV cache: keys and values of every layer for every position.
	kv := 8 * int64(cfg.NLayer) * int64(ctxN) * int64(cfg.NEmbd)
	if limit := memoryLimit(); limit > 0 && kv > limit {
		return nil, fmt.Errorf("gpt2: %s: %d tokens of context need %s of memory for the attention cache (%d layers, n_embd %d) but this computer has %s: ask for fewer tokens",
			m.name, ctxN, humanSize(kv), cfg.NLayer, cfg.NEmbd, humanSize(limit))
	}
	sq.ids, sq.ctxN, sq.kv = ids, ctxN, kv
	sq.smp = newSampler(req)
	if req.IgnoreEOS {
		sq.smp.ban = cfg.EOSTokenID
	}
	sq.out = &streamer{tok: m.tok, stops: req.Stop, emit: emit}
	sq.history = append([]int(nil), ids...)
	return sq, nil
}

// finish completes res (FinishReason set by the caller).
func (sq *seq) finish() {
	sq.done = true
	sq.res.Text = sq.out.text()
	sq.res.OutputTokens = len(sq.res.IDs)
	sq.res.Total = time.Since(sq.start)
}

// cancel ends the generation with err and the partial result.
func (sq *seq) cancel(err error) (*model.Result, error) {
	sq.res.FinishReason = "cancelled"
	sq.finish()
	return sq.res, err
}

// take samples the next token from logits and streams it. When the
// generation ends, done is set and res is final, err being the request's
// error; otherwise sq.next is the token to run next.
func (sq *seq) take(ctx context.Context, logits []float32) (done bool, err error) {
	res, cfg := sq.res, sq.m.cfg
	if err := ctx.Err(); err != nil {
		_, err = sq.cancel(context.Cause(ctx))
		return true, err
	}
	if !sq.picked {
		sq.prepare(logits)
	}
	sq.picked = false
	if err := sq.pickErr; err != nil {
		res.FinishReason = "error"
		sq.finish()
		return true, fmt.Errorf("gpt2: %s: %w", sq.m.name, err)
	}
	id := sq.pick
	if len(res.IDs) == 0 {
		res.FirstToken = time.Since(sq.start)
	}
	if id == cfg.EOSTokenID {
		res.FinishReason = "eos"
		if err := sq.out.flush(); err != nil {
			_, err = sq.cancel(err)
			return true, err
		}
		sq.finish()
		return true, nil
	}
	res.IDs = append(res.IDs, id)
	sq.history = append(sq.history, id)
	last := len(res.IDs) == sq.req.MaxTokens || len(sq.ids)+len(res.IDs) >= sq.ctxN
	stopped, err := sq.out.add(id, last)
	if err != nil {
		_, err = sq.cancel(err)
		return true, err
	}
	if stopped || last {
		res.FinishReason = "length"
		if stopped {
			res.FinishReason = "stop"
		}
		sq.finish()
		return true, nil
	}
	sq.next = id
	return false, nil
}

// streamer turns ids into emitted text, holding back incomplete UTF-8 and
// possible starts of stop strings.
type streamer struct {
	tok     Tokenizer
	stops   []string
	emit    func(model.Token) error
	buf     []byte          // all generated bytes (cut at a stop string)
	emitted int             // bytes of buf already emitted
	out     strings.Builder // the emitted text
}

// text is exactly the text emitted so far.
func (s *streamer) text() string { return s.out.String() }

// add appends a token; it reports whether a stop string ended the text.
func (s *streamer) add(id int, last bool) (bool, error) {
	s.buf = append(s.buf, s.tok.TokenBytes(id)...)
	for _, stop := range s.stops {
		if stop == "" {
			continue
		}
		// Held-back text guarantees a stop string starts after s.emitted.
		if i := strings.Index(string(s.buf[s.emitted:]), stop); i >= 0 {
			s.buf = s.buf[:s.emitted+i]
			return true, s.release(id, len(s.buf))
		}
	}
	if last {
		return false, s.release(id, len(s.buf))
	}
	safe := len(s.buf)
	// hold back an incomplete UTF-8 character at the end
	for back := 1; back <= 3 && back <= safe-s.emitted; back++ {
		c := s.buf[safe-back]
		if c&0xC0 == 0x80 {
			continue // continuation byte: look further back
		}
		if c >= 0xC0 && !utf8.FullRune(s.buf[safe-back:]) {
			safe -= back
		}
		break
	}
	// hold back a suffix that could start a stop string
	for _, stop := range s.stops {
		for k := min(len(stop)-1, safe-s.emitted); k > 0; k-- {
			if strings.HasPrefix(stop, string(s.buf[safe-k:safe])) {
				safe -= k
				break
			}
		}
	}
	return false, s.release(id, safe)
}

func (s *streamer) release(id, upto int) error {
	if upto < s.emitted {
		upto = s.emitted
	}
	t := model.Token{ID: id, Text: model.ValidText(s.buf[s.emitted:upto])}
	s.emitted = upto
	s.out.WriteString(t.Text)
	if s.emit == nil {
		return nil
	}
	return s.emit(t)
}

// flush emits held-back text (as a Token with ID -1) at end of text.
func (s *streamer) flush() error {
	if s.emitted == len(s.buf) {
		return nil
	}
	return s.release(-1, len(s.buf))
}

// ErrBrokenWeights is returned when the model computes NaN or infinite
// logits: its weights are broken (or so large that they overflow).
var ErrBrokenWeights = errors.New("the checkpoint's weights are broken")

// checkLogits rejects NaN and infinite logits for output token n (from 1).
// Sampling from them picks nothing sensible (and used to index -1).
func checkLogits(logits []float32, n int) error {
	// Fast path: the sum of squares (the AVX dot product) is finite when
	// every logit is (a NaN or an infinity makes it NaN or infinite); only
	// when it is not, because of those or of huge finite values, is every
	// value looked at. 50,257 logits: 2 µs against 18-46 (BenchmarkCheckLogits).
	if s := dot(logits, logits); s-s == 0 {
		return nil
	}
	for _, v := range logits {
		if v-v != 0 { // NaN or ±Inf; cheaper than two math calls
			what := "NaN"
			if !math.IsNaN(float64(v)) {
				what = "infinite"
			}
			return fmt.Errorf("the model produced %s logits at token %d: %w", what, n, ErrBrokenWeights)
		}
	}
	return nil
}

// sampler picks the next token.
type sampler struct {
	req  model.Request
	ban  int // a token never picked (IgnoreEOS: end of text), or -1
	rng  *rand.Rand
	idx  []int     // candidates (vocab), made at the first sampled token:
	prob []float64 // greedy generation needs neither
}

func newSampler(req model.Request) *sampler {
	seed := uint64(req.Seed)
	return &sampler{req: req, ban: -1, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s *sampler) sample(logits []float32, history []int) int {
	r := s.req
	if s.ban >= 0 && s.ban < len(logits) {
		logits[s.ban] = float32(math.Inf(-1))
	}
	if p := r.RepetitionPenalty; p > 0 && p != 1 {
		seen := map[int]bool{}
		for _, id := range history {
			if seen[id] || id >= len(logits) {
				continue
			}
			seen[id] = true
			if logits[id] > 0 {
				logits[id] /= float32(p)
			} else {
				logits[id] *= float32(p)
			}
		}
	}
	if r.Temperature == 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return best
	}
	// Candidates: tokens within 40 nats (after temperature) of the best;
	// the rest have probability below 4e-18 relative to it.
	mx := logits[0]
	for _, v := range logits {
		mx = max(mx, v)
	}
	cut := mx - float32(40*r.Temperature)
	if len(s.idx) < len(logits) {
		s.idx, s.prob = make([]int, len(logits)), make([]float64, len(logits))
	}
	idx := s.idx[:0]
	for i, v := range logits {
		if v >= cut {
			idx = append(idx, i)
		}
	}
	idx = rankFn(idx, logits, r.TopK)
	n := len(idx)
	p := s.prob[:n]
	var sum float64
	for i, id := range idx {
		p[i] = math.Exp((float64(logits[id]) - float64(mx)) / r.Temperature)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	if r.TopP > 0 && r.TopP < 1 {
		var c float64
		for i := range p {
			c += p[i]
			if c >= r.TopP {
				n = i + 1
				break
			}
		}
		p, idx = p[:n], idx[:n]
		sum = 0
		for _, v := range p {
			sum += v
		}
		for i := range p {
			p[i] /= sum
		}
	}
	if len(idx) == 0 {
		return 0 // only NaN logits (Generate refuses them before sampling)
	}
	u := s.rng.Float64()
	var c float64
	for i, v := range p {
		c += v
		if u < c {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}

// rankFn ranks the candidates; a variable so that tests can compare
// against the full sort it replaced.
var rankFn = rankCandidates

// ahead orders candidates: the higher logit first, the lower id on ties.
func ahead(logits []float32, a, b int) bool {
	return logits[a] > logits[b] || logits[a] == logits[b] && a < b
}

// rankCandidates orders idx (ascending ids) by ahead and keeps the k first
// (all when k <= 0). With top-k on, a bounded heap finds them in
// O(n log k) instead of sorting every candidate: near-flat logits (a
// random or very unsure model) leave all 50257 within reach.
func rankCandidates(idx []int, logits []float32, k int) []int {
	if k <= 0 || k >= len(idx) {
		slices.SortFunc(idx, func(a, b int) int {
			if ahead(logits, a, b) {
				return -1
			}
			return 1
		})
		return idx
	}
	// idx[:k] is a heap whose root is the candidate ranked last.
	h := idx[:k]
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= k {
				return
			}
			if c+1 < k && ahead(logits, h[c], h[c+1]) {
				c++
			}
			if !ahead(logits, h[i], h[c]) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, id := range idx[k:] {
		if ahead(logits, id, h[0]) {
			h[0] = id
			down(0)
		}
	}
	return rankCandidates(h, logits, 0)
}
