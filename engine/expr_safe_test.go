package engine_test

import (
	"context"
	"strings"
	"testing"

	"deskbot/engine"
)

// Division by zero gave +Inf silently; it is an error naming the node.
func TestDivisionByZero(t *testing.T) {
	vars := map[string]any{"x": 7.0, "zero": 0.0, "n": 3.0}
	for src, want := range map[string]any{"x / 2": 3.5, "x % n": 1.0, "7 % 3": 1, "x / n * n": 7.0, "(x / 2) / (n / 3)": 3.5, "-7.5 % 2": -1.5} {
		e, err := engine.CompileExpr(src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := e.Eval(vars)
		if err != nil || got != want {
			t.Errorf("%s = %v (%T), %v; want %v", src, got, got, err, want)
		}
	}
	for src, want := range map[string]string{"x / 0": "division by zero", "x / zero": "division by zero", "1 / (n - 3)": "division by zero",
		"x % zero": "modulo by zero", "7 % 0": "modulo by zero", "[1, 2][x / zero]": "division by zero"} {
		e, err := engine.CompileExpr(src, nil)
		if err != nil {
			if strings.Contains(err.Error(), want) {
				continue // found when compiling constants
			}
			t.Fatalf("%s: %v", src, err)
		}
		if v, err := e.Eval(vars); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), src) {
			t.Errorf("%s: got %v, %v; want an error %q naming the expression", src, v, err, want)
		}
	}
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"div",
 "variables":[{"name":"total","type":"number","default":10},{"name":"rows","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},{"id":"avg","type":"control.set_variable","label":"Average","params":{"variable":"a","value":"total / rows"}}],
 "edges":[{"from":"start","port":"next","to":"avg"}]}`)
	res, err := engine.Run(context.Background(), f, engine.Options{})
	if err == nil || !strings.Contains(err.Error(), `node "avg"`) || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("want a division by zero naming the node, got %v (a = %v)", err, res.Vars["a"])
	}
}
