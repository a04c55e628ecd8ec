package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// objectsIn lists o and everything inside it, in drawing order.
func objectsIn(o fyne.CanvasObject) []fyne.CanvasObject {
	out := []fyne.CanvasObject{o}
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			out = append(out, objectsIn(c)...)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			out = append(out, objectsIn(c)...)
		}
	}
	return out
}

// dialogObjects lists what the run's dialog window shows (its dialog is
// the window's top overlay).
func dialogObjects(t *testing.T, s *Studio) []fyne.CanvasObject {
	t.Helper()
	w := s.DialogWindow()
	if w == nil {
		t.Fatal("no dialog window")
	}
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("the dialog window shows no dialog")
	}
	return objectsIn(top)
}

// tapButton taps the dialog's button labelled text.
func tapButton(t *testing.T, s *Studio, text string) {
	t.Helper()
	var seen []string
	for _, o := range dialogObjects(t, s) {
		if b, ok := o.(*widget.Button); ok {
			if b.Text == text {
				if b.Disabled() {
					t.Fatalf("button %q is disabled", text)
				}
				test.Tap(b)
				return
			}
			seen = append(seen, b.Text)
		}
	}
	t.Fatalf("no button %q in the dialog (buttons: %q)", text, seen)
}

func dialogShows(t *testing.T, s *Studio, text string) bool {
	for _, o := range dialogObjects(t, s) {
		switch x := o.(type) {
		case *widget.Label:
			if strings.Contains(x.Text, text) {
				return true
			}
		case *widget.RichText:
			if strings.Contains(x.String(), text) {
				return true
			}
		case *canvas.Text:
			if strings.Contains(x.Text, text) {
				return true
			}
		}
	}
	return false
}

// openDialogFlow writes a flow with start -> ask (typ, params), each port
// leading to a node that sets took to the port's name, and opens it.
func openDialogFlow(t *testing.T, s *Studio, typ string, params map[string]any, ports ...string) string {
	t.Helper()
	dir := t.TempDir()
	f := engine.NewFlow("ask")
	f.Variables = []engine.Variable{{Name: "total", Type: engine.TypeNumber, Default: 42.5}, {Name: "took", Type: engine.TypeString}}
	f.Nodes = append(f.Nodes, &engine.Node{ID: "ask", Type: typ, Params: params, Position: engine.Point{X: 300, Y: 40}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "ask"}}
	for i, p := range ports {
		f.Nodes = append(f.Nodes, &engine.Node{ID: "on_" + p, Type: "control.set_variable", Position: engine.Point{X: 300, Y: float32(200 + 120*i)},
			Params: map[string]any{"variable": "took", "value": `"` + p + `"`}})
		f.Edges = append(f.Edges, engine.Edge{From: "ask", Port: p, To: "on_" + p})
	}
	path := filepath.Join(dir, "ask.json")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenFile(path); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runUntilDialog starts the flow and pumps the UI until its dialog shows.
func runUntilDialog(t *testing.T, s *Studio, ui chan func()) {
	t.Helper()
	s.Run(false)
	if !pump(t, ui, patience, func() bool { return s.DialogWindow() != nil && s.DialogWindow().Canvas().Overlays().Top() != nil }) {
		t.Fatalf("no dialog showed; output:\n%s", strings.Join(s.OutputLines(), "\n"))
	}
}

func runToEnd(t *testing.T, s *Studio, ui chan func()) {
	t.Helper()
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatalf("the run did not end; output:\n%s", strings.Join(s.OutputLines(), "\n"))
	}
}

// The confirm dialog shows the question; the run waits for it, and the
// button tapped picks the port.
func TestStudioConfirmDialogTakesPort(t *testing.T) {
	for _, c := range []struct{ button, want string }{{"Send", "yes"}, {"Wait", "no"}} {
		s, ui := newTestStudio(t)
		openDialogFlow(t, s, "dialog.confirm", map[string]any{"title": "Order", "message": "The total is {{ total }} EUR. Send it?", "yes": "Send", "no": "Wait"}, "yes", "no")
		runUntilDialog(t, s, ui)
		if !dialogShows(t, s, "The total is 42.5 EUR. Send it?") {
			t.Fatal("the dialog does not show the question")
		}
		if s.DialogWindow().Title() != "Order" || !s.Running() || !strings.Contains(s.statusText, "Waiting for your answer") {
			t.Fatalf("window %q, running %v, status %q", s.DialogWindow().Title(), s.Running(), s.statusText)
		}
		tapButton(t, s, c.button)
		runToEnd(t, s, ui)
		if got := s.Variables()["took"]; got != c.want {
			t.Errorf("%s: took %v; output:\n%s", c.button, got, strings.Join(s.OutputLines(), "\n"))
		}
		if s.DialogWindow() != nil {
			t.Error("the dialog window is still open")
		}
	}
}

// The form shows one input per field; what is typed becomes variables.
func TestStudioInputDialogFillsVariables(t *testing.T) {
	s, ui := newTestStudio(t)
	openDialogFlow(t, s, "dialog.input", map[string]any{"title": "Details", "message": "Check the order", "fields": []any{
		"name | text | Your name | Ann", "amount | number | Amount", "pin | password | PIN", "size | choice: S, M, L | Size | M"}}, "next", "cancel")
	runUntilDialog(t, s, ui)
	var entries []*widget.Entry
	var sel *widget.Select
	for _, o := range dialogObjects(t, s) {
		switch x := o.(type) {
		case *widget.Entry:
			entries = append(entries, x)
		case *widget.Select:
			sel = x
		}
	}
	if len(entries) != 3 || sel == nil || entries[0].Text != "Ann" || !entries[2].Password || sel.Selected != "M" {
		t.Fatalf("form: %d entries, select %v", len(entries), sel)
	}
	if !dialogShows(t, s, "Check the order") || !dialogShows(t, s, "Amount") {
		t.Error("the form lacks its message or a label")
	}
	test.Type(entries[1], "seven")
	// A number field that holds no number keeps the form from being sent.
	for _, o := range dialogObjects(t, s) {
		if b, ok := o.(*widget.Button); ok && b.Text == "OK" && !b.Disabled() {
			t.Error("OK is enabled with a wrong number")
		}
	}
	entries[1].SetText("")
	test.Type(entries[1], "7.5")
	test.Type(entries[2], "s3cret-pin")
	sel.SetSelected("L")
	tapButton(t, s, "OK")
	runToEnd(t, s, ui)
	v := s.Variables()
	if v["name"] != "Ann" || v["amount"] != 7.5 || v["size"] != "L" || v["took"] != "next" {
		t.Errorf("vars %v; output:\n%s", v, strings.Join(s.OutputLines(), "\n"))
	}
}

// Cancel and closing the window both follow the cancel port.
func TestStudioInputDialogCancel(t *testing.T) {
	for _, how := range []string{"button", "window"} {
		s, ui := newTestStudio(t)
		openDialogFlow(t, s, "dialog.input", map[string]any{"fields": []any{"a"}}, "next", "cancel")
		runUntilDialog(t, s, ui)
		if how == "button" {
			tapButton(t, s, "Cancel")
		} else {
			s.closeDialogWindow()
		}
		runToEnd(t, s, ui)
		if got := s.Variables()["took"]; got != "cancel" {
			t.Errorf("%s: took %v; output:\n%s", how, got, strings.Join(s.OutputLines(), "\n"))
		}
	}
}

// Stop while a dialog is open closes it and stops the run.
func TestStudioStopClosesDialog(t *testing.T) {
	s, ui := newTestStudio(t)
	openDialogFlow(t, s, "dialog.message", map[string]any{"message": "Hello"}, "next")
	runUntilDialog(t, s, ui)
	w := s.DialogWindow()
	if !dialogShows(t, s, "Hello") {
		t.Fatal("the message does not show")
	}
	s.Stop()
	runToEnd(t, s, ui)
	// The window closes through the UI queue, in the same hand-over as the
	// run's end or the next one.
	if !pump(t, ui, patience, func() bool { return s.DialogWindow() == nil }) {
		t.Error("the dialog window is still open")
	}
	for _, o := range fyne.CurrentApp().Driver().AllWindows() {
		if o == w {
			t.Error("the dialog window was not closed")
		}
	}
	if out := strings.Join(s.OutputLines(), "\n"); !strings.Contains(out, engine.StatusStopped) && !strings.Contains(out, "stopped") {
		t.Errorf("output:\n%s", out)
	}
	if _, ok := s.Variables()["took"]; ok && s.Variables()["took"] != "" {
		t.Errorf("the run went on: %v", s.Variables())
	}
}

// The message dialog waits for OK.
func TestStudioMessageDialog(t *testing.T) {
	s, ui := newTestStudio(t)
	openDialogFlow(t, s, "dialog.message", map[string]any{"title": "Note", "message": "Total {{ total }}", "level": "warning"}, "next")
	runUntilDialog(t, s, ui)
	if !dialogShows(t, s, "Total 42.5") {
		t.Fatal("the message does not show")
	}
	tapButton(t, s, "OK")
	runToEnd(t, s, ui)
	if got := s.Variables()["took"]; got != "next" {
		t.Errorf("took %v; output:\n%s", got, strings.Join(s.OutputLines(), "\n"))
	}
}

// The file dialog saves under the suggested name in the start folder, and
// leaves no empty file behind; the folder dialog gives its folder.
func TestStudioPickDialogs(t *testing.T) {
	s, ui := newTestStudio(t)
	target := t.TempDir()
	openDialogFlow(t, s, "dialog.pick_file", map[string]any{"mode": "save", "folder": target, "name": "report-{{ total }}.csv", "filter": []any{".csv"}}, "next", "cancel")
	runUntilDialog(t, s, ui)
	tapButton(t, s, "Save")
	runToEnd(t, s, ui)
	want := filepath.Join(target, "report-42.5.csv")
	if got := s.Variables()["file"]; got != want || s.Variables()["took"] != "next" {
		t.Fatalf("file %v, took %v; output:\n%s", got, s.Variables()["took"], strings.Join(s.OutputLines(), "\n"))
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Errorf("the save dialog left a file: %v", err)
	}

	s, ui = newTestStudio(t)
	openDialogFlow(t, s, "dialog.pick_folder", map[string]any{"folder": target}, "next", "cancel")
	runUntilDialog(t, s, ui)
	tapButton(t, s, "Open")
	runToEnd(t, s, ui)
	if got := s.Variables()["folder"]; got != target {
		t.Fatalf("folder %v; output:\n%s", got, strings.Join(s.OutputLines(), "\n"))
	}
}
