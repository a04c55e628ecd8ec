package desktop

import (
	"context"
	"fmt"
	"image"
	"time"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "window.get_bounds", Title: "Get window position and size", Category: "Windows", SideEffects: true, Icon: "viewFullScreen",
		Summary: "Puts a window's position and size (its content area, in screen pixels) into a variable.",
		Doc: "The variable gets an object with x, y, width and height (e.g. bounds.width). With no title, the active " +
			"window. Follows `not_found` when no window matches, or fails when that port is not connected.",
		Fields: []engine.Field{
			{Name: "title", Title: "Title", Kind: engine.KindText, Help: "Empty for the active window."},
			fMatch,
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Default: "bounds"},
		},
		Ports: []string{engine.PortNext, engine.PortNotFound},
		New:   newGetBounds,
	})
	engine.Register(engine.Spec{
		Type: "window.set_bounds", Title: "Set window position and size", Category: "Windows", SideEffects: true, Icon: "windowMaximize",
		Summary: "Moves and resizes a window: its content area goes to x, y with the width and height given.",
		Doc: "Leave a field empty to keep that part as it is. The step waits up to 3 s for the window to take the new " +
			"bounds and fails, naming the bounds it has, when it does not (a window can refuse a size below its " +
			"minimum). With no title, the active window. Follows `not_found` when no window matches, or fails when " +
			"that port is not connected. Needs a window manager on Linux.",
		Fields: []engine.Field{
			{Name: "title", Title: "Title", Kind: engine.KindText, Help: "Empty for the active window."},
			fMatch,
			{Name: "x", Title: "X", Kind: engine.KindExpr, Help: "Screen x of the content's left edge."},
			{Name: "y", Title: "Y", Kind: engine.KindExpr, Help: "Screen y of the content's top edge."},
			{Name: "width", Title: "Width", Kind: engine.KindExpr},
			{Name: "height", Title: "Height", Kind: engine.KindExpr},
		},
		Ports: []string{engine.PortNext, engine.PortNotFound},
		New:   newSetBounds,
	})
}

// targetWindow finds the window a bounds step acts on: by title, or the
// active one. ok is false when there is none (err says why).
func targetWindow(e *env, tm *titleMatch) (w Window, ok bool, err error) {
	if tm == nil {
		w, err = e.d.ActiveWindow()
		if err != nil {
			return Window{}, false, fmt.Errorf("no active window: %w", err)
		}
		return w, true, nil
	}
	match, desc, err := tm.matcher(e.c)
	if err != nil {
		return Window{}, true, err
	}
	w, found, err := findWindow(e.d, match)
	if err != nil {
		return Window{}, true, err
	}
	if !found {
		return Window{}, false, fmt.Errorf("no window %s: %w (windows: %s)", desc, ErrNotFound, windowTitles(e.d))
	}
	return w, true, nil
}

func boundsValue(r image.Rectangle) map[string]any {
	return map[string]any{"x": float64(r.Min.X), "y": float64(r.Min.Y), "width": float64(r.Dx()), "height": float64(r.Dy())}
}

func newGetBounds(p *engine.Params) (engine.Activity, error) {
	var tm *titleMatch
	if p.Has("title") {
		tm = newTitleMatch(p, "title")
	} else {
		p.Select("match")
	}
	out := p.Var("output")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		if err := e.check(ctx); err != nil {
			return "", err
		}
		w, ok, err := targetWindow(e, tm)
		if !ok {
			if e.dry {
				e.note("read a window's bounds")
				return "", e.c.Set(out, boundsValue(image.Rectangle{}))
			}
			return notFound(e, engine.PortNotFound, err)
		}
		if err != nil {
			return "", err
		}
		e.note("read the bounds of window %s", w)
		e.c.Output("window", w.Title)
		return "", e.c.Set(out, boundsValue(w.Bounds))
	}}, p.Err()
}

func newSetBounds(p *engine.Params) (engine.Activity, error) {
	var tm *titleMatch
	if p.Has("title") {
		tm = newTitleMatch(p, "title")
	} else {
		p.Select("match")
	}
	names := []string{"x", "y", "width", "height"}
	exprs := make([]*engine.Expr, len(names))
	given := false
	for i, n := range names {
		if p.Has(n) {
			exprs[i] = p.Expr(n)
			given = true
		}
	}
	if !given {
		p.Fail("x", "give at least one of x, y, width, height")
	}
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		w, ok, err := targetWindow(e, tm)
		if !ok {
			if e.dry {
				e.note("set a window's bounds")
				return "", nil
			}
			return notFound(e, engine.PortNotFound, err)
		}
		if err != nil {
			return "", err
		}
		v := []int{w.Bounds.Min.X, w.Bounds.Min.Y, w.Bounds.Dx(), w.Bounds.Dy()}
		for i, ex := range exprs {
			if ex == nil {
				continue
			}
			val, err := e.c.Eval(ex)
			if err != nil {
				return "", fmt.Errorf("%s: %w", names[i], err)
			}
			if v[i], err = toInt(names[i], val); err != nil {
				return "", err
			}
		}
		if v[2] <= 0 || v[3] <= 0 {
			return "", fmt.Errorf("width and height must be above 0, not %dx%d", v[2], v[3])
		}
		want := image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3])
		if err := e.do(ctx, func() error { return e.d.SetWindowBounds(w.ID, want) }); err != nil {
			return "", fmt.Errorf("set bounds of window %s: %w", w, err)
		}
		e.c.Output("window", w.Title)
		if e.dry {
			return "", nil
		}
		// The window manager (and the program) act on their own time.
		var got image.Rectangle
		ok, err = e.poll(ctx, 3*time.Second, 50*time.Millisecond, func() (bool, error) {
			ws, err := e.d.Windows()
			if err != nil {
				return false, nil
			}
			for _, x := range ws {
				if x.ID == w.ID {
					got = x.Bounds
				}
			}
			return got == want, nil
		})
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("asked window %s for %d,%d %dx%d, but it has %d,%d %dx%d after 3s", w,
				want.Min.X, want.Min.Y, want.Dx(), want.Dy(), got.Min.X, got.Min.Y, got.Dx(), got.Dy())
		}
		return "", nil
	}}, p.Err()
}
