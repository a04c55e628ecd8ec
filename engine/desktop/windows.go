package desktop

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "app.open", Title: "Open application", Category: "Apps", SideEffects: true, Icon: "fileApplication",
		Summary: "Starts a program, or opens a file or URL with its default application, and optionally waits for its window.",
		Doc: "A target that is a URL (https://...) or an existing file that is not a program opens with xdg-open; " +
			"anything else is started as a program with the arguments. A relative target resolves against the flow's folder " +
			"when it has a path separator (`docs/report.pdf`, `./run.sh`) or names a file there; a bare name found on PATH " +
			"(`gedit`) is that program. With a window title the step waits until such a window shows (and fails after the timeout).",
		Fields: []engine.Field{
			{Name: "target", Title: "Program, file or URL", Kind: engine.KindText, Required: true, Help: "e.g. gedit, docs/report.pdf (in the flow's folder), ~/report.pdf, https://example.com"},
			{Name: "args", Title: "Arguments", Kind: engine.KindList, Help: "For programs only."},
			{Name: "wait_window", Title: "Wait for window titled", Kind: engine.KindText, Help: "Empty: do not wait."},
			fMatch, fTimeout("15s"),
			{Name: "pid", Title: "Process id into variable", Kind: engine.KindVar, Advanced: true},
		},
		New: newOpen,
	})
	engine.Register(engine.Spec{
		Type: "window.activate", Title: "Activate window", Category: "Windows", SideEffects: true, Icon: "viewRestore",
		Summary: "Brings a window to the front and gives it the keyboard focus, found by its title.",
		Doc:     "Waits up to the timeout for such a window. Follows `not_found` when there is none, or fails when that port is not connected. Needs a window manager.",
		Fields: []engine.Field{
			{Name: "title", Title: "Title", Kind: engine.KindText, Required: true},
			fMatch, fTimeout("5s"),
		},
		Ports: []string{engine.PortNext, engine.PortNotFound},
		New:   newActivate,
	})
	engine.Register(engine.Spec{
		Type: "window.wait", Title: "Wait for window", Category: "Windows", SideEffects: true, Icon: "windowMaximize",
		Summary: "Waits until a window with a title shows, or until it is gone.",
		Doc:     "Follows `timeout` when the wait runs out, or fails when that port is not connected.",
		Fields: []engine.Field{
			{Name: "title", Title: "Title", Kind: engine.KindText, Required: true},
			fMatch,
			{Name: "until", Title: "Until the window", Kind: engine.KindSelect, Default: "appears", Options: []string{"appears", "closes"}},
			fTimeout("15s"),
		},
		Ports: []string{engine.PortNext, "timeout"},
		New:   newWaitWindow,
	})
	engine.Register(engine.Spec{
		Type: "window.active_title", Title: "Get active window title", Category: "Windows", SideEffects: true, Icon: "desktop",
		Summary: "Puts the title of the window with the focus into a variable.",
		Fields:  []engine.Field{{Name: "output", Title: "Into variable", Kind: engine.KindVar, Default: "title"}},
		New:     newActiveTitle,
	})
	engine.Register(windowActionSpec("window.close", "Close window", "close", Desktop.CloseWindow,
		"Asks a window to close (like its close button), found by title; with no title, the active window.", ""))
	engine.Register(windowActionSpec("window.minimize", "Minimize window", "minimize", Desktop.MinimizeWindow,
		"Minimizes a window, found by title; with no title, the active window. Activate window brings it back.",
		" Needs a window manager."))
}

func newOpen(p *engine.Params) (engine.Activity, error) {
	target := p.Template("target")
	args := p.List("args")
	var wait *titleMatch
	if p.Has("wait_window") {
		wait = newTitleMatch(p, "wait_window")
	}
	timeout := p.Duration("timeout")
	pidVar := p.Var("pid")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		t, err := e.c.Text(target)
		if err != nil {
			return "", fmt.Errorf("target: %w", err)
		}
		if t == "" {
			return "", fmt.Errorf("target: empty")
		}
		t = resolveTarget(e.c.BaseDir(), t)
		var as []string
		for i, a := range args {
			s, err := e.c.Text(a)
			if err != nil {
				return "", fmt.Errorf("args item %d: %w", i+1, err)
			}
			as = append(as, s)
		}
		var pid int
		if err := e.do(ctx, func() error {
			var err error
			pid, err = e.d.Open(ctx, t, as)
			return err
		}); err != nil {
			return "", err
		}
		e.c.Output("pid", pid)
		if pidVar != "" {
			if err := e.c.Set(pidVar, pid); err != nil {
				return "", err
			}
		}
		if wait == nil {
			return "", nil
		}
		match, desc, err := wait.matcher(e.c)
		if err != nil {
			return "", err
		}
		if e.dry {
			e.note("wait up to %s for a window %s", timeout, desc)
			return "", nil
		}
		e.c.Waiting(fmt.Sprintf("a window %s", desc))
		w, ok, err := e.waitWindow(ctx, match, timeout)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("%s started, but no window %s showed within %s (windows: %s)", t, desc, timeout, windowTitles(e.d))
		}
		e.c.Output("window", w.Title)
		return "", nil
	}}, p.Err()
}

func newActivate(p *engine.Params) (engine.Activity, error) {
	tm := newTitleMatch(p, "title")
	timeout := p.Duration("timeout")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		match, desc, err := tm.matcher(e.c)
		if err != nil {
			return "", err
		}
		if e.dry {
			e.note("activate the window %s (waiting up to %s)", desc, timeout)
			return "", nil
		}
		e.c.Waiting(fmt.Sprintf("a window %s", desc))
		w, ok, err := e.waitWindow(ctx, match, timeout)
		if err != nil {
			return "", err
		}
		if !ok {
			return notFound(e, engine.PortNotFound, fmt.Errorf("no window %s: %w (windows: %s)", desc, ErrNotFound, windowTitles(e.d)))
		}
		if err := e.do(ctx, func() error { return e.d.ActivateWindow(w.ID) }); err != nil {
			return "", fmt.Errorf("activate window %s: %w", w, err)
		}
		// The window manager acts on its own time; wait until it did.
		ok, err = e.poll(ctx, 3*time.Second, 50*time.Millisecond, func() (bool, error) {
			a, err := e.d.ActiveWindow()
			return err == nil && a.ID == w.ID, nil
		})
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("asked the window manager to activate window %s, but it did not within 3s", w)
		}
		e.c.Output("window", w.Title)
		return "", nil
	}}, p.Err()
}

func newWaitWindow(p *engine.Params) (engine.Activity, error) {
	tm := newTitleMatch(p, "title")
	closes := p.Select("until") == "closes"
	timeout := p.Duration("timeout")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		match, desc, err := tm.matcher(e.c)
		if err != nil {
			return "", err
		}
		if e.dry {
			verb := "show"
			if closes {
				verb = "close"
			}
			e.note("wait up to %s for a window %s to %s", timeout, desc, verb)
			return "", nil
		}
		if closes {
			e.c.Waiting(fmt.Sprintf("the window %s to close", desc))
		} else {
			e.c.Waiting(fmt.Sprintf("a window %s", desc))
		}
		ok, err := e.poll(ctx, timeout, 100*time.Millisecond, func() (bool, error) {
			_, found, err := findWindow(e.d, match)
			return found != closes, err
		})
		if err != nil {
			return "", err
		}
		if !ok {
			what := "showed"
			if closes {
				what = "closed"
			}
			return notFound(e, "timeout", fmt.Errorf("no window %s %s within %s (windows: %s)", desc, what, timeout, windowTitles(e.d)))
		}
		return "", nil
	}}, p.Err()
}

func newActiveTitle(p *engine.Params) (engine.Activity, error) {
	out := p.Var("output")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		if err := e.check(ctx); err != nil {
			return "", err
		}
		e.note("read the active window's title")
		w, err := e.d.ActiveWindow()
		if err != nil {
			if e.dry {
				return "", e.c.Set(out, "")
			}
			return "", fmt.Errorf("active window: %w", err)
		}
		e.c.Output("title", w.Title)
		return "", e.c.Set(out, w.Title)
	}}, p.Err()
}

// waitWindow polls every 100 ms, up to timeout, for a window that match
// accepts.
func (e *env) waitWindow(ctx context.Context, match func(string) bool, timeout time.Duration) (w Window, ok bool, err error) {
	ok, err = e.poll(ctx, timeout, 100*time.Millisecond, func() (bool, error) {
		var found bool
		var err error
		w, found, err = findWindow(e.d, match)
		return found, err
	})
	return w, ok, err
}

// windowActionSpec is the spec of window.close and window.minimize.
func windowActionSpec(typ, title, verb string, do func(Desktop, uint32) error, summary, doc string) engine.Spec {
	return engine.Spec{
		Type: typ, Title: title, Category: "Windows", SideEffects: true, Summary: summary,
		Icon: map[string]string{"close": "windowClose", "minimize": "windowMinimize"}[verb],
		Doc:  "Follows `not_found` when no window matches, or fails when that port is not connected." + doc,
		Fields: []engine.Field{
			{Name: "title", Title: "Title", Kind: engine.KindText, Help: "Empty for the active window."},
			fMatch,
		},
		Ports: []string{engine.PortNext, engine.PortNotFound},
		New:   func(p *engine.Params) (engine.Activity, error) { return newWindowAction(p, verb, do) },
	}
}

// newWindowAction is window.close and window.minimize: do (verb) to the
// window with the title, or to the active one.
func newWindowAction(p *engine.Params, verb string, do func(Desktop, uint32) error) (engine.Activity, error) {
	var tm *titleMatch
	if p.Has("title") {
		tm = newTitleMatch(p, "title")
	} else {
		p.Select("match")
	}
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		var w Window
		if tm == nil {
			var err error
			if w, err = e.d.ActiveWindow(); err != nil {
				if e.dry {
					e.note("%s the active window", verb)
					return "", nil
				}
				return notFound(e, engine.PortNotFound, fmt.Errorf("no active window to %s: %w", verb, err))
			}
		} else {
			match, desc, err := tm.matcher(e.c)
			if err != nil {
				return "", err
			}
			var ok bool
			if w, ok, err = findWindow(e.d, match); err != nil {
				return "", err
			} else if !ok {
				if e.dry {
					e.note("%s the window %s", verb, desc)
					return "", nil
				}
				return notFound(e, engine.PortNotFound, fmt.Errorf("no window %s to %s: %w (windows: %s)", desc, verb, ErrNotFound, windowTitles(e.d)))
			}
		}
		e.c.Output("window", w.Title)
		return "", e.do(ctx, func() error { return do(e.d, w.ID) })
	}}, p.Err()
}

// resolveTarget makes app.open's target absolute the way the file
// activities resolve paths (engine.Resolve), while a bare program name
// still goes to PATH:
//   - URLs and absolute paths stay as they are; "~/" is the home folder;
//   - a target with a path separator ("docs/report.pdf", "./run.sh") is
//     relative to the flow's folder;
//   - a bare name is a program on PATH when there is one ("gedit"), else a
//     file in the flow's folder when it exists there ("letter.txt"), else
//     left as is (Open then says there is no such program or file).
func resolveTarget(base, t string) string {
	if isURL(t) || filepath.IsAbs(t) {
		return t
	}
	if rest, ok := strings.CutPrefix(t, "~"+string(filepath.Separator)); ok || strings.HasPrefix(t, "~/") {
		if !ok {
			rest = t[2:]
		}
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
		return t
	}
	if strings.ContainsRune(t, '/') || strings.ContainsRune(t, filepath.Separator) {
		return engine.Resolve(base, t)
	}
	if _, err := exec.LookPath(t); err == nil {
		return t
	}
	if p := engine.Resolve(base, t); p != t {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return t
}

// isURL reports whether target is a URL (a scheme of two letters or more,
// so that a Windows drive letter is not one).
func isURL(target string) bool {
	u, err := url.Parse(target)
	return err == nil && len(u.Scheme) > 1 && (u.Host != "" || u.Opaque != "" || u.Scheme == "file")
}
