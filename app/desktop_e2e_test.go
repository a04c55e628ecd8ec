package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// desktopRun is a `deskbot run` of waitingDesktopFlow in progress.
type desktopRun struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    strings.Builder // stdout and stderr
	done   chan struct{}
	exited time.Time
}

func (r *desktopRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// startDesktopRun starts the flow and returns once its desktop step has
// run: from then on the run has taken the hotkey grab (if it could) and
// sits in its 30 s wait.
func startDesktopRun(t *testing.T, env []string, flow string) *desktopRun {
	t.Helper()
	r := &desktopRun{cmd: exec.Command(deskbot(t), "run", flow), done: make(chan struct{})}
	r.cmd.Env = env
	pr, pw := io.Pipe()
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.cmd.Wait()
		r.exited = time.Now()
		pw.Close()
	}()
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.mu.Lock()
			r.out.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done })
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(r.output(), "screen.size"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the run did not reach its desktop step:\n%s", r.output())
		}
	}
	time.Sleep(200 * time.Millisecond)
	return r
}

// stopped waits for the run to end as stopped by the user (exit code 130)
// for reason, and returns how long after since that took.
func (r *desktopRun) stopped(t *testing.T, since time.Time, reason string) time.Duration {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second): // only so that a broken build fails, not hangs
		t.Fatalf("the run did not stop within 60s (%s):\n%s", reason, r.output())
	}
	if code := r.cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit code %d, want 130\n%s", code, r.output())
	}
	if out := r.output(); !strings.Contains(out, "stopped by the user") || !strings.Contains(out, reason) {
		t.Errorf("the output does not say the user stopped it (%s):\n%s", reason, out)
	}
	return r.exited.Sub(since)
}

// TestCLIStopsOnDesktop runs `deskbot run` on a real X server and stops it
// from the desktop: with the stop hotkey (ctrl+alt+q, pressed through XTEST
// by xdotool), through the failsafe corner, and with two runs at once,
// where the second cannot take the hotkey, says so, and still stops at the
// failsafe corner. Every run must end as stopped by the user (exit code
// 130), recorded as such.
func TestCLIStopsOnDesktop(t *testing.T) {
	display := startXvfb(t)
	flow := filepath.Join(t.TempDir(), "wait.json")
	if err := os.WriteFile(flow, []byte(waitingDesktopFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	env := append(os.Environ(), "DISPLAY="+display, "DESKBOT_DATA="+data)
	xdo := func(args ...string) (started time.Time) {
		started = time.Now()
		c := exec.Command("xdotool", args...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v\n%s", args, err, out)
		}
		return started
	}
	t.Run("hotkey", func(t *testing.T) {
		xdo("mousemove", "500", "400")
		r := startDesktopRun(t, env, flow)
		t.Logf("stopped %s after the hotkey", r.stopped(t, xdo("key", "ctrl+alt+q"), "stop hotkey"))
	})
	t.Run("failsafe", func(t *testing.T) {
		xdo("mousemove", "500", "400")
		r := startDesktopRun(t, env, flow)
		t.Logf("stopped %s after the failsafe", r.stopped(t, xdo("mousemove", "0", "0"), "failsafe"))
	})
	t.Run("hotkey taken", func(t *testing.T) {
		xdo("mousemove", "500", "400")
		first := startDesktopRun(t, env, flow)
		second := startDesktopRun(t, env, flow)
		if out := second.output(); !strings.Contains(out, "warn  the stop hotkey ctrl+alt+q is not available") {
			t.Errorf("the second run does not warn that the hotkey is taken:\n%s", out)
		}
		first.stopped(t, xdo("key", "ctrl+alt+q"), "stop hotkey")
		select {
		case <-second.done:
			t.Fatalf("the hotkey stopped the run without the grab too:\n%s", second.output())
		case <-time.After(300 * time.Millisecond):
		}
		second.stopped(t, xdo("mousemove", "0", "0"), "failsafe")
	})
	r := run(t, data, "runs", "--limit", "10")
	if n := len(regexp.MustCompile(`(?m)\s+stopped\s+node "hold"`).FindAllString(r.stdout, -1)); n != 4 {
		t.Errorf("runs does not list four stopped runs:\n%s%s", r.stdout, r.stderr)
	}
}
