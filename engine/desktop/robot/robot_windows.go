//go:build windows

package robot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unicode/utf16"
	"unsafe"

	"github.com/go-vgo/robotgo"

	"deskbot/engine/desktop"
)

// platform is the Windows state of a Robot: none, user32 keeps it.
type platform struct{}

var (
	user32                       = syscall.NewLazyDLL("user32.dll")
	shell32                      = syscall.NewLazyDLL("shell32.dll")
	kernel32                     = syscall.NewLazyDLL("kernel32.dll")
	procEnumWindows              = user32.NewProc("EnumWindows")
	procIsWindow                 = user32.NewProc("IsWindow")
	procIsWindowVisible          = user32.NewProc("IsWindowVisible")
	procIsIconic                 = user32.NewProc("IsIconic")
	procGetWindowTextW           = user32.NewProc("GetWindowTextW")
	procGetWindowTextLengthW     = user32.NewProc("GetWindowTextLengthW")
	procGetWindowThreadProcessId = user32.NewProc("GetWindowThreadProcessId")
	procGetClientRect            = user32.NewProc("GetClientRect")
	procGetWindowRect            = user32.NewProc("GetWindowRect")
	procClientToScreen           = user32.NewProc("ClientToScreen")
	procGetForegroundWindow      = user32.NewProc("GetForegroundWindow")
	procSetForegroundWindow      = user32.NewProc("SetForegroundWindow")
	procShowWindow               = user32.NewProc("ShowWindow")
	procPostMessageW             = user32.NewProc("PostMessageW")
	procSetWindowPos             = user32.NewProc("SetWindowPos")
	procGetCursorPos             = user32.NewProc("GetCursorPos")
	procGetAsyncKeyState         = user32.NewProc("GetAsyncKeyState")
	procSendInput                = user32.NewProc("SendInput")
	procRegisterHotKey           = user32.NewProc("RegisterHotKey")
	procUnregisterHotKey         = user32.NewProc("UnregisterHotKey")
	procGetMessageW              = user32.NewProc("GetMessageW")
	procPeekMessageW             = user32.NewProc("PeekMessageW")
	procPostThreadMessageW       = user32.NewProc("PostThreadMessageW")
	procGetCurrentThreadId       = kernel32.NewProc("GetCurrentThreadId")
	procShellExecuteW            = shell32.NewProc("ShellExecuteW")
)

const (
	swMinimize       = 6
	swRestore        = 9
	swShowNormal     = 1
	wmClose          = 0x0010
	wmQuit           = 0x0012
	wmHotkey         = 0x0312
	swpNoZOrder      = 0x0004
	swpNoActivate    = 0x0010
	inputKeyboard    = 1
	keyeventfKeyUp   = 0x0002
	keyeventfUnicode = 0x0004
)

type point struct{ X, Y int32 }

type rect struct{ Left, Top, Right, Bottom int32 }

// Open is New returning the concrete type. Windows needs no connection.
func Open() (*Robot, error) { return newRobot(), nil }

// Close implements nothing to close on Windows; it is here for the callers
// that close an X11 Robot.
func (r *Robot) Close() error { return nil }

// ScreenSize implements desktop.Desktop.
func (r *Robot) ScreenSize() (int, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, h := robotgo.GetScreenSize()
	if w <= 0 || h <= 0 {
		return 0, 0, errors.New("screen size: Windows reports none")
	}
	return w, h, nil
}

// MousePos implements desktop.Desktop with GetCursorPos (safe to call from
// the failsafe watcher while robotgo types).
func (r *Robot) MousePos() (int, int, error) {
	var p point
	if ok, _, err := procGetCursorPos.Call(uintptr(unsafe.Pointer(&p))); ok == 0 {
		return 0, 0, fmt.Errorf("GetCursorPos: %w", err)
	}
	return int(p.X), int(p.Y), nil
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

// keyInput is user32's INPUT for a keyboard event on 64-bit Windows (40
// bytes: the type, padding, KEYBDINPUT, and the rest of the union).
type keyInput struct {
	typ   uint32
	_     uint32
	vk    uint16
	scan  uint16
	flags uint32
	time  uint32
	_     uint32
	extra uintptr
	_     [8]byte
}

// sendUnicode types one character with SendInput's Unicode events: UTF-16
// units as scan codes, so any character goes through whatever the keyboard
// layout (characters outside the BMP as a surrogate pair).
func sendUnicode(ch rune) error {
	units := utf16.Encode([]rune{ch})
	in := make([]keyInput, 0, 2*len(units))
	for _, u := range units {
		in = append(in, keyInput{typ: inputKeyboard, scan: u, flags: keyeventfUnicode})
	}
	for _, u := range units {
		in = append(in, keyInput{typ: inputKeyboard, scan: u, flags: keyeventfUnicode | keyeventfKeyUp})
	}
	n, _, err := procSendInput.Call(uintptr(len(in)), uintptr(unsafe.Pointer(&in[0])), unsafe.Sizeof(in[0]))
	if int(n) != len(in) {
		return fmt.Errorf("type %q: SendInput sent %d of %d events: %v", ch, n, len(in), err)
	}
	return nil
}

// TypeText implements desktop.Desktop: each character as Unicode input
// events (no keyboard layout involved), newline and tab as their keys; ctx
// is checked between characters, and a short pause after each lets the
// target's message loop take them in turn.
func (r *Robot) TypeText(ctx context.Context, text string, perChar time.Duration) error {
	return r.typeEach(ctx, text, max(perChar, 2*time.Millisecond), sendUnicode)
}

// clipboardTries is how often the clipboard is tried: OpenClipboard fails
// while another program has it open, as the program that just copied
// something does for a moment.
const clipboardTries = 20

// ClipboardGet implements desktop.Desktop (robotgo's Win32 clipboard).
func (r *Robot) ClipboardGet() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for i := 0; i < clipboardTries; i++ {
		var s string
		if s, err = robotgo.ReadAll(); err == nil {
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("read the clipboard (another program keeps it open?): %w", err)
}

// ClipboardSet implements desktop.Desktop.
func (r *Robot) ClipboardSet(text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for i := 0; i < clipboardTries; i++ {
		if err = robotgo.WriteAll(text); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("set the clipboard (another program keeps it open?): %w", err)
}

func isWindow(h uintptr) bool {
	ok, _, _ := procIsWindow.Call(h)
	return ok != 0
}

func window(h uintptr) desktop.Window {
	w := desktop.Window{ID: uint32(h)}
	if n, _, _ := procGetWindowTextLengthW.Call(h); n > 0 {
		buf := make([]uint16, n+1)
		procGetWindowTextW.Call(h, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		w.Title = syscall.UTF16ToString(buf)
	}
	var pid uint32
	procGetWindowThreadProcessId.Call(h, uintptr(unsafe.Pointer(&pid)))
	w.PID = int(pid)
	if b, err := clientBounds(h); err == nil {
		w.Bounds = b
	}
	return w
}

// clientBounds is a window's content area in screen coordinates.
func clientBounds(h uintptr) (image.Rectangle, error) {
	var c rect
	if ok, _, err := procGetClientRect.Call(h, uintptr(unsafe.Pointer(&c))); ok == 0 {
		return image.Rectangle{}, fmt.Errorf("GetClientRect: %w", err)
	}
	var p point
	if ok, _, err := procClientToScreen.Call(h, uintptr(unsafe.Pointer(&p))); ok == 0 {
		return image.Rectangle{}, fmt.Errorf("ClientToScreen: %w", err)
	}
	return image.Rect(int(p.X), int(p.Y), int(p.X+c.Right), int(p.Y+c.Bottom)), nil
}

// Windows implements desktop.Desktop: the visible top-level windows
// (EnumWindows), dialogs included.
func (r *Robot) Windows() ([]desktop.Window, error) {
	var hs []uintptr
	cb := syscall.NewCallback(func(h, _ uintptr) uintptr {
		if v, _, _ := procIsWindowVisible.Call(h); v != 0 {
			hs = append(hs, h)
		}
		return 1
	})
	if ok, _, err := procEnumWindows.Call(cb, 0); ok == 0 {
		return nil, fmt.Errorf("list windows (EnumWindows): %w", err)
	}
	out := make([]desktop.Window, 0, len(hs))
	for _, h := range hs {
		out = append(out, window(h))
	}
	return out, nil
}

// ActiveWindow implements desktop.Desktop (GetForegroundWindow).
func (r *Robot) ActiveWindow() (desktop.Window, error) {
	h, _, _ := procGetForegroundWindow.Call()
	if h == 0 {
		return desktop.Window{}, errors.New("no window has the focus")
	}
	return window(h), nil
}

// ActivateWindow implements desktop.Desktop: restores a minimized window
// and brings it to the foreground.
func (r *Robot) ActivateWindow(id uint32) error {
	h := uintptr(id)
	if !isWindow(h) {
		return fmt.Errorf("activate window 0x%x: no such window", id)
	}
	if ic, _, _ := procIsIconic.Call(h); ic != 0 {
		procShowWindow.Call(h, swRestore)
	}
	if ok, _, _ := procSetForegroundWindow.Call(h); ok == 0 {
		return fmt.Errorf("activate window 0x%x: Windows refused to bring it to the foreground", id)
	}
	return nil
}

// MinimizeWindow implements desktop.Desktop.
func (r *Robot) MinimizeWindow(id uint32) error {
	h := uintptr(id)
	if !isWindow(h) {
		return fmt.Errorf("minimize window 0x%x: no such window", id)
	}
	procShowWindow.Call(h, swMinimize)
	return nil
}

// CloseWindow implements desktop.Desktop: WM_CLOSE, as the close button
// sends it.
func (r *Robot) CloseWindow(id uint32) error {
	h := uintptr(id)
	if !isWindow(h) {
		return fmt.Errorf("close window 0x%x: no such window", id)
	}
	if ok, _, err := procPostMessageW.Call(h, wmClose, 0, 0); ok == 0 {
		return fmt.Errorf("close window 0x%x: %w", id, err)
	}
	return nil
}

// SetWindowBounds implements desktop.Desktop: the window's frame is moved
// so that its content area is b (SetWindowPos takes the frame).
func (r *Robot) SetWindowBounds(id uint32, b image.Rectangle) error {
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return fmt.Errorf("set bounds of window 0x%x: the size %dx%d is empty", id, b.Dx(), b.Dy())
	}
	h := uintptr(id)
	if !isWindow(h) {
		return fmt.Errorf("set bounds of window 0x%x: no such window", id)
	}
	var wr rect
	if ok, _, err := procGetWindowRect.Call(h, uintptr(unsafe.Pointer(&wr))); ok == 0 {
		return fmt.Errorf("set bounds of window 0x%x: GetWindowRect: %w", id, err)
	}
	cb, err := clientBounds(h)
	if err != nil {
		return fmt.Errorf("set bounds of window 0x%x: %w", id, err)
	}
	// The frame's borders and title bar around the content.
	left, top := cb.Min.X-int(wr.Left), cb.Min.Y-int(wr.Top)
	right, bottom := int(wr.Right)-cb.Max.X, int(wr.Bottom)-cb.Max.Y
	x, y := b.Min.X-left, b.Min.Y-top
	w, hh := b.Dx()+left+right, b.Dy()+top+bottom
	if ok, _, err := procSetWindowPos.Call(h, 0, uintptr(int32(x)), uintptr(int32(y)), uintptr(w), uintptr(hh),
		swpNoZOrder|swpNoActivate); ok == 0 {
		return fmt.Errorf("set bounds of window 0x%x: SetWindowPos: %w", id, err)
	}
	return nil
}

// Open implements desktop.Desktop. URLs and existing files that are not
// programs open with their default application (ShellExecute, pid 0:
// unknown); anything else is started as a program in its own process
// group, so that it outlives the run.
func (r *Robot) Open(ctx context.Context, target string, args []string) (int, error) {
	if isDocument(target) {
		if len(args) > 0 {
			return 0, fmt.Errorf("open %q: arguments are only for programs", target)
		}
		verb, _ := syscall.UTF16PtrFromString("open")
		file, err := syscall.UTF16PtrFromString(target)
		if err != nil {
			return 0, fmt.Errorf("open %q: %w", target, err)
		}
		rc, _, _ := procShellExecuteW.Call(0, uintptr(unsafe.Pointer(verb)), uintptr(unsafe.Pointer(file)), 0, 0, swShowNormal)
		if rc <= 32 {
			return 0, fmt.Errorf("open %q: ShellExecute failed with code %d (no application for it?)", target, rc)
		}
		return 0, nil
	}
	prog, err := exec.LookPath(target)
	if err != nil {
		return 0, fmt.Errorf("open %q: no such program or file: %w", target, err)
	}
	cmd := exec.Command(prog, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("open %q: %w", target, err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // release its handle whenever it ends
	return pid, nil
}

// isDocument reports whether target is a URL or an existing file that is
// not a program (by its extension, as Windows decides: PATHEXT).
func isDocument(target string) bool {
	if u, err := url.Parse(target); err == nil && len(u.Scheme) > 1 && (u.Host != "" || u.Scheme == "mailto" || u.Scheme == "file") {
		return true
	}
	fi, err := os.Stat(target)
	if err != nil || fi.IsDir() {
		return false
	}
	ext := strings.ToLower(filepath.Ext(target))
	exts := os.Getenv("PATHEXT")
	if exts == "" {
		exts = ".com;.exe;.bat;.cmd"
	}
	for _, e := range strings.Split(strings.ToLower(exts), ";") {
		if e != "" && e == ext {
			return false
		}
	}
	return true
}

// modVK are the modifier keys' virtual-key codes and robotgo names.
var modVK = []struct {
	vk   uintptr
	name string
}{{0x10, "shift"}, {0x11, "ctrl"}, {0x12, "alt"}, {0x5B, "cmd"}}

// ReleaseAll implements desktop.Desktop: it lets go of keys and buttons
// held through KeyToggle and MouseButton, then of every modifier and mouse
// button that Windows still reports as down (GetAsyncKeyState), so that a
// stop in the middle of a combo leaves nothing stuck.
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
	down := func(vk uintptr) bool {
		s, _, _ := procGetAsyncKeyState.Call(vk)
		return s&0x8000 != 0
	}
	for _, m := range modVK {
		if down(m.vk) {
			if err := robotgo.KeyToggle(m.name, "up"); err != nil {
				errs = append(errs, fmt.Errorf("release %s: %w", m.name, err))
			}
		}
	}
	for vk, name := range map[uintptr]string{1: "left", 2: "right", 4: "center"} {
		if down(vk) {
			robotgo.Toggle(name, "up")
		}
	}
	return errors.Join(errs...)
}

// vkFor is the virtual-key code of a Deskbot key name.
func vkFor(name string) (uintptr, bool) {
	named := map[string]uintptr{
		"backspace": 0x08, "tab": 0x09, "enter": 0x0D, "pause": 0x13, "capslock": 0x14, "escape": 0x1B,
		"space": 0x20, "pageup": 0x21, "pagedown": 0x22, "end": 0x23, "home": 0x24, "left": 0x25, "up": 0x26,
		"right": 0x27, "down": 0x28, "printscreen": 0x2C, "insert": 0x2D, "delete": 0x2E, "menu": 0x5D,
		"numlock": 0x90,
	}
	if vk, ok := named[name]; ok {
		return vk, true
	}
	if len(name) == 1 {
		c := name[0]
		switch {
		case c >= 'a' && c <= 'z':
			return uintptr(c - 'a' + 'A'), true
		case c >= '0' && c <= '9':
			return uintptr(c), true
		}
	}
	var n int
	if _, err := fmt.Sscanf(name, "f%d", &n); err == nil && n >= 1 && n <= 24 && name == fmt.Sprintf("f%d", n) {
		return uintptr(0x70 + n - 1), true
	}
	return 0, false
}

// msg is user32's MSG.
type msg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      point
	private uint32
}

// WatchHotkey implements desktop.HotkeyWatcher with RegisterHotKey on a
// thread of its own that runs a message loop: the combo reaches Deskbot
// whichever window has the focus. It fails when another program has
// already registered the combo.
func (r *Robot) WatchHotkey(combo string, fn func()) (stop func(), err error) {
	k, err := desktop.ParseKey(combo)
	if err != nil {
		return nil, err
	}
	vk, ok := vkFor(k.Name)
	if !ok {
		return nil, fmt.Errorf("hotkey %q: %q cannot be a hotkey on Windows", combo, k.Name)
	}
	var mods uintptr = 0x4000 // MOD_NOREPEAT
	for _, m := range k.Mods {
		switch m {
		case "alt":
			mods |= 1
		case "ctrl":
			mods |= 2
		case "shift":
			mods |= 4
		case "cmd":
			mods |= 8
		}
	}
	type started struct {
		tid uintptr
		err error
	}
	ready := make(chan started, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid, _, _ := procGetCurrentThreadId.Call()
		var m msg
		// Give the thread its message queue before anyone posts to it.
		procPeekMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0x0400, 0x0400, 0)
		if ok, _, e := procRegisterHotKey.Call(0, 1, mods, vk); ok == 0 {
			ready <- started{err: fmt.Errorf("hotkey %q is already taken by another program (RegisterHotKey: %v)", combo, e)}
			return
		}
		defer procUnregisterHotKey.Call(0, 1)
		ready <- started{tid: tid}
		for {
			rc, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if rc == 0 || int32(rc) == -1 {
				return // WM_QUIT, or an error
			}
			if m.message == wmHotkey {
				fn()
			}
		}
	}()
	s := <-ready
	if s.err != nil {
		<-done
		return nil, s.err
	}
	return func() {
		procPostThreadMessageW.Call(s.tid, wmQuit, 0, 0)
		<-done
	}, nil
}
