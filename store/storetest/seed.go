// Package storetest fills a Deskbot database with made-up history for
// tests and benchmarks: runs with their steps, and text generations,
// written straight into the tables in one transaction with prepared
// statements (a million steps take seconds, not the minutes the recorder
// would take to replay them). KnownHistory is a small history whose
// statistics are worked out by hand in its comment.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"time"

	"deskbot/engine/textgen"
	"deskbot/store"
)

// Run is a run to seed. A zero End with Status "running" leaves the run
// unfinished.
type Run struct {
	ID     string
	Flow   string
	Start  time.Time
	Dur    time.Duration // end - start
	Status string
	Error  string
	Dry    bool
	Steps  []Step
}

// Step is a step of a seeded run; steps follow each other from the run's
// start.
type Step struct {
	Node, Type, Label string
	Dur               time.Duration
	Status, Port      string
	Error             string
	Outputs           string // JSON object, or "" for none
}

// Seed writes runs and generations into db in one transaction.
func Seed(ctx context.Context, db *store.DB, runs iter.Seq[Run], gens []textgen.Generation) error {
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback()
	runSt, err := tx.PrepareContext(ctx, `INSERT INTO runs (run_id, flow, start, end, status, error, dry_run, steps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer runSt.Close()
	stepSt, err := tx.PrepareContext(ctx, `INSERT INTO steps (run, seq, node, type, label, start, duration, status, port, error, outputs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer stepSt.Close()
	genSt, err := tx.PrepareContext(ctx, `INSERT INTO generations (created, run_id, node_id, provider, model, prompt, output, params,
		prompt_tokens, output_tokens, first_token_ns, total_ns, tokens_per_second, finish_reason, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer genSt.Close()
	for r := range runs {
		var end any
		if r.Status != store.StatusRunning {
			end = r.Start.Add(r.Dur).UnixNano()
		}
		res, err := runSt.ExecContext(ctx, r.ID, r.Flow, r.Start.UnixNano(), end, r.Status, r.Error, r.Dry, len(r.Steps))
		if err != nil {
			return fmt.Errorf("seed run %q: %w", r.ID, err)
		}
		key, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("seed run %q: %w", r.ID, err)
		}
		t := r.Start
		for i, s := range r.Steps {
			var out any
			if s.Outputs != "" {
				out = s.Outputs
			}
			if _, err := stepSt.ExecContext(ctx, key, i+1, s.Node, s.Type, s.Label, t.UnixNano(), int64(s.Dur), s.Status, s.Port, s.Error, out); err != nil {
				return fmt.Errorf("seed run %q step %d: %w", r.ID, i+1, err)
			}
			t = t.Add(s.Dur)
		}
	}
	for i, g := range gens {
		params := string(g.Params)
		if params == "" {
			params = "{}"
		}
		if _, err := genSt.ExecContext(ctx, g.Created.UnixNano(), g.RunID, g.NodeID, g.Provider, g.Model, g.Prompt, g.Output, params,
			g.PromptTokens, g.OutputTokens, int64(g.FirstToken), int64(g.Total), g.TokensPerSec, g.FinishReason, g.Error); err != nil {
			return fmt.Errorf("seed generation %d: %w", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// Slice is the sequence of runs in rs.
func Slice(rs []Run) iter.Seq[Run] {
	return func(yield func(Run) bool) {
		for _, r := range rs {
			if !yield(r) {
				return
			}
		}
	}
}

// Big returns a large made-up history: runs runs of 20 flows (some with
// Chinese names) over the 90 days before end, each with steps/runs steps
// on average (start, a for-each loop over items with a write and a click
// each, done), about 85% ok, 10% failed (at a click, with one of five
// errors) and 5% stopped; and gens generations by three models, each
// prompt asked of two of them. Its numbers are not worked out: it is for
// benchmarks.
func Big(end time.Time, runs, steps, gens int) (iter.Seq[Run], []textgen.Generation) {
	flows := make([]string, 20)
	for i := range flows {
		if i%4 == 0 {
			flows[i] = fmt.Sprintf("发票处理 %d", i)
		} else {
			flows[i] = fmt.Sprintf("flow %d", i)
		}
	}
	errs := []string{"image not found", "timeout after 5s", "window \"Save\" not found", "文件不存在", "the field is read-only"}
	per := steps / runs
	span := 90 * 24 * time.Hour
	seq := func(yield func(Run) bool) {
		rng := rand.New(rand.NewPCG(1, 2))
		ms := time.Millisecond
		st := make([]Step, 0, per+8)
		for i := 0; i < runs; i++ {
			start := end.Add(-span + time.Duration(rng.Int64N(int64(span))))
			r := Run{ID: fmt.Sprintf("big-%07d", i), Flow: flows[rng.IntN(len(flows))], Start: start, Status: "ok"}
			st = append(st[:0], Step{Node: "start", Type: "control.start", Dur: ms, Status: "ok", Port: "next"})
			// (per-2)/3 items on average: start, each+write+click per item, done.
			items := (per - 2) / 3
			if rng.IntN(3) < (per-2)%3 {
				items++
			}
			items = max(items, 1)
			fail, stop := rng.IntN(100), -1
			if fail >= 10 {
				fail = -1
			} else {
				fail = rng.IntN(items)
			}
			if s := rng.IntN(100); s < 5 && fail < 0 {
				stop = rng.IntN(items)
			}
			for k := 0; k < items; k++ {
				st = append(st, Step{Node: "loop", Type: "control.for_each", Dur: ms, Status: "ok", Port: "each"},
					Step{Node: "write", Type: "files.write_text", Label: "Write letter", Dur: time.Duration(5+rng.IntN(20)) * ms, Status: "ok", Port: "next"})
				if k == fail {
					e := errs[rng.IntN(len(errs))]
					st = append(st, Step{Node: fmt.Sprintf("click%d", rng.IntN(3)), Type: "desktop.click", Label: "Click Save",
						Dur: time.Duration(100+rng.IntN(900)) * ms, Status: "failed", Error: e,
						Outputs: `{"screenshot":"/nonexistent/failure.png"}`})
					r.Status, r.Error = "failed", "click: "+e
					break
				}
				st = append(st, Step{Node: "click", Type: "desktop.click", Label: "Click Save", Dur: time.Duration(50+rng.IntN(200)) * ms, Status: "ok", Port: "next"})
				if k == stop {
					r.Status = "stopped"
					break
				}
			}
			if r.Status == "ok" {
				st = append(st, Step{Node: "loop", Type: "control.for_each", Dur: ms, Status: "ok", Port: "done"})
			}
			var total time.Duration
			for _, s := range st {
				total += s.Dur
			}
			r.Dur = total + time.Duration(rng.IntN(2000))*ms
			r.Steps = st
			if !yield(r) {
				return
			}
		}
	}
	models := []struct{ provider, model string }{{"gpt2", "gpt2 (local)"}, {"api:work", "gpt-4o-mini"}, {"api:work", "qwen2.5"}}
	rng := rand.New(rand.NewPCG(3, 4))
	var gs []textgen.Generation
	for i := 0; i < gens; i++ {
		m := models[i%len(models)]
		g := textgen.Generation{Created: end.Add(-span + time.Duration(rng.Int64N(int64(span)))), RunID: fmt.Sprintf("big-%07d", rng.IntN(runs)),
			NodeID: "gen", Provider: m.provider, Model: m.model, Params: json.RawMessage(fmt.Sprintf(`{"temperature":%d}`, i%2)),
			Prompt: fmt.Sprintf("Write to customer %d", i/2), Output: "Dear customer, 谢谢 ...", PromptTokens: 8, OutputTokens: 20 + rng.IntN(40),
			FirstToken: time.Duration(50+rng.IntN(300)) * time.Millisecond, Total: time.Second, TokensPerSec: 10 + rng.Float64()*40}
		if rng.IntN(20) == 0 {
			g.Error, g.TokensPerSec = "stream cut off", 0
		}
		gs = append(gs, g)
	}
	return seq, gs
}
