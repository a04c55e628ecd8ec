package engine

import (
	"sync"
	"time"
)

// EventKind says what happened in a run.
type EventKind string

// Event kinds, in the order a run produces them.
const (
	EventRunStarted   EventKind = "run_started"
	EventStepStarted  EventKind = "step_started"
	EventStepFinished EventKind = "step_finished"
	EventLog          EventKind = "log"
	EventVars         EventKind = "vars"
	EventPaused       EventKind = "paused"
	EventResumed      EventKind = "resumed"
	EventRunFinished  EventKind = "run_finished"
)

// Step and run statuses.
const (
	StatusOK          = "ok"          // step or run succeeded
	StatusFailed      = "failed"      // step or run failed
	StatusCaught      = "caught"      // step failed, its error port took over
	StatusRetrying    = "retrying"    // attempt failed, another follows
	StatusCancelled   = "cancelled"   // stopped by cancellation
	StatusStopped     = "stopped"     // stopped by the user (failsafe, hotkey, Stop)
	StatusDry         = "dry"         // side effect described, not done
	StatusInterrupted = "interrupted" // the process died mid-run (set by the store)
)

// Event is one thing that happened during a run. Observers get events in
// order from the run's goroutine and must not block it for long; an
// observer may block to bound its memory (the store's recorder waits when
// its backlog is full).
type Event struct {
	Kind     EventKind
	Time     time.Time
	RunID    string
	Flow     string
	Depth    int    // sub-flow nesting; 0 for the top flow
	Seq      int    // step number in the run, from 1
	NodeID   string // sub-flow nodes are "caller/child"
	Type     string
	Label    string
	Port     string // StepFinished: the port followed
	Attempt  int    // from 1
	Status   string
	Duration time.Duration
	Err      string
	Level    string // Log: info, warn, error, debug
	Message  string // Log text
	Outputs  map[string]any
	// Inputs are the values the step's fields had when the activity
	// evaluated them, by field name ("path", "text", "condition"; a list
	// field's items as "args[0]", a map field's entries as "outputs.key").
	// StepFinished carries them, on success and failure, when the observer
	// wants them (see InputsObserver); nil when none was evaluated.
	Inputs map[string]any
	// Vars is a copy of all variables (a shallow one: tables, lists and
	// maps are shared, and a changed one is replaced, not edited in place,
	// so an observer may compare them by identity). StepFinished carries
	// it only when a variable changed since the last copy; Paused and Vars
	// always do.
	Vars map[string]any
}

// Observer receives a run's events.
type Observer interface {
	Event(e Event)
}

// InputsObserver is an Observer that says whether it wants steps' inputs
// (Event.Inputs). Recording them costs a map per step, so an observer that
// drops them (the history at a level that keeps no inputs) says no. An
// observer that does not implement it gets them; an unobserved run records
// none.
type InputsObserver interface {
	Observer
	WantsInputs() bool
}

// wantsInputs reports whether o wants steps' inputs.
func wantsInputs(o Observer) bool {
	if o == nil {
		return false
	}
	if w, ok := o.(InputsObserver); ok {
		return w.WantsInputs()
	}
	return true
}

// WantsInputs reports whether any of the observers wants inputs.
func (os Observers) WantsInputs() bool {
	for _, o := range os {
		if wantsInputs(o) {
			return true
		}
	}
	return false
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Event calls f.
func (f ObserverFunc) Event(e Event) { f(e) }

// Observers fans events out to several observers in order.
type Observers []Observer

// Event sends e to each observer.
func (os Observers) Event(e Event) {
	for _, o := range os {
		if o != nil {
			o.Event(e)
		}
	}
}

// Recorder is an Observer that keeps events in memory; for tests and the
// studio's output pane.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Event appends e.
func (r *Recorder) Event(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of the recorded events.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
