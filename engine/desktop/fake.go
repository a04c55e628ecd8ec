package desktop

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fake is a Desktop that touches nothing: it records every call as a
// readable line ("click left at (10, 20)") and keeps a little state (pointer,
// clipboard, a screen image, windows, held keys) so that activities behave
// plausibly. Dry runs use it to say what each step would do; unit tests use
// it to check what activities did.
type Fake struct {
	mu        sync.Mutex
	lines     []string
	x, y      int
	clipboard string
	screen    *image.RGBA
	windows   []Window
	active    int // index into windows, -1 for none
	held      map[string]bool
	nextPID   int
	// Err, when set, makes every call fail with it (for failure tests).
	Err error
	// OnOpen, when set, is called by Open (under no lock); tests use it to
	// add the window a program would show.
	OnOpen func(target string, args []string)
}

// NewFake returns a Fake with a 1280x800 grey screen and the pointer in the
// middle.
func NewFake() *Fake {
	f := &Fake{x: 640, y: 400, active: -1, held: map[string]bool{}, nextPID: 4000}
	f.screen = image.NewRGBA(image.Rect(0, 0, 1280, 800))
	draw.Draw(f.screen, f.screen.Bounds(), &image.Uniform{color.RGBA{0xd0, 0xd0, 0xd0, 0xff}}, image.Point{}, draw.Src)
	return f
}

func (f *Fake) rec(format string, args ...any) error {
	f.lines = append(f.lines, fmt.Sprintf(format, args...))
	return f.Err
}

// Lines returns the recorded lines.
func (f *Fake) Lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.lines)
}

// Since returns the lines recorded after the first n.
func (f *Fake) Since(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n > len(f.lines) {
		return nil
	}
	return slices.Clone(f.lines[n:])
}

// Reset forgets the recorded lines.
func (f *Fake) Reset() {
	f.mu.Lock()
	f.lines = nil
	f.mu.Unlock()
}

// SetScreen replaces the screen image (its bounds should start at 0,0).
func (f *Fake) SetScreen(img image.Image) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := img.Bounds()
	f.screen = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(f.screen, f.screen.Bounds(), img, b.Min, draw.Src)
}

// SetWindows replaces the window list; active is the index of the focused
// window, -1 for none.
func (f *Fake) SetWindows(ws []Window, active int) {
	f.mu.Lock()
	f.windows, f.active = slices.Clone(ws), active
	f.mu.Unlock()
}

// SetMouse puts the pointer somewhere without recording a line (as the user
// moving the mouse would).
func (f *Fake) SetMouse(x, y int) {
	f.mu.Lock()
	f.x, f.y = x, y
	f.mu.Unlock()
}

// Held returns the keys and buttons held down, sorted.
func (f *Fake) Held() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k, v := range f.held {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Clipboard returns the fake clipboard without recording a line.
func (f *Fake) Clipboard() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clipboard
}

// ScreenSize implements Desktop.
func (f *Fake) ScreenSize() (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.screen.Bounds()
	return b.Dx(), b.Dy(), f.Err
}

// MousePos implements Desktop; it records nothing (the watcher polls it).
func (f *Fake) MousePos() (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.x, f.y, f.Err
}

// MoveMouse implements Desktop.
func (f *Fake) MoveMouse(x, y int, smooth bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.x, f.y = x, y
	if smooth {
		return f.rec("move mouse smoothly to (%d, %d)", x, y)
	}
	return f.rec("move mouse to (%d, %d)", x, y)
}

// MouseButton implements Desktop.
func (f *Fake) MouseButton(b Button, down bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held["mouse:"+string(b)] = down
	if down {
		return f.rec("press %s mouse button at (%d, %d)", b, f.x, f.y)
	}
	return f.rec("release %s mouse button at (%d, %d)", b, f.x, f.y)
}

// Click implements Desktop.
func (f *Fake) Click(b Button, double bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if double {
		return f.rec("double-click %s at (%d, %d)", b, f.x, f.y)
	}
	return f.rec("click %s at (%d, %d)", b, f.x, f.y)
}

// Scroll implements Desktop.
func (f *Fake) Scroll(dx, dy int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec("scroll by (%d, %d) at (%d, %d)", dx, dy, f.x, f.y)
}

// TypeText implements Desktop.
func (f *Fake) TypeText(ctx context.Context, text string, perChar time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if perChar > 0 {
		return f.rec("type %q (%s per character)", text, perChar)
	}
	return f.rec("type %q", text)
}

// KeyTap implements Desktop.
func (f *Fake) KeyTap(k Key) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec("press %s", k)
}

// KeyToggle implements Desktop.
func (f *Fake) KeyToggle(k Key, down bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held["key:"+k.String()] = down
	if down {
		return f.rec("hold down %s", k)
	}
	return f.rec("release %s", k)
}

// ClipboardGet implements Desktop.
func (f *Fake) ClipboardGet() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clipboard, f.rec("read the clipboard")
}

// ClipboardSet implements Desktop.
func (f *Fake) ClipboardSet(text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clipboard = text
	return f.rec("set the clipboard to %q", text)
}

// Capture implements Desktop.
func (f *Fake) Capture(r image.Rectangle) (*image.RGBA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	full := f.screen.Bounds()
	if r.Empty() {
		r = full
		if err := f.rec("capture the screen"); err != nil {
			return nil, err
		}
	} else {
		if !r.In(full) {
			f.rec("capture %v", r)
			return nil, fmt.Errorf("capture %v: outside the %dx%d screen", r, full.Dx(), full.Dy())
		}
		if r.Dx() > 1 || r.Dy() > 1 {
			if err := f.rec("capture %v", r); err != nil {
				return nil, err
			}
		} else if f.Err != nil {
			return nil, f.Err
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), f.screen, r.Min, draw.Src)
	return out, nil
}

// Windows implements Desktop.
func (f *Fake) Windows() ([]Window, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.windows), f.Err
}

// ActiveWindow implements Desktop.
func (f *Fake) ActiveWindow() (Window, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return Window{}, f.Err
	}
	if f.active < 0 || f.active >= len(f.windows) {
		return Window{}, fmt.Errorf("no active window")
	}
	return f.windows[f.active], nil
}

func (f *Fake) find(id uint32) int {
	for i, w := range f.windows {
		if w.ID == id {
			return i
		}
	}
	return -1
}

// ActivateWindow implements Desktop.
func (f *Fake) ActivateWindow(id uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.find(id)
	if i < 0 {
		f.rec("activate window 0x%x", id)
		return fmt.Errorf("activate window 0x%x: no such window", id)
	}
	f.active = i
	return f.rec("activate window %s", f.windows[i])
}

// MinimizeWindow implements Desktop; a minimized window loses the focus.
func (f *Fake) MinimizeWindow(id uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.find(id)
	if i < 0 {
		f.rec("minimize window 0x%x", id)
		return fmt.Errorf("minimize window 0x%x: no such window", id)
	}
	if f.active == i {
		f.active = -1
	}
	return f.rec("minimize window %s", f.windows[i])
}

// SetWindowBounds implements Desktop.
func (f *Fake) SetWindowBounds(id uint32, r image.Rectangle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.find(id)
	if i < 0 {
		f.rec("set bounds of window 0x%x", id)
		return fmt.Errorf("set bounds of window 0x%x: no such window", id)
	}
	if r.Empty() {
		f.rec("set bounds of window %s to %v", f.windows[i], r)
		return fmt.Errorf("set bounds of window %s: empty size %dx%d", f.windows[i], r.Dx(), r.Dy())
	}
	f.windows[i].Bounds = r
	return f.rec("set bounds of window %s to %d,%d %dx%d", f.windows[i], r.Min.X, r.Min.Y, r.Dx(), r.Dy())
}

// CloseWindow implements Desktop.
func (f *Fake) CloseWindow(id uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.find(id)
	if i < 0 {
		f.rec("close window 0x%x", id)
		return fmt.Errorf("close window 0x%x: no such window", id)
	}
	err := f.rec("close window %s", f.windows[i])
	f.windows = slices.Delete(f.windows, i, i+1)
	if f.active == i {
		f.active = -1
	} else if f.active > i {
		f.active--
	}
	return err
}

// Open implements Desktop.
func (f *Fake) Open(ctx context.Context, target string, args []string) (int, error) {
	f.mu.Lock()
	var err error
	if len(args) > 0 {
		err = f.rec("open %q with args %q", target, args)
	} else {
		err = f.rec("open %q", target)
	}
	f.nextPID++
	pid := f.nextPID
	hook := f.OnOpen
	f.mu.Unlock()
	if err == nil && hook != nil {
		hook(target, args)
	}
	return pid, err
}

// ReleaseAll implements Desktop.
func (f *Fake) ReleaseAll() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for k, v := range f.held {
		if v {
			names = append(names, strings.SplitN(k, ":", 2)[1])
		}
	}
	f.held = map[string]bool{}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	f.lines = append(f.lines, "release all held keys and buttons: "+strings.Join(names, ", "))
	return nil
}
