package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
)

// An attended run in the real studio under Xvfb, with "Minimize while
// running" on: the dialog opens in a window of its own that shows while the
// studio is minimized, and closing that window (the window manager's close,
// as a person does) follows the cancel port.
func TestRealDialogWindowUnderXvfb(t *testing.T) {
	x := startX(t)
	dir := t.TempDir()
	f := engine.NewFlow("Dialog test")
	add := func(id, typ string, xpos float32, params map[string]any) {
		f.Nodes = append(f.Nodes, &engine.Node{ID: id, Type: typ, Params: params, Position: engine.Point{X: xpos, Y: 40}})
	}
	add("ask", "dialog.input", 250, map[string]any{"title": "Who signs the order", "fields": []any{"name | text | Name"}})
	add("fill", "file.write_text", 500, map[string]any{"path": "answer.txt", "text": "{{ name }}"})
	add("gone", "file.write_text", 750, map[string]any{"path": "answer.txt", "text": "cancelled"})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "ask"}, {From: "ask", Port: "next", To: "fill"}, {From: "ask", Port: "cancel", To: "gone"}}
	flowPath := filepath.Join(dir, "dialog.json")
	if err := f.Save(flowPath); err != nil {
		t.Fatal(err)
	}
	prefs := filepath.Join(dir, "config", "fyne", "io.deskbot.studio", "preferences.json")
	os.MkdirAll(filepath.Dir(prefs), 0o755)
	if err := os.WriteFile(prefs, []byte(`{"`+PrefMinimize+`": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	win, logs := x.openStudio(t, flowPath, "Dialog test")
	state := func(id string) string {
		out, _ := x.cmd("xprop", "-id", id, "WM_STATE").Output()
		return string(out)
	}
	dialogWin := func() string {
		out, _ := x.cmd("xdotool", "search", "--name", "Who signs the order").Output()
		for _, id := range strings.Fields(string(out)) {
			if strings.Contains(state(id), "Normal") {
				return id
			}
		}
		return ""
	}
	time.Sleep(1500 * time.Millisecond)
	var dlg string
	for end := time.Now().Add(patience); dlg == "" && time.Now().Before(end); {
		_ = x.cmd("xdotool", "windowactivate", "--sync", win).Run()
		if out, err := x.cmd("xdotool", "key", "--window", win, "F5").CombinedOutput(); err != nil {
			t.Fatalf("xdotool: %v %s", err, out)
		}
		waitFor(10*time.Second, func() bool { dlg = dialogWin(); return dlg != "" })
	}
	if dlg == "" {
		t.Fatalf("no dialog window showed; output:\n%s", logs.String())
	}
	if !waitFor(patience, func() bool { return strings.Contains(state(win), "Iconic") }) {
		t.Errorf("the studio is not minimized while the dialog shows: %s", state(win))
	}
	// The window manager's close (jwm: alt+F4) sends WM_DELETE_WINDOW.
	for end := time.Now().Add(patience); dialogWin() != "" && time.Now().Before(end); {
		_ = x.cmd("xdotool", "windowactivate", "--sync", dlg).Run()
		_ = x.cmd("xdotool", "key", "--window", dlg, "alt+F4").Run()
		waitFor(5*time.Second, func() bool { return dialogWin() == "" })
	}
	answer := filepath.Join(dir, "answer.txt")
	if !waitFor(patience, func() bool { b, _ := os.ReadFile(answer); return string(b) == "cancelled" }) {
		b, _ := os.ReadFile(answer)
		t.Fatalf("answer.txt %q; output:\n%s", b, logs.String())
	}
	if !waitFor(patience, func() bool { return strings.Contains(state(win), "Normal") }) {
		t.Errorf("the studio did not come back after the run: %s", state(win))
	}
}
