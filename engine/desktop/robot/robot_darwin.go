//go:build darwin

package robot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/url"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/go-vgo/robotgo"

	"deskbot/engine/desktop"
)

// platform is the macOS state of a Robot: none.
type platform struct{}

// errNotDone is what the parts not done on macOS return.
var errNotDone = errors.New("not done on macOS yet (Deskbot's window functions and stop hotkey are done for X11 and Windows)")

// Open is New returning the concrete type. macOS needs no connection; the
// system asks the user to allow Accessibility and Screen Recording.
func Open() (*Robot, error) { return newRobot(), nil }

// Close implements nothing to close on macOS.
func (r *Robot) Close() error { return nil }

// ScreenSize implements desktop.Desktop.
func (r *Robot) ScreenSize() (int, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, h := robotgo.GetScreenSize()
	return w, h, nil
}

// MousePos implements desktop.Desktop.
func (r *Robot) MousePos() (int, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, y := robotgo.Location()
	return x, y, nil
}

// Scroll implements desktop.Desktop: dy > 0 scrolls down, dx > 0 right.
func (r *Robot) Scroll(dx, dy int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case dy > 0:
		robotgo.ScrollDir(dy, "down")
	case dy < 0:
		robotgo.ScrollDir(-dy, "up")
	}
	switch {
	case dx > 0:
		robotgo.ScrollDir(dx, "right")
	case dx < 0:
		robotgo.ScrollDir(-dx, "left")
	}
	return nil
}

// TypeText implements desktop.Desktop: robotgo types each character as a
// Unicode keyboard event; ctx is checked between characters.
func (r *Robot) TypeText(ctx context.Context, text string, perChar time.Duration) error {
	return r.typeEach(ctx, text, perChar, func(ch rune) error {
		robotgo.TypeStr(string(ch))
		return nil
	})
}

// ClipboardGet implements desktop.Desktop.
func (r *Robot) ClipboardGet() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return robotgo.ReadAll()
}

// ClipboardSet implements desktop.Desktop.
func (r *Robot) ClipboardSet(text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return robotgo.WriteAll(text)
}

// Windows implements desktop.Desktop: not done on macOS.
func (r *Robot) Windows() ([]desktop.Window, error) {
	return nil, fmt.Errorf("list windows: %w", errNotDone)
}

// ActiveWindow implements desktop.Desktop: not done on macOS.
func (r *Robot) ActiveWindow() (desktop.Window, error) {
	return desktop.Window{}, fmt.Errorf("active window: %w", errNotDone)
}

// ActivateWindow implements desktop.Desktop: not done on macOS.
func (r *Robot) ActivateWindow(id uint32) error { return fmt.Errorf("activate window: %w", errNotDone) }

// MinimizeWindow implements desktop.Desktop: not done on macOS.
func (r *Robot) MinimizeWindow(id uint32) error { return fmt.Errorf("minimize window: %w", errNotDone) }

// CloseWindow implements desktop.Desktop: not done on macOS.
func (r *Robot) CloseWindow(id uint32) error { return fmt.Errorf("close window: %w", errNotDone) }

// SetWindowBounds implements desktop.Desktop: not done on macOS.
func (r *Robot) SetWindowBounds(id uint32, b image.Rectangle) error {
	return fmt.Errorf("set window bounds: %w", errNotDone)
}

// Open implements desktop.Desktop: URLs and existing files that are not
// programs go to open(1); anything else is started as a program in its
// own process group.
func (r *Robot) Open(ctx context.Context, target string, args []string) (int, error) {
	prog, pargs := target, args
	if isDocument(target) {
		if len(args) > 0 {
			return 0, fmt.Errorf("open %q: arguments are only for programs", target)
		}
		prog, pargs = "/usr/bin/open", []string{target}
	} else {
		p, err := exec.LookPath(target)
		if err != nil {
			return 0, fmt.Errorf("open %q: no such program or file: %w", target, err)
		}
		prog = p
	}
	cmd := exec.Command(prog, pargs...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("open %q: %w", target, err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait()
	return pid, nil
}

// isDocument reports whether target is a URL or an existing file that is
// not executable.
func isDocument(target string) bool {
	if u, err := url.Parse(target); err == nil && len(u.Scheme) > 1 && (u.Host != "" || u.Scheme == "mailto" || u.Scheme == "file") {
		return true
	}
	fi, err := os.Stat(target)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 == 0
}

// ReleaseAll implements desktop.Desktop: it lets go of the keys and
// buttons held through KeyToggle and MouseButton.
func (r *Robot) ReleaseAll() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for name, k := range r.held {
		if err := robotgo.KeyToggle(k.Name, append([]any{"up"}, mods(k)...)...); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", k, err))
		}
		delete(r.held, name)
	}
	for b := range r.buttons {
		if n, err := rgButton(b); err == nil {
			robotgo.Toggle(n, "up")
		}
		delete(r.buttons, b)
	}
	return errors.Join(errs...)
}

// WatchHotkey implements desktop.HotkeyWatcher: not done on macOS (the
// failsafe corner still stops a run).
func (r *Robot) WatchHotkey(combo string, fn func()) (stop func(), err error) {
	return nil, fmt.Errorf("stop hotkey %q: %w", combo, errNotDone)
}
