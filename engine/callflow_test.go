package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
)

func writeFile(t *testing.T, dir, name, doc string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const factorialFlow = `{"format":"deskbot.flow","version":1,"name":"factorial",
 "variables":[{"name":"n","type":"number","default":1,"input":true},{"name":"r","type":"number","output":true},{"name":"sub","type":"number"}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"small","type":"control.if","params":{"condition":"n <= 1"}},
  {"id":"one","type":"control.set_variable","params":{"variable":"r","value":"1"}},
  {"id":"rec","type":"control.call_flow","params":{"flow":"fact.json","inputs":{"n":"n - 1"},"outputs":{"sub":"r"}}},
  {"id":"mul","type":"control.set_variable","params":{"variable":"r","value":"n * sub"}},
  {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"small"},{"from":"small","port":"true","to":"one"},{"from":"one","port":"next","to":"end"},
  {"from":"small","port":"false","to":"rec"},{"from":"rec","port":"next","to":"mul"},{"from":"mul","port":"next","to":"end"}]}`

// A flow that calls itself with a stop condition works.
func TestCallFlowRecursionWithStop(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "fact.json", factorialFlow)
	f, err := engine.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		t.Fatalf("lint: %v", ps)
	}
	res, err := engine.Run(context.Background(), f, engine.Options{BaseDir: dir, Path: p, Inputs: map[string]any{"n": 10.0}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["r"] != 3628800.0 {
		t.Errorf("10! = %v, want 3628800", res.Vars["r"])
	}
}

const selfCall = `{"format":"deskbot.flow","version":1,"name":"%s",
 "nodes":[{"id":"start","type":"control.start"},{"id":"call","type":"control.call_flow","params":{"flow":"%s"}}],
 "edges":[{"from":"start","port":"next","to":"call"}]}`

func flowDoc(name, calls string) string {
	return strings.Replace(strings.Replace(selfCall, "%s", name, 1), "%s", calls, 1)
}

// call_flow calling itself, or a.json → b.json → a.json, overflowed the
// stack on run, lint and opening in the studio (which lints).
func TestCallFlowEndlessRecursion(t *testing.T) {
	dir := t.TempDir()
	self := writeFile(t, dir, "self.json", flowDoc("self", "self.json"))
	a := writeFile(t, dir, "a.json", flowDoc("a", "b.json"))
	writeFile(t, dir, "b.json", flowDoc("b", "a.json"))
	for _, p := range []string{self, a} {
		f, err := engine.LoadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
			t.Errorf("lint %s: %v", p, ps)
		}
		if _, err := engine.Prepare(f, nil, dir); err != nil {
			t.Errorf("prepare %s: %v", p, err)
		}
		res, err := engine.Run(context.Background(), f, engine.Options{BaseDir: dir, Path: p})
		var de *engine.CallDepthError
		if !errors.As(err, &de) || res.Status != engine.StatusFailed {
			t.Fatalf("%s: want a call depth error, got %v", p, err)
		}
		if len(de.Chain) != engine.MaxCallDepth+2 { // the top flow, 100 calls and the refused one
			t.Errorf("chain of %d files, want %d", len(de.Chain), engine.MaxCallDepth+2)
		}
		msg := err.Error()
		want := "self.json → self.json → self.json"
		if p == a {
			want = "a.json → b.json → a.json → b.json"
		}
		if !strings.Contains(msg, want) || !strings.Contains(msg, "100 deep") || len(msg) > 1000 {
			t.Errorf("error does not show the chain briefly: %s", msg)
		}
	}
}

// Each called flow is checked once per lint, and problems in it are
// reported on the calling node.
func TestLintChecksCalledFlows(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad.json", `{"format":"deskbot.flow","version":1,"name":"bad",
 "nodes":[{"id":"start","type":"control.start"},{"id":"x","type":"control.set_variable","params":{"variable":"v","value":"nosuch + 1"}}],
 "edges":[{"from":"start","port":"next","to":"x"}]}`)
	f := engine.NewFlow("caller")
	for _, id := range []string{"c1", "c2"} {
		f.Nodes = append(f.Nodes, &engine.Node{ID: id, Type: "control.call_flow", Params: map[string]any{"flow": "bad.json", "inputs": map[string]any{"zz": "1"}}})
	}
	f.Edges = append(f.Edges, engine.Edge{From: "start", Port: "next", To: "c1"}, engine.Edge{From: "c1", Port: "next", To: "c2"})
	ps := engine.Lint(f, nil, dir)
	var called, inputs int
	for _, p := range ps {
		if p.Field == "flow" && strings.Contains(p.Msg, "nosuch") {
			called++
		}
		if p.Field == "inputs" && strings.Contains(p.Msg, `no variable "zz"`) {
			inputs++
		}
	}
	if called != 1 || inputs != 2 {
		t.Errorf("want the called flow's problem once and the input problem on both nodes, got %v", ps)
	}
}
