package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"time"

	"deskbot/engine"
)

// RunInfo describes a run about to start; see (*DB).Recorder.
type RunInfo struct {
	ID          string // NewRunID() when empty
	Flow        string
	FlowVersion int // from SaveFlow; 0 if the flow is not in the library
	Path        string
	DryRun      bool
	Start       time.Time // now when zero
	// History is the detail level (engine.Settings.History): "full" (the
	// default, also ""), "steps" or "errors".
	History string
}

// Run is a recorded run.
type Run struct {
	ID          string
	Flow        string
	FlowVersion int
	Path        string
	Start       time.Time
	End         time.Time // zero while running (and for interrupted runs with no step)
	Status      string    // engine.Status*: running, ok, failed, cancelled, stopped, interrupted
	Error       string
	DryRun      bool
	PID         int
	Steps       int // step attempts recorded (the last seq)
}

// StatusRunning is the status of a run still being recorded.
const StatusRunning = "running"

// Step is one recorded step attempt.
type Step struct {
	Seq      int
	NodeID   string
	Type     string
	Label    string
	Attempt  int
	Start    time.Time
	Duration time.Duration
	Status   string // engine.Status*, or "running" for a step that never finished
	Port     string
	Outputs  map[string]any // nil when the step recorded none
	// Inputs are the values of the step's fields as evaluated, by field
	// name; nil when none were recorded. A large value is a preview (see
	// PreviewBytes).
	Inputs  map[string]any
	Error   string
	HasVars bool // a variable snapshot was stored after this step
}

// LogLine is one log message of a run.
type LogLine struct {
	Seq     int // the step that logged it
	NodeID  string
	Level   string
	Message string
	Time    time.Time
}

// RunFilter selects runs.
type RunFilter struct {
	Flow  string // only runs of this flow; "" for all
	Limit int    // at most this many; 0 for all
}

const runCols = `run_id, flow, flow_version, path, start, COALESCE(end, 0), status, error, dry_run, pid, steps`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var start, end int64
	err := sc.Scan(&r.ID, &r.Flow, &r.FlowVersion, &r.Path, &start, &end, &r.Status, &r.Error, &r.DryRun, &r.PID, &r.Steps)
	r.Start, r.End = fromNanos(start), fromNanos(end)
	return r, err
}

// Runs lists runs, newest first.
func (d *DB) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	q := `SELECT ` + runCols + ` FROM runs`
	var args []any
	if f.Flow != "" {
		q += ` WHERE flow = ?`
		args = append(args, f.Flow)
	}
	q += ` ORDER BY start DESC, id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// Run returns the run with this id, or with this unique id prefix.
func (d *DB) Run(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(d.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE run_id = ?`, id))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %q: %w", id, err)
	}
	if id == "" {
		return Run{}, fmt.Errorf("run %q: %w", id, ErrNotFound)
	}
	// A unique prefix will do.
	rows, err := d.db.QueryContext(ctx, `SELECT `+runCols+` FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 2`, id, id+"\xff")
	if err != nil {
		return Run{}, fmt.Errorf("run %q: %w", id, err)
	}
	defer rows.Close()
	var found []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return Run{}, fmt.Errorf("run %q: %w", id, err)
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return Run{}, fmt.Errorf("run %q: %w", id, err)
	}
	switch len(found) {
	case 0:
		return Run{}, fmt.Errorf("run %q: %w", id, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Run{}, fmt.Errorf("run %q: the prefix matches several runs (%s, %s, ...)", id, found[0].ID, found[1].ID)
}

// runKey returns the internal key of a run id.
func (d *DB) runKey(ctx context.Context, runID string) (int64, error) {
	var k int64
	err := d.db.QueryRowContext(ctx, `SELECT id FROM runs WHERE run_id = ?`, runID).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("run %q: %w", runID, err)
	}
	return k, nil
}

// Steps returns a run's steps in order.
func (d *DB) Steps(ctx context.Context, runID string) ([]Step, error) {
	return d.StepsAfter(ctx, runID, 0, 0)
}

// StepsAfter returns up to limit steps (0: all) with seq > after, in
// order: a page of a long run's history.
func (d *DB) StepsAfter(ctx context.Context, runID string, after, limit int) ([]Step, error) {
	k, err := d.runKey(ctx, runID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = -1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT s.seq, s.node, s.type, s.label, s.attempt, s.start, s.duration, s.status, s.port,
		COALESCE(s.outputs, ''), s.error, COALESCE(s.inputs, ''), EXISTS (SELECT 1 FROM vars v WHERE v.run = s.run AND v.seq = s.seq)
		FROM steps s WHERE s.run = ? AND s.seq > ? ORDER BY s.seq LIMIT ?`, k, after, limit)
	if err != nil {
		return nil, fmt.Errorf("steps of run %q: %w", runID, err)
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var s Step
		var start, dur int64
		var outputs, inputs string
		if err := rows.Scan(&s.Seq, &s.NodeID, &s.Type, &s.Label, &s.Attempt, &start, &dur, &s.Status, &s.Port, &outputs, &s.Error, &inputs, &s.HasVars); err != nil {
			return nil, fmt.Errorf("steps of run %q: %w", runID, err)
		}
		s.Start, s.Duration = fromNanos(start), time.Duration(dur)
		if outputs != "" {
			if err := json.Unmarshal([]byte(outputs), &s.Outputs); err != nil {
				return nil, fmt.Errorf("steps of run %q: step %d outputs: %w", runID, s.Seq, err)
			}
		}
		if inputs != "" {
			if err := json.Unmarshal([]byte(inputs), &s.Inputs); err != nil {
				return nil, fmt.Errorf("steps of run %q: step %d inputs: %w", runID, s.Seq, err)
			}
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("steps of run %q: %w", runID, err)
	}
	return out, nil
}

// Logs returns a run's log lines in order.
func (d *DB) Logs(ctx context.Context, runID string) ([]LogLine, error) {
	k, err := d.runKey(ctx, runID)
	if err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT seq, node, level, message, time FROM logs WHERE run = ? ORDER BY id`, k)
	if err != nil {
		return nil, fmt.Errorf("logs of run %q: %w", runID, err)
	}
	defer rows.Close()
	var out []LogLine
	for rows.Next() {
		var l LogLine
		var t int64
		if err := rows.Scan(&l.Seq, &l.NodeID, &l.Level, &l.Message, &t); err != nil {
			return nil, fmt.Errorf("logs of run %q: %w", runID, err)
		}
		l.Time = fromNanos(t)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("logs of run %q: %w", runID, err)
	}
	return out, nil
}

// VarsAt returns the variables as they were after step seq. The vars
// table holds a full snapshot every so often and, between them, only what
// changed: VarsAt starts from the latest full snapshot at or before seq
// and applies the changes after it, up to seq. It returns an empty map
// when no snapshot precedes seq. A large value comes back as a preview
// map (see PreviewBytes).
func (d *DB) VarsAt(ctx context.Context, runID string, seq int) (map[string]any, error) {
	k, err := d.runKey(ctx, runID)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (map[string]any, error) {
		return nil, fmt.Errorf("variables of run %q at step %d: %w", runID, seq, err)
	}
	var base int
	err = d.db.QueryRowContext(ctx, `SELECT seq FROM vars WHERE run = ? AND seq <= ? AND full = 1 ORDER BY seq DESC LIMIT 1`, k, seq).Scan(&base)
	if errors.Is(err, sql.ErrNoRows) {
		base = 0 // deltas only (should not happen): apply them all
	} else if err != nil {
		return fail(err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT seq, vars, gone FROM vars WHERE run = ? AND seq >= ? AND seq <= ? ORDER BY seq`, k, base, seq)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	m := map[string]any{}
	for rows.Next() {
		var at int
		var doc string
		var gone sql.NullString
		if err := rows.Scan(&at, &doc, &gone); err != nil {
			return fail(err)
		}
		delta := map[string]any{}
		if err := json.Unmarshal([]byte(doc), &delta); err != nil {
			return fail(fmt.Errorf("snapshot at step %d: %w", at, err))
		}
		maps.Copy(m, delta)
		if gone.Valid {
			var names []string
			if err := json.Unmarshal([]byte(gone.String), &names); err != nil {
				return fail(fmt.Errorf("snapshot at step %d: %w", at, err))
			}
			for _, n := range names {
				delete(m, n)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return m, nil
}

// DeleteRun removes a run with its steps, logs and snapshots (not its
// artifact folder).
func (d *DB) DeleteRun(ctx context.Context, runID string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM runs WHERE run_id = ?`, runID)
	if err != nil {
		return fmt.Errorf("delete run %q: %w", runID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete run %q: %w", runID, ErrNotFound)
	}
	return nil
}

// MarkInterrupted marks runs still "running" whose process is gone as
// interrupted, and returns how many. A run's process is gone when its pid
// is not alive, or when the pid is alive but belongs to another process
// (a reused pid: its start time, or for our own pid our process token,
// differs). Open calls it.
func (d *DB) MarkInterrupted(ctx context.Context) (int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, pid, proc FROM runs WHERE status = ?`, StatusRunning)
	if err != nil {
		return 0, fmt.Errorf("find interrupted runs: %w", err)
	}
	type cand struct {
		id   int64
		pid  int
		proc string
	}
	var dead []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.pid, &c.proc); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find interrupted runs: %w", err)
		}
		if !processAlive(c.pid, c.proc) {
			dead = append(dead, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find interrupted runs: %w", err)
	}
	n := 0
	for _, c := range dead {
		msg := fmt.Sprintf("the process (pid %d) ended before the run finished", c.pid)
		res, err := d.db.ExecContext(ctx, `UPDATE runs SET status = ?, error = CASE WHEN error = '' THEN ? ELSE error END,
			end = COALESCE((SELECT MAX(start + duration) FROM steps WHERE run = runs.id), start),
			steps = MAX(steps, COALESCE((SELECT MAX(seq) FROM steps WHERE run = runs.id), 0))
			WHERE id = ? AND status = ?`, engine.StatusInterrupted, msg, c.id, StatusRunning)
		if err != nil {
			return n, fmt.Errorf("mark run interrupted: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
		// The step it died in.
		if _, err := d.db.ExecContext(ctx, `UPDATE steps SET status = ? WHERE run = ? AND status = ?`, engine.StatusInterrupted, c.id, StatusRunning); err != nil {
			return n, fmt.Errorf("mark run interrupted: %w", err)
		}
	}
	return n, nil
}

// processAlive says whether the process that recorded a run (pid, proc
// token) still runs.
func processAlive(pid int, proc string) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return proc == selfProc
	}
	if !pidAlive(pid) {
		return false
	}
	// The pid is in use; by the same process only if its start time matches.
	if st, ok := strings.CutPrefix(proc, "start:"); ok {
		if cur, ok := procStart(pid); ok {
			return cur == st
		}
	}
	return true
}

// VarsReader replays a run's variable rows in order, for reading the
// variables at many steps of one run (VarsAt at each step would read back
// to a full snapshot every time). Get it from ReadVars; close it.
type VarsReader struct {
	rows  *sql.Rows
	run   string
	cur   map[string]any
	ahead bool // a row was read that lies after the last At
	seq   int
	doc   string
	full  bool
	gone  sql.NullString
	err   error
}

// ReadVars starts reading the variables of a run from its first step.
func (d *DB) ReadVars(ctx context.Context, runID string) (*VarsReader, error) {
	k, err := d.runKey(ctx, runID)
	if err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT seq, vars, full, gone FROM vars WHERE run = ? ORDER BY seq`, k)
	if err != nil {
		return nil, fmt.Errorf("variables of run %q: %w", runID, err)
	}
	return &VarsReader{rows: rows, run: runID, cur: map[string]any{}}, nil
}

// At returns the variables as they were after step seq. Calls must not go
// back (seq must not decrease). The map is the reader's: it changes on
// the next call.
func (r *VarsReader) At(seq int) (map[string]any, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		if !r.ahead {
			if !r.rows.Next() {
				if err := r.rows.Err(); err != nil {
					r.err = fmt.Errorf("variables of run %q: %w", r.run, err)
					return nil, r.err
				}
				return r.cur, nil
			}
			if err := r.rows.Scan(&r.seq, &r.doc, &r.full, &r.gone); err != nil {
				r.err = fmt.Errorf("variables of run %q: %w", r.run, err)
				return nil, r.err
			}
			r.ahead = true
		}
		if r.seq > seq {
			return r.cur, nil
		}
		r.ahead = false
		delta := map[string]any{}
		if err := json.Unmarshal([]byte(r.doc), &delta); err != nil {
			r.err = fmt.Errorf("variables of run %q at step %d: %w", r.run, r.seq, err)
			return nil, r.err
		}
		if r.full {
			clear(r.cur) // a full snapshot replaces what was
		}
		maps.Copy(r.cur, delta)
		if r.gone.Valid {
			var names []string
			if err := json.Unmarshal([]byte(r.gone.String), &names); err != nil {
				r.err = fmt.Errorf("variables of run %q at step %d: %w", r.run, r.seq, err)
				return nil, r.err
			}
			for _, n := range names {
				delete(r.cur, n)
			}
		}
	}
}

// Close ends the reading.
func (r *VarsReader) Close() error { return r.rows.Close() }
