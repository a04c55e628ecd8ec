package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNotPaused is returned by Control.SetVar when the run is not paused.
var ErrNotPaused = errors.New("the run is not paused: values can be changed while it is paused")

// Control drives a run interactively: pause, resume, single step and
// breakpoints. The studio's debugger holds one; nil means run freely.
// All methods are safe to call from any goroutine.
type Control struct {
	mu          sync.Mutex
	pause       bool
	step        bool
	breakpoints map[string]bool
	wake        chan struct{}
	waiting     bool      // the run is paused in wait
	edits       []varEdit // variable changes for the paused run to apply
}

// varEdit is a variable change asked for while paused.
type varEdit struct {
	name  string
	value any
}

// NewControl returns a control that starts running.
func NewControl() *Control {
	return &Control{breakpoints: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Pause makes the run stop before its next node.
func (c *Control) Pause() {
	c.mu.Lock()
	c.pause = true
	c.mu.Unlock()
}

// Resume lets a paused run go on.
func (c *Control) Resume() {
	c.mu.Lock()
	c.pause, c.step = false, false
	c.mu.Unlock()
	c.poke()
}

// Step lets a paused run execute one node, then pause again.
func (c *Control) Step() {
	c.mu.Lock()
	c.pause, c.step = false, true
	c.mu.Unlock()
	c.poke()
}

// SetBreakpoint turns a breakpoint on node id on or off.
func (c *Control) SetBreakpoint(id string, on bool) {
	c.mu.Lock()
	if on {
		c.breakpoints[id] = true
	} else {
		delete(c.breakpoints, id)
	}
	c.mu.Unlock()
}

// Breakpoint reports whether node id has a breakpoint.
func (c *Control) Breakpoint(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.breakpoints[id]
}

func (c *Control) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// shouldStop reports whether the run must pause before node id.
func (c *Control) shouldStop(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pause || c.breakpoints[id] {
		// Paused from now: the EventPaused the run emits next may
		// reach an observer that edits a variable before wait starts.
		c.pause, c.waiting = true, true
		return true
	}
	return false
}

// afterStep turns a single step back into a pause.
func (c *Control) afterStep() {
	c.mu.Lock()
	if c.step {
		c.step, c.pause = false, true
	}
	c.mu.Unlock()
}

// SetVar changes variable name of the paused run to value (a JSON-like
// value: string, float64, bool, nil, []any, map[string]any). The run
// applies it on its own goroutine before it goes on, and reports the
// variables in an EventVars event. It returns ErrNotPaused when the run
// is not paused, and an error for a name that is not a variable name.
func (c *Control) SetVar(name string, value any) error {
	if !validIdent(name) {
		return fmt.Errorf("%q is not a valid variable name", name)
	}
	c.mu.Lock()
	if !c.waiting {
		c.mu.Unlock()
		return ErrNotPaused
	}
	c.edits = append(c.edits, varEdit{name, value})
	c.mu.Unlock()
	c.poke()
	return nil
}

// wait blocks while paused or until ctx ends; apply gets the variable
// changes asked for meanwhile (on the run's goroutine).
func (c *Control) wait(ctx context.Context, apply func([]varEdit)) error {
	c.mu.Lock()
	c.waiting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.waiting = false
		edits := c.edits
		c.edits = nil
		c.mu.Unlock()
		if len(edits) > 0 && apply != nil {
			apply(edits) // asked for just as the run went on
		}
	}()
	for {
		c.mu.Lock()
		p := c.pause
		edits := c.edits
		c.edits = nil
		c.mu.Unlock()
		if len(edits) > 0 && apply != nil {
			apply(edits)
		}
		if !p {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-c.wake:
		}
	}
}
