package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"deskbot/engine"
)

// dialogFlow is start -> ask, with the given edges from ask to set_variable
// nodes named after the port ("on_yes" sets took = "yes").
func dialogFlow(typ string, params map[string]any, ports ...string) *engine.Flow {
	f := engine.NewFlow("dialogs")
	f.Variables = []engine.Variable{{Name: "total", Type: engine.TypeNumber, Default: 42.5}, {Name: "took", Type: engine.TypeString}}
	f.Nodes = append(f.Nodes, &engine.Node{ID: "ask", Type: typ, Label: "Ask", Params: params})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "ask"}}
	for _, p := range ports {
		f.Nodes = append(f.Nodes, &engine.Node{ID: "on_" + p, Type: "control.set_variable", Params: map[string]any{"variable": "took", "value": `"` + p + `"`}})
		f.Edges = append(f.Edges, engine.Edge{From: "ask", Port: p, To: "on_" + p})
	}
	return f
}

type runOut struct {
	res *engine.Result
	err error
}

// startDialogRun lints f, then runs it in the background with d answering.
func startDialogRun(t *testing.T, ctx context.Context, f *engine.Flow, d engine.Dialogs, dir string) chan runOut {
	t.Helper()
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		t.Fatalf("lint: %v", ps)
	}
	opts := engine.Options{BaseDir: dir}
	if d != nil {
		engine.UseDialogs(&opts, d)
	}
	done := make(chan runOut, 1)
	go func() {
		res, err := engine.Run(ctx, f, opts)
		done <- runOut{res, err}
	}()
	return done
}

// nextRequest waits for the run to ask; the run must not have ended.
func nextRequest(t *testing.T, d *engine.ScriptedDialogs, done chan runOut) *engine.DialogRequest {
	t.Helper()
	select {
	case r := <-d.Requests:
		return r
	case o := <-done:
		t.Fatalf("the run ended without asking: %v", o.err)
	case <-time.After(patience):
		t.Fatal("no dialog")
	}
	return nil
}

func wait(t *testing.T, done chan runOut) runOut {
	t.Helper()
	select {
	case o := <-done:
		return o
	case <-time.After(patience):
		t.Fatal("the run did not end after the answer")
	}
	return runOut{}
}

// The run pauses on the question until it is answered, and the answer
// picks the port.
func TestDialogConfirmPausesAndTakesPort(t *testing.T) {
	for _, answer := range []bool{true, false} {
		d := engine.NewScriptedDialogs()
		f := dialogFlow("dialog.confirm", map[string]any{"title": "Order", "message": "The total is {{ total }} EUR. Send?", "output": "ok"}, "yes", "no")
		done := startDialogRun(t, context.Background(), f, d, t.TempDir())
		r := nextRequest(t, d, done)
		if r.Kind() != "confirm" || r.Confirm.Text != "The total is 42.5 EUR. Send?" || r.Confirm.Title != "Order" || r.Confirm.Yes != "Yes" || r.Confirm.No != "No" {
			t.Fatalf("asked %+v", r.Confirm)
		}
		// Paused: nothing ends the run while the question is open.
		select {
		case o := <-done:
			t.Fatalf("the run went on without an answer: %v", o.err)
		case <-time.After(50 * time.Millisecond):
		}
		r.Answer(answer)
		o := wait(t, done)
		want := map[bool]string{true: "yes", false: "no"}[answer]
		if o.err != nil || o.res.Vars["took"] != want || o.res.Vars["ok"] != answer {
			t.Fatalf("answer %v: took %v, ok %v, %v", answer, o.res.Vars["took"], o.res.Vars["ok"], o.err)
		}
	}
}

func TestDialogConfirmClosedIsAnError(t *testing.T) {
	d := engine.NewScriptedDialogs()
	done := startDialogRun(t, context.Background(), dialogFlow("dialog.confirm", map[string]any{"message": "Go?"}, "yes", "no"), d, t.TempDir())
	nextRequest(t, d, done).Cancel()
	o := wait(t, done)
	if !errors.Is(o.err, engine.ErrDialogCancelled) || !strings.Contains(o.err.Error(), `"Ask" (node "ask", dialog.confirm)`) || !strings.Contains(o.err.Error(), `question "Go?"`) {
		t.Fatalf("err %v", o.err)
	}
}

func TestDialogMessage(t *testing.T) {
	d := engine.NewScriptedDialogs()
	done := startDialogRun(t, context.Background(), dialogFlow("dialog.message", map[string]any{"message": "Total: {{ total }}", "level": "warning"}, "next"), d, t.TempDir())
	r := nextRequest(t, d, done)
	if r.Kind() != "message" || r.Message.Text != "Total: 42.5" || r.Message.Level != "warning" || r.Message.Title != "Deskbot" {
		t.Fatalf("message %+v", r.Message)
	}
	r.Answer(nil)
	if o := wait(t, done); o.err != nil || o.res.Vars["took"] != "next" {
		t.Fatalf("%v %v", o.res.Vars, o.err)
	}
}

// The form's fields come from the node's params; the answers become
// variables that later nodes use (lint knows them).
func TestDialogInputSetsVariables(t *testing.T) {
	d := engine.NewScriptedDialogs()
	f := dialogFlow("dialog.input", map[string]any{"title": "Order", "message": "Please check", "fields": []any{
		"customer | text | Customer of {{ total }} | Ann",
		"amount | number | Amount | {{ total * 2 }}",
		"pin | password | PIN",
		"size | choice: S, M, L | Size | M",
		"note",
	}}, "next", "cancel")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "use", Type: "control.set_variable", Params: map[string]any{"variable": "twice", "value": "amount * 2"}})
	f.Edges = append(f.Edges, engine.Edge{From: "on_next", Port: "next", To: "use"})
	done := startDialogRun(t, context.Background(), f, d, t.TempDir())
	r := nextRequest(t, d, done)
	want := []engine.FormField{
		{Name: "customer", Label: "Customer of 42.5", Kind: "text", Default: "Ann"},
		{Name: "amount", Label: "Amount", Kind: "number", Default: "85"},
		{Name: "pin", Label: "PIN", Kind: "password"},
		{Name: "size", Label: "Size", Kind: "choice", Default: "M", Options: []string{"S", "M", "L"}},
		{Name: "note", Label: "note", Kind: "text"},
	}
	if r.Kind() != "form" || r.Form.Title != "Order" || r.Form.Text != "Please check" || len(r.Form.Fields) != len(want) {
		t.Fatalf("form %+v", r.Form)
	}
	for i, w := range want {
		g := r.Form.Fields[i]
		if g.Name != w.Name || g.Label != w.Label || g.Kind != w.Kind || g.Default != w.Default || strings.Join(g.Options, ",") != strings.Join(w.Options, ",") {
			t.Errorf("field %d: %+v, want %+v", i, g, w)
		}
	}
	const pin = "pin-73519246"
	r.Answer(map[string]any{"customer": "Bob", "amount": "12.5", "pin": pin, "size": "L", "note": ""})
	o := wait(t, done)
	if o.err != nil {
		t.Fatal(o.err)
	}
	v := o.res.Vars
	if v["customer"] != "Bob" || v["amount"] != 12.5 || v["pin"] != pin || v["size"] != "L" || v["note"] != "" || v["twice"] != 25.0 || v["took"] != "next" {
		t.Fatalf("vars %v", v)
	}
}

// Answers are checked whoever gives them: a number that is not one, a
// choice not offered.
func TestDialogInputChecksAnswers(t *testing.T) {
	for _, c := range []struct {
		answer map[string]any
		want   string
	}{
		{map[string]any{"n": "many", "c": "A"}, `field n: "many" is not a number`},
		{map[string]any{"n": "1", "c": "Z"}, `field c: "Z" is not one of A, B`},
		{map[string]any{"n": "1"}, "no answer for field c"},
		{map[string]any{"n": true, "c": "A"}, "field n: the answer is"},
	} {
		d := engine.NewScriptedDialogs()
		done := startDialogRun(t, context.Background(), dialogFlow("dialog.input", map[string]any{"fields": []any{"n | number", "c | choice: A, B"}}, "next"), d, t.TempDir())
		nextRequest(t, d, done).Answer(c.answer)
		if o := wait(t, done); o.err == nil || !strings.Contains(o.err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.answer, o.err, c.want)
		}
	}
}

// Closing the form follows the cancel port when it is connected, and is a
// clear error otherwise.
func TestDialogInputCancel(t *testing.T) {
	d := engine.NewScriptedDialogs()
	done := startDialogRun(t, context.Background(), dialogFlow("dialog.input", map[string]any{"fields": []any{"a"}}, "next", "cancel"), d, t.TempDir())
	nextRequest(t, d, done).Cancel()
	if o := wait(t, done); o.err != nil || o.res.Vars["took"] != "cancel" {
		t.Fatalf("with a cancel port: %v %v", o.res.Vars, o.err)
	}
	done = startDialogRun(t, context.Background(), dialogFlow("dialog.input", map[string]any{"title": "Who", "fields": []any{"a"}}, "next"), d, t.TempDir())
	nextRequest(t, d, done).Cancel()
	if o := wait(t, done); !errors.Is(o.err, engine.ErrDialogCancelled) || !strings.Contains(o.err.Error(), `form "Who"`) || !strings.Contains(o.err.Error(), "connect the cancel port") {
		t.Fatalf("without a cancel port: %v", o.err)
	}
}

func TestDialogInputLint(t *testing.T) {
	for _, c := range []struct {
		fields any
		want   string
	}{
		{[]any{"1abc"}, `line 1: "1abc" is not a valid variable name`},
		{[]any{"a | date"}, `kind "date" is not one of text, number, password, choice`},
		{[]any{"a | choice"}, "a choice needs its options"},
		{[]any{"a", "a | number"}, "line 2: field a appears twice"},
		{[]any{"a | number | A | ten"}, `default: "ten" is not a number`},
		{[]any{"a | text | {{ nope }}"}, `unknown variable "nope"`},
		{[]any{"a | text: x"}, "only a choice takes options"},
		{[]any{"len"}, "built-in function"},
		{map[string]any{"a": 1.0}, "want a list of lines"},
		{[]any{""}, "the form has no fields"},
	} {
		f := dialogFlow("dialog.input", map[string]any{"fields": c.fields}, "next")
		ps := engine.Lint(f, nil, t.TempDir())
		var all []string
		for _, p := range ps {
			all = append(all, p.String())
		}
		if !strings.Contains(strings.Join(all, "\n"), c.want) || !strings.Contains(strings.Join(all, "\n"), "fields") {
			t.Errorf("%v: %v, want %q", c.fields, all, c.want)
		}
	}
}

func TestDialogPickFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "orders.csv"), []byte("a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("a\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	params := map[string]any{"title": "Orders", "filter": []any{"*.CSV", "xlsx"}, "folder": "sub", "output": "picked"}
	for _, c := range []struct {
		answer, want, err string
	}{
		{filepath.Join(dir, "orders.csv"), filepath.Join(dir, "orders.csv"), ""},
		{"orders.csv", filepath.Join(dir, "orders.csv"), ""}, // relative to the flow's folder
		{filepath.Join(dir, "notes.txt"), "", "does not have one of the extensions .csv, .xlsx"},
		{filepath.Join(dir, "gone.csv"), "", "gone.csv: no such file"},
		{filepath.Join(dir, "sub"), "", "is a folder, not a file"},
	} {
		d := engine.NewScriptedDialogs()
		done := startDialogRun(t, context.Background(), dialogFlow("dialog.pick_file", params, "next"), d, dir)
		r := nextRequest(t, d, done)
		if r.Kind() != "pick" || r.Pick.Title != "Orders" || r.Pick.Save || r.Pick.Folder || r.Pick.Dir != filepath.Join(dir, "sub") || strings.Join(r.Pick.Filter, " ") != ".csv .xlsx" {
			t.Fatalf("pick %+v", r.Pick)
		}
		r.Answer(c.answer)
		o := wait(t, done)
		if c.err == "" && (o.err != nil || o.res.Vars["picked"] != c.want) {
			t.Errorf("%s: %v %v", c.answer, o.res.Vars["picked"], o.err)
		}
		if c.err != "" && (o.err == nil || !strings.Contains(o.err.Error(), c.err) || !strings.Contains(o.err.Error(), `file choice "Orders"`)) {
			t.Errorf("%s: %v, want %q", c.answer, o.err, c.err)
		}
	}
	// Saving: the file need not exist; the suggested name is passed on.
	d := engine.NewScriptedDialogs()
	done := startDialogRun(t, context.Background(), dialogFlow("dialog.pick_file", map[string]any{"mode": "save", "name": "report-{{ total }}.csv", "filter": []any{".csv"}}, "next"), d, dir)
	r := nextRequest(t, d, done)
	if !r.Pick.Save || r.Pick.Name != "report-42.5.csv" || r.Pick.Dir != "" {
		t.Fatalf("save %+v", r.Pick)
	}
	r.Answer(filepath.Join(dir, "new.csv"))
	if o := wait(t, done); o.err != nil || o.res.Vars["file"] != filepath.Join(dir, "new.csv") {
		t.Fatalf("save: %v %v", o.res.Vars, o.err)
	}
	f := dialogFlow("dialog.pick_file", map[string]any{"filter": []any{"a/b"}}, "next")
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		t.Fatal(ps)
	}
	d = engine.NewScriptedDialogs()
	done = startDialogRun(t, context.Background(), f, d, dir)
	if o := wait(t, done); o.err == nil || !strings.Contains(o.err.Error(), `filter: "a/b" is not a file extension`) {
		t.Errorf("bad filter: %v", o.err)
	}
}

func TestDialogPickFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), nil, 0o644)
	d := engine.NewScriptedDialogs()
	done := startDialogRun(t, context.Background(), dialogFlow("dialog.pick_folder", map[string]any{}, "next", "cancel"), d, dir)
	r := nextRequest(t, d, done)
	if !r.Pick.Folder || r.Pick.Title != "Choose a folder" {
		t.Fatalf("pick %+v", r.Pick)
	}
	r.Answer(dir)
	if o := wait(t, done); o.err != nil || o.res.Vars["folder"] != dir || o.res.Vars["took"] != "next" {
		t.Fatalf("%v %v", o.res.Vars, o.err)
	}
	done = startDialogRun(t, context.Background(), dialogFlow("dialog.pick_folder", map[string]any{}, "next"), d, dir)
	nextRequest(t, d, done).Answer(filepath.Join(dir, "a.txt"))
	if o := wait(t, done); o.err == nil || !strings.Contains(o.err.Error(), "is a file, not a folder") {
		t.Fatalf("file for a folder: %v", o.err)
	}
	done = startDialogRun(t, context.Background(), dialogFlow("dialog.pick_folder", map[string]any{}, "next", "cancel"), d, dir)
	nextRequest(t, d, done).Cancel()
	if o := wait(t, done); o.err != nil || o.res.Vars["took"] != "cancel" {
		t.Fatalf("cancel: %v %v", o.res.Vars, o.err)
	}
}

// The Stop button and a node's timeout release an open dialog: the run
// ends stopped or failed, not waiting forever.
func TestDialogReleasedByStopAndTimeout(t *testing.T) {
	d := engine.NewScriptedDialogs()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := startDialogRun(t, ctx, dialogFlow("dialog.confirm", map[string]any{"message": "Go?"}, "yes", "no"), d, t.TempDir())
	r := nextRequest(t, d, done)
	cancel(engine.ErrStoppedByUser)
	o := wait(t, done)
	if !errors.Is(o.err, engine.ErrStoppedByUser) || o.res.Status != engine.StatusStopped {
		t.Fatalf("stop: %v %v", o.res.Status, o.err)
	}
	r.Answer(true) // too late: no one listens, and it does not block

	f := dialogFlow("dialog.input", map[string]any{"fields": []any{"a"}}, "next")
	f.Nodes[1].Timeout = engine.Duration(100 * time.Millisecond)
	done = startDialogRun(t, context.Background(), f, d, t.TempDir())
	nextRequest(t, d, done) // taken, never answered
	o = wait(t, done)
	if o.err == nil || !strings.Contains(o.err.Error(), "timed out after 100ms") || !strings.Contains(o.err.Error(), "waiting for the user to fill in the form") {
		t.Fatalf("timeout: %v", o.err)
	}
}

// A run that no one can answer says so.
func TestDialogWithoutAnswerer(t *testing.T) {
	done := startDialogRun(t, context.Background(), dialogFlow("dialog.confirm", map[string]any{"message": "Send {{ total }}?"}, "yes", "no"), nil, t.TempDir())
	o := wait(t, done)
	if o.err == nil || !strings.Contains(o.err.Error(), `question "Send 42.5?": this flow asks the user`) || !strings.Contains(o.err.Error(), "run it in the studio or on a terminal") {
		t.Fatalf("%v", o.err)
	}
}

func TestScriptedDialogsAnswerWith(t *testing.T) {
	d := engine.NewScriptedDialogs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.AnswerWith(ctx, func(r *engine.DialogRequest) (any, bool) { return r.Kind() == "confirm", false })
	done := startDialogRun(t, context.Background(), dialogFlow("dialog.confirm", map[string]any{"message": "Go?"}, "yes", "no"), d, t.TempDir())
	if o := wait(t, done); o.err != nil || o.res.Vars["took"] != "yes" {
		t.Fatalf("%v %v", o.res.Vars, o.err)
	}
}

// A password answer (8 characters or more) is masked in what the run
// reports: logs and the variables in events; the variable itself holds it.
func TestDialogPasswordIsMasked(t *testing.T) {
	const pin = "pw-5518-2293-zz"
	d := engine.NewScriptedDialogs()
	f := dialogFlow("dialog.input", map[string]any{"fields": []any{"user", "secret | password | Password"}}, "next")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "say", Type: "control.log", Params: map[string]any{"message": "logged in as {{ user }} with {{ secret }}"}})
	f.Edges = append(f.Edges, engine.Edge{From: "on_next", Port: "next", To: "say"})
	var mu sync.Mutex
	var seen []string
	obs := engine.ObserverFunc(func(e engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, e.Message, fmt.Sprint(e.Vars), fmt.Sprint(e.Outputs), fmt.Sprint(e.Inputs))
	})
	opts := engine.Options{Observer: obs}
	engine.UseDialogs(&opts, d)
	done := make(chan runOut, 1)
	go func() {
		res, err := engine.Run(context.Background(), f, opts)
		done <- runOut{res, err}
	}()
	nextRequest(t, d, done).Answer(map[string]any{"user": "ann", "secret": pin})
	o := wait(t, done)
	if o.err != nil || o.res.Vars["secret"] != pin {
		t.Fatalf("%v %v", o.res.Vars["secret"], o.err)
	}
	mu.Lock()
	all := strings.Join(seen, "\n")
	mu.Unlock()
	if strings.Contains(all, pin) || !strings.Contains(all, "logged in as ann with [redacted]") {
		t.Errorf("events:\n%s", all)
	}
}

// Whatever a flow's form lines say, lint and the variables they name
// cope: an error names the field, nothing panics.
func FuzzDialogInputFields(f *testing.F) {
	f.Add("customer | text | Customer of {{ total }} | Ann\namount | number | Amount | 10")
	f.Add("size | choice: S, M, L | Size | M\npin | password")
	f.Add("a | choice: | x\n|||\n{{ | }}")
	f.Fuzz(func(t *testing.T, s string) {
		var lines []any
		for _, l := range strings.Split(s, "\n") {
			lines = append(lines, l)
		}
		fl := dialogFlow("dialog.input", map[string]any{"fields": lines}, "next")
		for _, p := range engine.Lint(fl, nil, t.TempDir()) {
			if p.Severity == engine.SeverityError && p.NodeID == "ask" && p.Field != "fields" {
				t.Fatalf("problem outside the fields field: %s", p)
			}
		}
	})
}
