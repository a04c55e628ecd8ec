package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"deskbot/engine"
)

// A paused run takes variable edits: the edit is reported in a Vars event
// and the run goes on with the new value.
func TestSetVarWhilePaused(t *testing.T) {
	f := mustParse(t, counting)
	ctl := engine.NewControl()
	if err := ctl.SetVar("i", 5.0); !errors.Is(err, engine.ErrNotPaused) {
		t.Fatalf("SetVar before the run: %v, want ErrNotPaused", err)
	}
	ctl.SetBreakpoint("more", true)
	events := make(chan engine.Event, 100)
	obs := engine.ObserverFunc(func(e engine.Event) { events <- e })
	done := make(chan *engine.Result, 1)
	go func() {
		res, _ := engine.Run(context.Background(), f, engine.Options{Observer: obs, Control: ctl})
		done <- res
	}()
	next := func(kind engine.EventKind) engine.Event {
		t.Helper()
		for {
			select {
			case e := <-events:
				if e.Kind == kind {
					return e
				}
			case <-time.After(patience):
				t.Fatalf("no %s event within %v", kind, patience)
			}
		}
	}
	if p := next(engine.EventPaused); p.NodeID != "more" || p.Vars["i"] != 1.0 {
		t.Fatalf("paused at %s with i=%v", p.NodeID, p.Vars["i"])
	}
	if err := ctl.SetVar("1x", 1.0); err == nil {
		t.Error("SetVar accepted a bad name")
	}
	if err := ctl.SetVar("i", 10.0); err != nil {
		t.Fatal(err)
	}
	if err := ctl.SetVar("note", map[string]any{"a": []any{1.0}}); err != nil {
		t.Fatal(err)
	}
	// both edits are applied while still paused and reported
	for {
		e := next(engine.EventVars)
		if e.Vars["i"] == 10.0 && e.Vars["note"] != nil {
			break
		}
	}
	ctl.SetBreakpoint("more", false)
	ctl.Resume()
	res := <-done
	// i = 10 is not < 3: the loop ends at once, i stays 10
	if res.Status != engine.StatusOK || res.Vars["i"] != 10.0 || res.Vars["note"] == nil {
		t.Fatalf("status %s, vars %v", res.Status, res.Vars)
	}
	if err := ctl.SetVar("i", 1.0); !errors.Is(err, engine.ErrNotPaused) {
		t.Fatalf("SetVar after the run: %v", err)
	}
}

// An observer may edit a variable as soon as it hears that the run paused
// (the event comes before the run starts waiting): the edit is taken.
func TestSetVarFromPausedEvent(t *testing.T) {
	f := mustParse(t, counting)
	ctl := engine.NewControl()
	ctl.SetBreakpoint("more", true)
	errs := make(chan error, 1)
	obs := engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.EventPaused {
			errs <- ctl.SetVar("note", "set at the pause")
			ctl.SetBreakpoint("more", false)
			ctl.Resume()
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		engine.Run(context.Background(), f, engine.Options{Observer: obs, Control: ctl})
	}()
	select {
	case err := <-errs:
		if err != nil {
			t.Fatalf("SetVar from the paused event: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("no pause")
	}
	<-done
}
