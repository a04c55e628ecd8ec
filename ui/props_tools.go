package ui

import (
	"sort"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// fieldTools returns the buttons beside a text field's title: a variable
// picker for fields that take formulas or {{ }} templates, and a large
// editor for long text (letters, prompts).
func (p *PropertyPanel) fieldTools(name, title string, k engine.FieldKind, e *widget.Entry) []fyne.CanvasObject {
	if e == nil {
		return nil
	}
	var tools []fyne.CanvasObject
	switch k {
	case engine.KindExpr, engine.KindText, engine.KindMulti, engine.KindPath, engine.KindList, engine.KindMap:
		b := widget.NewButton("{x}", nil)
		b.Importance = widget.LowImportance
		b.OnTapped = func() {
			abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
			p.PickVar(name, abs.Add(fyne.NewPos(0, b.Size().Height)))
		}
		tools = append(tools, b)
	}
	if k == engine.KindText || k == engine.KindMulti {
		b := widget.NewButtonWithIcon("", theme.ViewFullScreenIcon(), func() { p.OpenBigEditor(name, title) })
		b.Importance = widget.LowImportance
		tools = append(tools, b)
	}
	p.entries[name] = e
	p.kinds[name] = k
	return tools
}

// VarNames lists the names a formula or template can use: the flow's
// variables, the variables its nodes set, error variables, the last run's
// variables and the built-ins run_id and flow_dir.
func (p *PropertyPanel) VarNames() []string {
	seen := map[string]bool{"run_id": true, "flow_dir": true}
	f := p.doc.Flow
	for _, v := range f.Variables {
		seen[v.Name] = true
	}
	for _, n := range f.Nodes {
		if n.ErrorVar != "" {
			seen[n.ErrorVar] = true
		}
		spec, ok := p.reg.Spec(n.Type)
		if !ok {
			continue
		}
		for _, fd := range spec.Fields {
			if fd.Kind != engine.KindVar {
				continue
			}
			v, ok := n.Params[fd.Name].(string)
			if !ok {
				v, _ = fd.Default.(string)
			}
			if v = strings.TrimSpace(v); v != "" {
				seen[v] = true
			}
		}
	}
	if p.RunVars != nil {
		for k := range p.RunVars() {
			seen[k] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// cursorOffset returns the rune offset of an entry's cursor in its text.
func cursorOffset(e *widget.Entry) int {
	rs := []rune(e.Text)
	row, off := 0, 0
	for off < len(rs) && row < e.CursorRow {
		if rs[off] == '\n' {
			row++
		}
		off++
	}
	return min(off+e.CursorColumn, len(rs))
}

// wordBefore returns the partial name just before rune offset off.
func wordBefore(rs []rune, off int) string {
	i := off
	for i > 0 && isIdentRune(rs[i-1]) {
		i--
	}
	return string(rs[i:off])
}

// VarChoices returns the names offered for field at its cursor: those
// that complete the partial name before the cursor, or all of them.
func (p *PropertyPanel) VarChoices(field string) []string {
	e := p.entries[field]
	all := p.VarNames()
	if e == nil {
		return all
	}
	word := strings.ToLower(wordBefore([]rune(e.Text), cursorOffset(e)))
	if word == "" {
		return all
	}
	var out []string
	for _, n := range all {
		if strings.HasPrefix(strings.ToLower(n), word) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// InsertVar puts a name into field at its cursor, completing the partial
// name there. In a template field outside {{ }}, it inserts {{ name }}.
func (p *PropertyPanel) InsertVar(field, name string) {
	e := p.entries[field]
	if e == nil {
		return
	}
	rs := []rune(e.Text)
	off := cursorOffset(e)
	word := []rune(wordBefore(rs, off))
	start := off - len(word)
	ins := name
	if p.kinds[field] != engine.KindExpr {
		before := string(rs[:start])
		if open := strings.LastIndex(before, "{{"); open < 0 || strings.LastIndex(before, "}}") > open {
			ins = "{{ " + name + " }}"
		}
	}
	text := string(rs[:start]) + ins + string(rs[off:])
	e.SetText(text)
	// the cursor after the inserted name
	end := []rune(string(rs[:start]) + ins)
	row, col := 0, 0
	for _, r := range end {
		if r == '\n' {
			row, col = row+1, 0
		} else {
			col++
		}
	}
	e.CursorRow, e.CursorColumn = row, col
	e.Refresh()
	if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
		c.Focus(e)
	}
}

// PickVar shows the variable picker for field at abs (a menu of names;
// choosing one inserts it).
func (p *PropertyPanel) PickVar(field string, abs fyne.Position) {
	e := p.entries[field]
	if e == nil {
		return
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(e)
	if c == nil {
		return
	}
	var items []*fyne.MenuItem
	for _, n := range p.VarChoices(field) {
		n := n
		items = append(items, fyne.NewMenuItem(n, func() { p.InsertVar(field, n) }))
	}
	if len(items) == 0 {
		items = append(items, fyne.NewMenuItem(lang.L("no variables yet"), nil))
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, abs)
}

// OpenBigEditor opens a large multi-line editor for field's text; OK
// puts the text back into the field.
func (p *PropertyPanel) OpenBigEditor(field, title string) {
	e := p.entries[field]
	if e == nil || p.Win == nil {
		return
	}
	big := widget.NewMultiLineEntry()
	big.Wrapping = fyne.TextWrapWord
	big.SetText(e.Text)
	big.SetMinRowsVisible(20)
	p.BigEntry = big
	p.bigDone = func(ok bool) {
		if ok && big.Text != e.Text {
			e.SetText(big.Text)
		}
		p.BigEntry, p.bigDone = nil, nil
	}
	d := dialog.NewCustomConfirm(title, lang.L("OK"), lang.L("Cancel"), big, func(ok bool) {
		if p.bigDone != nil {
			p.bigDone(ok)
		}
	}, p.Win)
	sz := p.Win.Canvas().Size()
	d.Resize(fyne.NewSize(max(600, sz.Width*0.8), max(400, sz.Height*0.8)))
	d.Show()
	p.Win.Canvas().Focus(big)
}

// CloseBigEditor closes the large editor as its OK (true) or Cancel
// button would.
func (p *PropertyPanel) CloseBigEditor(ok bool) {
	if p.bigDone != nil {
		p.bigDone(ok)
	}
	if p.Win != nil {
		for o := p.Win.Canvas().Overlays().Top(); o != nil; o = p.Win.Canvas().Overlays().Top() {
			p.Win.Canvas().Overlays().Remove(o)
		}
	}
}
