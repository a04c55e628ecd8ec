//go:build !windows && !darwin

package robot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
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

// platform is the X11 state of a Robot.
type platform struct {
	xu      *xgbutil.XUtil
	wmu     sync.Mutex // serialises xgbutil property helpers
	conn    *xgb.Conn  // plain requests: pointer, keymap, XTest
	root    xproto.Window
	display string
	uni     unicodeTyper // under mu
	pingID  uint32       // under mu: the last _NET_WM_PING sent (ping.go)
}

func init() {
	// xgb and xgbutil log to stderr, e.g. "Could not get authority info"
	// on every connection without ~/.Xauthority: noise in a run's output.
	// DESKBOT_DEBUG_X=1 keeps their messages.
	if os.Getenv("DESKBOT_DEBUG_X") == "" {
		xgb.Logger = log.New(io.Discard, "", 0)
		xgbutil.Logger = log.New(io.Discard, "", 0)
	}
}

// Open is New returning the concrete type: it connects to the X display
// named by $DISPLAY.
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
		CloseX(xu.Conn())
		return nil, fmt.Errorf("desktop: X display %q has no XTEST extension: %w", disp, err)
	}
	r := newRobot()
	r.xu, r.conn, r.root, r.display = xu, xu.Conn(), xu.RootWin(), disp
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
	CloseX(r.conn)
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

// SetWindowBounds implements desktop.Desktop: an EWMH
// _NET_MOVERESIZE_WINDOW request with static gravity, so that x and y are
// where the window's content goes (not its frame). The window manager acts
// on its own time; the caller waits for the new bounds to show.
func (r *Robot) SetWindowBounds(id uint32, b image.Rectangle) error {
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return fmt.Errorf("set bounds of window 0x%x: the size %dx%d is empty", id, b.Dx(), b.Dy())
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.wmCheck(); err != nil {
		return err
	}
	if err := ewmh.MoveresizeWindowExtra(r.xu, xproto.Window(id), b.Min.X, b.Min.Y, b.Dx(), b.Dy(),
		xproto.GravityStatic, 2, true, true); err != nil {
		return fmt.Errorf("set bounds of window 0x%x: %w", id, err)
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
