package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"deskbot/engine"
)

// Batching of the recorder's writer: it commits when this many events wait,
// or this long after the first of them arrived, whichever comes first. A
// writer that falls behind takes everything waiting in one transaction, up
// to maxPending events: Event blocks while that many wait, so the
// recorder's memory is bounded however fast the run goes.
const (
	batchEvents   = 256
	flushInterval = 20 * time.Millisecond
	chunkEvents   = 256 // events per buffer chunk
	maxPending    = MaxPendingEvents
	keepChunks    = maxPending / chunkEvents
	// checkpointEvery is how many variable rows may follow a full
	// snapshot; the others store only what changed (see VarsAt).
	checkpointEvery = 200
	// busyPause is the pause between tries of a batch that finds the
	// database locked past the busy timeout; the writer tries until it
	// succeeds and never drops a batch.
	busyPause = 50 * time.Millisecond
)

// MaxPendingEvents bounds the recorder's backlog: Event waits while this
// many events wait for the disk.
const MaxPendingEvents = 8192

// Recorder is the engine.Observer that records one run. Event appends to
// an in-memory chunk under a mutex; a writer goroutine commits the events
// in batches, one transaction per batch. Nothing is dropped: while the
// disk is slower than the run and maxPending events wait, Event waits.
// Close flushes and finishes the run row.
//
// Variables are stored as deltas: a step's row holds only the variables
// whose value changed (scalars compared by value, tables, lists and maps
// by identity), with a full snapshot every checkpointEvery rows. A value
// whose JSON exceeds PreviewBytes is stored, once per change, as a
// preview with its size and hash.
type Recorder struct {
	d     *DB
	id    string
	key   int64
	level string

	mu       sync.Mutex
	space    *sync.Cond       // signalled when the writer takes pending events
	cur      []engine.Event   // chunk being filled
	full     [][]engine.Event // filled chunks, in order
	free     [][]engine.Event // chunks for reuse
	npending int
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
	spare  [][]engine.Event
	open   map[int]bool         // steps stored as running, awaiting their finish
	starts map[int]engine.Event // started steps not yet finished
	maxSeq int                  // highest finished seq committed
	seqAt  int                  // steps count last stored in the run row
	// Variables as of the last snapshot: the values (for the identity
	// comparison) and their stored JSON.
	lastVals  map[string]any
	lastEnc   map[string][]byte
	sinceFull int
	haveFull  bool
	// The last large input of each node's field, with its preview.
	inputEnc map[inputKey]largeInput
	b        batch
}

// inputKey names one field of one node.
type inputKey struct{ node, field string }

// largeInput is a large input value and its stored preview.
type largeInput struct {
	v   any
	enc []byte
}

// batch is one transaction's rows, built from the events before the
// transaction starts so that a retried transaction writes the same rows.
type batch struct {
	steps  [][]driver.Value // run, seq, node, type, label, attempt, start, duration, status, port, outputs, error, inputs
	vars   [][]driver.Value // run, seq, vars, full, gone
	logs   [][]driver.Value // run, seq, node, level, message, time
	maxSeq int
	bytes  []byte // arena for JSON; rows keep strings cut from it
}

func (b *batch) reset() {
	clear(b.steps)
	clear(b.vars)
	clear(b.logs)
	b.steps, b.vars, b.logs = b.steps[:0], b.vars[:0], b.logs[:0]
}

func (b *batch) empty() bool { return len(b.steps)+len(b.vars)+len(b.logs) == 0 }

// RecorderStats counts what a recorder committed.
type RecorderStats struct {
	Events  int64 // events committed
	Batches int64 // transactions
	Errors  int64 // failed batches
	Retries int64 // tries of a batch that found the database locked
	Blocked int64 // times Event waited for the writer
	// InputPreviews counts large inputs encoded as previews (each hashed
	// whole); a field that gives the same large value again is not.
	InputPreviews int64
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
	run.Flow = FlowName(run.Flow, run.Path)
	level := run.History
	if level == "" {
		level = engine.HistoryFull
	}
	if !slices.Contains(engine.HistoryLevels, level) {
		return nil, fmt.Errorf("record run %q of flow %q: settings.history: unknown history level %q (want one of %s)",
			run.ID, run.Flow, run.History, strings.Join(engine.HistoryLevels, ", "))
	}
	start := run.Start
	if start.IsZero() {
		start = d.Now()
	}
	var key int64
	err := retryBusy(ctx, func() error {
		res, err := d.db.ExecContext(ctx, `INSERT INTO runs (run_id, flow, flow_version, path, start, status, dry_run, pid, proc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, run.ID, run.Flow, run.FlowVersion, run.Path, start.UnixNano(), StatusRunning, run.DryRun, os.Getpid(), selfProc)
		if err != nil {
			return err
		}
		key, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record run %q of flow %q: %w", run.ID, run.Flow, err)
	}
	r := &Recorder{d: d, id: run.ID, key: key, level: level,
		kick: make(chan struct{}, 1), closing: make(chan struct{}), flushc: make(chan chan struct{}), done: make(chan struct{}),
		open: map[int]bool{}, starts: map[int]engine.Event{}, lastVals: map[string]any{}, lastEnc: map[string][]byte{}}
	r.space = sync.NewCond(&r.mu)
	go r.loop()
	return r, nil
}

// retryBusy runs f until it succeeds or fails with something other than
// "database is locked" (each try waits the busy timeout first), or ctx
// ends.
func retryBusy(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(busyPause):
		}
	}
}

// RunID returns the id of the run being recorded.
func (r *Recorder) RunID() string { return r.id }

// OnCommit sets a function the writer calls after each committed batch with
// the highest finished step seq committed so far (tests use it; it must be
// quick).
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

// Event hands e to the writer. It waits only while maxPending events are
// waiting for the disk.
func (r *Recorder) Event(e engine.Event) {
	r.mu.Lock()
	if r.npending >= maxPending && !r.closed {
		r.stats.Blocked++
		select {
		case r.kick <- struct{}{}:
		default:
		}
		for r.npending >= maxPending && !r.closed {
			r.space.Wait()
		}
	}
	if r.closed {
		r.mu.Unlock()
		return
	}
	if r.cur == nil {
		if n := len(r.free); n > 0 {
			r.cur, r.free = r.free[n-1], r.free[:n-1]
		} else {
			r.cur = make([]engine.Event, 0, chunkEvents)
		}
	}
	r.cur = append(r.cur, e)
	if len(r.cur) == cap(r.cur) {
		r.full = append(r.full, r.cur)
		r.cur = nil
	}
	r.npending++
	n := r.npending
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
// returns the first error met while recording. A locked database delays
// Close; it does not lose the run's end.
func (r *Recorder) Close(res *engine.Result) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.err
	}
	r.closed = true
	r.space.Broadcast()
	r.mu.Unlock()
	close(r.closing)
	<-r.done

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
	ctx := context.Background()
	err := retryBusy(ctx, func() error {
		tx, err := r.d.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see Open)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, end = ?, error = ?, steps = ? WHERE id = ?`,
			status, r.d.Now().UnixNano(), errText, steps, r.key); err != nil {
			return err
		}
		if len(r.open) > 0 {
			// Steps that started and never finished.
			if _, err := tx.ExecContext(ctx, `UPDATE steps SET status = ? WHERE run = ? AND status = ?`,
				engine.StatusInterrupted, r.key, StatusRunning); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
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
				n := r.npending
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
	chunks := append(r.spare[:0], r.full...)
	if len(r.cur) > 0 {
		chunks = append(chunks, r.cur)
		r.cur = nil
	}
	clear(r.full)
	r.full = r.full[:0]
	n := r.npending
	r.npending = 0
	r.space.Broadcast()
	r.mu.Unlock()
	if n == 0 {
		r.spare = chunks
		return false
	}
	// Rows first, then the transaction: a retried transaction writes the
	// same rows.
	r.b.reset()
	r.build(chunks)
	opened := r.opened()
	r.mu.Lock()
	// Recycle the chunks, dropping references to maps for the GC.
	for _, c := range chunks {
		clear(c)
		if len(r.free) < keepChunks {
			r.free = append(r.free, c[:0])
		}
	}
	r.mu.Unlock()
	clear(chunks)
	r.spare = chunks[:0]

	var err error
	retries := int64(0)
	if !r.b.empty() || r.b.maxSeq != r.seqAt {
		for {
			err = r.write(opened)
			// Another process holding the write lock past the busy
			// timeout: keep the rows and try again rather than lose them.
			if err == nil || !isBusy(err) {
				break
			}
			retries++
			time.Sleep(busyPause)
		}
	}
	if err == nil {
		r.maxSeq, r.seqAt = r.b.maxSeq, r.b.maxSeq
		for _, s := range opened {
			r.open[s] = true
		}
	}
	r.mu.Lock()
	r.stats.Retries += retries
	if err != nil {
		r.stats.Errors++
		if r.err == nil {
			r.err = err
		}
	} else {
		r.stats.Events += int64(n)
		r.stats.Batches++
	}
	f := r.onCommit
	r.mu.Unlock()
	if err == nil && f != nil {
		f(r.maxSeq)
	}
	return true
}

// rawStmt is a statement on the writer's driver connection, with its
// argument slice reused from row to row.
type rawStmt struct {
	st   driver.Stmt
	args []driver.NamedValue
}

func (s *rawStmt) exec(vals []driver.Value) error {
	for i, v := range vals {
		s.args[i].Value = v
	}
	_, err := s.st.(driver.StmtExecContext).ExecContext(context.Background(), s.args)
	return err
}

const (
	stepInsert = `INSERT OR REPLACE INTO steps (run, seq, node, type, label, attempt, start, duration, status, port, outputs, error, inputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	varsInsert = `INSERT OR REPLACE INTO vars (run, seq, vars, full, gone) VALUES (?, ?, ?, ?, ?)`
	logInsert  = `INSERT INTO logs (run, seq, node, level, message, time) VALUES (?, ?, ?, ?, ?, ?)`
)

// write commits the built batch in one transaction. It works on the
// driver connection directly: database/sql's per-statement work would cost
// the recorder a third of its speed.
func (r *Recorder) write(opened []int) error {
	ctx := context.Background()
	conn, err := r.d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("record run %q: %w", r.id, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		if _, err := c.Exec("BEGIN IMMEDIATE", nil); err != nil {
			return err
		}
		var stmts []*rawStmt
		prep := func(q string) (*rawStmt, error) {
			st, err := c.Prepare(q)
			if err != nil {
				return nil, err
			}
			rs := &rawStmt{st: st, args: make([]driver.NamedValue, st.NumInput())}
			for i := range rs.args {
				rs.args[i].Ordinal = i + 1
			}
			stmts = append(stmts, rs)
			return rs, nil
		}
		err := r.insert(prep)
		for _, s := range stmts {
			s.st.Close()
		}
		if err != nil {
			if _, rerr := c.Exec("ROLLBACK", nil); rerr != nil {
				return driver.ErrBadConn // drop the connection, whatever its state
			}
			return err
		}
		if _, err := c.Exec("COMMIT", nil); err != nil {
			c.Exec("ROLLBACK", nil)
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record run %q: %w", r.id, err)
	}
	return nil
}

func (r *Recorder) insert(prep func(string) (*rawStmt, error)) error {
	for _, rows := range []struct {
		q    string
		rows [][]driver.Value
	}{{stepInsert, r.b.steps}, {varsInsert, r.b.vars}, {logInsert, r.b.logs}} {
		if len(rows.rows) == 0 {
			continue
		}
		st, err := prep(rows.q)
		if err != nil {
			return err
		}
		for _, row := range rows.rows {
			if err := st.exec(row); err != nil {
				return fmt.Errorf("step %v: %w", row[1], err)
			}
		}
	}
	if r.b.maxSeq != r.seqAt {
		st, err := prep(`UPDATE runs SET steps = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		if err := st.exec([]driver.Value{int64(r.b.maxSeq), r.key}); err != nil {
			return err
		}
	}
	return nil
}

// WantsInputs tells the engine whether to record steps' inputs: at the
// "full" level for every step, at the "errors" level for the failed steps
// it keeps (a failing step's inputs say most about why); not at "steps".
func (r *Recorder) WantsInputs() bool { return r.level != engine.HistorySteps }

// inputsJSON encodes a step's inputs as a JSON object, each value bounded
// like outputs. A large input (stored as a preview) that is the same value
// the node's field had last time is not encoded and hashed again: a field
// that gives the same table on every step of a loop is hashed once, not
// once a step. The values kept for this comparison are at most one per
// node field.
func (r *Recorder) inputsJSON(dst []byte, node string, m map[string]any) []byte {
	var arr [8]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		v, ik := m[k], inputKey{node, k}
		last, had := r.inputEnc[ik]
		if had && engine.SameValue(last.v, v) {
			dst = append(dst, last.enc...)
			continue
		}
		start := len(dst)
		dst = encodeValue(dst, v)
		switch enc := dst[start:]; {
		case len(enc) > PreviewBytes && bytes.HasPrefix(enc, []byte(`{"$preview":`)):
			if r.inputEnc == nil {
				r.inputEnc = map[inputKey]largeInput{}
			}
			r.inputEnc[ik] = largeInput{v, bytes.Clone(enc)}
			r.mu.Lock()
			r.stats.InputPreviews++
			r.mu.Unlock()
		case had:
			delete(r.inputEnc, ik)
		}
	}
	return append(dst, '}')
}

// failedStatus says whether a step status is kept at the "errors" level.
func failedStatus(s string) bool {
	switch s {
	case engine.StatusOK, engine.StatusDry, "":
		return false
	}
	return true
}

// build turns the events into the batch's rows.
func (r *Recorder) build(chunks [][]engine.Event) {
	key := any(r.key)
	b := &r.b
	b.maxSeq = r.maxSeq
	full, errorsOnly := r.level == engine.HistoryFull, r.level == engine.HistoryErrors
	for _, c := range chunks {
		for i := range c {
			e := &c[i]
			switch e.Kind {
			case engine.EventStepStarted:
				if !errorsOnly {
					r.starts[e.Seq] = *e
				}
			case engine.EventStepFinished:
				if e.Seq > b.maxSeq {
					b.maxSeq = e.Seq
				}
				start := e.Time.Add(-e.Duration)
				if s, ok := r.starts[e.Seq]; ok {
					start = s.Time
					delete(r.starts, e.Seq)
				}
				if r.open[e.Seq] {
					delete(r.open, e.Seq) // the row below replaces the running one
				}
				keep := !errorsOnly || failedStatus(e.Status)
				if keep {
					var outputs, inputs driver.Value
					if full && len(e.Outputs) > 0 {
						outputs = string(marshalValues(b.bytes[:0], e.Outputs))
					}
					if r.WantsInputs() && len(e.Inputs) > 0 {
						inputs = string(r.inputsJSON(b.bytes[:0], e.NodeID, e.Inputs))
					}
					b.steps = append(b.steps, []driver.Value{key, int64(e.Seq), e.NodeID, e.Type, e.Label, int64(e.Attempt), start.UnixNano(), int64(e.Duration),
						e.Status, e.Port, outputs, e.Err, inputs})
				}
				switch {
				case full:
					r.varsRow(e.Seq, e.Vars)
				case errorsOnly:
					r.track(e.Vars)
					if keep {
						r.fullRow(e.Seq)
					}
				}
			case engine.EventVars:
				if full {
					r.varsRow(e.Seq, e.Vars)
				} else {
					r.track(e.Vars)
				}
			case engine.EventLog:
				if errorsOnly && e.Level != "warn" && e.Level != "error" {
					continue
				}
				b.logs = append(b.logs, []driver.Value{key, int64(e.Seq), e.NodeID, e.Level, e.Message, e.Time.UnixNano()})
			case engine.EventRunFinished:
				f := *e
				f.Vars, f.Outputs, f.Inputs = nil, nil, nil
				r.mu.Lock()
				r.finished = &f
				r.mu.Unlock()
			}
		}
	}
}

// opened adds rows for the steps still under way, stored as running so a
// killed run shows the step it died in, and returns their seqs.
func (r *Recorder) opened() []int {
	if len(r.starts) == 0 {
		return nil
	}
	var seqs []int
	for s := range r.starts {
		if !r.open[s] {
			seqs = append(seqs, s)
		}
	}
	sort.Ints(seqs)
	key := any(r.key)
	for _, s := range seqs {
		e := r.starts[s]
		r.b.steps = append(r.b.steps, []driver.Value{key, int64(e.Seq), e.NodeID, e.Type, e.Label, int64(e.Attempt), e.Time.UnixNano(), int64(0),
			StatusRunning, "", nil, "", nil})
	}
	return seqs
}

// track updates the last known variables without encoding them (the
// "steps" and "errors" levels).
func (r *Recorder) track(vars map[string]any) {
	if vars == nil {
		return
	}
	for k, v := range vars {
		if old, ok := r.lastVals[k]; !ok || !engine.SameValue(old, v) {
			r.lastVals[k] = v
			delete(r.lastEnc, k)
		}
	}
	for k := range r.lastVals {
		if _, ok := vars[k]; !ok {
			delete(r.lastVals, k)
			delete(r.lastEnc, k)
		}
	}
}

// fullRow stores every variable as of now at seq.
func (r *Recorder) fullRow(seq int) {
	keys := make([]string, 0, len(r.lastVals))
	for k := range r.lastVals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	doc := make([]byte, 0, 256)
	doc = append(doc, '{')
	for i, k := range keys {
		enc, ok := r.lastEnc[k]
		if !ok {
			enc = encodeValue(nil, r.lastVals[k])
			r.lastEnc[k] = enc
		}
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = appendJSONString(doc, k)
		doc = append(doc, ':')
		doc = append(doc, enc...)
	}
	doc = append(doc, '}')
	r.b.vars = append(r.b.vars, []driver.Value{any(r.key), int64(seq), string(doc), int64(1), nil})
	r.sinceFull, r.haveFull = 0, true
}

// varsRow stores what changed in vars since the last row (nothing when
// nothing did), or every variable when a checkpoint is due.
func (r *Recorder) varsRow(seq int, vars map[string]any) {
	if vars == nil {
		return
	}
	var changed []string
	for k, v := range vars {
		if old, ok := r.lastVals[k]; ok && engine.SameValue(old, v) {
			if _, ok := r.lastEnc[k]; ok {
				continue
			}
		}
		r.lastVals[k] = v
		r.lastEnc[k] = encodeValue(nil, v)
		changed = append(changed, k)
	}
	var gone []string
	for k := range r.lastVals {
		if _, ok := vars[k]; !ok {
			gone = append(gone, k)
			delete(r.lastVals, k)
			delete(r.lastEnc, k)
		}
	}
	if len(changed) == 0 && len(gone) == 0 && r.haveFull {
		return
	}
	r.sinceFull++
	if !r.haveFull || r.sinceFull >= checkpointEvery {
		r.fullRow(seq)
		return
	}
	sort.Strings(changed)
	doc := make([]byte, 0, 128)
	doc = append(doc, '{')
	for i, k := range changed {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = appendJSONString(doc, k)
		doc = append(doc, ':')
		doc = append(doc, r.lastEnc[k]...)
	}
	doc = append(doc, '}')
	var g driver.Value
	if len(gone) > 0 {
		sort.Strings(gone)
		gb, _ := json.Marshal(gone)
		g = string(gb)
	}
	r.b.vars = append(r.b.vars, []driver.Value{any(r.key), int64(seq), string(doc), int64(0), g})
}

// isBusy says whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}
