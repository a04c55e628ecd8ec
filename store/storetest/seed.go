// Package storetest fills a Deskbot database with made-up history for
// tests and benchmarks: runs with their steps, and text generations,
// written straight into the tables in one transaction with prepared
// statements (a million steps take seconds, not the minutes the recorder
// would take to replay them). KnownHistory is a small history whose
// statistics are worked out by hand in its comment.
package storetest

import (
	"context"
	"fmt"
	"iter"
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
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	for _, g := range gens {
		if err := db.SaveGeneration(ctx, g); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
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
