package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"deskbot/engine"
)

// wireDialogs lets `deskbot run` answer a flow's dialogs on its terminal:
// prompts on out, answers from in. Without a terminal on standard input
// every dialog fails with an error that says where the flow can run.
func wireDialogs(opts *engine.Options, in *os.File, out io.Writer) {
	if !isTerminal(in) {
		engine.UseDialogs(opts, noTerminal{})
		return
	}
	engine.UseDialogs(opts, &termDialogs{in: in, out: out})
}

// noTerminal answers no dialog.
type noTerminal struct{}

var errNoTerminal = errors.New("this flow asks the user, but deskbot run has no terminal to ask on (its standard input is not a terminal); run it in the studio or on a terminal")

func (noTerminal) Message(context.Context, engine.Message) error         { return errNoTerminal }
func (noTerminal) Confirm(context.Context, engine.Confirm) (bool, error) { return false, errNoTerminal }
func (noTerminal) Form(context.Context, engine.Form) (map[string]any, error) {
	return nil, errNoTerminal
}
func (noTerminal) Pick(context.Context, engine.Pick) (string, error) { return "", errNoTerminal }

// termDialogs asks on a terminal. One goroutine reads lines from in for
// the whole run, so that a dialog stops waiting as soon as the run is
// stopped (Ctrl-C, a node timeout) while the read goes on.
type termDialogs struct {
	in  *os.File
	out io.Writer

	start sync.Once
	lines chan termLine
	mu    sync.Mutex // one dialog at a time
}

type termLine struct {
	s   string
	err error
}

func (d *termDialogs) reader() {
	lines := make(chan termLine)
	d.lines = lines
	go func() {
		r := bufio.NewReader(d.in)
		for {
			s, err := r.ReadString('\n')
			if s != "" || err == nil {
				lines <- termLine{s: strings.TrimRight(s, "\r\n")}
			}
			if err != nil {
				lines <- termLine{err: err}
				return
			}
		}
	}()
}

// line shows prompt and reads one line; secret turns echo off while the
// line is typed. The end of input is ErrDialogCancelled.
func (d *termDialogs) line(ctx context.Context, prompt string, secret bool) (string, error) {
	d.start.Do(d.reader)
	if secret {
		if restore := echoOff(int(d.in.Fd())); restore != nil {
			defer func() {
				restore()
				fmt.Fprintln(d.out) // the Enter that was not echoed
			}()
		}
	}
	fmt.Fprint(d.out, prompt)
	select {
	case l, ok := <-d.lines:
		if !ok || l.err != nil {
			fmt.Fprintln(d.out)
			d.lines = closedLines
			return "", engine.ErrDialogCancelled
		}
		return l.s, nil
	case <-ctx.Done():
		fmt.Fprintln(d.out)
		return "", context.Cause(ctx)
	}
}

// closedLines is read once the input has ended: every later dialog is
// cancelled at once.
var closedLines = func() chan termLine { c := make(chan termLine); close(c); return c }()

func (d *termDialogs) header(title, text string) {
	if title != "" {
		fmt.Fprintf(d.out, "\n== %s ==\n", title)
	} else {
		fmt.Fprintln(d.out)
	}
	if text != "" {
		fmt.Fprintln(d.out, text)
	}
}

func (d *termDialogs) Message(ctx context.Context, m engine.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	title := m.Title
	if m.Level == engine.LevelWarning || m.Level == engine.LevelError {
		title = strings.ToUpper(m.Level) + ": " + title
	}
	d.header(title, m.Text)
	_, err := d.line(ctx, "Press Enter to go on. ", false)
	return err
}

func (d *termDialogs) Confirm(ctx context.Context, q engine.Confirm) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	yes, no := orDefault(q.Yes, "Yes"), orDefault(q.No, "No")
	d.header(q.Title, q.Text)
	for {
		a, err := d.line(ctx, fmt.Sprintf("[y] %s / [n] %s? ", yes, no), false)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(a)) {
		case "y", "yes", strings.ToLower(yes):
			return true, nil
		case "n", "no", strings.ToLower(no):
			return false, nil
		}
		fmt.Fprintf(d.out, "Please answer y (%s) or n (%s).\n", yes, no)
	}
}

func (d *termDialogs) Form(ctx context.Context, f engine.Form) (map[string]any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.header(f.Title, f.Text)
	out := make(map[string]any, len(f.Fields))
	for _, ff := range f.Fields {
		prompt := ff.Label
		if ff.Kind == engine.FormChoice {
			var opts []string
			for i, o := range ff.Options {
				opts = append(opts, fmt.Sprintf("%d) %s", i+1, o))
			}
			fmt.Fprintf(d.out, "%s: %s\n", ff.Label, strings.Join(opts, "  "))
			prompt = "Choose"
		}
		if ff.Default != "" && ff.Kind != engine.FormPassword {
			prompt += " [" + ff.Default + "]"
		}
		for {
			a, err := d.line(ctx, prompt+": ", ff.Kind == engine.FormPassword)
			if err != nil {
				return nil, err
			}
			if a == "" {
				a = ff.Default
			}
			if ff.Kind == engine.FormChoice {
				if n, err := strconv.Atoi(strings.TrimSpace(a)); err == nil && n >= 1 && n <= len(ff.Options) {
					a = ff.Options[n-1]
				}
				a = strings.TrimSpace(a)
			}
			v, err := engine.FormValue(ff, a)
			if err != nil {
				fmt.Fprintf(d.out, "%v; try again.\n", err)
				continue
			}
			out[ff.Name] = v
			break
		}
	}
	return out, nil
}

func (d *termDialogs) Pick(ctx context.Context, p engine.Pick) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	what := "file to open"
	switch {
	case p.Folder:
		what = "folder"
	case p.Save:
		what = "file to save"
	}
	if len(p.Filter) > 0 {
		what += ", " + strings.Join(p.Filter, " ")
	}
	d.header(p.Title, "")
	prompt := fmt.Sprintf("Path of the %s", what)
	def := ""
	if p.Save && p.Name != "" {
		def = p.Name
		if p.Dir != "" {
			def = filepath.Join(p.Dir, p.Name)
		}
		prompt += " [" + def + "]"
	} else if p.Dir != "" {
		prompt += " (relative to " + p.Dir + ")"
	}
	for {
		a, err := d.line(ctx, prompt+": ", false)
		if err != nil {
			return "", err
		}
		a = strings.TrimSpace(a)
		if a == "" {
			a = def
		}
		if a == "" {
			continue
		}
		path := expandPath(a, p.Dir)
		if msg := pickProblem(p, path); msg != "" {
			fmt.Fprintf(d.out, "%s; try again.\n", msg)
			continue
		}
		return path, nil
	}
}

// expandPath makes a typed path absolute: ~ is the home folder, and a
// relative path is relative to dir, or to the current folder.
func expandPath(a, dir string) string {
	if a == "~" || strings.HasPrefix(a, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			a = filepath.Join(home, a[1:])
		}
	}
	if !filepath.IsAbs(a) && dir != "" {
		a = filepath.Join(dir, a)
	}
	if abs, err := filepath.Abs(a); err == nil {
		a = abs
	}
	return a
}

// pickProblem says what is wrong with a typed path, or "".
func pickProblem(p engine.Pick, path string) string {
	st, err := os.Stat(path)
	switch {
	case p.Folder && err != nil:
		return fmt.Sprintf("there is no folder %s", path)
	case p.Folder && !st.IsDir():
		return fmt.Sprintf("%s is a file, not a folder", path)
	case !p.Save && err != nil:
		return fmt.Sprintf("there is no file %s", path)
	case err == nil && st.IsDir() && !p.Folder:
		return fmt.Sprintf("%s is a folder, not a file", path)
	case !p.Folder && !engine.MatchesFilter(path, p.Filter):
		return fmt.Sprintf("%s does not end in %s", filepath.Base(path), strings.Join(p.Filter, " or "))
	case p.Save:
		if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
			return fmt.Sprintf("there is no folder %s", filepath.Dir(path))
		}
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
