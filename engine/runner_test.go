package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
)

// mustParse builds a flow from JSON for tests.
func mustParse(t testing.TB, doc string) *engine.Flow {
	t.Helper()
	f, err := engine.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const longWait = `{"format":"deskbot.flow","version":1,"name":"long wait",
 "nodes":[{"id":"start","type":"control.start"},{"id":"wait","type":"control.wait","params":{"duration":"1h"}}],
 "edges":[{"from":"start","port":"next","to":"wait"}]}`

// patience bounds how long a test waits for something that should happen
// at once, only so that a broken build fails instead of hanging. It is no
// speed check (speed is in benchmarks): a loaded CI machine running the
// race detector must never reach it.
const patience = 60 * time.Second

// stopInsideLongWait starts longWait, cancels it once the wait node has
// started, and returns the result and the time from cancel to Run's return.
func stopInsideLongWait(t testing.TB, f *engine.Flow) (*engine.Result, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	started := make(chan struct{})
	obs := engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.EventStepStarted && e.NodeID == "wait" {
			close(started)
		}
	})
	done := make(chan *engine.Result, 1)
	go func() {
		res, _ := engine.Run(ctx, f, engine.Options{Observer: obs})
		done <- res
	}()
	select {
	case <-started:
	case <-time.After(patience):
		t.Fatalf("the wait node did not start within %v", patience)
	}
	t0 := time.Now()
	cancel(engine.ErrStoppedByUser)
	select {
	case res := <-done:
		return res, time.Since(t0)
	case <-time.After(patience):
		t.Fatalf("the run did not stop within %v of cancel", patience)
	}
	return nil, 0
}

// TestCancelInsideLongWait: cancel stops a run inside a one-hour wait, as
// stopped, naming the node. How fast is BenchmarkCancelInsideLongWait.
func TestCancelInsideLongWait(t *testing.T) {
	f := mustParse(t, longWait)
	res, took := stopInsideLongWait(t, f)
	t.Logf("stop latency inside a wait: %v", took)
	if res.Status != engine.StatusStopped || !errors.Is(res.Err, engine.ErrStoppedByUser) {
		t.Errorf("status %q err %v", res.Status, res.Err)
	}
	var se *engine.StepError
	if !errors.As(res.Err, &se) || se.NodeID != "wait" {
		t.Errorf("error does not name the node: %v", res.Err)
	}
}

const counting = `{"format":"deskbot.flow","version":1,"name":"count",
 "variables":[{"name":"i","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"more","type":"control.if","params":{"condition":"i < 3"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"inc"},{"from":"inc","port":"next","to":"more"},
   {"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"end"}]}`

func TestPauseStepBreakpoint(t *testing.T) {
	f := mustParse(t, counting)
	ctl := engine.NewControl()
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
	p := next(engine.EventPaused)
	if p.NodeID != "more" || p.Vars["i"] != 1.0 {
		t.Fatalf("paused at %s with i=%v, want more with i=1", p.NodeID, p.Vars["i"])
	}
	// Single step: runs "more", then pauses before "inc".
	ctl.Step()
	next(engine.EventResumed)
	if e := next(engine.EventStepFinished); e.NodeID != "more" || e.Port != "true" {
		t.Fatalf("stepped %s -> %s", e.NodeID, e.Port)
	}
	if p := next(engine.EventPaused); p.NodeID != "inc" {
		t.Fatalf("after step paused at %s, want inc", p.NodeID)
	}
	ctl.SetBreakpoint("more", false)
	ctl.Resume()
	res := <-done
	if res.Status != engine.StatusOK || res.Vars["i"] != 3.0 {
		t.Fatalf("status %s, i=%v", res.Status, res.Vars["i"])
	}
	// Pause from outside while running, then stop while paused.
	ctl2 := engine.NewControl()
	ctl2.Pause()
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		res, _ := engine.Run(ctx, f, engine.Options{Observer: obs, Control: ctl2})
		done <- res
	}()
	if p := next(engine.EventPaused); p.NodeID != "start" {
		t.Fatalf("paused at %s", p.NodeID)
	}
	cancel(engine.ErrStoppedByUser)
	if res := <-done; res.Status != engine.StatusStopped {
		t.Fatalf("stop while paused: %s", res.Status)
	}
}

func TestEventsAndSnapshots(t *testing.T) {
	f := mustParse(t, counting)
	var rec engine.Recorder
	res, err := engine.Run(context.Background(), f, engine.Options{Observer: &rec, RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	evs := rec.Events()
	if evs[0].Kind != engine.EventRunStarted || evs[len(evs)-1].Kind != engine.EventRunFinished {
		t.Fatalf("run events missing")
	}
	var order []string
	snaps := 0
	for _, e := range evs {
		if e.RunID != "r1" {
			t.Fatalf("event without run id: %+v", e)
		}
		if e.Kind == engine.EventStepStarted {
			order = append(order, e.NodeID)
		}
		if e.Kind == engine.EventStepFinished && e.Vars != nil {
			snaps++
		}
	}
	if got := strings.Join(order, " "); got != "start inc more inc more inc more end" {
		t.Errorf("order %q", got)
	}
	// Variables change at the three "inc" steps and once at the start.
	if snaps != 4 {
		t.Errorf("%d snapshots, want 4 (only when variables changed)", snaps)
	}
	if res.Steps != 8 {
		t.Errorf("steps %d", res.Steps)
	}
}

func TestInputsAndErrors(t *testing.T) {
	f := mustParse(t, counting)
	if _, err := engine.Run(context.Background(), f, engine.Options{Inputs: map[string]any{"nope": "1"}}); err == nil || !strings.Contains(err.Error(), `no variable "nope"`) {
		t.Errorf("unknown input: %v", err)
	}
	if _, err := engine.Run(context.Background(), f, engine.Options{Inputs: map[string]any{"i": "x"}}); err == nil || !strings.Contains(err.Error(), `"i"`) {
		t.Errorf("bad input: %v", err)
	}
	res, err := engine.Run(context.Background(), f, engine.Options{Inputs: map[string]any{"i": "10"}})
	if err != nil || res.Vars["i"] != 11.0 {
		t.Errorf("input 10 gave %v, %v", res.Vars["i"], err)
	}
	// A runaway loop is stopped by MaxSteps with the node named.
	loop := mustParse(t, strings.Replace(counting, `"i < 3"`, `"true"`, 1))
	_, err = engine.Run(context.Background(), loop, engine.Options{MaxSteps: 50})
	if err == nil || !strings.Contains(err.Error(), "more than 50 steps") {
		t.Errorf("runaway: %v", err)
	}
}

func TestForEachReentry(t *testing.T) {
	// The loop body leaves the loop early (break) through an if; entering
	// the loop again from outside starts over.
	doc := `{"format":"deskbot.flow","version":1,"name":"reenter",
 "variables":[{"name":"seen","type":"string","default":""},{"name":"rounds","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"r","type":"control.set_variable","params":{"variable":"rounds","value":"rounds + 1"}},
   {"id":"each","type":"control.for_each","params":{"items":"[1,2,3]"}},
   {"id":"add","type":"control.set_variable","params":{"variable":"seen","value":"seen + string(item)"}},
   {"id":"brk","type":"control.if","params":{"condition":"item == 2"}},
   {"id":"again","type":"control.if","params":{"condition":"rounds < 2"}}],
 "edges":[{"from":"start","port":"next","to":"r"},{"from":"r","port":"next","to":"each"},
   {"from":"each","port":"each","to":"add"},{"from":"add","port":"next","to":"brk"},
   {"from":"brk","port":"false","to":"each"},{"from":"brk","port":"true","to":"again"},
   {"from":"again","port":"true","to":"r"}]}`
	res, err := engine.Run(context.Background(), mustParse(t, doc), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["seen"] != "1212" {
		t.Errorf("seen %q, want 1212", res.Vars["seen"])
	}
}

// A run's error names the failing node by id, label and type.
func TestStepErrorNamesLabel(t *testing.T) {
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"label",
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"boom","type":"control.fail","label":"Stop here","params":{"message":"no customers"}}],
 "edges":[{"from":"start","port":"next","to":"boom"}]}`)
	_, err := engine.Run(context.Background(), f, engine.Options{})
	if err == nil || !strings.Contains(err.Error(), `"Stop here" (node "boom", control.fail): no customers`) {
		t.Fatalf("error = %v", err)
	}
}
