package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"deskbot/engine/redact"
)

// PortYes, PortNo and PortCancel are the ports of the dialog activities.
const (
	PortYes    = "yes"
	PortNo     = "no"
	PortCancel = "cancel"
)

// Dialog activities are part of the engine: attended flows need them
// whatever else they use, and the studio and the command line each answer
// them their own way (see Dialogs).
func init() {
	const cancelDoc = "Closing the dialog without an answer follows the cancel port when it is connected; " +
		"otherwise the step fails with an error that says the dialog was closed (an error port or error variable catches it)."
	const waitDoc = "The run waits for the answer as long as it takes; the Stop button, or a timeout set on the node, " +
		"closes the dialog and stops the wait. In the studio the dialog opens in a window of its own; `deskbot run` asks " +
		"on its terminal, and fails with a clear error when it has none."
	Register(Spec{
		Type: "dialog.message", Title: "Show message", Category: "Dialogs", Icon: "info",
		Summary: "Shows a message and waits until the user clicks OK.",
		Doc:     waitDoc,
		Fields: []Field{
			{Name: "title", Title: "Title", Kind: KindText, Default: "Deskbot"},
			{Name: "message", Title: "Message", Kind: KindMulti, Required: true},
			{Name: "level", Title: "Level", Kind: KindSelect, Options: []string{LevelInfo, LevelWarning, LevelError}, Default: LevelInfo},
		},
		New: newDialogMessage,
	})
	Register(Spec{
		Type: "dialog.confirm", Title: "Ask yes or no", Category: "Dialogs", Icon: "question",
		Summary: "Asks the user a yes/no question and follows the yes or the no port.",
		Doc: "The message is a template: `The total is {{ total }} EUR. Send the order?`. " + waitDoc + " " +
			"Closing the dialog without an answer is an error, not a no.",
		Fields: []Field{
			{Name: "title", Title: "Title", Kind: KindText, Default: "Deskbot"},
			{Name: "message", Title: "Question", Kind: KindMulti, Required: true},
			{Name: "yes", Title: "Yes button", Kind: KindText, Default: "Yes", Advanced: true},
			{Name: "no", Title: "No button", Kind: KindText, Default: "No", Advanced: true},
			{Name: "output", Title: "Answer into", Kind: KindVar, Advanced: true, Help: "Also keep the answer (true for yes) in this variable."},
		},
		Ports: []string{PortYes, PortNo},
		New:   newDialogConfirm,
	})
	Register(Spec{
		Type: "dialog.input", Title: "Ask for values", Category: "Dialogs", Icon: "account",
		Summary: "Shows a form and puts each answer into a variable.",
		Doc: "Each line of fields is one input: `name | kind | Label | default`. The name is the variable that gets " +
			"the answer; kind is text, number, password or `choice: A, B, C`; label and default take {{ }} templates. " +
			"Only the name is needed: `customer` alone is a text field labelled customer. For example:\n\n" +
			"    customer | text | Customer name | {{ last_customer }}\n" +
			"    amount | number | Amount in EUR | 100\n" +
			"    pin | password | PIN\n" +
			"    size | choice: S, M, L | Size | M\n\n" +
			"Number answers are numbers; the others are texts. A password is never shown or echoed; one of " +
			MinSecretLen + " characters or more is masked in logs and the run history. " + cancelDoc + " " + waitDoc,
		Fields: []Field{
			{Name: "title", Title: "Title", Kind: KindText, Default: "Deskbot"},
			{Name: "message", Title: "Message", Kind: KindMulti},
			{Name: "fields", Title: "Fields", Kind: KindList, Required: true, Help: "One per line: name | kind | Label | default."},
		},
		Ports: []string{PortNext, PortCancel},
		Sets:  formFieldNames,
		New:   newDialogInput,
	})
	Register(Spec{
		Type: "dialog.pick_file", Title: "Ask for a file", Category: "Dialogs", Icon: "fileText",
		Summary: "Lets the user choose a file to open or to save, and puts its path into a variable.",
		Doc: "With mode open the file must exist; with save it may not exist yet. The filter limits the files shown " +
			"to some extensions (`.csv`, `*.xlsx` or `pdf`). " + cancelDoc + " " + waitDoc,
		Fields: []Field{
			{Name: "title", Title: "Title", Kind: KindText, Default: "Choose a file"},
			{Name: "mode", Title: "Mode", Kind: KindSelect, Options: []string{"open", "save"}, Default: "open"},
			{Name: "filter", Title: "Extensions", Kind: KindList, Help: "e.g. .csv; none shows all files."},
			{Name: "folder", Title: "Start in", Kind: KindPath, Advanced: true},
			{Name: "name", Title: "Suggested name", Kind: KindText, Advanced: true, Help: "The file name offered when saving."},
			{Name: "output", Title: "Path into", Kind: KindVar, Required: true, Default: "file"},
		},
		Ports: []string{PortNext, PortCancel},
		New:   newDialogPickFile,
	})
	Register(Spec{
		Type: "dialog.pick_folder", Title: "Ask for a folder", Category: "Dialogs", Icon: "folder",
		Summary: "Lets the user choose a folder, and puts its path into a variable.",
		Doc:     cancelDoc + " " + waitDoc,
		Fields: []Field{
			{Name: "title", Title: "Title", Kind: KindText, Default: "Choose a folder"},
			{Name: "folder", Title: "Start in", Kind: KindPath, Advanced: true},
			{Name: "output", Title: "Path into", Kind: KindVar, Required: true, Default: "folder"},
		},
		Ports: []string{PortNext, PortCancel},
		New:   newDialogPickFolder,
	})
}

// MinSecretLen is how long a password answer must be to be masked.
var MinSecretLen = fmt.Sprint(redact.MinLen)

// dialogs returns the run's dialogs, naming what the flow asks in the
// error when there are none.
func dialogs(c *Call, what string) (Dialogs, error) {
	d, err := DialogsFrom(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return d, nil
}

// cancelled turns a closed dialog into the cancel port when it is
// connected, and into a clear error when it is not.
func cancelled(c *Call, what string, err error) (string, error) {
	if errors.Is(err, ErrDialogCancelled) {
		if c.Flow() != nil && c.Flow().Next(c.Node.ID, PortCancel) != "" {
			c.Output("cancelled", true)
			return PortCancel, nil
		}
		return "", fmt.Errorf("%s: %w (connect the cancel port to go on)", what, err)
	}
	return "", fmt.Errorf("%s: %w", what, err)
}

func newDialogMessage(p *Params) (Activity, error) {
	title, msg, level := p.Template("title"), p.Template("message"), p.Select("level")
	return ActivityFunc(func(ctx context.Context, c *Call) (string, error) {
		m := Message{Level: level}
		var err error
		if m.Title, err = c.Text(title); err != nil {
			return "", fmt.Errorf("title: %w", err)
		}
		if m.Text, err = c.Text(msg); err != nil {
			return "", fmt.Errorf("message: %w", err)
		}
		what := fmt.Sprintf("message %q", clipText(m.Title))
		d, err := dialogs(c, what)
		if err != nil {
			return "", err
		}
		c.Waiting("the user to close the " + what)
		if err := d.Message(ctx, m); err != nil && !errors.Is(err, ErrDialogCancelled) {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		return "", nil
	}), nil
}

func newDialogConfirm(p *Params) (Activity, error) {
	title, msg, yes, no, out := p.Template("title"), p.Template("message"), p.Template("yes"), p.Template("no"), p.Var("output")
	return ActivityFunc(func(ctx context.Context, c *Call) (string, error) {
		var q Confirm
		var err error
		for _, f := range []struct {
			name string
			t    *Template
			to   *string
		}{{"title", title, &q.Title}, {"message", msg, &q.Text}, {"yes", yes, &q.Yes}, {"no", no, &q.No}} {
			if *f.to, err = c.Text(f.t); err != nil {
				return "", fmt.Errorf("%s: %w", f.name, err)
			}
		}
		what := fmt.Sprintf("question %q", clipText(q.Text))
		d, err := dialogs(c, what)
		if err != nil {
			return "", err
		}
		c.Waiting("the user to answer the " + what)
		ok, err := d.Confirm(ctx, q)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		c.Output("answer", ok)
		if out != "" {
			if err := c.Set(out, ok); err != nil {
				return "", err
			}
		}
		if ok {
			return PortYes, nil
		}
		return PortNo, nil
	}), nil
}

// formLine is one parsed line of dialog.input's fields.
type formLine struct {
	name, kind     string
	options        []string
	label, deflt   *Template
	labelSrc, dSrc string
}

// parseFormLine parses `name | kind | Label | default`.
func parseFormLine(s string) (formLine, error) {
	parts := strings.Split(s, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) > 4 {
		// A default may itself hold a bar.
		parts = append(parts[:3], strings.Join(parts[3:], " | "))
	}
	l := formLine{name: parts[0], kind: FormText, labelSrc: parts[0]}
	if !validIdent(l.name) {
		return l, fmt.Errorf("%q is not a valid variable name (a line is name | kind | Label | default)", l.name)
	}
	if IsBuiltin(l.name) {
		return l, fmt.Errorf("%q is the name of a built-in function; choose another name", l.name)
	}
	if len(parts) > 1 && parts[1] != "" {
		kind, opts, hasOpts := strings.Cut(parts[1], ":")
		l.kind = strings.ToLower(strings.TrimSpace(kind))
		if !slices.Contains(FormKinds, l.kind) {
			return l, fmt.Errorf("field %s: kind %q is not one of %s", l.name, kind, strings.Join(FormKinds, ", "))
		}
		if l.kind == FormChoice {
			for _, o := range strings.Split(opts, ",") {
				if o = strings.TrimSpace(o); o != "" && !slices.Contains(l.options, o) {
					l.options = append(l.options, o)
				}
			}
			if len(l.options) == 0 {
				return l, fmt.Errorf("field %s: a choice needs its options, e.g. choice: S, M, L", l.name)
			}
		} else if hasOpts {
			return l, fmt.Errorf("field %s: only a choice takes options after a colon", l.name)
		}
	}
	if len(parts) > 2 && parts[2] != "" {
		l.labelSrc = parts[2]
	}
	if len(parts) > 3 {
		l.dSrc = parts[3]
	}
	return l, nil
}

// formLines returns the raw lines of a fields param.
func formLines(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, it := range x {
			s, ok := it.(string)
			if !ok {
				s = ToString(it)
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

// formFieldNames names the variables a dialog.input node sets (Spec.Sets).
func formFieldNames(params map[string]any) []string {
	var out []string
	for _, s := range formLines(params["fields"]) {
		if l, err := parseFormLine(s); err == nil {
			out = append(out, l.name)
		}
	}
	return out
}

func newDialogInput(p *Params) (Activity, error) {
	title, msg := p.Template("title"), p.Template("message")
	raw, _ := p.raw("fields")
	if raw != nil {
		if _, ok := raw.([]any); !ok {
			if _, ok := raw.(string); !ok {
				p.Fail("fields", "want a list of lines (name | kind | Label | default), got %s", describe(raw))
			}
		}
	}
	var lines []formLine
	seen := map[string]bool{}
	for i, s := range formLines(raw) {
		if strings.TrimSpace(s) == "" {
			continue
		}
		l, err := parseFormLine(s)
		if err != nil {
			p.Fail("fields", "line %d: %v", i+1, err)
			continue
		}
		if seen[l.name] {
			p.Fail("fields", "line %d: field %s appears twice", i+1, l.name)
			continue
		}
		seen[l.name] = true
		var err1, err2 error
		if l.label, err1 = CompileTemplate(l.labelSrc, p.known); err1 == nil {
			l.label.field = "fields." + l.name + ".label"
		}
		if l.deflt, err2 = CompileTemplate(l.dSrc, p.known); err2 == nil {
			l.deflt.field = "fields." + l.name + ".default"
		}
		if err := errors.Join(err1, err2); err != nil {
			p.Fail("fields", "line %d: %v", i+1, err)
			continue
		}
		if l.deflt.IsConst() && l.dSrc != "" {
			f := FormField{Name: l.name, Kind: l.kind, Options: l.options}
			if _, err := FormValue(f, l.dSrc); err != nil {
				p.Fail("fields", "line %d: default: %v", i+1, err)
				continue
			}
		}
		lines = append(lines, l)
	}
	if raw != nil && len(lines) == 0 && len(p.errs) == 0 {
		p.Fail("fields", "the form has no fields")
	}
	return ActivityFunc(func(ctx context.Context, c *Call) (string, error) {
		var f Form
		var err error
		if f.Title, err = c.Text(title); err != nil {
			return "", fmt.Errorf("title: %w", err)
		}
		if f.Text, err = c.Text(msg); err != nil {
			return "", fmt.Errorf("message: %w", err)
		}
		for _, l := range lines {
			ff := FormField{Name: l.name, Kind: l.kind, Options: l.options}
			if ff.Label, err = c.Text(l.label); err != nil {
				return "", fmt.Errorf("fields: %s: label: %w", l.name, err)
			}
			if ff.Default, err = c.Text(l.deflt); err != nil {
				return "", fmt.Errorf("fields: %s: default: %w", l.name, err)
			}
			if ff.Default != "" {
				if _, err := FormValue(ff, ff.Default); err != nil {
					return "", fmt.Errorf("fields: %s: default: %w", l.name, err)
				}
			}
			f.Fields = append(f.Fields, ff)
		}
		what := fmt.Sprintf("form %q", clipText(f.Title))
		d, err := dialogs(c, what)
		if err != nil {
			return "", err
		}
		c.Waiting("the user to fill in the " + what)
		answers, err := d.Form(ctx, f)
		if err != nil {
			return cancelled(c, what, err)
		}
		// Every field must have come back, checked and converted: an
		// answerer (a script, a terminal) cannot slip a wrong type in.
		vals := make(map[string]any, len(f.Fields))
		for _, ff := range f.Fields {
			a, ok := answers[ff.Name]
			if !ok {
				return "", fmt.Errorf("%s: no answer for field %s", what, ff.Name)
			}
			if n, isNum := a.(float64); isNum && ff.Kind == FormNumber {
				vals[ff.Name] = n
				continue
			}
			s, isStr := a.(string)
			if !isStr {
				return "", fmt.Errorf("%s: field %s: the answer is %s, want text", what, ff.Name, describe(a))
			}
			v, err := FormValue(ff, s)
			if err != nil {
				return "", fmt.Errorf("%s: field %s: %w", what, ff.Name, err)
			}
			if ff.Kind == FormPassword {
				redact.Add(s)
			}
			vals[ff.Name] = v
		}
		for _, ff := range f.Fields {
			if err := c.Set(ff.Name, vals[ff.Name]); err != nil {
				return "", err
			}
		}
		c.Output("fields", len(f.Fields))
		return PortNext, nil
	}), nil
}

// filterList normalises extensions: "*.csv", "csv" and ".CSV" are ".csv".
func filterList(c *Call, ts []*Template) ([]string, error) {
	var out []string
	for _, t := range ts {
		s, err := c.Text(t)
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			e = strings.ToLower(strings.TrimPrefix(e, "*"))
			if e == "" || e == "." {
				continue
			}
			if !strings.HasPrefix(e, ".") {
				e = "." + e
			}
			if strings.ContainsAny(e[1:], `./\*?`) {
				return nil, fmt.Errorf("filter: %q is not a file extension such as .csv", s)
			}
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func newDialogPickFile(p *Params) (Activity, error) {
	title, mode, filter := p.Template("title"), p.Select("mode"), p.List("filter")
	folder, name, out := p.Template("folder"), p.Template("name"), p.Var("output")
	return pickActivity(title, folder, out, func(c *Call, pk *Pick) error {
		pk.Save = mode == "save"
		var err error
		if pk.Filter, err = filterList(c, filter); err != nil {
			return err
		}
		if pk.Name, err = c.Text(name); err != nil {
			return fmt.Errorf("name: %w", err)
		}
		return nil
	}), nil
}

func newDialogPickFolder(p *Params) (Activity, error) {
	return pickActivity(p.Template("title"), p.Template("folder"), p.Var("output"), func(_ *Call, pk *Pick) error {
		pk.Folder = true
		return nil
	}), nil
}

func pickActivity(title, folder *Template, out string, fill func(*Call, *Pick) error) Activity {
	return ActivityFunc(func(ctx context.Context, c *Call) (string, error) {
		var pk Pick
		var err error
		if pk.Title, err = c.Text(title); err != nil {
			return "", fmt.Errorf("title: %w", err)
		}
		if !folder.IsConst() || folder.Source != "" {
			if pk.Dir, err = c.Path(folder); err != nil {
				return "", fmt.Errorf("folder: %w", err)
			}
		}
		if err := fill(c, &pk); err != nil {
			return "", err
		}
		kind := "file"
		if pk.Folder {
			kind = "folder"
		}
		what := fmt.Sprintf("%s choice %q", kind, clipText(pk.Title))
		d, err := dialogs(c, what)
		if err != nil {
			return "", err
		}
		c.Waiting("the user to choose a " + kind)
		path, err := d.Pick(ctx, pk)
		if err != nil {
			return cancelled(c, what, err)
		}
		if path == "" {
			return "", fmt.Errorf("%s: no path came back", what)
		}
		if !filepath.IsAbs(path) {
			path = Resolve(c.BaseDir(), path)
		}
		if !pk.Save {
			st, err := isFolder(path)
			if err != nil {
				return "", fmt.Errorf("%s: %w", what, err)
			}
			if st != pk.Folder {
				if pk.Folder {
					return "", fmt.Errorf("%s: %s is a file, not a folder", what, path)
				}
				return "", fmt.Errorf("%s: %s is a folder, not a file", what, path)
			}
		}
		if !pk.Folder && !MatchesFilter(path, pk.Filter) {
			return "", fmt.Errorf("%s: %s does not have one of the extensions %s", what, path, strings.Join(pk.Filter, ", "))
		}
		c.Output("path", path)
		return PortNext, c.Set(out, path)
	})
}

// isFolder reports whether path is a folder; it fails when there is none.
func isFolder(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}

// clipText shortens a text for an error message.
func clipText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return s
}
