package desktop

import (
	"context"
	"image"
	"sync"
	"time"
)

// LazyDesktop opens the real desktop on first use, so that a flow without
// desktop steps runs on a machine without a display, and a flow with them
// fails at its first desktop step (naming the node) instead of before the
// run. Until it is connected the failsafe watcher skips it and ReleaseAll
// has nothing to do.
type LazyDesktop struct {
	open func() (Desktop, error)
	mu   sync.Mutex
	d    Desktop
	err  error
	done bool
}

var _ Desktop = (*LazyDesktop)(nil)
var _ HotkeyWatcher = (*LazyDesktop)(nil)
var _ KeymapRestorer = (*LazyDesktop)(nil)

// Lazy returns a desktop that calls open on first use (robot.New, say).
func Lazy(open func() (Desktop, error)) *LazyDesktop { return &LazyDesktop{open: open} }

// Connected reports whether the real desktop has been opened.
func (l *LazyDesktop) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d != nil
}

func (l *LazyDesktop) get() (Desktop, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.done = true
		l.d, l.err = l.open()
	}
	return l.d, l.err
}

// ScreenSize implements Desktop.
func (l *LazyDesktop) ScreenSize() (int, int, error) {
	d, err := l.get()
	if err != nil {
		return 0, 0, err
	}
	return d.ScreenSize()
}

// MousePos implements Desktop.
func (l *LazyDesktop) MousePos() (int, int, error) {
	d, err := l.get()
	if err != nil {
		return 0, 0, err
	}
	return d.MousePos()
}

// MoveMouse implements Desktop.
func (l *LazyDesktop) MoveMouse(x, y int, smooth bool) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.MoveMouse(x, y, smooth)
}

// MouseButton implements Desktop.
func (l *LazyDesktop) MouseButton(b Button, down bool) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.MouseButton(b, down)
}

// Click implements Desktop.
func (l *LazyDesktop) Click(b Button, double bool) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.Click(b, double)
}

// Scroll implements Desktop.
func (l *LazyDesktop) Scroll(dx, dy int) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.Scroll(dx, dy)
}

// TypeText implements Desktop.
func (l *LazyDesktop) TypeText(ctx context.Context, text string, perChar time.Duration) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.TypeText(ctx, text, perChar)
}

// KeyTap implements Desktop.
func (l *LazyDesktop) KeyTap(k Key) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.KeyTap(k)
}

// KeyToggle implements Desktop.
func (l *LazyDesktop) KeyToggle(k Key, down bool) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.KeyToggle(k, down)
}

// ClipboardGet implements Desktop.
func (l *LazyDesktop) ClipboardGet() (string, error) {
	d, err := l.get()
	if err != nil {
		return "", err
	}
	return d.ClipboardGet()
}

// ClipboardSet implements Desktop.
func (l *LazyDesktop) ClipboardSet(text string) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.ClipboardSet(text)
}

// Capture implements Desktop.
func (l *LazyDesktop) Capture(r image.Rectangle) (*image.RGBA, error) {
	d, err := l.get()
	if err != nil {
		return nil, err
	}
	return d.Capture(r)
}

// Windows implements Desktop.
func (l *LazyDesktop) Windows() ([]Window, error) {
	d, err := l.get()
	if err != nil {
		return nil, err
	}
	return d.Windows()
}

// ActiveWindow implements Desktop.
func (l *LazyDesktop) ActiveWindow() (Window, error) {
	d, err := l.get()
	if err != nil {
		return Window{}, err
	}
	return d.ActiveWindow()
}

// ActivateWindow implements Desktop.
func (l *LazyDesktop) ActivateWindow(id uint32) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.ActivateWindow(id)
}

// CloseWindow implements Desktop.
func (l *LazyDesktop) CloseWindow(id uint32) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.CloseWindow(id)
}

// MinimizeWindow implements Desktop.
func (l *LazyDesktop) MinimizeWindow(id uint32) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.MinimizeWindow(id)
}

// SetWindowBounds implements Desktop.
func (l *LazyDesktop) SetWindowBounds(id uint32, r image.Rectangle) error {
	d, err := l.get()
	if err != nil {
		return err
	}
	return d.SetWindowBounds(id, r)
}

// Open implements Desktop.
func (l *LazyDesktop) Open(ctx context.Context, target string, args []string) (int, error) {
	d, err := l.get()
	if err != nil {
		return 0, err
	}
	return d.Open(ctx, target, args)
}

// ReleaseAll implements Desktop; it does nothing before the first use.
func (l *LazyDesktop) ReleaseAll() error {
	if !l.Connected() {
		return nil
	}
	return l.d.ReleaseAll()
}

// WatchHotkey implements HotkeyWatcher; it opens the desktop now.
func (l *LazyDesktop) WatchHotkey(combo string, fn func()) (func(), error) {
	d, err := l.get()
	if err != nil {
		return nil, err
	}
	hw, ok := d.(HotkeyWatcher)
	if !ok {
		return nil, errNoHotkeys
	}
	return hw.WatchHotkey(combo, fn)
}

// RestoreKeymap implements KeymapRestorer; it does nothing before the first
// use.
func (l *LazyDesktop) RestoreKeymap() error {
	if !l.Connected() {
		return nil
	}
	return RestoreKeymap(l.d)
}
