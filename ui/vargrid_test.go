package ui

import (
	"reflect"
	"testing"

	"fyne.io/fyne/v2/test"

	"deskbot/engine"
)

// Editing a flow's variables keeps the input and output flags of every
// variable. (On main, typing in the old text box dropped them all: this
// test, written against the box, failed with Input:false Output:false.)
func TestVariablesEditKeepsFlags(t *testing.T) {
	s, _ := newTestStudio(t)
	s.Doc.Edit(func(f *engine.Flow) {
		f.Variables = []engine.Variable{
			{Name: "folder", Type: engine.TypeString, Default: "in", Input: true},
			{Name: "total", Type: engine.TypeNumber, Default: 0.0, Output: true},
			{Name: "rows", Type: engine.TypeList, Default: []any{1.0, "a"}},
		}
	})
	s.Props.Show(s.Doc, "", nil)
	g := s.Props.VarGrid
	if g == nil || len(g.Rows) != 3 {
		t.Fatalf("grid rows: %v", g)
	}
	if r := g.Rows[0]; r.Name.Text != "folder" || r.Type.Selected != "string" || r.Default.Text != "in" || !r.Input.Checked || r.Output.Checked {
		t.Fatalf("row 0 shows %q %q %q %v %v", r.Name.Text, r.Type.Selected, r.Default.Text, r.Input.Checked, r.Output.Checked)
	}
	// change one default, add a variable
	g.Rows[1].Default.SetText("5")
	r := g.Add()
	test.Type(r.Name, "count")
	r.Type.SetSelected(engine.TypeNumber)
	test.Type(r.Default, "3")
	r.Output.SetChecked(true)
	want := []engine.Variable{
		{Name: "folder", Type: engine.TypeString, Default: "in", Input: true},
		{Name: "total", Type: engine.TypeNumber, Default: 5.0, Output: true},
		{Name: "rows", Type: engine.TypeList, Default: []any{1.0, "a"}},
		{Name: "count", Type: engine.TypeNumber, Default: 3.0, Output: true},
	}
	if got := s.Doc.Flow.Variables; !reflect.DeepEqual(got, want) {
		t.Fatalf("variables after edits:\n got %+v\nwant %+v", got, want)
	}
	// a bad default is shown and not written
	test.Type(g.Rows[3].Default, "x")
	if g.Problem() == "" || s.Doc.Flow.Variables[3].Default != 3.0 {
		t.Fatalf("bad default: problem %q, variables %+v", g.Problem(), s.Doc.Flow.Variables)
	}
	// a repeated name too
	g.Rows[3].Default.SetText("3")
	g.Rows[3].Name.SetText("folder")
	if g.Problem() == "" || s.Doc.Flow.Variables[3].Name != "count" {
		t.Fatalf("repeated name: problem %q", g.Problem())
	}
	g.Rows[3].Name.SetText("count")
	// delete a row
	test.Tap(g.Rows[2].Delete)
	if vs := s.Doc.Flow.Variables; len(vs) != 3 || vs[2].Name != "count" || !vs[0].Input || !vs[1].Output {
		t.Fatalf("after deleting rows: %+v", vs)
	}
	// undo (edits of the variables merge into one step) keeps the flags
	s.Doc.Undo()
	if vs := s.Doc.Flow.Variables; len(vs) != 3 || !vs[0].Input || !vs[1].Output {
		t.Fatalf("after undo: %+v", vs)
	}
}
