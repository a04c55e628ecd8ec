package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"deskbot/engine"
)

// The Variables tab is a tree (lists and maps expand), a table shows as a
// grid, and a value edited while the run is paused is the one the run goes
// on with.
func TestVariablesTabEditWhilePaused(t *testing.T) {
	s, ui := newTestStudio(t)
	f := quickFlow()
	f.Variables = []engine.Variable{
		{Name: "n", Type: engine.TypeNumber, Default: 1.0},
		{Name: "rows", Type: engine.TypeTable, Default: []any{map[string]any{"name": "Ada", "amount": 3.0}, map[string]any{"name": "Bob", "amount": 4.0}}},
		{Name: "opts", Type: engine.TypeMap, Default: map[string]any{"mode": "fast", "tags": []any{"a", "b"}}},
	}
	f.Node("b").Params["value"] = "n + 1"
	s.setDocument(NewDocument(f, ""))
	s.SetBreakpoint("b", true)
	s.Run(true)
	if !pump(t, ui, patience, func() bool { return s.run != nil && s.run.paused == "b" }) {
		t.Fatal("debug run did not pause at b")
	}
	v := s.Vars
	// the tree
	top := v.children("")
	if strings.Join(top, ",") != "flow_dir,n,opts,rows,run_id" {
		t.Fatalf("top level: %q", top)
	}
	if !v.isBranch("opts") || v.isBranch("n") {
		t.Error("opts should expand, n should not")
	}
	kids := v.children("opts")
	if len(kids) != 2 || v.nodeText(kids[1]) != "tags  list: 2 items" || !v.isBranch(kids[1]) {
		t.Errorf("opts children %q: %q", kids, v.nodeText(kids[1]))
	}
	if got := v.nodeText("rows"); got != "rows  table: 2 rows × 2 columns" {
		t.Errorf("rows shows %q", got)
	}
	// a table as a grid
	v.Tree.Select("rows")
	if r, c := v.Grid.Length(); r != 2 || c != 2 || v.grid.cols[0] != "amount" || cellText(v.grid.rows[1]["name"]) != "Bob" {
		t.Errorf("grid %dx%d %v", r, c, v.grid.cols)
	}
	if !v.Grid.Visible() || test.WidgetRenderer(v.Grid) == nil {
		t.Error("grid not shown")
	}
	// edit n while paused
	v.Tree.Select("n")
	if v.Editor.Disabled() || v.Editor.Text != "1" {
		t.Fatalf("editor disabled %v text %q while paused", v.Editor.Disabled(), v.Editor.Text)
	}
	v.Editor.SetText("forty")
	test.Tap(v.SetBtn)
	if !strings.Contains(v.Info.Text, "not valid JSON") {
		t.Errorf("bad number: %q", v.Info.Text)
	}
	v.Editor.SetText("41")
	test.Tap(v.SetBtn)
	if !pump(t, ui, patience, func() bool { return s.Variables()["n"] == 41.0 }) {
		t.Fatalf("the edit did not reach the run: n = %v (%s)", s.Variables()["n"], v.Info.Text)
	}
	s.Run(false) // resume
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	if got := s.Variables()["x"]; got != 42.0 {
		t.Errorf("x = %v, want 42 (from the edited n)", got)
	}
	v.Tree.Select("n")
	if !v.Editor.Disabled() || !v.SetBtn.Disabled() {
		t.Error("the editor is enabled with no paused run")
	}
}
