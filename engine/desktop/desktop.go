package desktop

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"time"
)

// Button is a mouse button.
type Button string

// Mouse buttons.
const (
	Left   Button = "left"
	Right  Button = "right"
	Middle Button = "middle"
)

// Buttons lists the valid buttons.
var Buttons = []string{string(Left), string(Right), string(Middle)}

// Window is a top-level window as the window manager lists it.
type Window struct {
	ID     uint32
	Title  string
	PID    int             // 0 when the window does not say
	Bounds image.Rectangle // content area in screen coordinates
}

func (w Window) String() string { return fmt.Sprintf("%q (0x%x)", w.Title, w.ID) }

// Desktop is everything a flow may do to the desktop. Implementations must be
// pointer types (the safety layer keys its state by the Desktop value) and
// safe for use from several goroutines: the failsafe watcher calls MousePos
// while the run acts.
type Desktop interface {
	// ScreenSize is the size of the main screen in pixels.
	ScreenSize() (w, h int, err error)
	// MousePos is the pointer position.
	MousePos() (x, y int, err error)
	// MoveMouse moves the pointer; smooth animates the move.
	MoveMouse(x, y int, smooth bool) error
	// MouseButton presses (down) or releases a button where the pointer is.
	MouseButton(b Button, down bool) error
	// Click clicks a button once or twice where the pointer is.
	Click(b Button, double bool) error
	// Scroll turns the wheel: dy > 0 scrolls down, dx > 0 right.
	Scroll(dx, dy int) error
	// TypeText types text (any Unicode), waiting perChar after each
	// character; it stops early when ctx ends.
	TypeText(ctx context.Context, text string, perChar time.Duration) error
	// KeyTap presses and releases a key with modifiers.
	KeyTap(k Key) error
	// KeyToggle presses (down) or releases a key (modifiers included).
	KeyToggle(k Key, down bool) error
	// ClipboardGet returns the clipboard's text.
	ClipboardGet() (string, error)
	// ClipboardSet puts text on the clipboard.
	ClipboardSet(text string) error
	// Capture grabs a rectangle of the screen (screen coordinates); an
	// empty rectangle means the whole screen. The result's bounds start
	// at 0,0 and every pixel is opaque (alpha 255).
	Capture(r image.Rectangle) (*image.RGBA, error)
	// Windows lists the top-level windows the window manager knows.
	Windows() ([]Window, error)
	// ActiveWindow is the window with the focus.
	ActiveWindow() (Window, error)
	// ActivateWindow raises and focuses a window.
	ActivateWindow(id uint32) error
	// CloseWindow asks a window to close.
	CloseWindow(id uint32) error
	// MinimizeWindow iconifies a window (ActivateWindow brings it back).
	MinimizeWindow(id uint32) error
	// SetWindowBounds moves and resizes a window so that its content area
	// (what Window.Bounds reports) is r, in screen coordinates.
	SetWindowBounds(id uint32, r image.Rectangle) error
	// Open starts a program (target is a program name or path, with args),
	// or opens a file or URL with the desktop's default application (no
	// args). It returns the started process id, 0 when unknown.
	Open(ctx context.Context, target string, args []string) (pid int, err error)
	// ReleaseAll releases every key and mouse button that is held down.
	ReleaseAll() error
}

// KeymapRestorer is implemented by desktops that change the keyboard
// mapping to type (package robot maps Unicode characters onto spare X
// keycodes). RestoreKeymap puts the mapping back as it was; runs call it
// when they end or stop, so that the next run, in this process or another,
// finds the spare keycodes free.
type KeymapRestorer interface {
	RestoreKeymap() error
}

// RestoreKeymap calls d's RestoreKeymap when it has one (and, for a
// LazyDesktop, when it is connected).
func RestoreKeymap(d Desktop) error {
	if !connected(d) {
		return nil
	}
	if l, ok := d.(*LazyDesktop); ok {
		d = l.d
	}
	if kr, ok := d.(KeymapRestorer); ok {
		return kr.RestoreKeymap()
	}
	return nil
}

// Key is a key with modifiers, as in "ctrl+shift+s".
type Key struct {
	Name string   // a robotgo key name: "a", "enter", "f4", "delete"...
	Mods []string // "ctrl", "alt", "shift", "cmd"
}

func (k Key) String() string {
	return strings.Join(append(slices.Clone(k.Mods), k.Name), "+")
}

// Modifiers are the valid modifier names.
var Modifiers = []string{"ctrl", "alt", "shift", "cmd"}

var modAlias = map[string]string{
	"control": "ctrl", "ctl": "ctrl", "lctrl": "ctrl", "rctrl": "ctrl",
	"option": "alt", "lalt": "alt", "ralt": "alt", "altgr": "alt",
	"lshift": "shift", "rshift": "shift",
	"super": "cmd", "win": "cmd", "windows": "cmd", "meta": "cmd", "command": "cmd",
}

var keyAlias = map[string]string{
	"return": "enter", "esc": "escape", "del": "delete", "ins": "insert",
	"pgup": "pageup", "pgdn": "pagedown", "page_up": "pageup", "page_down": "pagedown",
	"bksp": "backspace", "spacebar": "space", "arrowup": "up", "arrowdown": "down",
	"arrowleft": "left", "arrowright": "right", "plus": "+", "minus": "-",
}

// namedKeys are the multi-letter key names robotgo knows on X11.
var namedKeys = map[string]bool{
	"backspace": true, "delete": true, "enter": true, "tab": true, "escape": true,
	"up": true, "down": true, "left": true, "right": true, "home": true, "end": true,
	"pageup": true, "pagedown": true, "space": true, "insert": true, "capslock": true,
	"printscreen": true, "menu": true, "numlock": true, "pause": true,
	"audio_mute": true, "audio_vol_down": true, "audio_vol_up": true,
	"num0": true, "num1": true, "num2": true, "num3": true, "num4": true, "num5": true,
	"num6": true, "num7": true, "num8": true, "num9": true, "num_lock": true,
	"num.": true, "num+": true, "num-": true, "num*": true, "num/": true, "num_clear": true,
	"num_enter": true, "num_equal": true,
}

func init() {
	for i := 1; i <= 24; i++ {
		namedKeys[fmt.Sprintf("f%d", i)] = true
	}
}

// ParseKey parses a combo such as "ctrl+s", "alt+f4", "shift+tab", "enter"
// or "ctrl++". Names are case-insensitive, except that a single upper-case
// letter means that letter with shift.
func ParseKey(s string) (Key, error) {
	src := strings.TrimSpace(s)
	if src == "" {
		return Key{}, errors.New("empty key")
	}
	var parts []string
	if strings.HasSuffix(src, "++") {
		parts = append(strings.Split(strings.TrimSuffix(src, "++"), "+"), "+")
	} else if src == "+" {
		parts = []string{"+"}
	} else {
		parts = strings.Split(src, "+")
	}
	var k Key
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return Key{}, fmt.Errorf("key %q: empty part", s)
		}
		last := i == len(parts)-1
		lp := strings.ToLower(p)
		if a, ok := modAlias[lp]; ok {
			lp = a
		}
		if !last {
			if !slices.Contains(Modifiers, lp) {
				return Key{}, fmt.Errorf("key %q: %q is not a modifier (want one of %s)", s, p, strings.Join(Modifiers, ", "))
			}
			if !slices.Contains(k.Mods, lp) {
				k.Mods = append(k.Mods, lp)
			}
			continue
		}
		if len([]rune(p)) == 1 {
			r := []rune(p)[0]
			if r > 0x7e || r < 0x20 {
				return Key{}, fmt.Errorf("key %q: %q is not a key name; type non-ASCII text with keyboard.type", s, p)
			}
			if r >= 'A' && r <= 'Z' {
				if !slices.Contains(k.Mods, "shift") {
					k.Mods = append(k.Mods, "shift")
				}
				p = strings.ToLower(p)
			}
			k.Name = p
			continue
		}
		if a, ok := keyAlias[lp]; ok {
			lp = a
		}
		if slices.Contains(Modifiers, lp) {
			// A lone modifier, e.g. "shift" or "ctrl+alt".
			k.Name = lp
			continue
		}
		if !namedKeys[lp] {
			return Key{}, fmt.Errorf("key %q: unknown key name %q (e.g. enter, tab, escape, f4, delete, up, pagedown, a)", s, p)
		}
		k.Name = lp
	}
	return k, nil
}

// FailsafeMargin is the size of the failsafe corner: the pointer at
// x <= FailsafeMargin and y <= FailsafeMargin stops the run.
const FailsafeMargin = 2

// InCorner reports whether a pointer position is in the failsafe corner.
func InCorner(x, y int) bool { return x <= FailsafeMargin && y <= FailsafeMargin }

// ErrNotFound is returned (wrapped) when an image, colour or window did not
// show up in time.
var ErrNotFound = errors.New("not found")
