package gpt2

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"deskbot/model"
)

// rankSorted is how candidates were ranked before rankCandidates: a stable
// sort of all of them by logit, then the first k. It is the reference.
func rankSorted(idx []int, logits []float32, k int) []int {
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	if k > 0 && k < len(idx) {
		idx = idx[:k]
	}
	return idx
}

// testLogits are vocab logits with many exact ties (values on a coarse
// grid) and a spread that leaves a few hundred to all tokens as candidates.
func testLogits(rng *rand.Rand, vocab int, spread float32) []float32 {
	l := make([]float32, vocab)
	for i := range l {
		l[i] = float32(int(rng.Float32()*spread*4)) / 4
	}
	return l
}

func TestRankCandidatesMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, vocab := range []int{1, 2, 7, 1000, 50257} {
		for _, spread := range []float32{0.5, 30, 200} {
			logits := testLogits(rng, vocab, spread)
			for _, k := range []int{0, 1, 2, 40, 999, vocab, vocab + 5} {
				all := make([]int, vocab)
				for i := range all {
					all[i] = i
				}
				want := rankSorted(slices.Clone(all), logits, k)
				got := rankCandidates(slices.Clone(all), logits, k)
				if !slices.Equal(got, want) {
					t.Fatalf("vocab %d spread %v k %d: got %v…, want %v…", vocab, spread, k, got[:min(5, len(got))], want[:min(5, len(want))])
				}
			}
		}
	}
}

// TestSamplerSequencesUnchanged: whole sampled sequences are the same as
// with the sorted ranking, for the request settings users set.
func TestSamplerSequencesUnchanged(t *testing.T) {
	const vocab = 5000
	for _, req := range []model.Request{
		{Temperature: 0.7, TopK: 40, Seed: 3},
		{Temperature: 1, TopK: 0, TopP: 0.9, Seed: 4},
		{Temperature: 1.3, TopK: 5, TopP: 0.5, RepetitionPenalty: 1.3, Seed: 5},
		{Temperature: 0.2, TopK: 1, Seed: 6},
	} {
		a, b := newSampler(req), newSampler(req)
		ref := &refSampler{a}
		rng := rand.New(rand.NewPCG(uint64(req.Seed), 9))
		var hist []int
		for step := 0; step < 200; step++ {
			logits := testLogits(rng, vocab, 20)
			x := ref.sample(slices.Clone(logits), hist)
			y := b.sample(slices.Clone(logits), hist)
			if x != y {
				t.Fatalf("%+v step %d: %d, reference %d", req, step, y, x)
			}
			hist = append(hist, y)
		}
	}
}

// refSampler is sampler with the sorted ranking (same candidate cut,
// probabilities and draw).
type refSampler struct{ s *sampler }

func (r *refSampler) sample(logits []float32, history []int) int {
	saved := rankFn
	rankFn = rankSorted
	defer func() { rankFn = saved }()
	return r.s.sample(logits, history)
}

// BenchmarkSample draws one token from GPT-2's 50257 logits at temperature
// 0.7 with top-k 40: near-flat logits (every token a candidate, as with an
// unsure or random model) and peaked ones (a few hundred candidates), with
// the bounded heap against the full sort it replaced.
func BenchmarkSample(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, c := range []struct {
		name   string
		spread float32
	}{{"flat", 0.5}, {"peaked", 200}} {
		logits := make([]float32, 50257) // continuous: few ties
		for i := range logits {
			logits[i] = rng.Float32() * c.spread
		}
		for _, impl := range []struct {
			name string
			rank func([]int, []float32, int) []int
		}{{"sort", rankSorted}, {"heap", rankCandidates}} {
			b.Run(c.name+"/"+impl.name, func(b *testing.B) {
				saved := rankFn
				rankFn = impl.rank
				defer func() { rankFn = saved }()
				s := newSampler(model.Request{Temperature: 0.7, TopK: 40, Seed: 1})
				l := slices.Clone(logits)
				for b.Loop() {
					copy(l, logits)
					s.sample(l, nil)
				}
			})
		}
	}
}

// IgnoreEOS: the end-of-text token is never picked, greedy or sampled,
// even when it is by far the likeliest.
func TestSamplerIgnoreEOS(t *testing.T) {
	for _, temp := range []float64{0, 0.8} {
		logits := func() []float32 { l := make([]float32, 10); l[3] = 50; l[7] = 1; return l }
		s := newSampler(model.Request{Temperature: temp, TopK: 40, Seed: 1})
		if got := s.sample(logits(), nil); got != 3 {
			t.Fatalf("temperature %g without IgnoreEOS picked %d, want 3", temp, got)
		}
		s.ban = 3
		for i := 0; i < 50; i++ {
			if got := s.sample(logits(), nil); got == 3 {
				t.Fatalf("temperature %g: the banned token was picked", temp)
			}
		}
	}
}
