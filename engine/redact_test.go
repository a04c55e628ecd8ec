package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"deskbot/engine"
	"deskbot/engine/redact"
)

var errLeakSentinel = errors.New("sentinel")

// leakRegistry is Default's activities plus test.leak, which logs, outputs,
// stores in a variable and fails with its "secret" param, as an API error
// that echoes a key would.
func leakRegistry(t *testing.T) *engine.Registry {
	reg := engine.NewRegistry()
	for _, s := range engine.Default.Specs() {
		reg.MustRegister(*s)
	}
	reg.MustRegister(engine.Spec{Type: "test.leak", Title: "Leak", Category: "Test", Summary: "leaks",
		Fields: []engine.Field{{Name: "secret", Kind: engine.KindText}},
		New: func(p *engine.Params) (engine.Activity, error) {
			return leak{p.Template("secret")}, nil
		}})
	return reg
}

type leak struct{ secret *engine.Template }

func (a leak) Run(ctx context.Context, c *engine.Call) (string, error) {
	s, err := c.Text(a.secret)
	if err != nil {
		return "", err
	}
	c.Log("error", "server said: Incorrect API key provided: "+s)
	c.Output("body", map[string]any{"error": map[string]any{"message": "key " + s}})
	c.Set("echo", []any{"ok", "Authorization: Bearer " + s})
	return "", fmt.Errorf("HTTP 401: {\"key\": %q}: %w", s, errLeakSentinel)
}

// A step whose error, log, outputs and variables carry an API key: no
// observer sees the key, nor the run's error, and errors.Is still works.
func TestRunRedactsSecrets(t *testing.T) {
	const known = "sk-known-profile-key-0001"
	redact.Add(known)
	const flow = `{"format":"deskbot.flow","version":1,"name":"leaky",
	 "variables":[{"name":"echo","type":"any"},{"name":"big","type":"list"}],
	 "nodes":[{"id":"start","type":"control.start"},
	  {"id":"first","type":"test.leak","params":{"secret":"` + known + `"},"error_var":"caught"},
	  {"id":"second","type":"test.leak","params":{"secret":"sk-unregistered-0123456789"}}],
	 "edges":[{"from":"start","port":"next","to":"first"},{"from":"first","port":"error","to":"second"}]}`
	f := mustParse(t, flow)
	rec := &engine.Recorder{}
	res, err := engine.Run(context.Background(), f, engine.Options{Registry: leakRegistry(t), Observer: rec})
	if err == nil || !errors.Is(err, errLeakSentinel) || !errors.Is(res.Err, errLeakSentinel) {
		t.Fatalf("run error %v", err)
	}
	var se *engine.StepError
	if !errors.As(err, &se) || se.NodeID != "second" {
		t.Errorf("errors.As StepError: %v", err)
	}
	all := fmt.Sprintf("%v\n%v\n", err, res.Err)
	masked := 0
	for _, e := range rec.Events() {
		all += fmt.Sprintf("%+v\n", e)
		if e.Kind == engine.EventStepFinished && e.Inputs["secret"] != nil {
			if s, _ := e.Inputs["secret"].(string); !strings.Contains(s, redact.Mask) {
				t.Errorf("step %s: input secret %q not masked", e.NodeID, s)
			}
			masked++
		}
	}
	if masked != 2 {
		t.Errorf("%d steps recorded the secret input, want 2", masked)
	}
	for _, s := range []string{known, "sk-unregistered-0123456789"} {
		if strings.Contains(all, s) {
			t.Errorf("%q reached an observer or the result:\n%s", s, all)
		}
	}
	if !strings.Contains(all, redact.Mask) || !strings.Contains(all, `node "second"`) {
		t.Errorf("the redacted text should still say what happened:\n%s", all)
	}
	// The run's own variables keep the real values: only what is shown or
	// stored is masked.
	if fmt.Sprint(res.Vars["caught"]) == "" || !strings.Contains(fmt.Sprint(res.Vars["echo"]), "sk-unregistered-0123456789") {
		t.Errorf("the run's variables were changed: %v", res.Vars)
	}
}
