//go:build !windows && !darwin

package robot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"deskbot/engine/desktop"
	"deskbot/engine/desktop/robot"
	"deskbot/engine/desktop/xvfbtest"
)

// The X tests share one Xvfb with jwm per test binary: robotgo keeps its
// Xlib display open for the life of the process.

var xs struct {
	once    sync.Once
	err     error
	display string
	dir     string
	server  *xvfbtest.Server
	robot   *robot.Robot
	formapp string
}

func TestMain(m *testing.M) {
	if title := os.Getenv("DESKBOT_TEST_TYPE_RUN"); title != "" {
		os.Exit(typeRunChild(title, os.Getenv("DESKBOT_TEST_TYPE_TEXT")))
	}
	code := m.Run()
	if xs.robot != nil {
		// Close the X connection before the server goes, or xgb panics
		// on the broken connection.
		xs.robot.Close()
		time.Sleep(100 * time.Millisecond)
	}
	if xs.server != nil {
		xs.server.Stop()
	}
	if xs.dir != "" {
		os.RemoveAll(xs.dir)
	}
	os.Exit(code)
}

// xOptions is the shared server: the programs the X tests need come from
// the Debian packages xvfb, jwm, x11-utils, xdotool and xclip.
var xOptions = xvfbtest.Options{Screen: "1280x800x24", WM: true, Tools: []string{"xdotool", "xclip"}}

// xserver starts (once) Xvfb on a free display, jwm, and builds the form
// program. Missing tools fail the test with a hint, except in -short mode,
// where the test is skipped.
func xserver(t testing.TB) *robot.Robot {
	t.Helper()
	missing := xvfbtest.Missing(xOptions)
	if len(missing) > 0 {
		if testing.Short() {
			t.Skipf("X tests need %s (run `make deps`); skipped in -short mode", strings.Join(missing, ", "))
		}
		t.Fatalf("X tests need %s, which are not installed: run `make deps`", strings.Join(missing, ", "))
	}
	xs.once.Do(func() { xs.err = startX() })
	if xs.err != nil {
		t.Fatalf("start the X test session: %v", xs.err)
	}
	return xs.robot
}

func startX() error {
	dir, err := os.MkdirTemp("", "deskbot-x-")
	if err != nil {
		return err
	}
	xs.dir = dir
	srv, err := xvfbtest.New(xOptions)
	if err != nil {
		return err
	}
	xs.server, xs.display = srv, srv.Display
	os.Setenv("DISPLAY", xs.display)
	os.Setenv("FYNE_SCALE", "1")
	os.Setenv("LANG", "en_US.UTF-8")
	r, err := robot.Open()
	if err != nil {
		return err
	}
	xs.robot = r
	// The target program, built from testdata.
	xs.formapp = filepath.Join(dir, "formapp")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-o", xs.formapp, "deskbot/assets/formapp")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the form program: %v\n%s", err, out)
	}
	return nil
}

// formState is what formapp writes.
type formState struct {
	Title      string `json:"title"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Notes      string `json:"notes"`
	Saved      []struct{ Name, Email, Notes string }
	SaveClicks int  `json:"save_clicks"`
	Started    bool `json:"started"`
}

type form struct {
	title string
	state string
	cmd   *exec.Cmd
	win   desktop.Window
}

func (f *form) read(t testing.TB) formState {
	t.Helper()
	var s formState
	b, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatalf("read the form's state: %v", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("form state %s: %v", b, err)
	}
	return s
}

// startForm starts the form program with a title and waits for its window.
func startForm(t testing.TB, r *robot.Robot, title string) *form {
	t.Helper()
	f := &form{title: title, state: filepath.Join(t.TempDir(), "state.json")}
	f.cmd = exec.Command(xs.formapp, "-state", f.state, "-title", title)
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logf, _ := os.Create(filepath.Join(t.TempDir(), "formapp.log"))
	f.cmd.Stdout, f.cmd.Stderr = logf, logf
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start the form program: %v", err)
	}
	t.Cleanup(func() {
		xvfbtest.StopProcess(f.cmd)
		// Wait until the window manager has dropped the window, so that its
		// focus change does not land in the next test.
		waitFor(5*time.Second, func() bool {
			ws, err := r.Windows()
			if err != nil {
				return true
			}
			for _, w := range ws {
				if w.Title == title {
					return false
				}
			}
			return true
		})
		time.Sleep(200 * time.Millisecond)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ws, err := r.Windows()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, w := range ws {
			if w.Title == title {
				f.win, found = w, true
			}
		}
		if found {
			if b, err := os.ReadFile(f.state); err == nil && strings.Contains(string(b), `"started": true`) {
				break
			}
		}
		if time.Now().After(deadline) {
			logb, _ := os.ReadFile(logf.Name())
			t.Fatalf("the form window %q did not show within 30s (windows %v)\n%s", title, ws, logb)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Give the first frame a moment to be drawn.
	time.Sleep(700 * time.Millisecond)
	return f
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

func xdotool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(context.Background(), "xdotool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
	return string(out)
}
