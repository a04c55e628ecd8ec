package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
)

// FuzzParse feeds arbitrary bytes to the flow loader: it must return a flow
// or an error, never panic, and a flow it accepts must save and load again
// to the same document.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("testdata/golden/*/flow.json")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{"steps":[{"id":"a","type":"control.start"}],"links":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := engine.Parse(b)
		if err != nil {
			return
		}
		out, err := fl.Marshal()
		if err != nil {
			t.Fatalf("accepted flow does not marshal: %v", err)
		}
		again, err := engine.Parse(out)
		if err != nil {
			t.Fatalf("saved flow does not load: %v\n%s", err, out)
		}
		out2, _ := again.Marshal()
		if string(out) != string(out2) {
			t.Fatalf("save is not stable:\n%s\n%s", out, out2)
		}
		engine.Lint(fl, nil, "") // must not panic
	})
}

// FuzzExpr compiles and evaluates arbitrary expressions and templates over a
// few variables: errors are fine, panics and hangs are not.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{"1 + 2", "n * 2 > 3", `upper(name) + "!"`, "items[0]", `map(items, # * 2)`,
		"let x = n; x + 1", `{{ n }} and {{ name }}`, "len(items) == 3 ? 'a' : 'b'", "m.k"} {
		f.Add(s)
	}
	// Missing fields, defaults, unknown functions, and nesting past the
	// limit (a million deep overflowed the parser's stack).
	for _, s := range []string{`m.z`, `m.z ?? "d"`, `m?.z.y`, `m["z"]`, `base(name)`, `{{ m.k.z ?? n }}`,
		strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000), strings.Repeat("!", 5000) + "true",
		strings.Repeat("-", 150) + "1", strings.Repeat("[", 150) + "]"} {
		f.Add(s)
	}
	known := map[string]bool{"n": true, "name": true, "items": true, "m": true}
	vars := map[string]any{"n": 3.0, "name": "Ann", "items": []any{1.0, 2.0, 3.0}, "m": map[string]any{"k": "v"}}
	f.Fuzz(func(t *testing.T, src string) {
		// Keep runs short: repeat(...) and friends can allocate a lot, so
		// long sources are only compiled.
		eval := len(src) <= 200
		done := make(chan struct{})
		go func() {
			defer close(done)
			if e, err := engine.CompileExpr(src, known); err == nil && eval {
				e.Eval(vars)
			}
			if tpl, err := engine.CompileTemplate(src, known); err == nil && eval {
				tpl.String(vars)
			}
		}()
		select {
		case <-done:
		case <-time.After(patience):
			t.Fatalf("expression %q hangs (no result in %v)", src, patience)
		}
	})
}

// FuzzRun runs small generated flows: whatever the params, a run ends with
// a status and never panics.
func FuzzRun(f *testing.F) {
	f.Add("i + 1", "i < 3", "x")
	f.Add("1/0", "nil", "")
	f.Fuzz(func(t *testing.T, value, cond, msg string) {
		fl := engine.NewFlow("fuzz")
		fl.Variables = []engine.Variable{{Name: "i", Type: engine.TypeAny, Default: 0.0}}
		fl.Nodes = append(fl.Nodes,
			&engine.Node{ID: "set", Type: "control.set_variable", Params: map[string]any{"variable": "i", "value": value}},
			&engine.Node{ID: "if", Type: "control.if", Params: map[string]any{"condition": cond}},
			&engine.Node{ID: "log", Type: "control.log", Params: map[string]any{"message": msg}})
		fl.Edges = []engine.Edge{{From: "start", Port: "next", To: "set"}, {From: "set", Port: "next", To: "if"},
			{From: "if", Port: "true", To: "set"}, {From: "if", Port: "false", To: "log"}}
		res, _ := engine.Run(context.Background(), fl, engine.Options{MaxSteps: 1000})
		if res == nil || res.Status == "" {
			t.Fatal("run without a status")
		}
	})
}
