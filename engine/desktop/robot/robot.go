// Package robot is the real Desktop of Deskbot on X11: input, screen capture
// and clipboard through github.com/go-vgo/robotgo (v0.110.8), windows and
// the failsafe pointer checks through the pure-Go X protocol (robotn/xgb,
// robotgo's own dependency).
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
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"log"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-vgo/robotgo"
	"github.com/robotn/xgb"
	"github.com/robotn/xgb/xproto"
	"github.com/robotn/xgb/xtest"
	"github.com/robotn/xgbutil"
	"github.com/robotn/xgbutil/ewmh"
	"github.com/robotn/xgbutil/icccm"

	"deskbot/engine/desktop"
)

// Robot is the X11 desktop.
type Robot struct {
	mu      sync.Mutex // serialises robotgo (its Xlib display is not thread-safe)
	xu      *xgbutil.XUtil
	wmu     sync.Mutex // serialises xgbutil property helpers
	conn    *xgb.Conn  // plain requests: pointer, keymap, XTest
	root    xproto.Window
	display string
	held    map[string]desktop.Key // keys held through KeyToggle
	buttons map[desktop.Button]bool
	uni     unicodeTyper // under mu
	pingID  uint32       // under mu: the last _NET_WM_PING sent (ping.go)
}

var _ desktop.Desktop = (*Robot)(nil)
var _ desktop.HotkeyWatcher = (*Robot)(nil)

func init() {
	// xgb and xgbutil log to stderr, e.g. "Could not get authority info"
	// on every connection without ~/.Xauthority: noise in a run's output.
	// DESKBOT_DEBUG_X=1 keeps their messages.
	if os.Getenv("DESKBOT_DEBUG_X") == "" {
		xgb.Logger = log.New(io.Discard, "", 0)
		xgbutil.Logger = log.New(io.Discard, "", 0)
	}
}

// New connects to the X display named by $DISPLAY. It fails clearly when
// there is none.
func New() (desktop.Desktop, error) { return Open() }

// Open is New returning the concrete type.
func Open() (*Robot, error) {
	disp := os.Getenv("DISPLAY")
	if disp == "" {
		return nil, errors.New("desktop: no X display (DISPLAY is not set); desktop automation needs an X11 session")
	}
	xu, err := xgbutil.NewConnDisplay(disp)
	if err != nil {
		return nil, fmt.Errorf("desktop: cannot connect to X display %q: %w", disp, err)
	}
	if err := xtest.Init(xu.Conn()); err != nil {
		xu.Conn().Close()
		return nil, fmt.Errorf("desktop: X display %q has no XTEST extension: %w", disp, err)
	}
	r := &Robot{xu: xu, conn: xu.Conn(), root: xu.RootWin(), display: disp,
		held: map[string]desktop.Key{}, buttons: map[desktop.Button]bool{}}
	if err := robotgo.SetXDisplayName(disp); err != nil && !strings.Contains(err.Error(), "already") {
		return nil, fmt.Errorf("desktop: robotgo display %q: %w", disp, err)
	}
	return r, nil
}

// Close drops the X connections (robotgo's Xlib display too). Call it
// before the X server goes away: Xlib ends the process on a broken
// connection.
func (r *Robot) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	robotgo.CloseMainDisplay()
	r.conn.Close()
	return nil
}

// ScreenSize implements desktop.Desktop.
func (r *Robot) ScreenSize() (int, int, error) {
	s := r.xu.Screen()
	return int(s.WidthInPixels), int(s.HeightInPixels), nil
}

// MousePos implements desktop.Desktop over xgb (safe to call from the
// failsafe watcher while robotgo types).
func (r *Robot) MousePos() (int, int, error) {
	rep, err := xproto.QueryPointer(r.conn, r.root).Reply()
	if err != nil {
		return 0, 0, fmt.Errorf("query pointer: %w", err)
	}
	return int(rep.RootX), int(rep.RootY), nil
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

// Scroll implements desktop.Desktop with XTest wheel buttons (4 up, 5 down,
// 6 left, 7 right).
func (r *Robot) Scroll(dx, dy int) error {
	press := func(button byte, n int) error {
		for i := 0; i < n; i++ {
			for _, t := range []byte{xproto.ButtonPress, xproto.ButtonRelease} {
				if err := xtest.FakeInputChecked(r.conn, t, button, 0, r.root, 0, 0, 0).Check(); err != nil {
					return fmt.Errorf("scroll: %w", err)
				}
			}
		}
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	switch {
	case dy > 0:
		err = press(5, dy)
	case dy < 0:
		err = press(4, -dy)
	}
	if err == nil && dx > 0 {
		err = press(7, dx)
	} else if err == nil && dx < 0 {
		err = press(6, -dx)
	}
	r.conn.Sync()
	return err
}

// TypeText implements desktop.Desktop: one character at a time, ASCII
// through robotgo.TypeStr, other characters on spare keycodes mapped ahead
// (see unicode.go); ctx is checked between characters, so a stop takes
// effect at the next one.
func (r *Robot) TypeText(ctx context.Context, text string, perChar time.Duration) error {
	return r.typeText(ctx, text, perChar)
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

// clipTool finds xclip or xsel.
func clipTool() (string, error) {
	for _, t := range []string{"xclip", "xsel"} {
		if p, err := exec.LookPath(t); err == nil {
			return p, nil
		}
	}
	return "", errors.New("the clipboard needs xclip or xsel, and neither is on PATH (apt-get install xclip)")
}

// ClipboardGet implements desktop.Desktop (the CLIPBOARD selection).
func (r *Robot) ClipboardGet() (string, error) {
	tool, err := clipTool()
	if err != nil {
		return "", err
	}
	args := []string{"-o", "-selection", "clipboard"}
	if strings.HasSuffix(tool, "xsel") {
		args = []string{"--output", "--clipboard"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+r.display)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "target STRING not available") || strings.Contains(msg, "target UTF8_STRING not available") {
			return "", nil // an empty clipboard
		}
		return "", fmt.Errorf("read the clipboard with %s: %v: %s", tool, err, msg)
	}
	return out.String(), nil
}

// ClipboardSet implements desktop.Desktop. xclip stays in the background
// to own the selection, as X11 clipboards need.
func (r *Robot) ClipboardSet(text string) error {
	tool, err := clipTool()
	if err != nil {
		return err
	}
	args := []string{"-i", "-selection", "clipboard"}
	if strings.HasSuffix(tool, "xsel") {
		args = []string{"--input", "--clipboard"}
	}
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+r.display)
	cmd.Stdin = strings.NewReader(text)
	// No pipes for stdout and stderr: the selection owner that xclip
	// leaves behind would hold them open and Run would never return.
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("set the clipboard with %s: %w", tool, err)
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

// wmCheck fails when no EWMH window manager runs.
func (r *Robot) wmCheck() error {
	if _, err := ewmh.SupportingWmCheckGet(r.xu, r.root); err != nil {
		return errors.New("no window manager is running (the root window has no _NET_SUPPORTING_WM_CHECK); window functions need one, e.g. jwm")
	}
	return nil
}

func (r *Robot) window(id xproto.Window) desktop.Window {
	w := desktop.Window{ID: uint32(id)}
	if t, err := ewmh.WmNameGet(r.xu, id); err == nil && t != "" {
		w.Title = t
	} else if t, err := icccm.WmNameGet(r.xu, id); err == nil {
		w.Title = t
	}
	if pid, err := ewmh.WmPidGet(r.xu, id); err == nil {
		w.PID = int(pid)
	}
	if g, err := xproto.GetGeometry(r.conn, xproto.Drawable(id)).Reply(); err == nil {
		if tr, err := xproto.TranslateCoordinates(r.conn, id, r.root, 0, 0).Reply(); err == nil {
			w.Bounds = image.Rect(int(tr.DstX), int(tr.DstY), int(tr.DstX)+int(g.Width), int(tr.DstY)+int(g.Height))
		}
	}
	return w
}

// Windows implements desktop.Desktop (_NET_CLIENT_LIST).
func (r *Robot) Windows() ([]desktop.Window, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.wmCheck(); err != nil {
		return nil, err
	}
	ids, err := ewmh.ClientListGet(r.xu)
	if err != nil {
		return nil, fmt.Errorf("list windows (_NET_CLIENT_LIST): %w", err)
	}
	out := make([]desktop.Window, 0, len(ids))
	for _, id := range ids {
		out = append(out, r.window(id))
	}
	return out, nil
}

// ActiveWindow implements desktop.Desktop. Unlike robotgo.GetTitle it checks
// _NET_ACTIVE_WINDOW first and returns an error instead of crashing.
func (r *Robot) ActiveWindow() (desktop.Window, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.wmCheck(); err != nil {
		return desktop.Window{}, err
	}
	id, err := ewmh.ActiveWindowGet(r.xu)
	if err != nil {
		return desktop.Window{}, fmt.Errorf("active window: the window manager does not set _NET_ACTIVE_WINDOW: %w", err)
	}
	if id == 0 {
		return desktop.Window{}, errors.New("no window has the focus")
	}
	return r.window(id), nil
}

// ActivateWindow implements desktop.Desktop (a _NET_ACTIVE_WINDOW request
// as a pager would send it, so that focus-stealing rules let it through).
func (r *Robot) ActivateWindow(id uint32) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.wmCheck(); err != nil {
		return err
	}
	if err := ewmh.ActiveWindowReqExtra(r.xu, xproto.Window(id), 2, 0, 0); err != nil {
		return fmt.Errorf("activate window 0x%x: %w", id, err)
	}
	return nil
}

// MinimizeWindow implements desktop.Desktop: an ICCCM WM_CHANGE_STATE
// request for the iconic state, which window managers act on.
func (r *Robot) MinimizeWindow(id uint32) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.wmCheck(); err != nil {
		return err
	}
	if err := ewmh.ClientEvent(r.xu, xproto.Window(id), "WM_CHANGE_STATE", int(icccm.StateIconic)); err != nil {
		return fmt.Errorf("minimize window 0x%x: %w", id, err)
	}
	return nil
}

// CloseWindow implements desktop.Desktop (_NET_CLOSE_WINDOW).
func (r *Robot) CloseWindow(id uint32) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.wmCheck(); err != nil {
		return err
	}
	if err := ewmh.CloseWindowExtra(r.xu, xproto.Window(id), 0, 2); err != nil {
		return fmt.Errorf("close window 0x%x: %w", id, err)
	}
	return nil
}

// Open implements desktop.Desktop. URLs and existing files that are not
// programs go to xdg-open; anything else is started as a program in its
// own process group, so that it outlives the run.
func (r *Robot) Open(ctx context.Context, target string, args []string) (int, error) {
	prog, pargs := target, args
	if isDocument(target) {
		if len(args) > 0 {
			return 0, fmt.Errorf("open %q: arguments are only for programs", target)
		}
		p, err := exec.LookPath("xdg-open")
		if err != nil {
			return 0, fmt.Errorf("open %q: xdg-open is not installed (apt-get install xdg-utils)", target)
		}
		prog, pargs = p, []string{target}
	} else {
		p, err := exec.LookPath(target)
		if err != nil {
			return 0, fmt.Errorf("open %q: no such program or file: %w", target, err)
		}
		prog = p
	}
	cmd := exec.Command(prog, pargs...)
	cmd.Env = append(os.Environ(), "DISPLAY="+r.display)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("open %q: %w", target, err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // reap it whenever it ends
	return pid, nil
}

// isDocument reports whether target is a URL or an existing file that is
// not executable.
func isDocument(target string) bool {
	if u, err := url.Parse(target); err == nil && u.Scheme != "" && len(u.Scheme) > 1 && (u.Host != "" || u.Scheme == "mailto" || u.Scheme == "file") {
		return true
	}
	fi, err := os.Stat(target)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 == 0
}

// ReleaseAll implements desktop.Desktop: it lets go of keys and buttons held
// through KeyToggle and MouseButton, then asks the server which keys and
// buttons are still down (XQueryKeymap, QueryPointer) and releases those
// too through XTest, so that a stop in the middle of a combo leaves nothing
// stuck.
func (r *Robot) ReleaseAll() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, k := range r.held {
		robotgo.KeyToggle(k.Name, append([]any{"up"}, mods(k)...)...)
		delete(r.held, name)
	}
	for b := range r.buttons {
		if n, err := rgButton(b); err == nil {
			robotgo.Toggle(n, "up")
		}
		delete(r.buttons, b)
	}
	var errs []error
	if km, err := xproto.QueryKeymap(r.conn).Reply(); err == nil {
		for i, byt := range km.Keys {
			for bit := 0; bit < 8; bit++ {
				if byt&(1<<bit) != 0 {
					code := byte(i*8 + bit)
					if err := xtest.FakeInputChecked(r.conn, xproto.KeyRelease, code, 0, r.root, 0, 0, 0).Check(); err != nil {
						errs = append(errs, fmt.Errorf("release keycode %d: %w", code, err))
					}
				}
			}
		}
	} else {
		errs = append(errs, fmt.Errorf("query keymap: %w", err))
	}
	if p, err := xproto.QueryPointer(r.conn, r.root).Reply(); err == nil {
		masks := []uint16{xproto.ButtonMask1, xproto.ButtonMask2, xproto.ButtonMask3}
		for i, m := range masks {
			if p.Mask&m != 0 {
				if err := xtest.FakeInputChecked(r.conn, xproto.ButtonRelease, byte(i+1), 0, r.root, 0, 0, 0).Check(); err != nil {
					errs = append(errs, fmt.Errorf("release button %d: %w", i+1, err))
				}
			}
		}
	}
	r.conn.Sync()
	return errors.Join(errs...)
}

// HeldKeys returns the X keycodes that are down now (XQueryKeymap).
func (r *Robot) HeldKeys() ([]int, error) {
	km, err := xproto.QueryKeymap(r.conn).Reply()
	if err != nil {
		return nil, fmt.Errorf("query keymap: %w", err)
	}
	var out []int
	for i, byt := range km.Keys {
		for bit := 0; bit < 8; bit++ {
			if byt&(1<<bit) != 0 {
				out = append(out, i*8+bit)
			}
		}
	}
	return out, nil
}
