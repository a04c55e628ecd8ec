package gpt2

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"deskbot/model"
)

func load(t *testing.T, dir string, opts Options) *Model {
	t.Helper()
	m, err := Load(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func collect(toks *[]model.Token) func(model.Token) error {
	return func(tk model.Token) error { *toks = append(*toks, tk); return nil }
}

func joined(toks []model.Token) string {
	var sb strings.Builder
	for _, t := range toks {
		sb.WriteString(t.Text)
	}
	return sb.String()
}

func TestGenerateTokenizeOnly(t *testing.T) {
	m := load(t, fakeDir, Options{Threads: 1})
	res, err := m.Generate(context.Background(), model.Request{Prompt: "Hello world", MaxTokens: 0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.PromptIDs, []int{15496, 995}) || len(res.IDs) != 0 || res.PromptTokens != 2 || res.FinishReason != "length" {
		t.Fatalf("%+v", res)
	}
}

func TestGenerateStreamsText(t *testing.T) {
	m := load(t, fakeDir, Options{Threads: 2})
	var toks []model.Token
	res, err := m.Generate(context.Background(), model.Request{Prompt: "Dear customer, ", MaxTokens: 20}, collect(&toks))
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason == "length" && len(res.IDs) != 20 {
		t.Fatalf("%d ids, finish %s", len(res.IDs), res.FinishReason)
	}
	if joined(toks) != res.Text {
		t.Fatalf("stream %q != result %q", joined(toks), res.Text)
	}
	if res.FinishReason != "eos" && res.Text != model.ValidText([]byte(m.Tokenizer().Decode(res.IDs))) {
		t.Fatalf("text %q != decode(ids)", res.Text)
	}
	if res.FirstToken <= 0 || res.Total < res.FirstToken || res.OutputTokens != len(res.IDs) {
		t.Fatalf("timings %+v", res)
	}
	if m.Name() != "hf-fake-gpt2 (local)" {
		t.Fatal(m.Name())
	}
}

func TestGenerateStop(t *testing.T) {
	m := load(t, filepath.Join("testdata", "tiny-bf16"), Options{Threads: 1})
	e := readExpected(t, filepath.Join("testdata", "tiny-bf16"))
	full, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 12}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The tiny model's tokens decode through the built-in GPT-2 vocabulary
	// (its ids are mostly single bytes: the text is not valid UTF-8).
	raw := m.Tokenizer().Decode(full.IDs)
	stop := string(m.Tokenizer().TokenBytes(full.IDs[6]))
	want := model.ValidText([]byte(raw[:strings.Index(raw, stop)]))
	var toks []model.Token
	res, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 12, Stop: []string{"never appears", stop}}, collect(&toks))
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != "stop" || res.Text != want || joined(toks) != want {
		t.Fatalf("stop %q: finish %s text %q stream %q want %q", stop, res.FinishReason, res.Text, joined(toks), want)
	}
	if full.Text != model.ValidText([]byte(raw)) || !utf8.ValidString(full.Text) {
		t.Fatalf("full text %q, raw %q", full.Text, raw)
	}
	for _, tk := range toks {
		if !utf8.ValidString(tk.Text) {
			t.Errorf("emitted invalid UTF-8 %q", tk.Text)
		}
	}
}

func TestGenerateCancel(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f16")
	m := load(t, dir, Options{Threads: 2})
	e := readExpected(t, dir)
	boom := errors.New("enough")
	n := 0
	res, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 10}, func(model.Token) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || res == nil || res.FinishReason != "cancelled" || len(res.IDs) != 3 {
		t.Fatalf("emit error: %v %+v", err, res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	res, err = m.Generate(ctx, model.Request{PromptIDs: e.PromptIDs, MaxTokens: 10}, func(model.Token) error {
		n++
		if n == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || res.FinishReason != "cancelled" || len(res.IDs) != 2 {
		t.Fatalf("ctx cancel: %v %+v", err, res)
	}
	// cancelled before the prompt runs
	res, err = m.Generate(ctx, model.Request{PromptIDs: e.PromptIDs, MaxTokens: 10}, nil)
	if !errors.Is(err, context.Canceled) || len(res.IDs) != 0 {
		t.Fatalf("pre-cancelled: %v %+v", err, res)
	}
}

func TestGenerateSampling(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f16")
	m := load(t, dir, Options{Threads: 1})
	e := readExpected(t, dir)
	gen := func(r model.Request) []int {
		r.PromptIDs, r.MaxTokens = e.PromptIDs, 12
		res, err := m.Generate(context.Background(), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.IDs
	}
	a := gen(model.Request{Temperature: 1.2, TopK: 50, TopP: 0.95, Seed: 7})
	b := gen(model.Request{Temperature: 1.2, TopK: 50, TopP: 0.95, Seed: 7})
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different ids: %v %v", a, b)
	}
	differs := false
	for seed := int64(8); seed < 12 && !differs; seed++ {
		differs = !slices.Equal(a, gen(model.Request{Temperature: 1.2, TopK: 50, TopP: 0.95, Seed: seed}))
	}
	if !differs {
		t.Fatal("seeds 7..11 all gave the same ids")
	}
	if g := gen(model.Request{Temperature: 1, TopK: 1, Seed: 3}); !slices.Equal(g, e.GreedyIDs) {
		t.Fatalf("top-k 1: %v, greedy %v", g, e.GreedyIDs)
	}
	if g := gen(model.Request{Temperature: 0.7, TopP: 1e-9, Seed: 3}); !slices.Equal(g, e.GreedyIDs) {
		t.Fatalf("tiny top-p: %v, greedy %v", g, e.GreedyIDs)
	}
	// A strong repetition penalty keeps greedy decoding from repeating.
	g := gen(model.Request{RepetitionPenalty: 1000})
	seen := map[int]bool{}
	for _, id := range append(slices.Clone(e.PromptIDs), g...) {
		seen[id] = true
	}
	if len(seen) != len(e.PromptIDs)+len(g) && slices.ContainsFunc(g, func(id int) bool { return slices.Contains(e.PromptIDs, id) }) {
		t.Fatalf("repetition penalty 1000 still repeats: %v", g)
	}
	if slices.Equal(g, e.GreedyIDs) {
		t.Fatal("repetition penalty had no effect")
	}
}

func TestGenerateLimits(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-bf16") // n_positions 32
	m := load(t, dir, Options{Threads: 1})
	e := readExpected(t, dir)
	res, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != "length" || len(e.PromptIDs)+len(res.IDs) != 32 {
		t.Fatalf("context end: %s after %d+%d", res.FinishReason, len(e.PromptIDs), len(res.IDs))
	}
	if _, err := m.Generate(context.Background(), model.Request{PromptIDs: make([]int, 32), MaxTokens: 1}, nil); !errors.Is(err, ErrPromptTooLong) {
		t.Fatalf("long prompt: %v", err)
	}
	if _, err := m.Generate(context.Background(), model.Request{PromptIDs: []int{200}, MaxTokens: 1}, nil); err == nil {
		t.Fatal("id outside vocabulary accepted")
	}
	// empty prompt starts from the end-of-text token (here vocab-1)
	res, err = m.Generate(context.Background(), model.Request{MaxTokens: 2}, nil)
	if err != nil || res.PromptTokens != 0 || len(res.IDs) == 0 && res.FinishReason != "eos" {
		t.Fatalf("empty prompt: %v %+v", err, res)
	}
}

func TestStreamerHoldsPartialUTF8(t *testing.T) {
	tok, err := LoadTokenizer(fakeDir)
	if err != nil {
		t.Fatal(err)
	}
	text := "ok 😀👍🏽 日本語 done"
	ids := tok.Encode(text)
	var toks []model.Token
	s := &streamer{tok: tok, emit: collect(&toks)}
	for i, id := range ids {
		if _, err := s.add(id, i == len(ids)-1); err != nil {
			t.Fatal(err)
		}
	}
	if joined(toks) != text || len(toks) != len(ids) {
		t.Fatalf("got %q in %d tokens", joined(toks), len(toks))
	}
	for _, tk := range toks {
		if !utf8.ValidString(tk.Text) {
			t.Fatalf("emitted partial character %q", tk.Text)
		}
	}
}

func TestStreamerStopAcrossTokens(t *testing.T) {
	tok, _ := BuiltinTokenizer()
	ids := tok.Encode("Hello world. Goodbye, world. Again")
	for _, c := range []struct{ stop, want string }{
		{"d. G", "Hello worl"},
		{"world", "Hello "},
		{"Again", "Hello world. Goodbye, world. "},
		{"absent", "Hello world. Goodbye, world. Again"},
	} {
		var toks []model.Token
		s := &streamer{tok: tok, stops: []string{c.stop}, emit: collect(&toks)}
		stopped := false
		for i, id := range ids {
			st, err := s.add(id, i == len(ids)-1)
			if err != nil {
				t.Fatal(err)
			}
			if st {
				stopped = true
				break
			}
			// nothing emitted so far may contain the start of the stop string
			if strings.Contains(joined(toks), c.stop) {
				t.Fatalf("%q emitted", c.stop)
			}
		}
		if joined(toks) != c.want || s.text() != c.want || stopped != (c.stop != "absent") {
			t.Errorf("stop %q: got %q (stopped %v), want %q", c.stop, joined(toks), stopped, c.want)
		}
	}
}

// BenchmarkCheckLogits checks 50,257 finite logits (the sum of squares is
// finite: no scan) against the scan that the fast path spares.
func BenchmarkCheckLogits(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	l := make([]float32, 50257)
	for i := range l {
		l[i] = float32(r.NormFloat64() * 5)
	}
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			if checkLogits(l, 1) != nil {
				b.Fatal("finite logits refused")
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			for _, v := range l {
				if v-v != 0 {
					b.Fatal("finite logits refused")
				}
			}
		}
	})
}
