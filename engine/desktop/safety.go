package desktop

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"time"

	"deskbot/engine"
)

type serviceKey struct{}

// Use makes d the desktop of runs started with opts.
func Use(opts *engine.Options, d Desktop) {
	if opts.Services == nil {
		opts.Services = map[any]any{}
	}
	opts.Services[serviceKey{}] = d
}

// From returns the run's desktop, or an error saying none was set up.
func From(c *engine.Call) (Desktop, error) {
	d, _ := c.Service(serviceKey{}).(Desktop)
	if d == nil {
		return nil, errors.New("this run has no desktop (the program running the flow must call desktop.Use)")
	}
	return d, nil
}

// ErrFailsafe is the cause of a stop through the failsafe corner; it wraps
// engine.ErrStoppedByUser.
var ErrFailsafe = fmt.Errorf("%w: the mouse was moved into the top-left corner (failsafe)", engine.ErrStoppedByUser)

// ErrHotkey is the cause of a stop through the stop hotkey; it wraps
// engine.ErrStoppedByUser.
var ErrHotkey = fmt.Errorf("%w: the stop hotkey was pressed", engine.ErrStoppedByUser)

// HotkeyWatcher is implemented by desktops that can grab a global hotkey
// (package robot does, through an X11 key grab on the root window).
type HotkeyWatcher interface {
	// WatchHotkey calls fn whenever the combo (as for ParseKey, e.g.
	// "ctrl+alt+q") is pressed anywhere, until stop is called.
	WatchHotkey(combo string, fn func()) (stop func(), err error)
}

var errNoHotkeys = errors.New("this desktop cannot watch hotkeys")

// connected reports whether d is in use (a LazyDesktop may not be yet).
func connected(d Desktop) bool {
	if c, ok := d.(interface{ Connected() bool }); ok {
		return c.Connected()
	}
	return true
}

// GuardOptions tune GuardWith.
type GuardOptions struct {
	// Interval between failsafe checks; 0 means 50 ms.
	Interval time.Duration
	// Hotkey is the global stop hotkey, e.g. "ctrl+alt+q"; empty for none.
	// It needs a Desktop that implements HotkeyWatcher.
	Hotkey string
	// OnStop, when set, is told why the run was stopped.
	OnStop func(cause error)
}

// DefaultStopHotkey is the stop hotkey the app suggests.
const DefaultStopHotkey = "ctrl+alt+q"

var (
	guardsMu sync.Mutex
	guards   = map[Desktop]map[*int]context.CancelCauseFunc{}
)

// Guard watches the failsafe corner every 50 ms while a run goes on: when the
// pointer enters it, cancel is called with ErrFailsafe (which wraps
// engine.ErrStoppedByUser) and every held key and button is released.
// Desktop activities also check the corner before each action and cancel
// through the same function. Call stop when the run has ended; it releases
// held keys and buttons too, and restores the keyboard mapping
// (RestoreKeymap).
func Guard(ctx context.Context, d Desktop, cancel context.CancelCauseFunc) (stop func()) {
	stop, _ = GuardWith(ctx, d, cancel, GuardOptions{})
	return stop
}

// GuardWith is Guard with options. The failsafe watcher always runs; a
// hotkey that cannot be grabbed gives an error (and no hotkey), with a
// working stop function all the same.
func GuardWith(ctx context.Context, d Desktop, cancel context.CancelCauseFunc, o GuardOptions) (stop func(), err error) {
	if o.Interval <= 0 {
		o.Interval = 50 * time.Millisecond
	}
	token := new(int)
	guardsMu.Lock()
	if guards[d] == nil {
		guards[d] = map[*int]context.CancelCauseFunc{}
	}
	guards[d][token] = cancel
	guardsMu.Unlock()

	var once sync.Once
	fire := func(cause error) {
		once.Do(func() {
			cancel(cause)
			d.ReleaseAll()
			if o.OnStop != nil {
				o.OnStop(cause)
			}
		})
	}
	var unhook func()
	if o.Hotkey != "" {
		if hw, ok := d.(HotkeyWatcher); ok {
			unhook, err = hw.WatchHotkey(o.Hotkey, func() { fire(ErrHotkey) })
			if err != nil {
				err = fmt.Errorf("stop hotkey %s: %w", o.Hotkey, err)
			}
		} else {
			err = fmt.Errorf("stop hotkey %s: %w", o.Hotkey, errNoHotkeys)
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(o.Interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				// Any stop (Stop button, timeout, failsafe): let go of keys.
				d.ReleaseAll()
				return
			case <-t.C:
				if !connected(d) {
					continue
				}
				if x, y, err := d.MousePos(); err == nil && InCorner(x, y) {
					fire(ErrFailsafe)
					return
				}
			}
		}
	}()
	var stopOnce sync.Once
	return func() {
		stopOnce.Do(func() {
			close(done)
			<-finished
			if unhook != nil {
				unhook()
			}
			guardsMu.Lock()
			delete(guards[d], token)
			if len(guards[d]) == 0 {
				delete(guards, d)
			}
			guardsMu.Unlock()
			d.ReleaseAll()
			RestoreKeymap(d)
		})
	}, err
}

// checkFailsafe returns ErrFailsafe (having cancelled the guarded run) when
// the pointer is in the failsafe corner.
func checkFailsafe(d Desktop) error {
	x, y, err := d.MousePos()
	if err != nil {
		return fmt.Errorf("read the mouse position: %w", err)
	}
	if !InCorner(x, y) {
		return nil
	}
	guardsMu.Lock()
	var cancels []context.CancelCauseFunc
	for _, c := range guards[d] {
		cancels = append(cancels, c)
	}
	guardsMu.Unlock()
	for _, c := range cancels {
		c(ErrFailsafe)
	}
	d.ReleaseAll()
	return ErrFailsafe
}

// Pace returns the pause between desktop actions of a flow: its action
// delay (default 100 ms), or at least SlowMotionDelay in slow motion.
func Pace(s engine.Settings) time.Duration {
	d := s.Delay()
	if s.SlowMotion && d < SlowMotionDelay {
		d = SlowMotionDelay
	}
	return d
}

// SlowMotionDelay is the least pause between actions in slow motion; mouse
// moves are animated then, and typing goes one character every
// SlowMotionCharDelay.
const (
	SlowMotionDelay     = 800 * time.Millisecond
	SlowMotionCharDelay = 60 * time.Millisecond
)

// saveEvidence captures the screen into the run's artifact folder after a
// failed desktop step and records its path as the step output
// "screenshot".
func saveEvidence(c *engine.Call, d Desktop) {
	img, err := d.Capture(image.Rectangle{})
	if err != nil {
		c.Log("warn", fmt.Sprintf("no failure screenshot: %v", err))
		return
	}
	dir, err := c.ArtifactDir()
	if err != nil {
		c.Log("warn", fmt.Sprintf("no failure screenshot: %v", err))
		return
	}
	path := filepath.Join(dir, fmt.Sprintf("failure-%s-%s.png", safeName(c.Node.ID), time.Now().Format("150405.000")))
	if err := writePNG(path, img); err != nil {
		c.Log("warn", fmt.Sprintf("no failure screenshot: %v", err))
		return
	}
	c.Output("screenshot", path)
	c.Log("info", "failure screenshot: "+path)
}

func writePNG(path string, img *image.RGBA) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".shot-*.png")
	if err != nil {
		return fmt.Errorf("save screenshot %q: %w", path, err)
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("save screenshot %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save screenshot %q: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save screenshot %q: %w", path, err)
	}
	return nil
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
