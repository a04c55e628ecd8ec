package textgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
	_ "deskbot/engine/activities" // file.read_csv, file.write_text
	"deskbot/engine/textgen/providers"
	"deskbot/model"
)

// lettersFlow reads customers.csv and writes one generated letter per row.
func lettersFlow() *engine.Flow {
	f := engine.NewFlow("letters")
	f.Variables = []engine.Variable{{Name: "out", Type: engine.TypeString, Input: true}}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "read", Type: "file.read_csv", Params: map[string]any{"path": "customers.csv", "output": "customers"}},
		&engine.Node{ID: "each", Type: "control.for_each", Params: map[string]any{"items": "customers", "item": "c"}},
		&engine.Node{ID: "write_letter", Type: "text.generate", Params: map[string]any{
			"provider": "../../model/gpt2/testdata/hf-fake-gpt2", "prompt": "Dear {{ c.name }}, thank you for buying {{ c.product }}.",
			"max_tokens": 12.0, "temperature": 0.0, "output": "body"}},
		&engine.Node{ID: "save", Type: "file.write_text", Params: map[string]any{
			"path": "{{ out }}/letter-{{ c.id }}.txt", "text": "Dear {{ c.name }},\n{{ body }}\n"}},
		&engine.Node{ID: "end", Type: "control.end"},
	)
	f.Edges = []engine.Edge{
		{From: "start", Port: "next", To: "read"}, {From: "read", Port: "next", To: "each"},
		{From: "each", Port: "each", To: "write_letter"}, {From: "write_letter", Port: "next", To: "save"},
		{From: "save", Port: "next", To: "each"}, {From: "each", Port: "done", To: "end"},
	}
	return f
}

func TestLetterPerCSVRowWithLocalGPT2(t *testing.T) {
	base, _ := filepath.Abs(".")
	// The CSV sits next to the flow; the flow's folder is this package.
	csv := filepath.Join(t.TempDir(), "customers.csv")
	os.WriteFile(csv, []byte("id,name,product\n1,Anna,a desk lamp\n2,Bram,two chairs\n3,Chloé,a bookcase\n"), 0o644)
	f := lettersFlow()
	f.Nodes[1].Params["path"] = csv

	runOnce := func(out string) (*memLog, int) {
		opens := 0
		open := providers.Opener(providers.OpenOptions{Threads: 1})
		cache := NewCache(func(ctx context.Context, p string) (model.Generator, error) {
			opens++
			return open(ctx, p)
		})
		defer cache.Close()
		log := &memLog{}
		opts := engine.Options{BaseDir: base, RunID: "letters-run", Inputs: map[string]any{"out": out}}
		WithProviders(&opts, cache)
		WithLog(&opts, log)
		if _, err := engine.Run(context.Background(), f, opts); err != nil {
			t.Fatal(err)
		}
		return log, opens
	}
	out := t.TempDir()
	log, opens := runOnce(out)
	if opens != 1 {
		t.Fatalf("the model was opened %d times for 3 rows", opens)
	}
	if len(log.gens) != 3 {
		t.Fatalf("%d generations recorded, want 3", len(log.gens))
	}
	for i, name := range []string{"Anna", "Bram", "Chloé"} {
		g := log.gens[i]
		b, err := os.ReadFile(filepath.Join(out, "letter-"+string(rune('1'+i))+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "Dear " + name + ",\n" + g.Output + "\n"; string(b) != want {
			t.Fatalf("letter %d = %q, want %q", i+1, b, want)
		}
		if g.Output == "" || g.OutputTokens != 12 || g.PromptTokens < 8 || !strings.Contains(g.Prompt, name) ||
			g.RunID != "letters-run" || g.NodeID != "write_letter" || g.Model != "hf-fake-gpt2 (local)" || g.FinishReason != "length" {
			t.Fatalf("generation %d: %+v", i, g)
		}
	}
	// Temperature 0 is deterministic: a second run writes the same letters.
	log2, _ := runOnce(t.TempDir())
	for i := range log.gens {
		if log.gens[i].Output != log2.gens[i].Output {
			t.Fatalf("greedy output differs between runs: %q vs %q", log.gens[i].Output, log2.gens[i].Output)
		}
	}
}
