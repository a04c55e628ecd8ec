package ui

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// Group box geometry in document units.
const (
	groupPad    = 20 // between a group's border and its nodes
	groupTitleH = 24 // the title bar, which is where a group is dragged
)

// defaultNoteColor is a sticky note's yellow.
const defaultNoteColor = "#fff2a8"

// noteSize is a new note's size.
var noteSize = engine.Size{W: 180, H: 100}

// parseColor reads "#rrggbb"; anything else gives def.
func parseColor(s string, def color.NRGBA) color.NRGBA {
	if len(s) != 7 || s[0] != '#' {
		return def
	}
	var v [3]uint8
	for i := range v {
		hi, ok1 := hexVal(s[1+2*i])
		lo, ok2 := hexVal(s[2+2*i])
		if !ok1 || !ok2 {
			return def
		}
		v[i] = hi<<4 | lo
	}
	return color.NRGBA{v[0], v[1], v[2], 0xff}
}

func hexVal(b byte) (uint8, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// AddNote adds a sticky note with text at document point p (undoable) and
// returns its index.
func (c *FlowCanvas) AddNote(text string, p engine.Point) int {
	i := len(c.doc.Flow.Notes)
	c.doc.Edit(func(f *engine.Flow) {
		f.Notes = append(f.Notes, engine.Note{Text: text, Position: engine.Point{X: snap(p.X), Y: snap(p.Y)}, Size: noteSize, Color: defaultNoteColor})
	})
	return i
}

// GroupSelection puts a titled group box round the selected nodes
// (undoable) and returns its index, or -1 when nothing is selected.
func (c *FlowCanvas) GroupSelection(title string) int {
	ids := c.Selection()
	if len(ids) == 0 {
		return -1
	}
	i := len(c.doc.Flow.Groups)
	c.doc.Edit(func(f *engine.Flow) {
		f.Groups = append(f.Groups, engine.Group{Title: title, Nodes: ids})
		fitGroups(f, func(n *engine.Node) float32 { return nodeHeight(len(c.ports(n))) })
	})
	return i
}

// groupTitleAt returns the group whose title bar is under document point
// p, or -1.
func (c *FlowCanvas) groupTitleAt(p engine.Point) int {
	gs := c.doc.Flow.Groups
	for i := len(gs) - 1; i >= 0; i-- {
		g := gs[i]
		if p.X >= g.Position.X && p.X <= g.Position.X+g.Size.W && p.Y >= g.Position.Y && p.Y <= g.Position.Y+groupTitleH {
			return i
		}
	}
	return -1
}

// noteAt returns the note under document point p, or -1.
func (c *FlowCanvas) noteAt(p engine.Point) int {
	ns := c.doc.Flow.Notes
	for i := len(ns) - 1; i >= 0; i-- {
		n := ns[i]
		if p.X >= n.Position.X && p.X <= n.Position.X+n.Size.W && p.Y >= n.Position.Y && p.Y <= n.Position.Y+n.Size.H {
			return i
		}
	}
	return -1
}

// Find returns the ids of the nodes whose label, type or activity title
// contains q (case-insensitive), in document order.
func (c *FlowCanvas) Find(q string) []string {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil
	}
	var out []string
	for _, n := range c.doc.Flow.Nodes {
		hay := n.Label + "\x00" + n.Type + "\x00" + n.ID
		if s, ok := c.reg.Spec(n.Type); ok {
			hay += "\x00" + s.Title + "\x00" + tr("activity."+s.Type, s.Title)
		}
		if strings.Contains(strings.ToLower(hay), q) {
			out = append(out, n.ID)
		}
	}
	return out
}

// FindNext selects the next node matching q after the current selection
// (wrapping round) and scrolls it into the middle of the view. It returns
// the id, or "" when nothing matches.
func (c *FlowCanvas) FindNext(q string) string {
	ids := c.Find(q)
	if len(ids) == 0 {
		return ""
	}
	next := ids[0]
	if sel := c.Selection(); len(sel) == 1 {
		for k, id := range ids {
			if id == sel[0] {
				next = ids[(k+1)%len(ids)]
			}
		}
	}
	c.Select(next)
	c.Reveal(next)
	return next
}

// ZoomIn zooms in by a step around the view's centre.
func (c *FlowCanvas) ZoomIn() { c.ZoomBy(1.25) }

// ZoomOut zooms out by a step around the view's centre.
func (c *FlowCanvas) ZoomOut() { c.ZoomBy(1 / 1.25) }

// ZoomReset sets the zoom to 100% around the view's centre.
func (c *FlowCanvas) ZoomReset() {
	s := c.Size()
	c.ZoomAt(1, fyne.NewPos(s.Width/2, s.Height/2))
}

// ZoomText is the zoom as the canvas shows it, e.g. "75%".
func (c *FlowCanvas) ZoomText() string {
	return fmt.Sprintf("%d%%", int(math.Round(float64(c.zoom)*100)))
}

// boxSel names a selected note or group.
type boxSel struct {
	kind byte // 0 for none, boxNote or boxGroup
	i    int
}

const (
	boxNote  = 'n'
	boxGroup = 'g'
)

// doubleTap is how soon a second tap on a note or group title edits it.
const doubleTap = 500 * time.Millisecond

// SelectedBox returns the selected note or group: kind "note", "group" or
// "" for none, and its index.
func (c *FlowCanvas) SelectedBox() (string, int) {
	switch c.selBox.kind {
	case boxNote:
		return "note", c.selBox.i
	case boxGroup:
		return "group", c.selBox.i
	}
	return "", -1
}

// tapBox selects a note or group; a second tap on it soon after edits it.
func (c *FlowCanvas) tapBox(b boxSel) {
	now := time.Now()
	again := c.selBox == b && now.Sub(c.lastTap) < doubleTap
	c.lastTap = now
	c.selected = map[string]bool{}
	c.selEdge, c.selBox = -1, b
	c.Refresh()
	c.selectionChanged()
	if again {
		c.EditBox()
	}
}

// deleteBox removes the selected note or group (not the group's nodes)
// and reports whether there was one.
func (c *FlowCanvas) deleteBox() bool {
	b := c.selBox
	c.selBox = boxSel{}
	switch {
	case b.kind == boxNote && b.i < len(c.doc.Flow.Notes):
		c.doc.Edit(func(f *engine.Flow) { f.Notes = slices.Delete(f.Notes, b.i, b.i+1) })
	case b.kind == boxGroup && b.i < len(c.doc.Flow.Groups):
		c.doc.Edit(func(f *engine.Flow) { f.Groups = slices.Delete(f.Groups, b.i, b.i+1) })
	default:
		return false
	}
	c.selectionChanged()
	return true
}

// window returns the window the canvas is shown in, or nil.
func (c *FlowCanvas) window() fyne.Window {
	app := fyne.CurrentApp()
	if app == nil {
		return nil
	}
	cv := app.Driver().CanvasForObject(c)
	for _, w := range app.Driver().AllWindows() {
		if cv != nil && w.Canvas() == cv {
			return w
		}
	}
	return nil
}

// EditBox opens a dialog to edit the selected note's text or group's title.
func (c *FlowCanvas) EditBox() {
	w := c.window()
	b := c.selBox
	if w == nil || b.kind == 0 {
		return
	}
	entry := widget.NewMultiLineEntry()
	title := lang.L("Note")
	switch {
	case b.kind == boxNote && b.i < len(c.doc.Flow.Notes):
		entry.SetText(c.doc.Flow.Notes[b.i].Text)
		entry.SetMinRowsVisible(6)
	case b.kind == boxGroup && b.i < len(c.doc.Flow.Groups):
		entry = widget.NewEntry()
		entry.SetText(c.doc.Flow.Groups[b.i].Title)
		title = lang.L("Group title")
	default:
		return
	}
	d := dialog.NewForm(title, lang.L("Save"), lang.L("Cancel"), []*widget.FormItem{widget.NewFormItem("", entry)}, func(ok bool) {
		if !ok {
			return
		}
		c.doc.Edit(func(f *engine.Flow) {
			switch {
			case b.kind == boxNote && b.i < len(f.Notes):
				f.Notes[b.i].Text = entry.Text
			case b.kind == boxGroup && b.i < len(f.Groups):
				f.Groups[b.i].Title = entry.Text
			}
		})
	}, w)
	d.Resize(fyne.NewSize(420, 260))
	d.Show()
	w.Canvas().Focus(entry)
}

// FindBar is a search entry for the canvas, for the studio to show and
// focus on ctrl+f: typing selects and reveals the first node whose label
// or type matches, Enter the next one.
type FindBar struct {
	Entry *findEntry
	// OnEscape runs when Esc is pressed in the entry (the studio closes
	// the bar).
	OnEscape func()
	Status   *widget.Label
	c        *FlowCanvas
	root     fyne.CanvasObject
}

// NewFindBar returns a find bar for c.
func NewFindBar(c *FlowCanvas) *FindBar {
	b := &FindBar{Entry: &findEntry{}, Status: widget.NewLabel(""), c: c}
	b.Entry.ExtendBaseWidget(b.Entry)
	b.Entry.esc = func() {
		if b.OnEscape != nil {
			b.OnEscape()
		}
	}
	b.Entry.SetPlaceHolder(lang.L("Find a node by label or type"))
	b.Entry.OnChanged = func(q string) {
		c.Select()
		b.find(q)
	}
	b.Entry.OnSubmitted = b.find
	b.root = container.NewBorder(nil, nil, widget.NewIcon(theme.SearchIcon()), b.Status, b.Entry)
	return b
}

func (b *FindBar) find(q string) {
	if strings.TrimSpace(q) == "" {
		b.Status.SetText("")
		return
	}
	if b.c.FindNext(q) == "" {
		b.Status.SetText(lang.L("No node matches"))
		return
	}
	b.Status.SetText("")
}

// Object returns the bar's widget tree.
func (b *FindBar) Object() fyne.CanvasObject { return b.root }

// Focus puts the keyboard focus into the entry (for ctrl+f).
func (b *FindBar) Focus() {
	if w := b.c.window(); w != nil {
		w.Canvas().Focus(b.Entry)
	}
}

// findEntry is the find bar's entry: Esc closes the bar.
type findEntry struct {
	widget.Entry
	esc func()
}

// TypedKey is part of fyne.Focusable.
func (e *findEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.esc != nil {
		e.esc()
		return
	}
	e.Entry.TypedKey(k)
}
