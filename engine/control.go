package engine

import (
	"context"
	"sync"
)

// Control drives a run interactively: pause, resume, single step and
// breakpoints. The studio's debugger holds one; nil means run freely.
// All methods are safe to call from any goroutine.
type Control struct {
	mu          sync.Mutex
	pause       bool
	step        bool
	breakpoints map[string]bool
	wake        chan struct{}
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
		c.pause = true
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

// wait blocks while paused or until ctx ends.
func (c *Control) wait(ctx context.Context) error {
	for {
		c.mu.Lock()
		p := c.pause
		c.mu.Unlock()
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
