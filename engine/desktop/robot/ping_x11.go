//go:build !windows && !darwin

package robot

import (
	"context"
	"time"

	"github.com/robotn/xgb"
	"github.com/robotn/xgb/xproto"
)

// Keymap changes and the target program.
//
// A program reads key events against the keyboard mapping it holds when it
// gets to them, and a busy program gets to them late: a keycode remapped
// while its key events still waited in the program's queue typed the new
// character, and key events sent soon after a remap could still be read
// against the old mapping (300 distinct CJK characters came out garbled
// under load with fixed pauses). So Deskbot makes sure the program has
// caught up, before it remaps keycodes and before it types on remapped
// ones, with an EWMH _NET_WM_PING to the focused window: the program
// answers when it has handled everything queued before it. Programs that
// do not take part in the ping protocol get the fixed pause unicodeSettle.

// pingWait is how long Deskbot waits for the answer to a ping.
const pingWait = 3 * time.Second

// catchUp waits until the program with the keyboard focus has handled the
// events sent so far (see above), or for fallback when it cannot tell. It
// reports whether the program answered.
// r.mu is held; ctx ends the wait early with its cause.
func (r *Robot) catchUp(ctx context.Context, fallback time.Duration) (bool, error) {
	if r.pingOnce(ctx, pingWait) {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return false, context.Cause(ctx)
	}
	return false, sleepCtx(ctx, fallback)
}

// pingOnce pings the focused top-level window and waits up to limit for
// its answer.
func (r *Robot) pingOnce(ctx context.Context, limit time.Duration) bool {
	atoms := func(c *xgb.Conn, names ...string) []xproto.Atom {
		cookies := make([]xproto.InternAtomCookie, len(names))
		for i, n := range names {
			cookies[i] = xproto.InternAtom(c, false, uint16(len(n)), n)
		}
		out := make([]xproto.Atom, len(names))
		for i, ck := range cookies {
			rep, err := ck.Reply()
			if err != nil {
				return nil
			}
			out[i] = rep.Atom
		}
		return out
	}
	c, err := xgb.NewConnDisplay(r.display)
	if err != nil {
		return false
	}
	defer CloseX(c)
	a := atoms(c, "WM_PROTOCOLS", "_NET_WM_PING")
	if a == nil {
		return false
	}
	protocols, ping := a[0], a[1]
	win := r.pingTarget(c, protocols, ping)
	if win == 0 {
		return false
	}
	// The answer goes to the root window for SubstructureNotify and
	// SubstructureRedirect listeners.
	if err := xproto.ChangeWindowAttributesChecked(c, r.root, xproto.CwEventMask,
		[]uint32{xproto.EventMaskSubstructureNotify}).Check(); err != nil {
		return false
	}
	r.pingID++
	id := r.pingID
	ev := xproto.ClientMessageEvent{Format: 32, Window: win, Type: protocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(ping), id, uint32(win), 0, 0})}
	if err := xproto.SendEventChecked(c, false, win, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		return false
	}
	got := make(chan bool, 1)
	go func() {
		for {
			e, xerr := c.WaitForEvent()
			if e == nil && xerr == nil {
				got <- false // the connection closed
				return
			}
			if cm, ok := e.(xproto.ClientMessageEvent); ok && cm.Type == protocols && cm.Format == 32 &&
				len(cm.Data.Data32) >= 2 && cm.Data.Data32[0] == uint32(ping) && cm.Data.Data32[1] == id {
				got <- true
				return
			}
		}
	}()
	select {
	case ok := <-got:
		return ok
	case <-time.After(limit):
		return false
	case <-ctx.Done():
		return false
	}
}

// pingTarget is the focused window or its nearest ancestor that lists
// _NET_WM_PING in WM_PROTOCOLS; 0 when there is none.
func (r *Robot) pingTarget(c *xgb.Conn, protocols, ping xproto.Atom) xproto.Window {
	f, err := xproto.GetInputFocus(c).Reply()
	if err != nil {
		return 0
	}
	w := f.Focus
	for i := 0; i < 16 && w != 0 && w != r.root && w != xproto.Window(xproto.InputFocusPointerRoot); i++ {
		if p, err := xproto.GetProperty(c, false, w, protocols, xproto.AtomAtom, 0, 64).Reply(); err == nil && p.Format == 32 {
			for j := 0; j+4 <= len(p.Value); j += 4 {
				if xproto.Atom(xgb.Get32(p.Value[j:])) == ping {
					return w
				}
			}
		}
		t, err := xproto.QueryTree(c, w).Reply()
		if err != nil {
			return 0
		}
		w = t.Parent
	}
	return 0
}
