package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"deskbot/engine/desktop/xvfbtest"
)

// startXvfb starts a bare X server (no window manager: the stop hotkey and
// the failsafe corner need none) and returns its DISPLAY.
func startXvfb(t *testing.T) string {
	t.Helper()
	return xvfbtest.Start(t, xvfbtest.Options{Screen: "1024x768x24", Tools: []string{"xdotool"}}).Display
}

// A flow that touches the desktop once and then waits: long enough that
// only a stop ends it within the test's patience.
const waitingDesktopFlow = `{
  "format": "deskbot.flow", "version": 1, "name": "wait on the desktop",
  "nodes": [
    {"id": "start", "type": "control.start"},
    {"id": "size", "type": "screen.size", "params": {"output": "screen"}},
    {"id": "hold", "type": "control.wait", "params": {"duration": "30s"}}
  ],
  "edges": [
    {"from": "start", "port": "next", "to": "size"},
    {"from": "size", "port": "next", "to": "hold"}
  ]
}`

// TestCLIStopsOnDesktop runs `deskbot run` on a real X server and stops it
// from the desktop, once with the stop hotkey (ctrl+alt+q, pressed through
// XTEST by xdotool) and once through the failsafe corner. Each run must end
// as stopped by the user (exit code 130), recorded as such.
func TestCLIStopsOnDesktop(t *testing.T) {
	display := startXvfb(t)
	flow := filepath.Join(t.TempDir(), "wait.json")
	if err := os.WriteFile(flow, []byte(waitingDesktopFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	env := append(os.Environ(), "DISPLAY="+display, "DESKBOT_DATA="+data)
	xdo := func(args ...string) {
		c := exec.Command("xdotool", args...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v\n%s", args, err, out)
		}
	}
	for _, tc := range []struct {
		name   string
		stop   []string
		reason string
	}{
		{"hotkey", []string{"key", "ctrl+alt+q"}, "stop hotkey"},
		{"failsafe", []string{"mousemove", "0", "0"}, "failsafe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xdo("mousemove", "500", "400")
			cmd := exec.Command(deskbot(t), "run", flow)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for the desktop step: from then on the run holds the
			// hotkey grab and sits in its 30 s wait.
			sc := bufio.NewScanner(stdout)
			var out strings.Builder
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "screen.size") {
					break
				}
			}
			time.Sleep(200 * time.Millisecond)
			pressed := time.Now()
			xdo(tc.stop...)
			done := make(chan error, 1)
			go func() {
				for sc.Scan() {
					out.WriteString(sc.Text() + "\n")
				}
				done <- cmd.Wait()
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the run did not stop:\n%s%s", out.String(), stderr.String())
			}
			t.Logf("stopped %s after the %s", time.Since(pressed).Round(time.Millisecond), tc.name)
			if code := cmd.ProcessState.ExitCode(); code != 130 {
				t.Errorf("exit code %d, want 130\n%s%s", code, out.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), "stopped") || !strings.Contains(stderr.String(), tc.reason) {
				t.Errorf("stderr does not say the user stopped it (%s):\n%s", tc.reason, stderr.String())
			}
		})
	}
	r := run(t, data, "runs", "--limit", "5")
	if n := len(regexp.MustCompile(`(?m)\s+stopped\s+node "hold"`).FindAllString(r.stdout, -1)); n != 2 {
		t.Errorf("runs does not list two stopped runs:\n%s%s", r.stdout, r.stderr)
	}
}
