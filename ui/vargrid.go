package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// VarGrid edits a flow's variables as rows of name, type, default, input
// and output, instead of a text mini-language that could not hold the
// input and output flags.
type VarGrid struct {
	Rows []*VarRow
	box  *fyne.Container
	err  *widget.Label
	obj  fyne.CanvasObject
	// onChange gets the variables when every row is valid.
	onChange func([]engine.Variable)
}

// VarRow is one variable's editors.
type VarRow struct {
	Name    *widget.Entry
	Type    *widget.Select
	Default *widget.Entry
	Input   *widget.Check
	Output  *widget.Check
	Delete  *widget.Button
	obj     fyne.CanvasObject
	// def is the default as loaded; kept while its text is unchanged, so a
	// list or table default is not rewritten by an edit elsewhere.
	def     any
	defText string
}

func newVarGrid(vs []engine.Variable, onChange func([]engine.Variable)) *VarGrid {
	g := &VarGrid{box: container.NewVBox(), err: errLabel(), onChange: onChange}
	for _, v := range vs {
		g.addRow(v)
	}
	g.obj = g.build()
	return g
}

// build lays out the grid with its header and Add button.
func (g *VarGrid) build() fyne.CanvasObject {
	head := container.NewGridWithColumns(2,
		captionLabel(lang.L("Name")+" · "+lang.L("Type")),
		captionLabel(lang.L("Default")+" · "+lang.L("Input")+" · "+lang.L("Output")))
	add := widget.NewButtonWithIcon(lang.L("Add variable"), theme.ContentAddIcon(), func() { g.Add() })
	return container.NewVBox(head, g.box, container.NewHBox(add))
}

func captionLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameCaptionText
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// Add appends an empty row (a new string variable) and focuses nothing:
// the variable is written once it has a name.
func (g *VarGrid) Add() *VarRow {
	r := g.addRow(engine.Variable{Type: engine.TypeString})
	g.box.Refresh()
	return r
}

func (g *VarGrid) addRow(v engine.Variable) *VarRow {
	r := &VarRow{def: v.Default, defText: formatDefault(v.Default)}
	r.Name = widget.NewEntry()
	r.Name.SetPlaceHolder(lang.L("name"))
	r.Name.SetText(v.Name)
	typ := v.Type
	if typ == "" {
		typ = engine.TypeAny
	}
	r.Type = widget.NewSelect(engine.VariableTypes, nil)
	r.Type.SetSelected(typ)
	r.Default = widget.NewEntry()
	r.Default.SetPlaceHolder(lang.L("default"))
	r.Default.SetText(r.defText)
	r.Input = widget.NewCheck(lang.L("input"), nil)
	r.Input.SetChecked(v.Input)
	r.Output = widget.NewCheck(lang.L("output"), nil)
	r.Output.SetChecked(v.Output)
	r.Delete = widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { g.remove(r) })
	r.Name.OnChanged = func(string) { g.changed() }
	r.Type.OnChanged = func(string) { g.changed() }
	r.Default.OnChanged = func(string) { g.changed() }
	r.Input.OnChanged = func(bool) { g.changed() }
	r.Output.OnChanged = func(bool) { g.changed() }
	line1 := container.NewBorder(nil, nil, nil, r.Delete, container.NewGridWithColumns(2, r.Name, r.Type))
	line2 := container.NewBorder(nil, nil, nil, container.NewHBox(r.Input, r.Output), r.Default)
	r.obj = container.NewVBox(line1, line2, widget.NewSeparator())
	g.Rows = append(g.Rows, r)
	g.box.Add(r.obj)
	return r
}

func (g *VarGrid) remove(r *VarRow) {
	for i, x := range g.Rows {
		if x == r {
			g.Rows = append(g.Rows[:i], g.Rows[i+1:]...)
			break
		}
	}
	g.box.Remove(r.obj)
	g.changed()
}

// Variables returns the rows as variables, or the first row's problem.
// Rows without a name and without anything else are left out (a row just
// added).
func (g *VarGrid) Variables() ([]engine.Variable, error) {
	out := []engine.Variable{}
	seen := map[string]bool{}
	for i, r := range g.Rows {
		name := strings.TrimSpace(r.Name.Text)
		if name == "" && strings.TrimSpace(r.Default.Text) == "" && !r.Input.Checked && !r.Output.Checked {
			continue
		}
		row := fmt.Sprintf(lang.L("variable %d"), i+1)
		if name == "" {
			return nil, fmt.Errorf("%s: %s", row, lang.L("missing or repeated variable name"))
		}
		if seen[name] {
			return nil, fmt.Errorf("%s (%s): %s", row, name, lang.L("missing or repeated variable name"))
		}
		seen[name] = true
		v := engine.Variable{Name: name, Type: r.Type.Selected, Input: r.Input.Checked, Output: r.Output.Checked}
		if v.Type == "" {
			v.Type = engine.TypeAny
		}
		switch txt := r.Default.Text; {
		case txt == r.defText && r.def != nil:
			v.Default = r.def
		case strings.TrimSpace(txt) == "":
		default:
			d, err := parseDefault(v.Type, txt)
			if err != nil {
				return nil, fmt.Errorf("%s (%s), %s: %v", row, name, lang.L("default"), err)
			}
			v.Default = d
		}
		if v.Default != nil {
			c, err := engine.Coerce(v.Type, v.Default)
			if err != nil {
				return nil, fmt.Errorf("%s (%s), %s: %v", row, name, lang.L("default"), err)
			}
			v.Default = c
		}
		out = append(out, v)
	}
	return out, nil
}

func (g *VarGrid) changed() {
	vs, err := g.Variables()
	if err != nil {
		g.err.SetText(err.Error())
		g.err.Show()
		return
	}
	g.err.Hide()
	if g.onChange != nil {
		g.onChange(vs)
	}
}

// Problem returns the message the grid shows ("" when it is valid).
func (g *VarGrid) Problem() string {
	if !g.err.Visible() {
		return ""
	}
	return g.err.Text
}

// formatDefault shows a default: text as it is, anything else as JSON.
func formatDefault(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// parseDefault reads a default typed into the grid: JSON for lists, maps
// and tables (and for any, when it parses), text for the rest, which
// Coerce then checks.
func parseDefault(typ, s string) (any, error) {
	switch typ {
	case engine.TypeString:
		return s, nil
	case engine.TypeList, engine.TypeMap, engine.TypeTable:
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("%s: %v", lang.L("write it as JSON, e.g. [1, 2] for a list"), err)
		}
		return v, nil
	case engine.TypeAny:
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			return v, nil
		}
		return s, nil
	}
	return strings.TrimSpace(s), nil
}
