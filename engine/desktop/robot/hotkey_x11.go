//go:build !windows && !darwin

package robot

import (
	"fmt"
	"strings"

	"github.com/robotn/xgb/xproto"
	"github.com/robotn/xgbutil"
	"github.com/robotn/xgbutil/keybind"

	"deskbot/engine/desktop"
)

// keysyms maps Deskbot key names to X keysym names where they differ.
var keysyms = map[string]string{
	"enter": "Return", "escape": "Escape", "tab": "Tab", "backspace": "BackSpace", "delete": "Delete",
	"insert": "Insert", "home": "Home", "end": "End", "pageup": "Prior", "pagedown": "Next",
	"up": "Up", "down": "Down", "left": "Left", "right": "Right", "space": "space", "pause": "Pause",
	"printscreen": "Print", "menu": "Menu", "capslock": "Caps_Lock", "numlock": "Num_Lock",
}

// xgbutilCombo turns "ctrl+alt+q" into xgbutil's "Control-Mod1-q".
func xgbutilCombo(combo string) (string, error) {
	k, err := desktop.ParseKey(combo)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, m := range k.Mods {
		switch m {
		case "ctrl":
			parts = append(parts, "Control")
		case "alt":
			parts = append(parts, "Mod1")
		case "shift":
			parts = append(parts, "Shift")
		case "cmd":
			parts = append(parts, "Mod4")
		}
	}
	name := k.Name
	if s, ok := keysyms[name]; ok {
		name = s
	} else if len(name) > 1 && name[0] == 'f' {
		name = strings.ToUpper(name)
	}
	return strings.Join(append(parts, name), "-"), nil
}

// lockMasks are modifiers a hotkey ignores (Caps Lock, Num Lock).
const lockMasks = xproto.ModMaskLock | xproto.ModMask2

// WatchHotkey implements desktop.HotkeyWatcher with a passive key grab on
// the root window over its own X connection: the combo reaches Deskbot
// whichever window has the focus. It fails when another client has already
// grabbed the combo.
func (r *Robot) WatchHotkey(combo string, fn func()) (stop func(), err error) {
	str, err := xgbutilCombo(combo)
	if err != nil {
		return nil, err
	}
	xu, err := xgbutil.NewConnDisplay(r.display)
	if err != nil {
		return nil, fmt.Errorf("connect to X display %q: %w", r.display, err)
	}
	keybind.Initialize(xu)
	mods, codes, err := keybind.ParseString(xu, str)
	if err != nil {
		CloseX(xu.Conn())
		return nil, fmt.Errorf("hotkey %q: %w", combo, err)
	}
	if len(codes) == 0 {
		CloseX(xu.Conn())
		return nil, fmt.Errorf("hotkey %q: the keyboard has no such key", combo)
	}
	root := xu.RootWin()
	for _, c := range codes {
		if err := keybind.GrabChecked(xu, root, mods, c); err != nil {
			CloseX(xu.Conn())
			if _, ok := err.(xproto.AccessError); ok {
				return nil, fmt.Errorf("hotkey %q is already taken by another program", combo)
			}
			return nil, fmt.Errorf("grab hotkey %q: %w", combo, err)
		}
	}
	conn := xu.Conn()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, xerr := conn.WaitForEvent()
			if ev == nil && xerr == nil {
				return // connection closed
			}
			kp, ok := ev.(xproto.KeyPressEvent)
			if !ok {
				continue
			}
			if kp.State&^lockMasks != mods {
				continue
			}
			for _, c := range codes {
				if kp.Detail == c {
					fn()
					break
				}
			}
		}
	}()
	return func() {
		conn.Close()
		<-done
	}, nil
}
