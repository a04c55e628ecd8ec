package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine/desktop/xvfbtest"
)

// typeIntoEntryFlow activates the window titled "Deskbot probe", types its
// text input and presses Enter.
const typeIntoEntryFlow = `{"format":"deskbot.flow","version":1,"name":"type into a dialog",
 "variables":[{"name":"text","type":"string","default":"","input":true}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"win","type":"window.activate","label":"Find the dialog","params":{"title":"Deskbot probe","match":"exact","timeout":"1m"}},
  {"id":"type","type":"keyboard.type","label":"Type the text","params":{"text":"{{ text }}"}},
  {"id":"ok","type":"keyboard.press","label":"OK","params":{"keys":"enter"}},
  {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"win"},{"from":"win","port":"next","to":"type"},
  {"from":"type","port":"next","to":"ok"},{"from":"ok","port":"next","to":"end"}]}`

// TestTwoRunsKeepCapitalsInGTKDialog drives a program Deskbot did not
// write, Debian's zenity (GTK 3), with two `deskbot run`s in a row on one
// X server. The first types 24 distinct non-ASCII characters, more than
// Xvfb has spare keycodes; the second "Äpfel". Before the keycodes were
// restored at the end of a run, the second run typed "äpfel".
func TestTwoRunsKeepCapitalsInGTKDialog(t *testing.T) {
	if testing.Short() {
		t.Skip("X test")
	}
	xs := xvfbtest.Start(t, xvfbtest.Options{WM: true, Tools: []string{"zenity"}})
	dir := t.TempDir()
	flow := filepath.Join(dir, "type.json")
	if err := os.WriteFile(flow, []byte(typeIntoEntryFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"DISPLAY=" + xs.Display, "DESKBOT_DATA=" + filepath.Join(dir, "data"), "DESKBOT_STOP_HOTKEY=off"}
	for i, text := range []string{"àáâãäåæçèéêëìíîïðñòóôõöø Äpfel", "Äpfel Öl Über Æble"} {
		dialog := exec.Command("zenity", "--entry", "--title", "Deskbot probe", "--text", "Name")
		// UTF-8 output whatever the test process's locale is.
		dialog.Env = append(os.Environ(), "DISPLAY="+xs.Display, "NO_AT_BRIDGE=1", "LC_ALL=C.UTF-8")
		var typed bytes.Buffer
		dialog.Stdout = &typed
		if err := dialog.Start(); err != nil {
			t.Fatal(err)
		}
		r := runEnv(t, env, "", "run", "--var", "text="+text, flow)
		if r.code != 0 {
			dialog.Process.Kill()
			t.Fatalf("run %d: exit %d\n%s%s", i+1, r.code, r.stdout, r.stderr)
		}
		exited := make(chan error, 1)
		go func() { exited <- dialog.Wait() }()
		select {
		case <-exited:
		case <-time.After(time.Minute): // a hang guard, no speed asserted
			dialog.Process.Kill()
			t.Fatalf("run %d: zenity did not close on Enter", i+1)
		}
		if got := strings.TrimSuffix(typed.String(), "\n"); got != text {
			t.Errorf("run %d typed %q, zenity got %q", i+1, text, got)
		}
	}
}
