package robot_test

import (
	"bufio"
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
)

// The X tests share one Xvfb with jwm per test binary: robotgo keeps its
// Xlib display open for the life of the process.

var xs struct {
	once    sync.Once
	err     error
	display string
	dir     string
	procs   []*exec.Cmd
	robot   *robot.Robot
	formapp string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if xs.robot != nil {
		// Close the X connection before the server goes, or xgb panics
		// on the broken connection.
		xs.robot.Close()
		time.Sleep(100 * time.Millisecond)
	}
	for i := len(xs.procs) - 1; i >= 0; i-- {
		stopProc(xs.procs[i])
	}
	if xs.dir != "" {
		os.RemoveAll(xs.dir)
	}
	os.Exit(code)
}

func stopProc(c *exec.Cmd) {
	if c.Process == nil {
		return
	}
	syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// requiredTools are the programs the X tests need (Debian: xvfb, jwm,
// x11-utils, xdotool, xclip).
var requiredTools = []string{"Xvfb", "jwm", "xprop", "xdotool", "xclip"}

// xserver starts (once) Xvfb on a free display, jwm, and builds the form
// program. Missing tools fail the test with a hint, except in -short mode,
// where the test is skipped.
func xserver(t *testing.T) *robot.Robot {
	t.Helper()
	var missing []string
	for _, tool := range requiredTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
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
	// Xvfb picks a free display number and writes it to -displayfd.
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	xvfb.ExtraFiles = []*os.File{pw}
	xvfb.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	xlog, _ := os.Create(filepath.Join(dir, "xvfb.log"))
	xvfb.Stdout, xvfb.Stderr = xlog, xlog
	if err := xvfb.Start(); err != nil {
		return fmt.Errorf("start Xvfb: %w", err)
	}
	pw.Close()
	xs.procs = append(xs.procs, xvfb)
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if n == "" {
			b, _ := os.ReadFile(filepath.Join(dir, "xvfb.log"))
			return fmt.Errorf("Xvfb gave no display number: %s", b)
		}
		xs.display = ":" + n
	case <-time.After(20 * time.Second):
		return fmt.Errorf("Xvfb did not start within 20s")
	}
	os.Setenv("DISPLAY", xs.display)
	os.Setenv("FYNE_SCALE", "1")
	os.Setenv("LANG", "en_US.UTF-8")

	jwm := exec.Command("jwm")
	jwm.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	jlog, _ := os.Create(filepath.Join(dir, "jwm.log"))
	jwm.Stdout, jwm.Stderr = jlog, jlog
	if err := jwm.Start(); err != nil {
		return fmt.Errorf("start jwm: %w", err)
	}
	xs.procs = append(xs.procs, jwm)
	// A window manager is up once the root has _NET_SUPPORTING_WM_CHECK.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := exec.Command("xprop", "-root", "_NET_SUPPORTING_WM_CHECK").Output()
		if strings.Contains(string(out), "window id") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("jwm did not set _NET_SUPPORTING_WM_CHECK within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	r, err := robot.Open()
	if err != nil {
		return err
	}
	xs.robot = r
	// The target program, built from testdata.
	xs.formapp = filepath.Join(dir, "formapp")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-o", xs.formapp, "deskbot/engine/desktop/testdata/formapp")
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

func (f *form) read(t *testing.T) formState {
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
func startForm(t *testing.T, r *robot.Robot, title string) *form {
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
		stopProc(f.cmd)
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
