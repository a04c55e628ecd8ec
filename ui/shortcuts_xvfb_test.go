package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
)

// realStudio is the deskbot binary running on an Xvfb display, writing its
// state to a file (DESKBOT_DEBUG_STATE) that the test reads.
type realStudio struct {
	t     *testing.T
	x     *xserver
	win   string
	state string
	logs  *strings.Builder
	last  debugState
}

// startRealStudio runs the deskbot binary on arg (a flow file) in dir and
// waits for a window whose title has name.
func startRealStudio(t *testing.T, x *xserver, dir, arg, name string) *realStudio {
	t.Helper()
	bin := buildDeskbot(t)
	r := &realStudio{t: t, x: x, state: filepath.Join(dir, "state.json"), logs: &strings.Builder{}}
	app := x.cmd(bin, arg)
	app.Env = append(app.Env, "DESKBOT_DATA="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"HOME="+dir, "DESKBOT_DEBUG_STATE="+r.state)
	app.Stdout, app.Stderr = r.logs, r.logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Process.Kill(); app.Wait() })
	if !waitFor(patience, func() bool { r.win = x.findWindow(name); return r.win != "" }) {
		t.Fatalf("no window titled %q; output:\n%s", name, r.logs.String())
	}
	return r
}

// read returns the studio's latest state.
func (r *realStudio) read() debugState {
	b, err := os.ReadFile(r.state)
	if err == nil {
		var st debugState
		if json.Unmarshal(b, &st) == nil {
			r.last = st
		}
	}
	return r.last
}

// wait waits until cond holds for the state, or fails saying what.
func (r *realStudio) wait(what string, cond func(st debugState) bool) debugState {
	r.t.Helper()
	if !waitFor(patience, func() bool { return cond(r.read()) }) {
		r.t.Fatalf("%s: state %+v\noutput:\n%s", what, r.last, r.logs.String())
	}
	return r.last
}

// key activates the studio's window and presses keys (xdotool's names).
func (r *realStudio) key(keys ...string) {
	r.t.Helper()
	_ = r.x.cmd("xdotool", "windowactivate", "--sync", r.win).Run()
	for _, k := range keys {
		if out, err := r.x.cmd("xdotool", "key", "--delay", "60", k).CombinedOutput(); err != nil {
			r.t.Fatalf("xdotool key %s: %v\n%s", k, err, out)
		}
	}
}

// TestEveryShortcutOnRealWindow presses every documented shortcut on the
// real deskbot window under Xvfb with xdotool and checks its effect in the
// state the studio writes: the node count, selection, clipboard, zoom,
// breakpoints, run state, dialogs, windows and saved files.
func TestEveryShortcutOnRealWindow(t *testing.T) {
	x := startX(t)
	dir := t.TempDir()
	f := engine.NewFlow("Shortcut test")
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "hold", Type: "control.wait", Label: "Hold", Params: map[string]any{"duration": "30s"}, Position: engine.Point{X: 250, Y: 0}},
		&engine.Node{ID: "say", Type: "control.log", Label: "Say", Params: map[string]any{"message": "hi"}, Position: engine.Point{X: 500, Y: 0}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "hold"}, {From: "hold", Port: "next", To: "say"}}
	flowPath := filepath.Join(dir, "keys.json")
	if err := f.Save(flowPath); err != nil {
		t.Fatal(err)
	}
	r := startRealStudio(t, x, dir, flowPath, "Shortcut test")
	r.wait("editor open", func(st debugState) bool {
		return !st.StartPage && st.Nodes == 3 && strings.HasSuffix(st.Focus, "FlowCanvas")
	})
	time.Sleep(time.Second) // the window settles

	r.key("ctrl+a")
	r.wait("ctrl+a selects all", func(st debugState) bool { return st.Selected == 3 })
	r.key("ctrl+c")
	r.wait("ctrl+c copies", func(st debugState) bool { return strings.Contains(st.Clipboard, "control.wait") })
	r.key("ctrl+v")
	r.wait("ctrl+v pastes", func(st debugState) bool { return st.Nodes == 5 && st.Dirty })
	r.key("ctrl+z")
	r.wait("ctrl+z undoes", func(st debugState) bool { return st.Nodes == 3 })
	r.key("ctrl+shift+z")
	r.wait("ctrl+shift+z redoes", func(st debugState) bool { return st.Nodes == 5 })
	r.key("ctrl+z")
	r.wait("ctrl+z undoes again", func(st debugState) bool { return st.Nodes == 3 })
	r.key("ctrl+y")
	r.wait("ctrl+y redoes", func(st debugState) bool { return st.Nodes == 5 })
	r.key("ctrl+a", "Delete")
	r.wait("Delete deletes", func(st debugState) bool { return st.Nodes == 0 })
	r.key("ctrl+z")
	r.wait("ctrl+z brings them back", func(st debugState) bool { return st.Nodes == 5 && st.Dirty })
	r.key("ctrl+s")
	r.wait("ctrl+s saves", func(st debugState) bool { return !st.Dirty && !strings.Contains(st.Title, "•") })
	if g, err := engine.LoadFile(flowPath); err != nil || len(g.Nodes) != 5 {
		t.Fatalf("saved file: %v", err)
	}

	z0 := r.read().Zoom
	r.key("ctrl+equal")
	z1 := r.wait("ctrl+= zooms in", func(st debugState) bool { return st.Zoom > z0*1.2 }).Zoom
	r.key("ctrl+minus")
	r.wait("ctrl+- zooms out", func(st debugState) bool { return st.Zoom < z1*0.9 })
	r.key("ctrl+equal", "ctrl+equal")
	z2 := r.wait("ctrl+= twice", func(st debugState) bool { return st.Zoom > z1*1.2 }).Zoom
	r.key("ctrl+0")
	r.wait("ctrl+0 fits", func(st debugState) bool { return st.Zoom < z2*0.9 })
	r.key("ctrl+1")
	r.wait("ctrl+1 shows the actual size", func(st debugState) bool { return st.Zoom == 1 })
	r.key("ctrl+0")
	r.wait("ctrl+0 fits again", func(st debugState) bool { return st.Zoom != 1 })

	// Arrange, group and find; each edit is undone so that the steps below
	// start from the same flow.
	before := r.read().Layout
	r.key("ctrl+shift+a")
	r.wait("ctrl+shift+a arranges", func(st debugState) bool { return st.Layout != before })
	r.key("ctrl+z")
	r.wait("ctrl+z puts the nodes back", func(st debugState) bool { return st.Layout == before })
	r.key("ctrl+a", "ctrl+g")
	r.wait("ctrl+g groups the selection", func(st debugState) bool { return st.Groups == 1 })
	r.key("ctrl+z")
	r.wait("ctrl+z removes the group", func(st debugState) bool { return st.Groups == 0 })
	r.key("ctrl+f")
	r.wait("ctrl+f opens the find bar", func(st debugState) bool { return st.Overlays == 1 && strings.HasSuffix(st.Focus, "findEntry") })
	if out, err := x.cmd("xdotool", "type", "--delay", "40", "Say").CombinedOutput(); err != nil {
		t.Fatalf("xdotool type: %v\n%s", err, out)
	}
	r.wait("typing finds a node", func(st debugState) bool { return st.Selected == 1 })
	r.key("Escape")
	r.wait("Esc closes the find bar", func(st debugState) bool { return st.Overlays == 0 })

	// breakpoints on the original three, then Debug, Step and Stop
	r.key("ctrl+z")
	r.wait("back to three nodes", func(st debugState) bool { return st.Nodes == 3 })
	r.key("ctrl+a", "F9")
	r.wait("F9 sets breakpoints", func(st debugState) bool { return st.Breakpoints == 3 })
	r.key("F6")
	p1 := r.wait("F6 debugs and pauses", func(st debugState) bool { return st.Running && st.Paused != "" }).Paused
	r.key("F10")
	r.wait("F10 steps", func(st debugState) bool { return st.Running && st.Paused != "" && st.Paused != p1 })
	r.key("shift+F5")
	r.wait("shift+F5 stops", func(st debugState) bool { return !st.Running })
	r.key("ctrl+a", "F9")
	r.wait("F9 clears breakpoints", func(st debugState) bool { return st.Breakpoints == 0 })
	r.key("F5")
	r.wait("F5 runs", func(st debugState) bool { return st.Running })
	r.key("Escape")
	r.wait("Esc stops", func(st debugState) bool { return !st.Running })

	r.key("F1")
	r.wait("F1 opens the activity reference", func(st debugState) bool {
		return strings.Contains(strings.Join(st.Windows, "|"), "Activity reference")
	})
	if ref := x.findWindow("Activity reference"); ref == "" {
		t.Fatal("no reference window on the display")
	}

	r.key("ctrl+shift+s")
	r.wait("ctrl+shift+s asks for a name", func(st debugState) bool { return st.Overlays == 1 })
	r.key("ctrl+a")
	if out, err := x.cmd("xdotool", "type", "--delay", "40", "copy-as").CombinedOutput(); err != nil {
		t.Fatalf("xdotool type: %v %s", err, out)
	}
	r.key("Return")
	r.wait("Save As saves", func(st debugState) bool { return st.Overlays == 0 && !st.Dirty })
	if _, err := engine.LoadFile(filepath.Join(dir, "copy-as.json")); err != nil {
		t.Fatalf("Save As in the flow's folder: %v", err)
	}
	r.key("ctrl+n")
	r.wait("ctrl+n starts a new flow", func(st debugState) bool { return st.Nodes == 1 && strings.Contains(st.Title, "Untitled flow") })

	// A text field keeps ctrl+a, ctrl+c, ctrl+v and ctrl+z.
	r.key("ctrl+v")
	r.wait("ctrl+v on the canvas pastes the nodes", func(st debugState) bool { return st.Nodes == 3 })
	_ = x.cmd("xdotool", "mousemove", "--window", r.win, "110", "96", "click", "1").Run()
	r.wait("the palette's search has the focus", func(st debugState) bool { return st.Focus != "" && !strings.HasSuffix(st.Focus, "FlowCanvas") })
	if out, err := x.cmd("xdotool", "type", "--delay", "40", "wait").CombinedOutput(); err != nil {
		t.Fatalf("xdotool type: %v %s", err, out)
	}
	r.key("ctrl+a", "ctrl+c")
	r.wait("ctrl+c in a field copies its text", func(st debugState) bool { return st.Clipboard == "wait" && st.Nodes == 3 && st.Selected == 2 })
	r.key("ctrl+v", "ctrl+z")
	time.Sleep(500 * time.Millisecond)
	if st := r.read(); st.Nodes != 3 {
		t.Fatalf("ctrl+v / ctrl+z in a field changed the flow: %+v", st)
	}

	r.key("ctrl+o")
	r.wait("ctrl+o asks for a file", func(st debugState) bool { return st.Overlays == 1 })
}

// TestBrokenFileOnRealWindow: `deskbot broken.json` opens the window with
// a dialog naming the line and column.
func TestBrokenFileOnRealWindow(t *testing.T) {
	x := startX(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "broken.json")
	os.WriteFile(p, []byte("{\n  \"format\": \"deskbot.flow\",\n  \"nodes\": [,]\n}"), 0o644)
	r := startRealStudio(t, x, dir, p, "Deskbot")
	r.wait("error dialog", func(st debugState) bool {
		return st.StartPage && st.Overlays == 1 && strings.Contains(strings.Join(st.Dialog, " "), "line 3, column 13")
	})
}
