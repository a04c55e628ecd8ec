package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"deskbot/engine"
)

// Batching of the recorder's writer: it commits when this many events wait,
// or this long after the first of them arrived, whichever comes first.
const (
	batchEvents   = 256
	flushInterval = 20 * time.Millisecond
)

// Recorder is the engine.Observer that records one run. Event only appends
// to a slice under a mutex; a writer goroutine commits the events in
// batches, one transaction per batch. Nothing is dropped: when the disk is
// slower than the run, the slice grows. Close flushes and finishes the run.
type Recorder struct {
	d   *DB
	id  string
	key int64

	mu       sync.Mutex
	pending  []engine.Event
	closed   bool
	onCommit func(seq int)
	err      error // first write error
	finished *engine.Event
	stats    RecorderStats

	kick    chan struct{}
	closing chan struct{}
	flushc  chan chan struct{}
	done    chan struct{}

	// Writer-only state.
	spare  []engine.Event
	open   map[int]bool // steps stored as running, awaiting their finish
	starts map[int]engine.Event
	maxSeq int
	seqAt  int // maxSeq last stored in the run row
	ins    recStmts
}

// RecorderStats counts what a recorder committed.
type RecorderStats struct {
	Events  int64 // events committed
	Batches int64 // transactions
	Errors  int64 // failed batches
}

type recStmts struct {
	step, stepReplace, vars, log, runSteps *sql.Stmt
}

// Recorder starts recording a run: it inserts the run row (status running,
// this process's pid) and returns the observer to pass in
// engine.Options.Observer. ctx bounds only the insert; the recorder keeps
// writing after ctx is cancelled (a stopped run still gets its history).
// Call Close with the run's result when engine.Run returns.
func (d *DB) Recorder(ctx context.Context, run RunInfo) (*Recorder, error) {
	if run.ID == "" {
		run.ID = NewRunID()
	}
	start := run.Start
	if start.IsZero() {
		start = d.Now()
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO runs (run_id, flow, flow_version, path, start, status, dry_run, pid, proc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, run.ID, run.Flow, run.FlowVersion, run.Path, start.UnixNano(), StatusRunning, run.DryRun, os.Getpid(), selfProc)
	if err != nil {
		return nil, fmt.Errorf("record run %q of flow %q: %w", run.ID, run.Flow, err)
	}
	key, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("record run %q of flow %q: %w", run.ID, run.Flow, err)
	}
	r := &Recorder{d: d, id: run.ID, key: key,
		kick: make(chan struct{}, 1), closing: make(chan struct{}), flushc: make(chan chan struct{}), done: make(chan struct{}),
		open: map[int]bool{}, starts: map[int]engine.Event{}}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = d.db.PrepareContext(ctx, q)
		return s
	}
	const stepCols = `(run, seq, node, type, label, attempt, start, duration, status, port, outputs, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	r.ins = recStmts{
		step:        prep(`INSERT INTO steps ` + stepCols),
		stepReplace: prep(`INSERT OR REPLACE INTO steps ` + stepCols),
		vars:        prep(`INSERT OR REPLACE INTO vars (run, seq, vars) VALUES (?, ?, ?)`),
		log:         prep(`INSERT INTO logs (run, seq, node, level, message, time) VALUES (?, ?, ?, ?, ?, ?)`),
		runSteps:    prep(`UPDATE runs SET steps = ? WHERE id = ?`),
	}
	if err != nil {
		r.ins.close()
		return nil, fmt.Errorf("record run %q: %w", run.ID, err)
	}
	go r.loop()
	return r, nil
}

func (s recStmts) close() {
	for _, st := range []*sql.Stmt{s.step, s.stepReplace, s.vars, s.log, s.runSteps} {
		if st != nil {
			st.Close()
		}
	}
}

// RunID returns the id of the run being recorded.
func (r *Recorder) RunID() string { return r.id }

// OnCommit sets a function the writer calls after each committed batch with
// the highest step seq committed so far (tests use it; it must be quick).
func (r *Recorder) OnCommit(f func(seq int)) {
	r.mu.Lock()
	r.onCommit = f
	r.mu.Unlock()
}

// Stats returns what the recorder has committed so far.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Event hands e to the writer. It never waits for the disk.
func (r *Recorder) Event(e engine.Event) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.pending = append(r.pending, e)
	n := len(r.pending)
	r.mu.Unlock()
	if n == 1 || n == batchEvents {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// Flush waits until every event handed to Event so far is committed, and
// returns the first write error.
func (r *Recorder) Flush() error {
	ch := make(chan struct{})
	select {
	case r.flushc <- ch:
		<-ch
	case <-r.done:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close flushes the remaining events and finishes the run row with res's
// status, error and step count (res may be nil: the run ended without a
// result and is marked failed, unless its run_finished event arrived). It
// returns the first error met while recording.
func (r *Recorder) Close(res *engine.Result) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.err
	}
	r.closed = true
	r.mu.Unlock()
	close(r.closing)
	<-r.done
	r.ins.close()

	status, errText, steps := engine.StatusFailed, "the run ended without a result", r.maxSeq
	switch {
	case res != nil:
		status, errText, steps = res.Status, "", res.Steps
		if res.Err != nil {
			errText = res.Err.Error()
		}
		if status == "" {
			status = engine.StatusFailed
		}
	case r.finished != nil:
		status, errText, steps = r.finished.Status, r.finished.Err, r.finished.Seq
	}
	if steps < r.maxSeq {
		steps = r.maxSeq
	}
	_, err := r.d.db.ExecContext(context.Background(), `UPDATE runs SET status = ?, end = ?, error = ?, steps = ? WHERE id = ?`,
		status, r.d.Now().UnixNano(), errText, steps, r.key)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("finish run %q: %w", r.id, err)
	}
	return r.err
}

// loop is the writer goroutine.
func (r *Recorder) loop() {
	defer close(r.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var waiters []chan struct{}
	for {
		closing := false
		select {
		case <-r.kick:
		case ch := <-r.flushc:
			waiters = append(waiters, ch)
		case <-r.closing:
			closing = true
		}
		if !closing && len(waiters) == 0 {
			// Let a batch gather, unless it is already full.
			timer.Reset(flushInterval)
		wait:
			for {
				r.mu.Lock()
				n := len(r.pending)
				r.mu.Unlock()
				if n >= batchEvents {
					break
				}
				select {
				case <-r.kick:
				case <-timer.C:
					break wait
				case ch := <-r.flushc:
					waiters = append(waiters, ch)
					break wait
				case <-r.closing:
					closing = true
					break wait
				}
			}
			timer.Stop()
		}
		r.writePending()
		if closing || len(waiters) > 0 {
			// Drain completely before answering.
			for r.writePending() {
			}
			for _, ch := range waiters {
				close(ch)
			}
			waiters = waiters[:0]
		}
		if closing {
			return
		}
	}
}

// writePending commits the events waiting now; it reports whether there
// were any.
func (r *Recorder) writePending() bool {
	r.mu.Lock()
	batch := r.pending
	r.pending = r.spare[:0]
	r.mu.Unlock()
	if len(batch) == 0 {
		r.spare = batch
		return false
	}
	err := r.write(batch)
	r.mu.Lock()
	if err != nil {
		r.stats.Errors++
		if r.err == nil {
			r.err = err
		}
	} else {
		r.stats.Events += int64(len(batch))
		r.stats.Batches++
	}
	f := r.onCommit
	r.mu.Unlock()
	if err == nil && f != nil {
		f(r.maxSeq)
	}
	clear(batch) // drop references to maps for the GC
	r.spare = batch
	return true
}

func (r *Recorder) write(batch []engine.Event) (err error) {
	ctx := context.Background()
	tx, err := r.d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record run %q: %w", r.id, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	step, stepReplace, vars, logs := tx.StmtContext(ctx, r.ins.step), tx.StmtContext(ctx, r.ins.stepReplace), tx.StmtContext(ctx, r.ins.vars), tx.StmtContext(ctx, r.ins.log)
	maxSeq := r.maxSeq
	for i := range batch {
		e := &batch[i]
		switch e.Kind {
		case engine.EventStepStarted:
			r.starts[e.Seq] = *e
		case engine.EventStepFinished:
			start := e.Time.Add(-e.Duration)
			if s, ok := r.starts[e.Seq]; ok {
				start = s.Time
				delete(r.starts, e.Seq)
			}
			st := step
			if r.open[e.Seq] {
				st = stepReplace
				delete(r.open, e.Seq)
			}
			var outputs any
			if len(e.Outputs) > 0 {
				outputs = string(marshalLoose(e.Outputs))
			}
			if _, err := st.ExecContext(ctx, r.key, e.Seq, e.NodeID, e.Type, e.Label, e.Attempt, start.UnixNano(), int64(e.Duration),
				e.Status, e.Port, outputs, e.Err); err != nil {
				return fmt.Errorf("record run %q step %d (node %s): %w", r.id, e.Seq, e.NodeID, err)
			}
			if e.Vars != nil {
				if _, err := vars.ExecContext(ctx, r.key, e.Seq, string(marshalLoose(e.Vars))); err != nil {
					return fmt.Errorf("record run %q variables after step %d (node %s): %w", r.id, e.Seq, e.NodeID, err)
				}
			}
			if e.Seq > maxSeq {
				maxSeq = e.Seq
			}
		case engine.EventVars:
			if e.Vars != nil {
				if _, err := vars.ExecContext(ctx, r.key, e.Seq, string(marshalLoose(e.Vars))); err != nil {
					return fmt.Errorf("record run %q variables at step %d: %w", r.id, e.Seq, err)
				}
			}
		case engine.EventLog:
			if _, err := logs.ExecContext(ctx, r.key, e.Seq, e.NodeID, e.Level, e.Message, e.Time.UnixNano()); err != nil {
				return fmt.Errorf("record run %q log of node %s: %w", r.id, e.NodeID, err)
			}
		case engine.EventRunFinished:
			f := *e
			f.Vars = nil
			r.mu.Lock()
			r.finished = &f
			r.mu.Unlock()
		}
	}
	// Steps still under way are stored as running, so a killed run shows
	// the step it died in.
	if len(r.starts) > 0 {
		seqs := make([]int, 0, len(r.starts))
		for s := range r.starts {
			seqs = append(seqs, s)
		}
		sort.Ints(seqs)
		for _, s := range seqs {
			e := r.starts[s]
			if r.open[s] {
				continue
			}
			if _, err := stepReplace.ExecContext(ctx, r.key, e.Seq, e.NodeID, e.Type, e.Label, e.Attempt, e.Time.UnixNano(), int64(0),
				StatusRunning, "", nil, ""); err != nil {
				return fmt.Errorf("record run %q step %d (node %s): %w", r.id, e.Seq, e.NodeID, err)
			}
			r.open[s] = true
		}
	}
	if maxSeq != r.seqAt {
		if _, err := tx.StmtContext(ctx, r.ins.runSteps).ExecContext(ctx, maxSeq, r.key); err != nil {
			return fmt.Errorf("record run %q: %w", r.id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record run %q: commit: %w", r.id, err)
	}
	r.maxSeq, r.seqAt = maxSeq, maxSeq
	return nil
}

// marshalLoose encodes a map as JSON; values JSON cannot hold (NaN,
// functions, channels) are stored as their printed form.
func marshalLoose(m map[string]any) []byte {
	b, err := json.Marshal(m)
	if err == nil {
		return b
	}
	safe := make(map[string]any, len(m))
	for k, v := range m {
		if _, err := json.Marshal(v); err != nil {
			safe[k] = fmt.Sprint(v)
		} else {
			safe[k] = v
		}
	}
	b, err = json.Marshal(safe)
	if err != nil {
		return []byte("{}")
	}
	return b
}
