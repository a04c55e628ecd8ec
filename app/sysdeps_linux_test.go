package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"deskbot/engine/desktop/xvfbtest"
)

// TestStudioNamesMissingPieces: what the studio needs from the system and
// cannot find is named, with the Debian package where one is missing: no
// display (a virtual one: xvfb), a Wayland session without XWayland, an X display without OpenGL (Xvfb
// started with GLX off), no OpenGL vendor library, no Mesa DRI driver.
func TestStudioNamesMissingPieces(t *testing.T) {
	cmd := exec.Command(deskbot(t))
	cmd.Env = append(envWithout("DISPLAY"), "WAYLAND_DISPLAY=wayland-0", "DESKBOT_DATA="+t.TempDir())
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "xwayland") {
		t.Errorf("Wayland without DISPLAY:\n%s", out)
	}
	cmd = exec.Command(deskbot(t))
	cmd.Env = append(envWithout("DISPLAY"), "DESKBOT_DATA="+t.TempDir())
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "apt-get install xvfb") {
		t.Errorf("no DISPLAY:\n%s", out)
	}

	if testing.Short() {
		t.Skip("X test")
	}
	xs := xvfbtest.Start(t, xvfbtest.Options{})
	noGLX := xvfbNoGLX(t)
	cmd = exec.Command(deskbot(t))
	cmd.Env = append(envWithout("DISPLAY"), "DISPLAY="+noGLX, "DESKBOT_DATA="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "no OpenGL (its GLX extension is off)") {
		t.Errorf("a display without GLX: %v\n%s", err, out)
	}
	// The same check passes on a display with GLX.
	if err := os.Setenv("DISPLAY", xs.Display); err != nil {
		t.Fatal(err)
	}
	defer os.Unsetenv("DISPLAY")
	if err := checkDisplay(); err != nil {
		t.Errorf("a display with GLX: %v", err)
	}
}

// TestGLDriverHint: the OpenGL driver check on library folders laid out as
// Debian's: nothing missing, no vendor library, Mesa without DRI drivers,
// NVIDIA's (which needs no DRI driver).
func TestGLDriverHint(t *testing.T) {
	lib := func(files ...string) []string {
		d := t.TempDir()
		for _, f := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(d, f)), 0o755)
			os.WriteFile(filepath.Join(d, f), nil, 0o644)
		}
		return []string{filepath.Join(t.TempDir(), "empty"), d}
	}
	if h := glDriverHint(lib("libGLX_mesa.so.0", "dri/swrast_dri.so")); h != "" {
		t.Errorf("Mesa with its drivers: %q", h)
	}
	if h := glDriverHint(lib("libGLX_nvidia.so.0")); h != "" {
		t.Errorf("NVIDIA: %q", h)
	}
	if h := glDriverHint(lib("libGL.so.1")); !strings.Contains(h, "libglx-mesa0") || !strings.Contains(h, "libgl1-mesa-dri") {
		t.Errorf("no vendor library: %q", h)
	}
	if h := glDriverHint(lib("libGLX_mesa.so.0")); !strings.Contains(h, "apt-get install libgl1-mesa-dri") {
		t.Errorf("Mesa without DRI drivers: %q", h)
	}
	// This machine has a driver (the studio's tests open windows).
	if h := glDriverHint(libDirs()); h != "" {
		t.Errorf("this machine: %q", h)
	}
}

// xvfbNoGLX starts an Xvfb without its GLX extension for the test and
// returns its display.
func xvfbNoGLX(t *testing.T) string {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	x := exec.Command("Xvfb", "-displayfd", "3", "-extension", "GLX", "-nolisten", "tcp", "-noreset")
	x.ExtraFiles = []*os.File{pw}
	x.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = x.Start()
	pw.Close()
	if err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	// Xvfb writes its display number once it is ready (or exits).
	line, _ := bufio.NewReader(pr).ReadString('\n')
	if strings.TrimSpace(line) == "" {
		t.Fatal("Xvfb without GLX gave no display number")
	}
	return ":" + strings.TrimSpace(line)
}
