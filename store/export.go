package store

import (
	"context"
	"fmt"
	"time"
)

// ExportStep is a step with the run it belongs to, as exports list it.
type ExportStep struct {
	RunID, Flow string
	Step
	Outputs string // the outputs as stored (JSON), "" for none; Step.Outputs stays nil
}

// EachRun calls fn with every run f selects (the runs a report covers: dry
// runs left out), oldest first. Rows are read one at a time, so an export
// of any size holds one run in memory. An error from fn stops the loop and
// is returned.
func (d *DB) EachRun(ctx context.Context, f StatsFilter, fn func(Run) error) error {
	where, args := runWhere(f)
	rows, err := d.db.QueryContext(ctx, `SELECT r.run_id, r.flow, r.flow_version, r.path, r.start, COALESCE(r.end, 0), r.status, r.error, r.dry_run, r.pid, r.steps
		FROM runs r WHERE `+where+` ORDER BY r.start, r.id`, args...)
	if err != nil {
		return fmt.Errorf("export runs (%s): %w", f, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return fmt.Errorf("export runs (%s): %w", f, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export runs (%s): %w", f, err)
	}
	return nil
}

// EachStep calls fn with every step of the runs f selects, run by run
// (oldest first) in step order, one row at a time like EachRun. The step's
// inputs and variables are not read; its outputs come as stored.
func (d *DB) EachStep(ctx context.Context, f StatsFilter, fn func(ExportStep) error) error {
	where, args := runWhere(f)
	rows, err := d.db.QueryContext(ctx, `SELECT r.run_id, r.flow, s.seq, s.node, s.type, s.label, s.attempt, s.start, s.duration, s.status, s.port,
		COALESCE(s.outputs, ''), s.error
		FROM runs r JOIN steps s ON s.run = r.id WHERE `+where+` ORDER BY r.start, r.id, s.seq`, args...)
	if err != nil {
		return fmt.Errorf("export steps (%s): %w", f, err)
	}
	defer rows.Close()
	var s ExportStep
	for rows.Next() {
		var start, dur int64
		if err := rows.Scan(&s.RunID, &s.Flow, &s.Seq, &s.NodeID, &s.Type, &s.Label, &s.Attempt, &start, &dur, &s.Status, &s.Port, &s.Outputs, &s.Error); err != nil {
			return fmt.Errorf("export steps (%s): %w", f, err)
		}
		s.Start, s.Duration = fromNanos(start), time.Duration(dur)
		if err := fn(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export steps (%s): %w", f, err)
	}
	return nil
}
