package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"deskbot/engine"
)

var stubbornDone atomic.Int32

func init() {
	// test.stubborn ignores its context: it keeps writing to the run for
	// 300ms, like an activity stuck in a call that does not take a context.
	engine.Register(engine.Spec{
		Type: "test.stubborn", Title: "Stubborn (tests only)", Category: "Test",
		New: func(p *engine.Params) (engine.Activity, error) {
			rounds := 0 // the activity's own state, like an Expr's VM
			return engine.ActivityFunc(func(ctx context.Context, c *engine.Call) (string, error) {
				c.Waiting("the stubborn thing to finish")
				deadline := time.Now().Add(300 * time.Millisecond)
				for i := 0; time.Now().Before(deadline); i++ {
					rounds++
					c.Set("x", float64(i))
					c.Set("y"+string(rune('a'+i%26)), float64(i))
					_ = c.Vars()["x"]
					c.Log("info", "still here")
					c.Output("i", i)
					c.SetState(i)
					_ = c.State()
					c.OnRunEnd(func() {})
				}
				stubbornDone.Add(1)
				return "", nil
			}), nil
		},
	})
}

// A node timeout while its activity keeps running: the activity must never
// touch the run afterwards (this crashed with "concurrent map writes").
func TestTimedOutActivityIsDetached(t *testing.T) {
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"detach",
 "variables":[{"name":"n","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"stuck","type":"test.stubborn","label":"Stuck thing","timeout":"20ms"},
  {"id":"loop","type":"control.while","params":{"condition":"n < 3000","max_iterations":1000000}},
  {"id":"inc","type":"control.set_variable","params":{"variable":"n","value":"n + 1"}},
  {"id":"z","type":"control.set_variable","params":{"variable":"z","value":"n"}},
  {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"stuck"},{"from":"stuck","port":"error","to":"loop"},
  {"from":"loop","port":"loop","to":"inc"},{"from":"inc","port":"next","to":"z"},{"from":"z","port":"next","to":"loop"},
  {"from":"loop","port":"done","to":"end"}]}`)
	before := stubbornDone.Load()
	var rec engine.Recorder
	res, err := engine.Run(context.Background(), f, engine.Options{Observer: &rec})
	if err != nil {
		t.Fatal(err)
	}
	x := res.Vars["x"]
	for stubbornDone.Load() == before {
		time.Sleep(10 * time.Millisecond)
	}
	if res.Vars["x"] != x {
		t.Errorf("the timed-out activity went on writing x into the run: %v, then %v", x, res.Vars["x"])
	}
	for _, e := range rec.Events() {
		if e.Kind == engine.EventLog && e.Seq > 2 && e.Message == "still here" {
			t.Fatalf("the timed-out activity logged into step %d", e.Seq)
		}
	}
	msg, _ := res.Vars["last_error"].(string)
	for _, want := range []string{"timed out after 20ms", "Stuck thing", "stuck", "the stubborn thing to finish"} {
		if !strings.Contains(msg, want) {
			t.Errorf("timeout message %q does not contain %q", msg, want)
		}
	}
}

// process.run under a short node timeout wrote its stdout, stderr and exit
// code into the run after the timeout: "fatal error: concurrent map writes".
func TestProcessRunNodeTimeout(t *testing.T) {
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"proc",
 "variables":[{"name":"n","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"p","type":"process.run","label":"Slow program","timeout":"30ms","params":{"program":"sleep","args":["0.5"]}},
  {"id":"loop","type":"control.while","params":{"condition":"n < 3000","max_iterations":1000000}},
  {"id":"inc","type":"control.set_variable","params":{"variable":"n","value":"n + 1"}},
  {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"p"},{"from":"p","port":"error","to":"loop"},
  {"from":"loop","port":"loop","to":"inc"},{"from":"inc","port":"next","to":"loop"},{"from":"loop","port":"done","to":"end"}]}`)
	res, err := engine.Run(context.Background(), f, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Vars["stdout"]; ok {
		t.Errorf("the timed-out process.run wrote stdout into the run")
	}
	msg, _ := res.Vars["last_error"].(string)
	if !strings.Contains(msg, `"Slow program" (p)`) || !strings.Contains(msg, "the program sleep 0.5 to exit") {
		t.Errorf("timeout message: %q", msg)
	}
}

// A timeout of 1e13 ms overflowed into a negative duration.
func TestDurationRange(t *testing.T) {
	doc := func(field string) string {
		return `{"format":"deskbot.flow","version":1,"name":"d","settings":{},"nodes":[{"id":"start","type":"control.start"},
 {"id":"w","type":"control.wait","params":{"duration":"1ms"},` + field + `}],"edges":[{"from":"start","port":"next","to":"w"}]}`
	}
	for field, want := range map[string]string{
		`"timeout":1e13`:             `node "w", field "timeout": duration 1e13 ms is out of range`,
		`"timeout":"-2s"`:            `node "w", field "timeout": negative duration`,
		`"timeout":"99999999h"`:      `node "w", field "timeout": bad or out-of-range duration`,
		`"retry":{"interval":1e300}`: `node "w", field "retry.interval": duration 1e300 ms is out of range`,
		`"params":{"duration":1e13}`: `node "w", field "duration"`,
	} {
		f, err := engine.Parse([]byte(strings.Replace(doc(field), `"params":{"duration":"1ms"},"params"`, `"params"`, 1)))
		if err == nil {
			ps := engine.Lint(f, nil, "")
			if len(ps) == 0 {
				t.Errorf("%s: loads and lints", field)
				continue
			}
			err = fmt.Errorf("%s", ps[0])
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", field, err, want)
		}
	}
	f, err := engine.Parse([]byte(doc(`"timeout":1e12`)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.Marshal()
	if _, err := engine.Parse(b); err != nil {
		t.Errorf("round trip: %v\n%s", err, b)
	}
	f.Node("w").Timeout = -1
	if ps := engine.Lint(f, nil, ""); !engine.HasErrors(ps) || ps[0].Field != "timeout" {
		t.Errorf("lint of a negative timeout: %v", ps)
	}
}

// A retry after a timeout does not run the activity while its timed-out
// attempt is still running (activities are not safe for concurrent use): it
// waits for that attempt to return.
func TestRetryAfterTimeoutWaitsForTheOldAttempt(t *testing.T) {
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"retry",
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"stuck","type":"test.stubborn","timeout":"20ms","retry":{"count":2}},
  {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"stuck"},{"from":"stuck","port":"error","to":"end"}]}`)
	before := stubbornDone.Load()
	res, err := engine.Run(context.Background(), f, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Three attempts; the first two had returned before the next began.
	if n := stubbornDone.Load() - before; n < 2 {
		t.Errorf("%d attempts had returned when the run ended, want at least 2", n)
	}
	if msg, _ := res.Vars["last_error"].(string); !strings.Contains(msg, "timed out") {
		t.Errorf("last_error %q", msg)
	}
	for stubbornDone.Load()-before < 3 {
		time.Sleep(10 * time.Millisecond)
	}
}
