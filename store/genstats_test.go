package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
	"deskbot/store/storetest"
)

func TestGenerationStats_Known(t *testing.T) {
	db, _, _ := seedKnown(t)
	ctx := context.Background()
	ms := time.Millisecond
	got, err := db.GenerationStats(ctx, store.StatsFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%+v", got)
	}
	g, a := got[0], got[1]
	if g.Provider != "gpt2" || g.Model != "gpt2 (local)" || g.Count != 3 || g.Errors != 0 || g.PromptTokens != 11 || g.OutputTokens != 16 ||
		!near(g.TokensPerSecond, 70.0/3) || g.FirstToken != 200*ms || !near(g.MeanOutputTokens, 16.0/3) || !near(g.MeanOutputRunes, 5) {
		t.Fatalf("gpt2: %+v", g)
	}
	if a.Provider != "api:work" || a.Count != 2 || a.Errors != 1 || a.PromptTokens != 6 || a.OutputTokens != 3 ||
		!near(a.TokensPerSecond, 100) || a.FirstToken != 50*ms || !near(a.MeanOutputTokens, 3) || !near(a.MeanOutputRunes, 3) {
		t.Fatalf("api: %+v", a)
	}
	// A flow's generations are those of its runs: g5 (no run) is left out.
	inv, err := db.GenerationStats(ctx, store.StatsFilter{Flow: storetest.FlowInvoices})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv) != 2 || inv[0].Count != 3 || inv[1].Count != 1 || inv[1].Errors != 1 || inv[1].TokensPerSecond != 0 {
		t.Fatalf("invoices: %+v", inv)
	}
	zh, err := db.GenerationStats(ctx, store.StatsFilter{Flow: storetest.FlowChinese})
	if err != nil || zh != nil {
		t.Fatalf("%s: %+v %v", storetest.FlowChinese, zh, err)
	}
}

func TestGenerationSpeed_Known(t *testing.T) {
	db, day1, _ := seedKnown(t)
	ctx := context.Background()
	pts, err := db.GenerationSpeed(ctx, store.StatsFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var tps []float64
	for _, p := range pts {
		tps = append(tps, p.TokensPerSecond)
	}
	if !reflect.DeepEqual(tps, []float64{20, 40, 10, 100}) || pts[0].Model != "gpt2 (local)" || pts[3].Model != "gpt-4o-mini" ||
		!pts[0].Time.Equal(day1.Add(10*time.Hour+time.Minute)) || pts[0].Count != 1 {
		t.Fatalf("%+v", pts)
	}
	// Over the limit: averaged per model and time slice (one slice here).
	avg, err := db.GenerationSpeed(ctx, store.StatsFilter{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(avg) != 2 || avg[0].Model != "gpt2 (local)" || !near(avg[0].TokensPerSecond, 70.0/3) || avg[0].Count != 3 ||
		!avg[0].Time.Equal(day1.Add(10*time.Hour+2*time.Minute)) || avg[1].Count != 1 || avg[1].TokensPerSecond != 100 {
		t.Fatalf("%+v", avg)
	}
	if none, err := db.GenerationSpeed(ctx, store.StatsFilter{From: day1.AddDate(0, 0, 1)}, 0); err != nil || none != nil {
		t.Fatalf("%+v %v", none, err)
	}
}

func TestCompareGenerations_Known(t *testing.T) {
	db, _, _ := seedKnown(t)
	ctx := context.Background()
	pairs, err := db.ComparablePairs(ctx, store.StatsFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	api := store.GenVariant{Provider: "api:work", Model: "gpt-4o-mini"}
	gpt2 := store.GenVariant{Provider: "gpt2", Model: "gpt2 (local)"}
	hot, cold := gpt2, gpt2
	hot.Params, cold.Params = `{"temperature":0.8}`, `{"temperature":0}`
	if !reflect.DeepEqual(pairs, [][2]store.GenVariant{{api, gpt2}, {hot, cold}}) {
		t.Fatalf("pairs %+v", pairs)
	}
	// Models over P1, the one prompt both had: api g4 (failed), gpt2 g1 and g3.
	c, err := db.CompareGenerations(ctx, store.StatsFilter{}, api, gpt2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Prompts != 1 || c.A.Count != 1 || c.A.Errors != 1 || c.A.TokensPerSecond != 0 || c.B.Count != 2 || c.B.Errors != 0 ||
		!near(c.B.TokensPerSecond, 15) || !near(c.B.MeanOutputTokens, 6) || !near(c.B.MeanOutputRunes, 6.5) || c.B.FirstToken != 150*time.Millisecond {
		t.Fatalf("models: %+v", c)
	}
	// Temperatures over P1: g3 against g1 (g2's prompt P2 was not given at 0.8).
	p, err := db.CompareGenerations(ctx, store.StatsFilter{}, hot, cold)
	if err != nil {
		t.Fatal(err)
	}
	if p.Prompts != 1 || p.A.Count != 1 || p.A.TokensPerSecond != 10 || p.A.MeanOutputTokens != 2 || p.B.Count != 1 || p.B.TokensPerSecond != 20 ||
		p.B.MeanOutputTokens != 10 || p.A.Params != hot.Params {
		t.Fatalf("temperatures: %+v", p)
	}
	// The flow filter: the api's P1 is in run r3 (invoices), so the pair
	// remains; in the Chinese flow there is nothing to compare.
	if pairs, err := db.ComparablePairs(ctx, store.StatsFilter{Flow: storetest.FlowChinese}, 0); err != nil || pairs != nil {
		t.Fatalf("%+v %v", pairs, err)
	}
	none, err := db.CompareGenerations(ctx, store.StatsFilter{Flow: storetest.FlowChinese}, api, gpt2)
	if err != nil || none.Prompts != 0 || none.A.Count != 0 || none.B.Count != 0 {
		t.Fatalf("%+v %v", none, err)
	}
}

// Items are the items a real for_each node processed: the engine records
// one control.for_each step per item, leaving by the "each" port, and one
// more leaving by "done".
func TestActivityStats_ItemsOfARealRun(t *testing.T) {
	db, _ := MustOpenFile(t)
	ctx := context.Background()
	f, err := engine.Parse([]byte(`{"format":"deskbot.flow","version":1,"name":"循环",
 "variables":[{"name":"n","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"loop","type":"control.for_each","params":{"items":"[1, 2, 3, 4, 5]"}},
   {"id":"add","type":"control.set_variable","params":{"variable":"n","value":"n + item"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"loop"},{"from":"loop","port":"each","to":"add"},
   {"from":"add","port":"next","to":"loop"},{"from":"loop","port":"done","to":"end"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name})
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Run(ctx, f, engine.Options{Observer: rec, RunID: rec.RunID()})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Close(res); err != nil {
			t.Fatal(err)
		}
	}
	acts, tot, err := db.ActivityStats(ctx, store.StatsFilter{Flow: "循环"})
	if err != nil {
		t.Fatal(err)
	}
	// Per run: start, 6 for_each (5 items + done), 5 set_variable, end.
	if tot.Items != 10 || tot.Steps != 26 || len(acts) != 4 {
		t.Fatalf("%+v %+v", acts, tot)
	}
	s, err := db.RunStats(ctx, store.StatsFilter{Flow: "循环"})
	if err != nil || s.Runs != 2 || s.Succeeded != 2 || s.SuccessRate != 1 {
		t.Fatalf("%+v %v", s, err)
	}
}
