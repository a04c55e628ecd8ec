package ui

import (
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"deskbot/engine"
)

// Bounds on what one hand-over carries, so that a flow running a million
// steps a second cannot flood the UI.
const (
	maxBatchLogs  = 2000
	maxBatchSteps = 500
	frameInterval = 15 * time.Millisecond
)

// runBatch is what the run goroutine produced since the last hand-over.
type runBatch struct {
	started     []string // top-level nodes started, in order
	logs        []engine.Event
	droppedLogs int
	vars        map[string]any
	progress    string // latest loading message for the status bar
	paused      string // node id the run paused before
	resumed     bool
	finished    *engine.Event
	done        bool
	result      *engine.Result
	err         error
}

// bridge is an engine.Observer on the run's goroutine that hands events to
// the UI goroutine. It is the only place in the studio that calls fyne.Do:
// events are folded into one pending batch, and at most one fyne.Do call is
// outstanding at a time, at most one per frame.
type bridge struct {
	apply func(*runBatch) // runs on the UI goroutine
	// do runs a function on the UI goroutine: fyne.Do, or in tests a
	// function that queues it for the test's own event loop.
	do func(func())

	mu        sync.Mutex
	pending   *runBatch
	scheduled bool
	last      time.Time
}

func newBridge(apply func(*runBatch)) *bridge { return &bridge{apply: apply, do: fyne.Do} }

// post runs fn on the UI goroutine (timers such as autosave use it).
func (b *bridge) post(fn func()) { b.do(fn) }

// Event folds e into the pending batch (engine.Observer).
// WantsInputs is false: the studio's run view shows no inputs (History
// reads them from the store), so it does not make a run collect them.
func (b *bridge) WantsInputs() bool { return false }

func (b *bridge) Event(e engine.Event) {
	b.mu.Lock()
	p := b.batch()
	switch e.Kind {
	case engine.EventStepStarted:
		if e.Depth == 0 && !strings.Contains(e.NodeID, "/") {
			if len(p.started) >= maxBatchSteps {
				p.started = append(p.started[:0], p.started[len(p.started)-maxBatchSteps/2:]...)
			}
			p.started = append(p.started, e.NodeID)
		}
	case engine.EventLog:
		if len(p.logs) < maxBatchLogs {
			p.logs = append(p.logs, e)
		} else {
			p.droppedLogs++
		}
	case engine.EventPaused:
		p.paused = e.NodeID
		p.resumed = false
	case engine.EventResumed:
		p.resumed = true
		p.paused = ""
	case engine.EventRunFinished:
		if e.Depth == 0 {
			ev := e
			p.finished = &ev
		}
	case engine.EventStepFinished:
		// a line per step in Output (the variables go separately)
		if len(p.logs) < maxBatchLogs {
			ev := e
			ev.Vars, ev.Inputs = nil, nil
			p.logs = append(p.logs, ev)
		} else {
			p.droppedLogs++
		}
	}
	if e.Vars != nil && e.Depth == 0 {
		p.vars = e.Vars
	}
	b.schedule()
	b.mu.Unlock()
}

// progress puts msg in the status bar (model loading, from any goroutine).
func (b *bridge) progress(msg string) {
	b.mu.Lock()
	b.batch().progress = msg
	b.schedule()
	b.mu.Unlock()
}

// finish reports the end of engine.Run.
func (b *bridge) finish(res *engine.Result, err error) {
	b.mu.Lock()
	p := b.batch()
	p.done, p.result, p.err = true, res, err
	if res != nil && res.Vars != nil {
		p.vars = res.Vars
	}
	b.schedule()
	b.mu.Unlock()
}

func (b *bridge) batch() *runBatch {
	if b.pending == nil {
		b.pending = &runBatch{}
	}
	return b.pending
}

// schedule arranges one flush on the UI goroutine; b.mu is held.
func (b *bridge) schedule() {
	if b.scheduled {
		return
	}
	b.scheduled = true
	wait := frameInterval - time.Since(b.last)
	if wait <= 0 || b.pending.done {
		b.do(b.flush)
		return
	}
	time.AfterFunc(wait, func() { b.do(b.flush) })
}

func (b *bridge) flush() {
	b.mu.Lock()
	p := b.pending
	b.pending = nil
	b.scheduled = false
	b.last = time.Now()
	b.mu.Unlock()
	if p != nil {
		b.apply(p)
	}
}
