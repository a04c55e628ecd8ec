// Package xvfbtest starts throwaway X servers for tests that need a real
// display: Xvfb on a free display number (chosen by Xvfb itself through
// -displayfd, so parallel test binaries never collide) and, when asked, the
// jwm window manager, waited for until it has set
// _NET_SUPPORTING_WM_CHECK on the root window.
//
// The Debian packages are xvfb, jwm and x11-utils (xprop); `make deps`
// installs them.
package xvfbtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Options choose the server.
type Options struct {
	// Screen is Xvfb's screen 0, "WIDTHxHEIGHTxDEPTH"; "" is 1280x800x24.
	Screen string
	// WM starts jwm and waits for it.
	WM bool
	// Tools are further programs the test needs (xdotool, xclip...); a
	// missing one is reported with the others.
	Tools []string
}

// Server is a running X server (and window manager).
type Server struct {
	// Display is the DISPLAY value, e.g. ":3".
	Display string
	procs   []*exec.Cmd
	logs    []*strings.Builder
}

// Missing lists the programs of o that are not on PATH.
func Missing(o Options) []string {
	need := append([]string{"Xvfb"}, o.Tools...)
	if o.WM {
		need = append(need, "jwm", "xprop")
	}
	var missing []string
	for _, t := range need {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	return missing
}

// New starts a server. Stop it when done.
func New(o Options) (*Server, error) {
	if m := Missing(o); len(m) > 0 {
		return nil, fmt.Errorf("X tests need %s, which are not installed: run `make deps`", strings.Join(m, ", "))
	}
	if o.Screen == "" {
		o.Screen = "1280x800x24"
	}
	s := &Server{}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	xvfb := s.command("Xvfb", "-displayfd", "3", "-screen", "0", o.Screen, "-nolisten", "tcp", "-noreset")
	xvfb.ExtraFiles = []*os.File{pw}
	err = xvfb.Start()
	pw.Close()
	if err != nil {
		return nil, fmt.Errorf("start Xvfb: %w", err)
	}
	s.procs = append(s.procs, xvfb)
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if n == "" {
			s.Stop()
			return nil, fmt.Errorf("Xvfb gave no display number: %s", s.logs[0])
		}
		s.Display = ":" + n
	case <-time.After(20 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("Xvfb did not start within 20s: %s", s.logs[0])
	}
	if !o.WM {
		return s, nil
	}
	jwm := s.command("jwm")
	jwm.Env = s.Env()
	if err := jwm.Start(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("start jwm: %w", err)
	}
	s.procs = append(s.procs, jwm)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c := exec.Command("xprop", "-root", "_NET_SUPPORTING_WM_CHECK")
		c.Env = s.Env()
		if out, _ := c.Output(); strings.Contains(string(out), "window id") {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("jwm did not set _NET_SUPPORTING_WM_CHECK within 15s: %s", s.logs[len(s.logs)-1])
		}
	}
}

// Start is New for one test: it skips in -short mode when tools are
// missing, fails the test on errors, and stops the server at cleanup.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	if m := Missing(o); len(m) > 0 && testing.Short() {
		tb.Skipf("X test needs %s (run `make deps`); skipped in -short mode", strings.Join(m, ", "))
	}
	s, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Env is the process environment with DISPLAY set to the server.
func (s *Server) Env() []string {
	return append(os.Environ(), "DISPLAY="+s.Display)
}

// command makes a process in its own group that dies with the test where
// the system can tell (ownGroup).
func (s *Server) command(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	ownGroup(c)
	log := &strings.Builder{}
	s.logs = append(s.logs, log)
	c.Stdout, c.Stderr = log, log
	return c
}

// Stop ends the window manager and the server.
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		StopProcess(s.procs[i])
	}
	s.procs = nil
}

// StopProcess ends a process started in its own process group (Setpgid),
// children included: TERM, then KILL after 3 s; it waits for the end.
func StopProcess(c *exec.Cmd) {
	if c.Process == nil {
		return
	}
	signalGroup(c, false)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		signalGroup(c, true)
		<-done
	}
}
