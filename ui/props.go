package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// PropertyPanel is the form for the selected node, generated from its
// activity spec. With no node selected it edits the flow's own settings.
type PropertyPanel struct {
	doc    *Document
	reg    *engine.Registry
	nodeID string
	box    *fyne.Container
	scroll *container.Scroll

	// Fields maps a field name ("label", a param name, "timeout", ...) to
	// its editing widget; tests use it.
	Fields map[string]fyne.CanvasObject
	// entries are the text editors of fields, with their kinds.
	entries map[string]*widget.Entry
	kinds   map[string]engine.FieldKind
	// VarGrid edits the flow's variables (flow settings form only).
	VarGrid *VarGrid
	errs    map[string]*widget.Label
	top     *widget.Label

	// writing is true while the form itself edits the document, so the
	// studio does not rebuild the form under the user's cursor.
	writing bool
	// OnBreakpoint toggles a breakpoint from the form.
	OnBreakpoint func(id string, on bool)
	// Breakpoint reports whether a node has a breakpoint.
	Breakpoint func(id string) bool
	// BrowseFile opens a file dialog and calls back with a path.
	BrowseFile func(save bool, cb func(string))
	// Pick adds "Indicate on screen", picture previews and "Test" (pick_props.go).
	Pick PickHooks
	// Win is the window dialogs open over (the large text editor).
	Win fyne.Window
	// RunVars returns the variables of the last run (for the variable
	// picker); may be nil.
	RunVars func() map[string]any
	// BigEntry is the large text editor while it is open.
	BigEntry *widget.Entry
	bigDone  func(ok bool)
}

// NewPropertyPanel returns an empty panel.
func NewPropertyPanel(doc *Document, reg *engine.Registry) *PropertyPanel {
	p := &PropertyPanel{doc: doc, reg: reg, box: container.NewVBox()}
	p.scroll = container.NewVScroll(p.box)
	return p
}

// Object returns the panel's widget tree.
func (p *PropertyPanel) Object() fyne.CanvasObject { return p.scroll }

// Writing reports whether the current document change came from the form.
func (p *PropertyPanel) Writing() bool { return p.writing }

func (p *PropertyPanel) write(fn func()) {
	p.writing = true
	defer func() { p.writing = false }()
	fn()
}

// Show builds the form for node id ("" for the flow's settings).
func (p *PropertyPanel) Show(doc *Document, id string, problems []engine.Problem) {
	p.doc = doc
	p.nodeID = id
	p.Fields = map[string]fyne.CanvasObject{}
	p.errs = map[string]*widget.Label{}
	p.entries = map[string]*widget.Entry{}
	p.kinds = map[string]engine.FieldKind{}
	var objs []fyne.CanvasObject
	n := doc.Flow.Node(id)
	if n == nil {
		p.nodeID = ""
		objs = p.flowForm()
	} else {
		objs = p.nodeForm(n)
	}
	p.box.Objects = objs
	p.box.Refresh()
	p.SetProblems(problems)
}

// NodeID returns the node the form edits.
func (p *PropertyPanel) NodeID() string { return p.nodeID }

// SetProblems shows lint problems inline under their fields.
func (p *PropertyPanel) SetProblems(ps []engine.Problem) {
	msgs := map[string][]string{}
	for _, pr := range ps {
		if pr.NodeID != p.nodeID || p.nodeID == "" {
			continue
		}
		key := pr.Field
		if _, ok := p.errs[key]; !ok {
			key = ""
		}
		msgs[key] = append(msgs[key], pr.Msg)
	}
	for k, l := range p.errs {
		if m := msgs[k]; len(m) > 0 {
			// one line beside the title, so that no field moves
			l.SetText(strings.ReplaceAll(strings.Join(m, " · "), "\n", " "))
			l.Show()
		} else if l.Visible() {
			l.Hide()
		}
	}
}

// errLabel is a field's validation message. It sits beside the field's
// title on one line (truncated; the Problems tab has the whole text), so
// that showing it moves no field.
func errLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Truncation = fyne.TextTruncateEllipsis
	l.Hide()
	return l
}

// titleRow puts a title and its validation message on one line.
// tools (buttons) go at the right end.
func titleRow(title fyne.CanvasObject, msg *widget.Label, tools ...fyne.CanvasObject) fyne.CanvasObject {
	var right fyne.CanvasObject
	if len(tools) > 0 {
		right = container.NewHBox(tools...)
	}
	return container.NewBorder(nil, nil, title, right, msg)
}

func hintLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	l.SizeName = theme.SizeNameCaptionText
	return l
}

func (p *PropertyPanel) nodeForm(n *engine.Node) []fyne.CanvasObject {
	id := n.ID
	spec, ok := p.reg.Spec(n.Type)
	var objs []fyne.CanvasObject
	title := n.Type
	if ok {
		title = tr("activity."+spec.Type, spec.Title)
	}
	p.errs[""] = errLabel()
	objs = append(objs, titleRow(widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), p.errs[""]))
	if ok && spec.Summary != "" {
		objs = append(objs, hintLabel(tr("summary."+spec.Type, spec.Summary)))
	}
	objs = append(objs, hintLabel(fmt.Sprintf("%s · %s", n.Type, id)))
	objs = append(objs, widget.NewSeparator())

	label := widget.NewEntry()
	label.SetText(n.Label)
	label.OnChanged = func(s string) {
		p.write(func() { p.doc.SetNode(id, "label", func(n *engine.Node) { n.Label = s }) })
	}
	p.Fields["label"] = label
	objs = append(objs, widget.NewLabel(lang.L("Label")), label)

	if !ok {
		return objs
	}
	var adv []fyne.CanvasObject
	for _, fd := range spec.Fields {
		fo := p.fieldEditor(id, n, fd)
		if fd.Advanced {
			adv = append(adv, fo...)
		} else {
			objs = append(objs, fo...)
		}
	}
	adv = append(adv, p.nodeSettings(n)...)
	acc := widget.NewAccordion(widget.NewAccordionItem(lang.L("Advanced"), container.NewVBox(adv...)))
	objs = append(objs, acc)
	return objs
}

// kindHint says how a field's value is read.
func kindHint(k engine.FieldKind) string {
	switch k {
	case engine.KindExpr:
		return lang.L("a formula: a value, a variable or a calculation, e.g. total > 10 or row.name")
	case engine.KindMap:
		return lang.L("one per line: name = formula")
	case engine.KindList:
		return fmt.Sprintf(lang.L("one per line; %s puts in a variable's value"), "{{ name }}")
	case engine.KindText, engine.KindMulti, engine.KindPath:
		return fmt.Sprintf(lang.L("text; %s puts in a variable's value"), "{{ name }}")
	case engine.KindDur:
		return lang.L("a duration such as 500ms, 2s or 1m")
	case engine.KindVar:
		return lang.L("name of the variable to set")
	}
	return ""
}

func (p *PropertyPanel) fieldEditor(id string, n *engine.Node, fd engine.Field) []fyne.CanvasObject {
	name := fd.Name
	title := tr("field."+name, fd.Title)
	if title == "" {
		title = name
	}
	if fd.Required {
		title += " *"
	}
	cur, has := n.Params[name]
	set := func(v any) { p.write(func() { p.doc.SetParam(id, name, v) }) }
	var ed fyne.CanvasObject
	var picked []fyne.CanvasObject
	var entry *widget.Entry // the field's text editor, if it has one
	switch fd.Kind {
	case engine.KindBool:
		c := widget.NewCheck(title, nil)
		b, _ := cur.(bool)
		if !has {
			b, _ = fd.Default.(bool)
		}
		c.SetChecked(b)
		c.OnChanged = func(v bool) { set(v) }
		ed = c
	case engine.KindSelect:
		s := widget.NewSelect(fd.Options, nil)
		v, _ := cur.(string)
		if !has {
			v, _ = fd.Default.(string)
		}
		s.SetSelected(v)
		s.OnChanged = func(v string) { set(v) }
		ed = s
	case engine.KindMulti, engine.KindList, engine.KindMap:
		e := widget.NewMultiLineEntry()
		e.Wrapping = fyne.TextWrapWord
		e.SetMinRowsVisible(3)
		e.SetText(formatValue(fd.Kind, cur))
		e.SetPlaceHolder(formatValue(fd.Kind, fd.Default))
		e.OnChanged = func(s string) { set(parseValue(fd.Kind, s)) }
		ed, entry = e, e
	default:
		e := widget.NewEntry()
		e.SetText(formatValue(fd.Kind, cur))
		if fd.Default != nil {
			e.SetPlaceHolder(formatValue(fd.Kind, fd.Default))
		} else if fd.Kind == engine.KindExpr {
			e.SetPlaceHolder(lang.L("a formula, e.g. total > 10"))
		}
		e.OnChanged = func(s string) { set(parseValue(fd.Kind, s)) }
		ed, entry = e, e
		if fd.Kind == engine.KindPath && p.BrowseFile != nil {
			save := strings.Contains(n.Type, "write") || strings.Contains(name, "to")
			btn := widget.NewButton("…", func() {
				p.BrowseFile(save, func(path string) { e.SetText(path) })
			})
			ed = container.NewBorder(nil, nil, nil, btn, e)
		}
		ed, picked = p.pickField(n, fd, e, ed)
	}
	p.Fields[name] = ed
	p.errs[name] = errLabel()
	var objs []fyne.CanvasObject
	if fd.Kind != engine.KindBool {
		head := titleRow(widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: fd.Required}), p.errs[name], p.fieldTools(name, title, fd.Kind, entry)...)
		objs = append(objs, head, ed)
	} else {
		objs = append(objs, titleRow(ed, p.errs[name]))
	}
	objs = append(objs, picked...)
	hint := kindHint(fd.Kind)
	if fd.Help != "" {
		help := tr("help."+n.Type+"."+name, fd.Help)
		if hint != "" && !strings.Contains(help, "{{") && !strings.Contains(help, "expression") {
			hint = help + " — " + hint
		} else {
			hint = help
		}
	}
	if hint != "" {
		objs = append(objs, hintLabel(hint))
	}
	return objs
}

func (p *PropertyPanel) nodeSettings(n *engine.Node) []fyne.CanvasObject {
	id := n.ID
	timeout := widget.NewEntry()
	if n.Timeout > 0 {
		timeout.SetText(time.Duration(n.Timeout).String())
	}
	timeout.SetPlaceHolder(lang.L("none"))
	terr := errLabel()
	p.errs["timeout"] = terr
	timeout.OnChanged = func(s string) {
		d, err := parseDur(s)
		if err != nil {
			terr.SetText(err.Error())
			terr.Show()
			return
		}
		terr.Hide()
		p.write(func() { p.doc.SetNode(id, "timeout", func(n *engine.Node) { n.Timeout = engine.Duration(d) }) })
	}
	retry := widget.NewEntry()
	if n.Retry.Count > 0 {
		retry.SetText(strconv.Itoa(n.Retry.Count))
	}
	retry.SetPlaceHolder("0")
	rerr := errLabel()
	p.errs["retry.count"] = rerr
	retry.OnChanged = func(s string) {
		c := 0
		if strings.TrimSpace(s) != "" {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v < 0 {
				rerr.SetText(lang.L("a whole number, 0 or more"))
				rerr.Show()
				return
			}
			c = v
		}
		rerr.Hide()
		p.write(func() { p.doc.SetNode(id, "retry", func(n *engine.Node) { n.Retry.Count = c }) })
	}
	interval := widget.NewEntry()
	if n.Retry.Interval > 0 {
		interval.SetText(time.Duration(n.Retry.Interval).String())
	}
	interval.SetPlaceHolder("0s")
	interval.OnChanged = func(s string) {
		if d, err := parseDur(s); err == nil {
			p.write(func() {
				p.doc.SetNode(id, "interval", func(n *engine.Node) { n.Retry.Interval = engine.Duration(d) })
			})
		}
	}
	errVar := widget.NewEntry()
	errVar.SetText(n.ErrorVar)
	errVar.SetPlaceHolder("last_error")
	errVar.OnChanged = func(s string) {
		p.write(func() { p.doc.SetNode(id, "error_var", func(n *engine.Node) { n.ErrorVar = strings.TrimSpace(s) }) })
	}
	disabled := widget.NewCheck(lang.L("Disabled (skipped when run)"), nil)
	disabled.SetChecked(n.Disabled)
	disabled.OnChanged = func(b bool) {
		p.write(func() { p.doc.SetNode(id, "disabled", func(n *engine.Node) { n.Disabled = b }) })
	}
	bp := widget.NewCheck(lang.L("Breakpoint (Debug pauses here)"), nil)
	if p.Breakpoint != nil {
		bp.SetChecked(p.Breakpoint(id))
	}
	bp.OnChanged = func(b bool) {
		if p.OnBreakpoint != nil {
			p.OnBreakpoint(id, b)
		}
	}
	p.Fields["timeout"], p.Fields["retry.count"], p.Fields["retry.interval"] = timeout, retry, interval
	p.Fields["error_var"], p.Fields["disabled"], p.Fields["breakpoint"] = errVar, disabled, bp
	return []fyne.CanvasObject{
		titleRow(widget.NewLabel(lang.L("Timeout")), terr), timeout,
		titleRow(widget.NewLabel(lang.L("Retries")), rerr), retry,
		widget.NewLabel(lang.L("Retry interval")), interval,
		widget.NewLabel(lang.L("Error variable")), errVar,
		hintLabel(lang.L("The error port puts the error message into this variable.")),
		disabled, bp,
	}
}

func (p *PropertyPanel) flowForm() []fyne.CanvasObject {
	f := p.doc.Flow
	name := widget.NewEntry()
	name.SetText(f.Name)
	name.OnChanged = func(s string) {
		p.write(func() { p.doc.EditKey("flow:name", func(f *engine.Flow) { f.Name = s }) })
	}
	desc := widget.NewMultiLineEntry()
	desc.Wrapping = fyne.TextWrapWord
	desc.SetText(f.Description)
	desc.OnChanged = func(s string) {
		p.write(func() { p.doc.EditKey("flow:desc", func(f *engine.Flow) { f.Description = s }) })
	}
	vars := newVarGrid(f.Variables, func(vs []engine.Variable) {
		p.write(func() { p.doc.EditKey("flow:vars", func(f *engine.Flow) { f.Variables = vs }) })
	})
	p.VarGrid = vars
	timeout := widget.NewEntry()
	if f.Settings.DefaultTimeout > 0 {
		timeout.SetText(time.Duration(f.Settings.DefaultTimeout).String())
	}
	timeout.SetPlaceHolder(lang.L("none"))
	timeout.OnChanged = func(s string) {
		if d, err := parseDur(s); err == nil {
			p.write(func() {
				p.doc.EditKey("flow:timeout", func(f *engine.Flow) { f.Settings.DefaultTimeout = engine.Duration(d) })
			})
		}
	}
	// The run history's detail level (settings.history); "full", the
	// default, is stored as no setting.
	history := widget.NewSelect(engine.HistoryLevels, nil)
	if f.Settings.History == "" {
		history.SetSelected(engine.HistoryFull)
	} else {
		history.SetSelected(f.Settings.History)
	}
	history.OnChanged = func(s string) {
		if s == engine.HistoryFull {
			s = ""
		}
		if p.doc != nil && s == p.doc.Flow.Settings.History {
			return
		}
		p.write(func() {
			p.doc.EditKey("flow:history", func(f *engine.Flow) { f.Settings.History = s })
		})
	}
	p.Fields["flow.name"], p.Fields["flow.description"], p.Fields["flow.variables"] = name, desc, vars.obj
	p.Fields["flow.timeout"], p.Fields["flow.history"] = timeout, history
	return []fyne.CanvasObject{
		widget.NewLabelWithStyle(lang.L("Flow"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		hintLabel(lang.L("Select a node to edit its properties.")),
		widget.NewSeparator(),
		widget.NewLabel(lang.L("Name")), name,
		widget.NewLabel(tr("label.description", "Description")), desc,
		titleRow(widget.NewLabel(lang.L("Variables")), vars.err), vars.obj,
		hintLabel(lang.L("Inputs come in when the flow starts; outputs go back when it ends.")),
		widget.NewLabel(lang.L("Default timeout per node")), timeout,
		widget.NewLabel(lang.L("Run history")), history,
		hintLabel(lang.L("full: every step with inputs, outputs and changed variables; steps: every step, no inputs or variables; errors: only failed steps with their inputs, warnings and errors")),
	}
}

func parseDur(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s", lang.L("a duration such as 500ms, 2s or 1m"))
	}
	return d, nil
}

// formatValue shows a param value in its editor.
func formatValue(k engine.FieldKind, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		var lines []string
		for _, it := range x {
			lines = append(lines, fmt.Sprint(it))
		}
		return strings.Join(lines, "\n")
	case []string:
		return strings.Join(x, "\n")
	case map[string]any:
		var lines []string
		for _, k := range sortedKeys(x) {
			lines = append(lines, fmt.Sprintf("%s = %v", k, x[k]))
		}
		return strings.Join(lines, "\n")
	}
	return fmt.Sprint(v)
}

// parseValue turns editor text into the param's JSON value; empty clears the
// param so the spec default applies. Numbers that do not parse are kept as
// text so that lint names the problem.
func parseValue(k engine.FieldKind, s string) any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	switch k {
	case engine.KindInt, engine.KindFloat:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f
		}
		return s
	case engine.KindList:
		var out []any
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, strings.TrimSpace(l))
			}
		}
		return out
	case engine.KindMap:
		out := map[string]any{}
		for _, l := range strings.Split(s, "\n") {
			k, v, ok := strings.Cut(l, "=")
			if !ok || strings.TrimSpace(k) == "" {
				continue
			}
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		return out
	case engine.KindVar:
		return strings.TrimSpace(s)
	}
	return s
}
