package ui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// pathSep joins the steps of a tree path ("rows\x1f0\x1fname").
const pathSep = "\x1f"

// VarsView is the Variables tab: a tree of the run's variables (lists and
// maps expand), a grid for the selected table, and an editor that changes
// a variable while the run is paused.
type VarsView struct {
	Tree   *widget.Tree
	Grid   *widget.Table
	Editor *widget.Entry
	SetBtn *widget.Button
	Info   *widget.Label

	vals     map[string]any
	names    []string
	selected string
	grid     varGrid
	detail   *fyne.Container
	root     fyne.CanvasObject

	// OnEdit changes a variable of the paused run.
	OnEdit func(name string, v any) error
	// Editable reports whether the run is paused.
	Editable func() bool
	// Declared returns a variable's declared type ("" if undeclared).
	Declared func(name string) string
}

// varGrid is a table variable laid out as a grid.
type varGrid struct {
	cols []string
	rows []map[string]any
}

func newVarsView() *VarsView {
	v := &VarsView{vals: map[string]any{}}
	v.Tree = widget.NewTree(v.children, v.isBranch,
		func(branch bool) fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TreeNodeID, branch bool, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(v.nodeText(id))
		})
	v.Tree.OnSelected = func(id widget.TreeNodeID) { v.Select(id) }
	v.Grid = widget.NewTableWithHeaders(
		func() (int, int) { return len(v.grid.rows), len(v.grid.cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			txt := ""
			if id.Row < len(v.grid.rows) && id.Col < len(v.grid.cols) {
				txt = cellText(v.grid.rows[id.Row][v.grid.cols[id.Col]])
			}
			o.(*widget.Label).SetText(txt)
		})
	v.Grid.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		switch {
		case id.Row < 0 && id.Col >= 0 && id.Col < len(v.grid.cols):
			l.SetText(v.grid.cols[id.Col])
		case id.Col < 0 && id.Row >= 0:
			l.SetText(strconv.Itoa(id.Row + 1))
		default:
			l.SetText("")
		}
	}
	v.Editor = widget.NewMultiLineEntry()
	v.Editor.Wrapping = fyne.TextWrapWord
	v.SetBtn = widget.NewButton(lang.L("Set value"), func() { v.apply() })
	v.Info = widget.NewLabel(lang.L("Select a variable."))
	v.Info.Wrapping = fyne.TextWrapWord
	v.detail = container.NewStack()
	v.showEditor()
	split := container.NewHSplit(v.Tree, v.detail)
	split.Offset = 0.45
	v.root = split
	return v
}

// Object returns the tab's widget tree.
func (v *VarsView) Object() fyne.CanvasObject { return v.root }

// Refresh shows the variables again (after Set).
func (v *VarsView) Refresh() {
	v.Tree.Refresh()
	if v.selected != "" {
		if _, ok := v.lookup(v.selected); ok {
			v.Select(v.selected)
		} else {
			v.selected = ""
			v.Tree.UnselectAll()
			v.showEditor()
		}
	}
}

// Set replaces the variables shown.
func (v *VarsView) Set(vals map[string]any) {
	v.vals = vals
	v.names = v.names[:0]
	for k := range vals {
		v.names = append(v.names, k)
	}
	sort.Strings(v.names)
	v.Refresh()
}

func (v *VarsView) lookup(id string) (any, bool) {
	parts := strings.Split(id, pathSep)
	cur, ok := v.vals[parts[0]]
	if !ok {
		return nil, false
	}
	for _, p := range parts[1:] {
		switch x := cur.(type) {
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		case map[string]any:
			if cur, ok = x[p]; !ok {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return cur, true
}

func (v *VarsView) children(id widget.TreeNodeID) []widget.TreeNodeID {
	if id == "" {
		return v.names
	}
	val, _ := v.lookup(id)
	var out []string
	switch x := val.(type) {
	case []any:
		n := min(len(x), 1000) // a huge list: the grid or the editor show all
		for i := 0; i < n; i++ {
			out = append(out, id+pathSep+strconv.Itoa(i))
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			out = append(out, id+pathSep+k)
		}
	}
	return out
}

func (v *VarsView) isBranch(id widget.TreeNodeID) bool {
	if id == "" {
		return true
	}
	val, _ := v.lookup(id)
	switch x := val.(type) {
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return false
}

// nodeText is a tree row: the name or index, then the value or what the
// branch holds.
func (v *VarsView) nodeText(id string) string {
	name := id[strings.LastIndex(id, pathSep)+1:]
	if strings.Contains(id, pathSep) {
		if _, err := strconv.Atoi(name); err == nil {
			name = "[" + name + "]"
		}
	}
	val, _ := v.lookup(id)
	return name + "  " + describeValue(val)
}

// describeValue says what a value is: a table's size, a list's length, a
// map's keys, or the value itself.
func describeValue(val any) string {
	if t, ok := asTable(val); ok {
		return fmt.Sprintf(lang.L("table: %d rows × %d columns"), len(t.rows), len(t.cols))
	}
	switch x := val.(type) {
	case []any:
		return fmt.Sprintf(lang.L("list: %d items"), len(x))
	case map[string]any:
		return fmt.Sprintf(lang.L("map: %d keys"), len(x))
	}
	return shortValue(val)
}

// asTable reads a list of maps as a table, its columns in first-seen
// order.
func asTable(val any) (varGrid, bool) {
	l, ok := val.([]any)
	if !ok || len(l) == 0 {
		return varGrid{}, false
	}
	var t varGrid
	seen := map[string]bool{}
	for _, r := range l {
		m, ok := r.(map[string]any)
		if !ok {
			return varGrid{}, false
		}
		t.rows = append(t.rows, m)
		for _, k := range sortedKeys(m) {
			if !seen[k] {
				seen[k] = true
				t.cols = append(t.cols, k)
			}
		}
	}
	return t, true
}

func cellText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return shortValue(v)
}

// Select shows the node id: a table as a grid, a variable in the editor.
func (v *VarsView) Select(id string) {
	v.selected = id
	val, ok := v.lookup(id)
	if !ok {
		return
	}
	if t, ok := asTable(val); ok {
		v.grid = t
		v.sizeColumns()
		v.Grid.Refresh()
		head := widget.NewLabel(fmt.Sprintf("%s  %s", strings.ReplaceAll(id, pathSep, "."), describeValue(val)))
		v.detail.Objects = []fyne.CanvasObject{container.NewBorder(head, nil, nil, nil, v.Grid)}
		v.detail.Refresh()
		return
	}
	v.Editor.SetText(editText(val))
	v.showEditor()
}

func (v *VarsView) showEditor() {
	top := !strings.Contains(v.selected, pathSep) && v.selected != ""
	editable := top && v.Editable != nil && v.Editable()
	switch {
	case v.selected == "":
		v.Info.SetText(lang.L("Select a variable."))
	case !top:
		v.Info.SetText(fmt.Sprintf(lang.L("Part of %s; select the variable to change it."), v.selected[:strings.Index(v.selected, pathSep)]))
	case editable:
		v.Info.SetText(fmt.Sprintf(lang.L("%s: change the value, then Set value; the run goes on with it."), v.selected))
	default:
		v.Info.SetText(fmt.Sprintf(lang.L("%s: values can be changed while the run is paused (Debug, Step)."), v.selected))
	}
	if editable {
		v.Editor.Enable()
		v.SetBtn.Enable()
	} else {
		v.Editor.Disable()
		v.SetBtn.Disable()
	}
	v.detail.Objects = []fyne.CanvasObject{container.NewBorder(v.Info, container.NewHBox(v.SetBtn), nil, nil, v.Editor)}
	v.detail.Refresh()
}

// editText shows a value in the editor: text as it is, anything else as
// indented JSON.
func editText(val any) string {
	if s, ok := val.(string); ok {
		return s
	}
	b, err := json.MarshalIndent(val, "", "  ")
	if err != nil {
		return fmt.Sprint(val)
	}
	return string(b)
}

// apply sends the editor's value to the paused run.
func (v *VarsView) apply() {
	name := v.selected
	if name == "" || strings.Contains(name, pathSep) || v.OnEdit == nil {
		return
	}
	old := v.vals[name]
	typ := ""
	if v.Declared != nil {
		typ = v.Declared(name)
	}
	val, err := parseEdit(old, typ, v.Editor.Text)
	if err == nil {
		err = v.OnEdit(name, val)
	}
	if err != nil {
		v.Info.SetText(fmt.Sprintf("%s: %v", name, err))
		return
	}
	v.Info.SetText(fmt.Sprintf(lang.L("%s set; the run goes on with it."), name))
}

// parseEdit reads an edited value: as text for a string variable, else as
// JSON (a number, true, a list...), then as the declared type.
func parseEdit(old any, typ, text string) (any, error) {
	var val any
	_, wasString := old.(string)
	if typ == engine.TypeString || (wasString && (typ == "" || typ == engine.TypeAny)) {
		val = text
	} else if err := json.Unmarshal([]byte(text), &val); err != nil {
		if typ == "" || typ == engine.TypeAny {
			val = text // plain words for an untyped variable
		} else {
			return nil, fmt.Errorf("%s: %v", lang.L("not valid JSON"), err)
		}
	}
	if typ != "" {
		c, err := engine.Coerce(typ, val)
		if err != nil {
			return nil, err
		}
		val = c
	}
	return val, nil
}

// newVarsView builds the Variables tab, wired to the run's control.
func (s *Studio) newVarsView() *VarsView {
	v := newVarsView()
	v.Editable = func() bool { return s.run != nil && s.run.paused != "" }
	v.OnEdit = func(name string, val any) error {
		if s.run == nil {
			return engine.ErrNotPaused
		}
		return s.run.ctl.SetVar(name, val)
	}
	v.Declared = func(name string) string {
		for _, d := range s.Doc.Flow.Variables {
			if d.Name == name {
				return d.Type
			}
		}
		return ""
	}
	return v
}

// sizeColumns makes each grid column as wide as its header and the first
// rows' cells, within bounds.
func (v *VarsView) sizeColumns() {
	ts := theme.TextSize()
	pad := 2*theme.InnerPadding() + 4
	for i, c := range v.grid.cols {
		w := fyne.MeasureText(c, ts, fyne.TextStyle{Bold: true}).Width
		for _, r := range v.grid.rows[:min(len(v.grid.rows), 50)] {
			w = max(w, fyne.MeasureText(cellText(r[c]), ts, fyne.TextStyle{}).Width)
		}
		v.Grid.SetColumnWidth(i, min(max(w+pad, 60), 320))
	}
}
