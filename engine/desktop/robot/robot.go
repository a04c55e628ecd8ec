// Package robot is the real Desktop of Deskbot: input, screen capture and
// clipboard through github.com/go-vgo/robotgo (v0.110.8) on every system,
// and what robotgo does not do well per system, one file each:
//
//   - X11 (robot_x11.go, Linux and the BSDs): windows, the stop hotkey, the
//     failsafe pointer checks and Unicode typing over the pure-Go X protocol
//     (robotn/xgb, robotgo's own dependency).
//   - Windows (robot_windows.go): windows, the stop hotkey, the pointer and
//     opening files through user32 and shell32; Unicode typing through
//     SendInput's Unicode events (robotgo's TypeStr).
//   - macOS (robot_darwin.go): input, screen and clipboard through robotgo;
//     window functions and the stop hotkey are not done there and say so.
//
// robotgo's traps under X11 are handled here:
//   - PasteStr types "v" (its modifier map lacks "control"): Deskbot never
//     calls it; pasting is clipboard.set plus keys ctrl+v (KeyTap("v", "ctrl")).
//   - GetTitle and GetPid kill the process with an X BadWindow error when no
//     window manager sets _NET_ACTIVE_WINDOW: Deskbot never calls them. The
//     active window is read from the root window's _NET_ACTIVE_WINDOW
//     property over xgb, after checking that a window manager runs
//     (_NET_SUPPORTING_WM_CHECK), and a missing one is an error.
//   - Window functions need a window manager: they fail with an error that
//     says so.
//   - The clipboard needs xclip or xsel: looked up on PATH at each use, with
//     an error naming the packages.
//   - robotgo's C side shares one Xlib Display without XInitThreads: every
//     robotgo call is serialised by a mutex, and the failsafe watcher reads
//     the pointer over its own xgb connection, so it never waits for typing.
package robot

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"sync"
	"time"

	"github.com/go-vgo/robotgo"

	"deskbot/engine/desktop"
)

// Robot is the desktop of this system.
type Robot struct {
	mu      sync.Mutex             // serialises robotgo (on X11 its Xlib display is not thread-safe)
	held    map[string]desktop.Key // keys held through KeyToggle
	buttons map[desktop.Button]bool
	platform
}

var _ desktop.Desktop = (*Robot)(nil)
var _ desktop.HotkeyWatcher = (*Robot)(nil)

// New connects to the desktop (on X11 the display named by $DISPLAY). It
// fails clearly when there is none.
func New() (desktop.Desktop, error) { return Open() }

func newRobot() *Robot {
	return &Robot{held: map[string]desktop.Key{}, buttons: map[desktop.Button]bool{}}
}

// MoveMouse implements desktop.Desktop.
func (r *Robot) MoveMouse(x, y int, smooth bool) error {
	w, h, _ := r.ScreenSize()
	if x < 0 || y < 0 || x >= w || y >= h {
		return fmt.Errorf("move mouse to (%d, %d): outside the %dx%d screen", x, y, w, h)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if smooth {
		robotgo.MoveSmooth(x, y, 0.5, 1.0)
	}
	robotgo.Move(x, y) // also after a smooth move, which can end a pixel off
	return nil
}

func rgButton(b desktop.Button) (string, error) {
	switch b {
	case desktop.Left, "":
		return "left", nil
	case desktop.Right:
		return "right", nil
	case desktop.Middle:
		return "center", nil
	}
	return "", fmt.Errorf("unknown mouse button %q", b)
}

// MouseButton implements desktop.Desktop.
func (r *Robot) MouseButton(b desktop.Button, down bool) error {
	name, err := rgButton(b)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if down {
		r.buttons[b] = true
		return robotgo.Toggle(name, "down")
	}
	delete(r.buttons, b)
	return robotgo.Toggle(name, "up")
}

// Click implements desktop.Desktop.
func (r *Robot) Click(b desktop.Button, double bool) error {
	name, err := rgButton(b)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	robotgo.Click(name, double)
	return nil
}

func mods(k desktop.Key) []any {
	out := make([]any, len(k.Mods))
	for i, m := range k.Mods {
		out[i] = m
	}
	return out
}

// KeyTap implements desktop.Desktop. Modifiers are "ctrl", "alt", "shift",
// "cmd" (robotgo's names; "control" is what breaks its PasteStr).
func (r *Robot) KeyTap(k desktop.Key) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := robotgo.KeyTap(k.Name, mods(k)...); err != nil {
		return fmt.Errorf("press %s: %w", k, err)
	}
	return nil
}

// KeyToggle implements desktop.Desktop.
func (r *Robot) KeyToggle(k desktop.Key, down bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	dir := "up"
	if down {
		dir = "down"
	}
	if err := robotgo.KeyToggle(k.Name, append([]any{dir}, mods(k)...)...); err != nil {
		return fmt.Errorf("%s %s: %w", dir, k, err)
	}
	if down {
		r.held[k.String()] = k
	} else {
		delete(r.held, k.String())
	}
	return nil
}

// Capture implements desktop.Desktop with robotgo.CaptureImg; every pixel
// of the result is opaque.
func (r *Robot) Capture(rect image.Rectangle) (*image.RGBA, error) {
	w, h, _ := r.ScreenSize()
	full := image.Rect(0, 0, w, h)
	if rect.Empty() {
		rect = full
	}
	if !rect.In(full) {
		return nil, fmt.Errorf("capture %v: outside the %dx%d screen", rect, w, h)
	}
	r.mu.Lock()
	img, err := robotgo.CaptureImg(rect.Min.X, rect.Min.Y, rect.Dx(), rect.Dy())
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("capture %v: %w", rect, err)
	}
	out, ok := img.(*image.RGBA)
	if !ok || out.Rect.Min != (image.Point{}) {
		b := img.Bounds()
		out = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	}
	setOpaque(out)
	return out, nil
}

// setOpaque sets every pixel's alpha to 255. robotgo copies the X image's
// 32-bit pixels as they are, so X's padding byte (mostly 0) became alpha:
// screenshots were mostly transparent, and image search ignored the
// transparent pixels of a template cut from one. A screen has no
// transparency.
func setOpaque(img *image.RGBA) {
	w := img.Rect.Dx() * 4
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for i := 3; i < len(row); i += 4 {
			row[i] = 255
		}
	}
}

// sleepCtx waits d, or less when ctx ends (with its cause).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
