package engine_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
)

// inputsRegistry is Default's activities plus test.inputs, which evaluates
// each kind of field through its Call.
func inputsRegistry() *engine.Registry {
	reg := engine.NewRegistry()
	for _, s := range engine.Default.Specs() {
		reg.MustRegister(*s)
	}
	reg.MustRegister(engine.Spec{Type: "test.inputs", Title: "Inputs", Category: "Test", Summary: "evaluates fields",
		Fields: []engine.Field{
			{Name: "path", Kind: engine.KindPath},
			{Name: "text", Kind: engine.KindMulti},
			{Name: "value", Kind: engine.KindExpr},
			{Name: "args", Kind: engine.KindList},
			{Name: "set", Kind: engine.KindMap},
		},
		New: func(p *engine.Params) (engine.Activity, error) {
			a := &inputsAct{path: p.Template("path"), text: p.Template("text"), value: p.Expr("value"),
				args: p.List("args"), set: p.Map("set")}
			return a, nil
		}})
	return reg
}

type inputsAct struct {
	path, text *engine.Template
	value      *engine.Expr
	args       []*engine.Template
	set        []engine.NamedExpr
}

func (a *inputsAct) Run(ctx context.Context, c *engine.Call) (string, error) {
	if _, err := c.Path(a.path); err != nil {
		return "", err
	}
	if _, err := c.Text(a.text); err != nil {
		return "", err
	}
	if _, err := c.Eval(a.value); err != nil {
		return "", err
	}
	for _, t := range a.args {
		if _, err := c.Value(t); err != nil {
			return "", err
		}
	}
	for _, ne := range a.set {
		if _, err := c.Eval(ne.Expr); err != nil {
			return "", err
		}
	}
	return "", nil
}

const inputsFlow = `{"format":"deskbot.flow","version":1,"name":"inputs",
 "variables":[{"name":"row","type":"map","default":{"name":"Ada","n":3}}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"work","type":"test.inputs","label":"Write letter","params":{"path":"out/{{ row.name }}.txt",
   "text":"Dear {{ row.name }},","value":"row.n * 2","args":["{{ row.n }}","x-{{ row.name }}"],"set":{"b":"row.n > 1","a":"row.name"}}},
  {"id":"check","type":"control.if","params":{"condition":"row.n > 2"}},
  {"id":"boom","type":"control.fail","params":{"message":"no letter for {{ row.name }}"}}],
 "edges":[{"from":"start","port":"next","to":"work"},{"from":"work","port":"next","to":"check"},
  {"from":"check","port":"true","to":"boom"}]}`

// stepInputs runs the inputs flow and returns each finished step's inputs
// by node id.
func stepInputs(t *testing.T, obs engine.Observer, rec *engine.Recorder) map[string]map[string]any {
	return stepInputsOf(t, inputsFlow, obs, rec)
}

func stepInputsOf(t *testing.T, doc string, obs engine.Observer, rec *engine.Recorder) map[string]map[string]any {
	t.Helper()
	f := mustParse(t, doc)
	dir := t.TempDir()
	res, _ := engine.Run(context.Background(), f, engine.Options{Registry: inputsRegistry(), Observer: obs, BaseDir: dir})
	if res.Status != engine.StatusFailed || !strings.Contains(res.Err.Error(), "no letter for Ada") {
		t.Fatalf("run: %s %v", res.Status, res.Err)
	}
	got := map[string]map[string]any{}
	for _, e := range rec.Events() {
		if e.Kind == engine.EventStepFinished {
			got[e.NodeID] = e.Inputs
		}
	}
	return got
}

// A step's inputs are the values its fields had, under the fields' names:
// a path (resolved), a template, an expression, list items, map entries, a
// condition, and a failing step's message.
func TestStepInputsRecorded(t *testing.T) {
	t.Run("plain", func(t *testing.T) { checkStepInputs(t, inputsFlow) })
	// Under a timeout the activity runs on its own goroutine, with a Call
	// of its own: its inputs are the step's all the same.
	t.Run("timeout", func(t *testing.T) {
		checkStepInputs(t, strings.Replace(inputsFlow, `"label":"Write letter",`, `"label":"Write letter","timeout":"1m",`, 1))
	})
}

func checkStepInputs(t *testing.T, doc string) {
	rec := &engine.Recorder{}
	got := stepInputsOf(t, doc, rec, rec)
	work := got["work"]
	if p, _ := work["path"].(string); !filepath.IsAbs(p) || !strings.HasSuffix(p, filepath.Join("out", "Ada.txt")) {
		t.Errorf("path input %v, want the resolved path", work["path"])
	}
	want := map[string]any{"text": "Dear Ada,", "value": 6.0, "args[0]": 3.0, "args[1]": "x-Ada", "set.a": "Ada", "set.b": true}
	for k, v := range want {
		if work[k] != v {
			t.Errorf("input %s = %#v, want %#v (all: %v)", k, work[k], v, work)
		}
	}
	if len(work) != len(want)+1 {
		t.Errorf("inputs %v, want %d", work, len(want)+1)
	}
	if got["check"]["condition"] != true {
		t.Errorf("if's inputs %v, want condition true", got["check"])
	}
	if got["boom"]["message"] != "no letter for Ada" {
		t.Errorf("failing step's inputs %v", got["boom"])
	}
	if got["start"] != nil {
		t.Errorf("start evaluates nothing, got inputs %v", got["start"])
	}
}

// noInputs is an observer whose history keeps no inputs.
type noInputs struct{ *engine.Recorder }

func (noInputs) WantsInputs() bool { return false }

// An observer that does not want inputs gets none.
func TestStepInputsNotWanted(t *testing.T) {
	rec := &engine.Recorder{}
	for id, in := range stepInputs(t, noInputs{rec}, rec) {
		if in != nil {
			t.Errorf("step %s has inputs %v though the observer wants none", id, in)
		}
	}
	// In a fan-out, one observer that wants them is enough.
	rec2 := &engine.Recorder{}
	if got := stepInputs(t, engine.Observers{noInputs{&engine.Recorder{}}, rec2}, rec2); got["check"]["condition"] != true {
		t.Errorf("fan-out: %v", got)
	}
}

// An unobserved run records no inputs: no map is made.
func TestStepInputsUnobserved(t *testing.T) {
	reg := inputsRegistry()
	var seen []map[string]any
	reg.MustRegister(engine.Spec{Type: "test.peek", Title: "Peek", Category: "Test", Summary: "peeks",
		Fields: []engine.Field{{Name: "text", Kind: engine.KindText}},
		New: func(p *engine.Params) (engine.Activity, error) {
			tmpl := p.Template("text")
			return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
				if _, err := c.Text(tmpl); err != nil {
					return "", err
				}
				seen = append(seen, c.InputsForTest())
				return "", nil
			}), nil
		}})
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"peek",
	 "nodes":[{"id":"start","type":"control.start"},{"id":"p","type":"test.peek","params":{"text":"{{ run_id }}"}}],
	 "edges":[{"from":"start","port":"next","to":"p"}]}`)
	for _, obs := range []engine.Observer{nil, &engine.Recorder{}} {
		seen = nil
		if _, err := engine.Run(context.Background(), f, engine.Options{Registry: reg, Observer: obs}); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 || (obs == nil) != (seen[0] == nil) {
			t.Errorf("observer %v: inputs %v", obs, seen)
		}
	}
}
