package ui

import (
	"os"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// TestEverySpecHasAnIcon checks that every registered activity names an
// icon that the theme resolves, and that palette and nodes show it.
func TestEverySpecHasAnIcon(t *testing.T) {
	for _, s := range engine.Default.Specs() {
		if s.Icon == "" {
			t.Errorf("%s has no Icon", s.Type)
			continue
		}
		if specIcon(s) == nil {
			t.Errorf("%s: icon %q is no theme icon", s.Type, s.Icon)
		}
	}
	s, _ := newTestStudio(t)
	it := s.Palette.Item("file.read_csv")
	found := false
	for _, o := range test.LaidOutObjects(it) {
		if ic, ok := o.(*canvas.Image); ok && ic.Resource != nil && ic.Resource.Name() == theme.Icon("list").Name() {
			found = true
		}
	}
	if !found {
		t.Error("the palette item of Read CSV shows no list icon")
	}
	s.setDocument(NewDocument(screenFlow(), ""))
	s.Canvas.ZoomAt(1, fyne.NewPos(0, 0))
	s.Canvas.Refresh()
	v := s.Canvas.r.nodes["read"]
	if v == nil || v.icon.Resource == nil || v.icon.Resource.Name() != theme.Icon("list").Name() {
		t.Errorf("the Read CSV node shows no list icon: %+v", v)
	}
}

// TestPaletteTooltipShowsSummary hovers a palette item.
func TestPaletteTooltipShowsSummary(t *testing.T) {
	s, _ := newTestStudio(t)
	it := s.Palette.Item("file.read_csv")
	it.MouseIn(&desktop.MouseEvent{})
	tip := it.Tip()
	if tip == nil {
		t.Fatal("no tooltip while hovering")
	}
	want := engine.Default
	sp, _ := want.Spec("file.read_csv")
	found := false
	for _, o := range test.LaidOutObjects(tip) {
		if tx, ok := o.(*canvas.Text); ok && len(tx.Text) > 0 && containsWord(sp.Summary, tx.Text) {
			found = true
		}
	}
	if !found {
		t.Errorf("the tooltip does not show the summary %q", sp.Summary)
	}
	it.MouseOut()
	if it.Tip() != nil {
		t.Error("the tooltip stays after the pointer left")
	}
}

func containsWord(s, part string) bool {
	return len(part) > 3 && len(s) >= len(part) && (s == part || indexOf(s, part) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestCutTitleShowsTooltip hovers a node whose label is too long for it.
func TestCutTitleShowsTooltip(t *testing.T) {
	s, _ := newTestStudio(t)
	f := screenFlow()
	long := "Write the customer's thank-you letter"
	f.Node("letter").Label = long
	s.setDocument(NewDocument(f, ""))
	c := s.Canvas
	c.ZoomAt(1, fyne.NewPos(0, 0))
	at := func(id string) fyne.Position { p, _ := c.NodeCenter(id); return p }
	c.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at("letter")}})
	if c.Tooltip() != long {
		t.Fatalf("tooltip over a cut title = %q, want %q", c.Tooltip(), long)
	}
	if got := c.r.tipText.Text; got != long {
		t.Errorf("the tooltip drawn reads %q", got)
	}
	c.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at("read")}})
	if c.Tooltip() != "" {
		t.Errorf("a title shown whole got the tooltip %q", c.Tooltip())
	}
	c.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at("letter")}})
	c.MouseOut()
	if c.Tooltip() != "" {
		t.Error("the tooltip stays after the pointer left")
	}
}

// TestPortLabelsReadableInChinese draws a flow in Simplified Chinese: every
// port label shown is at least the theme's caption size, labels do not
// overlap each other, and when zoomed too far out for that they are hidden
// rather than shrunk.
func TestPortLabelsReadableInChinese(t *testing.T) {
	t.Cleanup(func() { SetupLanguage("en") })
	old, had := os.LookupEnv("LANGUAGE")
	t.Cleanup(func() {
		if had {
			os.Setenv("LANGUAGE", old)
		} else {
			os.Unsetenv("LANGUAGE")
		}
	})
	if err := SetupLanguage("zh_Hans"); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(screenFlow(), ""))
	c := s.Canvas
	type lbl struct {
		text string
		r    [4]float32
	}
	labels := func() []lbl {
		var out []lbl
		for _, v := range c.r.nodes {
			for _, pv := range v.ports {
				if !inObjects(c.r.objects, pv.label) {
					continue
				}
				p, sz := pv.label.Position(), pv.label.MinSize()
				out = append(out, lbl{pv.label.Text, [4]float32{p.X, p.Y, p.X + sz.Width, p.Y + sz.Height}})
				if pv.label.TextSize < theme.CaptionTextSize() {
					t.Errorf("port label %q is %.1f px, below the caption size %.1f", pv.label.Text, pv.label.TextSize, theme.CaptionTextSize())
				}
			}
		}
		return out
	}
	c.ZoomAt(1, fyne.NewPos(0, 0))
	ls := labels()
	zh := 0
	for _, l := range ls {
		if l.text == "是" || l.text == "否" || l.text == "错误" || l.text == "完成" || l.text == "每项" {
			zh++
		}
	}
	if zh < 5 {
		t.Fatalf("expected Chinese port labels at 100%%, got %v", ls)
	}
	for i, a := range ls {
		for _, b := range ls[i+1:] {
			if a.r[0] < b.r[2] && b.r[0] < a.r[2] && a.r[1] < b.r[3] && b.r[1] < a.r[3] {
				t.Errorf("labels %q %v and %q %v overlap", a.text, a.r, b.text, b.r)
			}
		}
	}
	// zoomed out, labels keep their size and still do not overlap: a
	// label that has no room is left out
	for _, z := range []float32{0.5, 0.6, 0.75} {
		c.ZoomAt(z, fyne.NewPos(0, 0))
		ls := labels()
		if len(ls) == 0 {
			t.Errorf("at %v no port label is shown", z)
		}
		for i, a := range ls {
			for _, b := range ls[i+1:] {
				if a.r[0] < b.r[2] && b.r[0] < a.r[2] && a.r[1] < b.r[3] && b.r[1] < a.r[3] {
					t.Errorf("at %v labels %q %v and %q %v overlap", z, a.text, a.r, b.text, b.r)
				}
			}
		}
	}
}

func inObjects(objs []fyne.CanvasObject, o fyne.CanvasObject) bool {
	for _, x := range objs {
		if x == o {
			return true
		}
	}
	return false
}

// TestZoomPercentage checks the zoom functions and the percentage drawn.
func TestZoomPercentage(t *testing.T) {
	s, _ := newTestStudio(t)
	c := s.Canvas
	c.ZoomReset()
	if c.ZoomText() != "100%" || c.r.zoomText.Text != "100%" {
		t.Fatalf("after reset: %q, drawn %q", c.ZoomText(), c.r.zoomText.Text)
	}
	c.ZoomIn()
	if c.r.zoomText.Text != "125%" {
		t.Errorf("after zoom in the canvas shows %q", c.r.zoomText.Text)
	}
	c.ZoomOut()
	c.ZoomOut()
	if c.r.zoomText.Text != "80%" {
		t.Errorf("after zoom in and out twice the canvas shows %q", c.r.zoomText.Text)
	}
	if !inObjects(c.r.objects, c.r.zoomText) {
		t.Error("the zoom percentage is not drawn")
	}
}

// TestFindSelectsAndReveals finds nodes by label and by type.
func TestFindSelectsAndReveals(t *testing.T) {
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(bigFlow(120), ""))
	c := s.Canvas
	c.ZoomReset()
	if got := c.Find("step 77"); len(got) != 1 || got[0] != "n77" {
		t.Fatalf("Find(step 77) = %v", got)
	}
	if got := c.Find("set_variable"); len(got) != 23 {
		t.Errorf("Find(set_variable) found %d nodes, want 23", len(got))
	}
	id := c.FindNext("Step 77")
	if id != "n77" || len(c.Selection()) != 1 || c.Selection()[0] != "n77" {
		t.Fatalf("FindNext selected %v (returned %q)", c.Selection(), id)
	}
	p, _ := c.NodeCenter("n77")
	sz := c.Size()
	if abs32(p.X-sz.Width/2) > 1 || abs32(p.Y-sz.Height/2) > 1 {
		t.Errorf("the found node is at %v, not in the middle of %v", p, sz)
	}
	a, b := c.FindNext("set_variable"), c.FindNext("set_variable")
	if a == b || a == "" {
		t.Errorf("FindNext did not move on: %q then %q", a, b)
	}
	if c.FindNext("no such thing") != "" {
		t.Error("a search without match selected something")
	}
}

// TestGroupDragMovesItsNodes groups two nodes, drags the group by its
// title bar and checks that both nodes moved with it, and undo.
func TestGroupDragMovesItsNodes(t *testing.T) {
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(screenFlow(), ""))
	c := s.Canvas
	c.ZoomAt(1, fyne.NewPos(0, 0))
	c.Select("letter", "check")
	g := c.GroupSelection("Write and check")
	if g != 0 || len(s.Doc.Flow.Groups) != 1 {
		t.Fatalf("GroupSelection = %d, groups %v", g, s.Doc.Flow.Groups)
	}
	c.Select()
	gr := s.Doc.Flow.Groups[0]
	before := map[string]engine.Point{"letter": s.Doc.Flow.Node("letter").Position, "check": s.Doc.Flow.Node("check").Position, "read": s.Doc.Flow.Node("read").Position}
	from := c.ToScreen(engine.Point{X: gr.Position.X + 30, Y: gr.Position.Y + groupTitleH/2})
	c.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: from}, Button: desktop.MouseButtonPrimary})
	for i := 1; i <= 4; i++ {
		c.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: from.Add(fyne.NewPos(float32(i)*20, float32(i)*10))}, Dragged: fyne.NewDelta(20, 10)})
	}
	c.DragEnd()
	for _, id := range []string{"letter", "check"} {
		want := engine.Point{X: before[id].X + 80, Y: before[id].Y + 40}
		if got := s.Doc.Flow.Node(id).Position; got != want {
			t.Errorf("%s at %v after dragging its group, want %v", id, got, want)
		}
	}
	if got := s.Doc.Flow.Node("read").Position; got != before["read"] {
		t.Errorf("a node outside the group moved to %v", got)
	}
	if got := s.Doc.Flow.Groups[0].Position; got != (engine.Point{X: gr.Position.X + 80, Y: gr.Position.Y + 40}) {
		t.Errorf("group at %v", got)
	}
	s.Doc.Undo()
	if got := s.Doc.Flow.Node("letter").Position; got != before["letter"] {
		t.Errorf("undo left letter at %v", got)
	}
}

// TestStickyNote adds a note, draws it, drags it and saves it.
func TestStickyNote(t *testing.T) {
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(screenFlow(), ""))
	c := s.Canvas
	c.ZoomAt(1, fyne.NewPos(0, 0))
	i := c.AddNote("Check the CSV\nwith Anna first", engine.Point{X: 40, Y: 400})
	c.Refresh()
	if len(c.r.notes) != 1 || c.r.notes[0].lines[1].Text != "with Anna first" {
		t.Fatalf("note not drawn: %+v", c.r.notes)
	}
	from := c.ToScreen(engine.Point{X: 60, Y: 420})
	c.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: from}, Button: desktop.MouseButtonPrimary})
	c.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: from.Add(fyne.NewPos(50, 0))}, Dragged: fyne.NewDelta(50, 0)})
	c.DragEnd()
	if got := s.Doc.Flow.Notes[i].Position; got != (engine.Point{X: 90, Y: 400}) {
		t.Errorf("note at %v after the drag", got)
	}
}

// TestFindBar types into the find bar: the first match is selected and
// brought into view, Enter moves on, and a miss says so.
func TestFindBar(t *testing.T) {
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(bigFlow(120), ""))
	c := s.Canvas
	c.ZoomReset()
	b := NewFindBar(c)
	w := test.NewTempWindow(t, b.Object())
	w.Resize(fyne.NewSize(400, 40))
	test.Type(b.Entry, "Step 99")
	if sel := c.Selection(); len(sel) != 1 || sel[0] != "n99" {
		t.Fatalf("typing selected %v", sel)
	}
	p, _ := c.NodeCenter("n99")
	if sz := c.Size(); abs32(p.X-sz.Width/2) > 1 || abs32(p.Y-sz.Height/2) > 1 {
		t.Errorf("the found node is at %v, not in the middle of %v", p, sz)
	}
	b.Entry.SetText("set var")
	first := c.Selection()
	b.Entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if second := c.Selection(); len(second) != 1 || second[0] == first[0] {
		t.Errorf("Enter did not move to the next match: %v then %v", first, second)
	}
	b.Entry.SetText("nothing like this")
	if b.Status.Text == "" || len(c.Selection()) != 0 {
		t.Errorf("a miss: status %q, selection %v", b.Status.Text, c.Selection())
	}
}

// TestNoteEditAndDelete double-taps a note, edits its text in the dialog,
// then selects it and deletes it.
func TestNoteEditAndDelete(t *testing.T) {
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(screenFlow(), ""))
	c := s.Canvas
	c.ZoomAt(1, fyne.NewPos(0, 0))
	c.AddNote("first", engine.Point{X: 40, Y: 400})
	at := c.ToScreen(engine.Point{X: 80, Y: 440})
	c.Tapped(&fyne.PointEvent{Position: at})
	if k, i := c.SelectedBox(); k != "note" || i != 0 {
		t.Fatalf("tap selected %q %d", k, i)
	}
	c.Tapped(&fyne.PointEvent{Position: at})
	top := s.Win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("a double tap on the note opened no dialog")
	}
	var entry *widget.Entry
	var save *widget.Button
	for _, o := range test.LaidOutObjects(top) {
		switch x := o.(type) {
		case *widget.Entry:
			entry = x
		case *widget.Button:
			if x.Text == "Save" {
				save = x
			}
		}
	}
	if entry == nil || save == nil || entry.Text != "first" {
		t.Fatalf("dialog: entry %v, save %v", entry, save)
	}
	entry.SetText("second\nline")
	test.Tap(save)
	if got := s.Doc.Flow.Notes[0].Text; got != "second\nline" {
		t.Fatalf("note text %q", got)
	}
	c.Tapped(&fyne.PointEvent{Position: at})
	c.DeleteSelection()
	if len(s.Doc.Flow.Notes) != 0 || len(s.Doc.Flow.Nodes) != 8 {
		t.Errorf("delete: notes %v, %d nodes", s.Doc.Flow.Notes, len(s.Doc.Flow.Nodes))
	}
	s.Doc.Undo()
	if len(s.Doc.Flow.Notes) != 1 {
		t.Error("undo did not bring the note back")
	}
}
