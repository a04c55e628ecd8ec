package gpt2

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"deskbot/model"
)

// TestStateReuse: a generation on the state an earlier one left (its cache
// full of that one's keys and values) gives what it gives on a model that
// never generated, one by one and in batches, and the states really are
// reused, kept no more than a batch's worth and dropped when idle.
func TestStateReuse(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	e := readExpected(t, dir)
	for _, quant := range []string{"", "q8"} {
		t.Run("quant="+quant, func(t *testing.T) {
			used := load(t, dir, Options{Quant: quant, Threads: 2})
			fresh := func() *Model { return load(t, dir, Options{Quant: quant, Threads: 2}) }
			reqs := batchRequests(e.PromptIDs, used.cfg.VocabSize)

			// A long generation first: its state is kept.
			long := model.Request{PromptIDs: e.PromptIDs, MaxTokens: 30, IgnoreEOS: true}
			if _, err := used.Generate(context.Background(), long, nil); err != nil {
				t.Fatal(err)
			}
			used.mu.Lock()
			if len(used.spare) != 1 {
				t.Fatalf("%d states kept after one generation, want 1", len(used.spare))
			}
			kept := used.spare[0]
			used.mu.Unlock()

			// A shorter one takes it and gives back the same.
			short := reqs[1]
			got := oneByOne(used, []model.Request{short})
			used.mu.Lock()
			if len(used.spare) != 1 || used.spare[0] != kept {
				t.Fatalf("the shorter generation did not reuse the kept state")
			}
			used.mu.Unlock()
			sameOutputs(t, got, oneByOne(fresh(), []model.Request{short}))

			// Every request one by one and in a batch, after all that.
			sameOutputs(t, oneByOne(used, reqs), oneByOne(fresh(), reqs))
			sameOutputs(t, batched(context.Background(), used, reqs), oneByOne(fresh(), reqs))
			used.mu.Lock()
			if n := len(used.spare); n < 2 || n > batchLimit {
				t.Fatalf("%d states kept after a batch of %d, want 2..%d", n, len(reqs), batchLimit)
			}
			used.mu.Unlock()
		})
	}

	t.Run("bigger", func(t *testing.T) {
		// A generation bigger than every kept state drops them: only the
		// live generations' memory stays in use.
		m := load(t, dir, Options{Threads: 1})
		if _, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs[:2], MaxTokens: 2}, nil); err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		small := m.spare[0]
		m.mu.Unlock()
		if _, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 10}, nil); err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.spare) != 1 || m.spare[0] == small || m.spare[0].ctxN <= small.ctxN {
			t.Fatalf("after a bigger generation: %d states kept (the small one kept: %v)", len(m.spare), slices.Contains(m.spare, small))
		}
	})

	t.Run("idle", func(t *testing.T) {
		old := spareIdle
		spareIdle = 20 * time.Millisecond
		defer func() { spareIdle = old }()
		m := load(t, dir, Options{Threads: 1})
		if _, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 3}, nil); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			m.mu.Lock()
			n := len(m.spare)
			m.mu.Unlock()
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d states still kept 10 s after the generation", n)
			}
		}
	})

	t.Run("close", func(t *testing.T) {
		m := load(t, dir, Options{Threads: 1})
		if _, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: 3}, nil); err != nil {
			t.Fatal(err)
		}
		m.Close()
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.spare) != 0 {
			t.Fatalf("%d states kept after Close", len(m.spare))
		}
	})
}
