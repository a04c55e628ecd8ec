package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine/textgen"
)

func TestGenerations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "deskbot.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	gens := []textgen.Generation{
		{RunID: "r1", NodeID: "gen", Provider: "gpt2", Model: "gpt2 (local)", Prompt: "Dear Anna,", Output: " thank you",
			Params: json.RawMessage(`{"max_tokens":12,"temperature":0}`), PromptTokens: 3, OutputTokens: 12,
			FirstToken: 40 * time.Millisecond, Total: 400 * time.Millisecond, TokensPerSec: 30.5, FinishReason: "length", Created: base},
		{RunID: "r1", NodeID: "gen", Provider: "api:work", Model: "api:work/gpt-4o-mini", Prompt: "Dear Bram,", Output: " than",
			FinishReason: "error", Error: "the stream was cut off", Created: base.Add(time.Second)},
		{Provider: "gpt2", Model: "gpt2 (local)", Prompt: "p", Output: "o", Created: base.Add(2 * time.Second)},
	}
	for _, g := range gens {
		if err := db.SaveGeneration(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveGeneration(ctx, textgen.Generation{Provider: "x", Model: "x", Params: json.RawMessage(`{bad`)}); err == nil {
		t.Fatal("bad params saved")
	}
	db.Close()

	// Reopen: the rows are on disk and the migration is not applied twice.
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migs, _ := db.Migrations(ctx)
	if !strings.Contains(strings.Join(migs, ","), "002_generations.sql") {
		t.Fatalf("migrations %v", migs)
	}
	all, err := db.Generations(ctx, GenerationFilter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("%d generations, %v", len(all), err)
	}
	if all[0].Prompt != "p" || all[2].Prompt != "Dear Anna," {
		t.Fatal("not newest first")
	}
	g := all[2]
	if g.RunID != "r1" || g.NodeID != "gen" || g.Model != "gpt2 (local)" || g.Output != " thank you" || g.PromptTokens != 3 ||
		g.OutputTokens != 12 || g.FirstToken != 40*time.Millisecond || g.Total != 400*time.Millisecond || g.TokensPerSec != 30.5 ||
		g.FinishReason != "length" || !g.Created.Equal(base) || string(g.Params) != `{"max_tokens":12,"temperature":0}` {
		t.Fatalf("%+v", g)
	}
	if all[0].ID == 0 || string(all[0].Params) != "{}" {
		t.Fatalf("%+v", all[0])
	}
	run, _ := db.Generations(ctx, GenerationFilter{RunID: "r1"})
	failed := true
	bad, _ := db.Generations(ctx, GenerationFilter{Failed: &failed})
	local, _ := db.Generations(ctx, GenerationFilter{Provider: "gpt2", Since: base.Add(time.Second)})
	one, _ := db.Generations(ctx, GenerationFilter{Limit: 1, Model: "gpt2 (local)", Until: base.Add(time.Second)})
	if len(run) != 2 || len(bad) != 1 || bad[0].Error == "" || len(local) != 1 || local[0].Prompt != "p" || len(one) != 1 || one[0].Prompt != "Dear Anna," {
		t.Fatalf("filters: run %d, failed %d, local %d, one %v", len(run), len(bad), len(local), one)
	}
}
