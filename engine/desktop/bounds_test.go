package desktop_test

import (
	"errors"
	"image"
	"strings"
	"testing"

	"deskbot/engine"
	"deskbot/engine/desktop"
)

// window.get_bounds reads a window's content area into an object;
// window.set_bounds changes the parts given and keeps the others.
func TestWindowBounds(t *testing.T) {
	fake := desktop.NewFake()
	fake.SetWindows([]desktop.Window{
		{ID: 1, Title: "Invoices - LibreOffice Calc", Bounds: image.Rect(0, 0, 600, 400)},
		{ID: 2, Title: "Untitled - Notepad", Bounds: image.Rect(100, 100, 700, 500)},
	}, 0)
	f := chain(
		step{"get", "window.get_bounds", map[string]any{"title": "notepad", "output": "b"}},
		step{"set", "window.set_bounds", map[string]any{"title": "notepad", "x": "b.x + 50", "width": 320.0}},
		step{"get2", "window.get_bounds", map[string]any{"title": "notepad", "output": "b2"}},
		step{"active", "window.get_bounds", map[string]any{}},
	)
	r := runFlow(t, f, fake, nil)
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	want := map[string]any{"x": 100.0, "y": 100.0, "width": 600.0, "height": 400.0}
	if got, _ := r.res.Vars["b"].(map[string]any); !equalMaps(got, want) {
		t.Errorf("b = %v, want %v", r.res.Vars["b"], want)
	}
	want2 := map[string]any{"x": 150.0, "y": 100.0, "width": 320.0, "height": 400.0}
	if got, _ := r.res.Vars["b2"].(map[string]any); !equalMaps(got, want2) {
		t.Errorf("b2 = %v, want %v", r.res.Vars["b2"], want2)
	}
	if got, _ := r.res.Vars["bounds"].(map[string]any); got["width"] != 600.0 {
		t.Errorf("active window's bounds = %v", r.res.Vars["bounds"])
	}
	if !strings.Contains(strings.Join(fake.Lines(), "\n"), `set bounds of window "Untitled - Notepad" (0x2) to 150,100 320x400`) {
		t.Errorf("fake lines: %q", fake.Lines())
	}

	// No such window: a clear error naming the windows there are.
	r = runFlow(t, chain(step{"set", "window.set_bounds", map[string]any{"title": "Paint", "width": 10.0}}), fake, nil)
	if r.err == nil || !errors.Is(r.err, desktop.ErrNotFound) || !strings.Contains(r.err.Error(), "Untitled - Notepad") {
		t.Errorf("missing window: %v", r.err)
	}
	// A size of 0 is refused before the desktop is touched.
	r = runFlow(t, chain(step{"set", "window.set_bounds", map[string]any{"title": "calc", "height": 0.0}}), fake, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "above 0") {
		t.Errorf("zero height: %v", r.err)
	}
	// Nothing to set is a field error.
	_, err := engine.Prepare(chain(step{"set", "window.set_bounds", map[string]any{"title": "calc"}}), engine.Default, "")
	var fe *engine.FieldError
	if !errors.As(err, &fe) || fe.Field != "x" {
		t.Errorf("no bounds given: %v", err)
	}
}

func equalMaps(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
