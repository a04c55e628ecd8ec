package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

func pickerStudio(t *testing.T) *Studio {
	s, _ := newTestStudio(t)
	f := quickFlow()
	f.Variables = []engine.Variable{{Name: "total", Type: engine.TypeNumber}, {Name: "customer", Type: engine.TypeMap}}
	s.setDocument(NewDocument(f, ""))
	s.varVals = map[string]any{"tally": 1.0}
	return s
}

// The variable picker offers the flow's variables, those its nodes set,
// the run's and the built-ins; it completes the partial name at the
// cursor, and in a template it inserts {{ name }}.
func TestVariablePickerAndCompletion(t *testing.T) {
	s := pickerStudio(t)
	p := s.Props
	p.Show(s.Doc, "b", nil) // set_variable x = 41 + 1
	names := strings.Join(p.VarNames(), ",")
	if names != "customer,flow_dir,run_id,tally,total,x" {
		t.Errorf("names %s", names)
	}
	e := p.Fields["value"].(*widget.Entry)
	e.SetText("")
	test.Type(e, "1 + to")
	if got := p.VarChoices("value"); len(got) != 1 || got[0] != "total" {
		t.Fatalf("choices after %q: %v", e.Text, got)
	}
	p.InsertVar("value", "total")
	if got := s.Doc.Flow.Node("b").Params["value"]; got != "1 + total" {
		t.Errorf("value = %q", got)
	}
	test.Type(e, " + t")
	if got := strings.Join(p.VarChoices("value"), ","); got != "tally,total" {
		t.Errorf("choices for t: %s", got)
	}
	// the menu opens over the window
	p.PickVar("value", fyne.NewPos(10, 10))
	if s.Win.Canvas().Overlays().Top() == nil {
		t.Error("the picker opened no menu")
	}
	s.Win.Canvas().Overlays().Remove(s.Win.Canvas().Overlays().Top())

	// a template field
	p.Show(s.Doc, "a", nil) // control.log message
	m := p.Fields["message"].(*widget.Entry)
	m.SetText("")
	test.Type(m, "Dear ")
	p.InsertVar("message", "customer")
	if m.Text != "Dear {{ customer }}" {
		t.Errorf("template insert: %q", m.Text)
	}
	test.Type(m, ", you owe {{ to")
	p.InsertVar("message", "total")
	if m.Text != "Dear {{ customer }}, you owe {{ total" {
		t.Errorf("completion inside {{ }}: %q", m.Text)
	}
	if got := s.Doc.Flow.Node("a").Params["message"]; got != m.Text {
		t.Errorf("param message = %q", got)
	}
}

// Long text gets a large editor; OK puts its text into the field,
// Cancel leaves the field as it was. Hints speak plain words.
func TestLargeEditorAndPlainHints(t *testing.T) {
	s := pickerStudio(t)
	p := s.Props
	p.Show(s.Doc, "a", nil)
	letter := "Dear {{ customer.name }},\n\nyour invoice is still open.\n\nKind regards"
	p.OpenBigEditor("message", "Message")
	if p.BigEntry == nil || s.Win.Canvas().Overlays().Top() == nil {
		t.Fatal("no large editor")
	}
	if sz := p.BigEntry.Size(); sz.Width < 400 || sz.Height < 250 {
		t.Errorf("large editor is only %v", sz)
	}
	p.BigEntry.SetText(letter)
	p.CloseBigEditor(true)
	if got := s.Doc.Flow.Node("a").Params["message"]; got != letter {
		t.Errorf("after OK message = %q", got)
	}
	p.OpenBigEditor("message", "Message")
	p.BigEntry.SetText("thrown away")
	p.CloseBigEditor(false)
	if got := s.Doc.Flow.Node("a").Params["message"]; got != letter {
		t.Errorf("after Cancel message = %q", got)
	}
	if s.Win.Canvas().Overlays().Top() != nil {
		t.Error("the editor is still open")
	}
	for _, k := range []engine.FieldKind{engine.KindExpr, engine.KindText, engine.KindMap, engine.KindList} {
		if h := kindHint(k); strings.Contains(h, "ƒx") || strings.Contains(h, "expression") {
			t.Errorf("hint for %s: %q", k, h)
		}
	}
	p.Show(s.Doc, "b", nil)
	if ph := p.Fields["value"].(*widget.Entry).PlaceHolder; strings.Contains(ph, "ƒx") {
		t.Errorf("placeholder %q", ph)
	}
}
