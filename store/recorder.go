package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"deskbot/engine"
)

// Batching of the recorder's writer: it commits when this many events wait,
// or this long after the first of them arrived, whichever comes first. A
// writer that falls behind takes everything waiting in one transaction.
const (
	batchEvents   = 256
	flushInterval = 20 * time.Millisecond
	chunkEvents   = 256 // events per buffer chunk
	keepChunks    = 64  // free chunks kept for reuse
	writeAttempts = 4   // tries of a batch that finds the database locked (5s each)
)

// Recorder is the engine.Observer that records one run. Event only appends
// to an in-memory chunk under a mutex; a writer goroutine commits the
// events in batches, one transaction per batch. Nothing is dropped: when
// the disk is slower than the run, more chunks are chained. Close flushes
// and finishes the run row.
type Recorder struct {
	d   *DB
	id  string
	key int64

	mu       sync.Mutex
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
	spare      [][]engine.Event
	open       map[int]bool         // steps stored as running, awaiting their finish
	starts     map[int]engine.Event // started steps not yet finished
	maxSeq     int                  // highest finished seq committed
	seqAt      int                  // steps count last stored in the run row
	pendingMax int
	// Changes to open, applied when the batch is committed.
	opened, finishedOpen []int
}

// RecorderStats counts what a recorder committed.
type RecorderStats struct {
	Events  int64 // events committed
	Batches int64 // transactions
	Errors  int64 // failed batches
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
	go r.loop()
	return r, nil
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

// Event hands e to the writer. It never waits for the disk.
func (r *Recorder) Event(e engine.Event) {
	r.mu.Lock()
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
	if err == nil && len(r.open) > 0 {
		// Steps that started and never finished.
		_, err = r.d.db.ExecContext(context.Background(), `UPDATE steps SET status = ? WHERE run = ? AND status = ?`,
			engine.StatusInterrupted, r.key, StatusRunning)
	}
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
	r.mu.Unlock()
	if n == 0 {
		r.spare = chunks
		return false
	}
	var err error
	for attempt := 1; ; attempt++ {
		r.opened, r.finishedOpen = r.opened[:0], r.finishedOpen[:0]
		err = r.write(chunks)
		// Another process holding the write lock past the busy timeout:
		// keep the events and try again rather than lose them.
		if err == nil || attempt == writeAttempts || !isBusy(err) {
			break
		}
	}
	if err == nil {
		r.maxSeq, r.seqAt = r.pendingMax, r.pendingMax
		for _, s := range r.finishedOpen {
			delete(r.open, s)
		}
		for _, s := range r.opened {
			r.open[s] = true
		}
	}
	r.mu.Lock()
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

func (s *rawStmt) exec(vals ...driver.Value) error {
	for i, v := range vals {
		s.args[i].Value = v
	}
	_, err := s.st.(driver.StmtExecContext).ExecContext(context.Background(), s.args)
	return err
}

// write commits one batch in one transaction. It works on the driver
// connection directly: database/sql's per-statement work would cost the
// recorder a third of its speed.
func (r *Recorder) write(chunks [][]engine.Event) error {
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
		err := r.writeRows(prep, chunks)
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

func (r *Recorder) writeRows(prep func(string) (*rawStmt, error), chunks [][]engine.Event) error {
	const stepCols = `(run, seq, node, type, label, attempt, start, duration, status, port, outputs, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	var step, vars, logs *rawStmt
	get := func(p **rawStmt, q string) (*rawStmt, error) {
		if *p == nil {
			s, err := prep(q)
			if err != nil {
				return nil, err
			}
			*p = s
		}
		return *p, nil
	}
	key := any(r.key)
	maxSeq := r.maxSeq
	var buf bytes.Buffer
	for _, batch := range chunks {
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
				// OR REPLACE: the step may be stored as running already.
				if r.open[e.Seq] {
					r.finishedOpen = append(r.finishedOpen, e.Seq)
				}
				st, err := get(&step, `INSERT OR REPLACE INTO steps `+stepCols)
				if err != nil {
					return err
				}
				var outputs driver.Value
				if len(e.Outputs) > 0 {
					outputs = marshalLoose(&buf, e.Outputs)
				}
				if err := st.exec(key, int64(e.Seq), e.NodeID, e.Type, e.Label, int64(e.Attempt), start.UnixNano(), int64(e.Duration),
					e.Status, e.Port, outputs, e.Err); err != nil {
					return fmt.Errorf("step %d (node %s): %w", e.Seq, e.NodeID, err)
				}
				if e.Vars != nil {
					st, err := get(&vars, `INSERT OR REPLACE INTO vars (run, seq, vars) VALUES (?, ?, ?)`)
					if err != nil {
						return err
					}
					if err := st.exec(key, int64(e.Seq), marshalLoose(&buf, e.Vars)); err != nil {
						return fmt.Errorf("variables after step %d (node %s): %w", e.Seq, e.NodeID, err)
					}
				}
				if e.Seq > maxSeq {
					maxSeq = e.Seq
				}
			case engine.EventVars:
				if e.Vars != nil {
					st, err := get(&vars, `INSERT OR REPLACE INTO vars (run, seq, vars) VALUES (?, ?, ?)`)
					if err != nil {
						return err
					}
					if err := st.exec(key, int64(e.Seq), marshalLoose(&buf, e.Vars)); err != nil {
						return fmt.Errorf("variables at step %d: %w", e.Seq, err)
					}
				}
			case engine.EventLog:
				st, err := get(&logs, `INSERT INTO logs (run, seq, node, level, message, time) VALUES (?, ?, ?, ?, ?, ?)`)
				if err != nil {
					return err
				}
				if err := st.exec(key, int64(e.Seq), e.NodeID, e.Level, e.Message, e.Time.UnixNano()); err != nil {
					return fmt.Errorf("log of node %s: %w", e.NodeID, err)
				}
			case engine.EventRunFinished:
				f := *e
				f.Vars = nil
				r.mu.Lock()
				r.finished = &f
				r.mu.Unlock()
			}
		}
	}
	// Steps still under way are stored as running, so a killed run shows
	// the step it died in.
	if len(r.starts) > 0 {
		seqs := make([]int, 0, len(r.starts))
		for s := range r.starts {
			if !r.open[s] {
				seqs = append(seqs, s)
			}
		}
		sort.Ints(seqs)
		for _, s := range seqs {
			e := r.starts[s]
			st, err := get(&step, `INSERT OR REPLACE INTO steps `+stepCols)
			if err != nil {
				return err
			}
			if err := st.exec(key, int64(e.Seq), e.NodeID, e.Type, e.Label, int64(e.Attempt), e.Time.UnixNano(), int64(0),
				StatusRunning, "", nil, ""); err != nil {
				return fmt.Errorf("step %d (node %s): %w", e.Seq, e.NodeID, err)
			}
			r.opened = append(r.opened, s)
		}
	}
	if maxSeq != r.seqAt {
		st, err := prep(`UPDATE runs SET steps = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		if err := st.exec(int64(maxSeq), key); err != nil {
			return err
		}
	}
	r.pendingMax = maxSeq
	return nil
}

// isBusy says whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// marshalLoose encodes a map as JSON text; values JSON cannot hold (NaN,
// functions, channels) are stored as their printed form.
func marshalLoose(buf *bytes.Buffer, m map[string]any) string {
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err == nil {
		return strings.TrimSuffix(buf.String(), "\n")
	}
	b, err := json.Marshal(jsonSafe(reflect.ValueOf(m), 0))
	if err != nil {
		return "{}"
	}
	return string(b)
}

// jsonSafe turns v into values encoding/json accepts: maps with non-string
// keys (expr's groupBy gives map[any]any) get printed keys; NaN and
// infinities, functions, channels and complex numbers become text.
func jsonSafe(v reflect.Value, depth int) any {
	if !v.IsValid() {
		return nil
	}
	if depth > 64 {
		return fmt.Sprint(v.Interface())
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if _, ok := v.Interface().(json.Marshaler); !ok {
			return jsonSafe(v.Elem(), depth+1)
		}
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			ks := ""
			if k.Kind() == reflect.String {
				ks = k.String()
			} else {
				ks = fmt.Sprint(k.Interface())
			}
			out[ks] = jsonSafe(it.Value(), depth+1)
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			break // []byte: base64
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonSafe(v.Index(i), depth+1)
		}
		return out
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprint(f)
		}
	case reflect.Func, reflect.Chan, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return fmt.Sprint(v.Interface())
	}
	if !v.CanInterface() {
		return nil
	}
	x := v.Interface()
	if _, err := json.Marshal(x); err != nil {
		return fmt.Sprint(x)
	}
	return x
}
