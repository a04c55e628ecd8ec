//go:build !windows && !darwin

package robot

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"

	"github.com/go-vgo/robotgo"
	"github.com/robotn/xgb/xproto"
	"github.com/robotn/xgb/xtest"
)

// robotgo types a character that is not on the keyboard by mapping its
// keysym onto one spare keycode and pressing it at once (input_utf). Target
// programs pick up keyboard mapping changes late: measured with a fyne
// window under Xvfb, quick successive remaps came out as wrong or missing
// characters ("Zoë" as "ZoØ"). Deskbot therefore gives each non-ASCII
// character of a text its own spare keycode before typing, waits once for
// programs to take in the new mapping, and keeps those keycodes mapped for
// later texts, so that a keycode never changes meaning while its key events
// may still be in flight. Without spare keycodes it falls back to robotgo
// with a pause per character.
//
// The X server keeps those mappings after Deskbot's connection ends: they
// used up the spare keycodes (Xvfb has 19), so the next run found none and
// fell back to robotgo, which types a capital non-ASCII letter as its lower
// case ("Äpfel" as "äpfel"). RestoreKeymap gives the keycodes back their
// empty mapping; desktop runs call it when they end or stop.

// unicodeSettle is how long programs get to take in new key mappings, and
// to read the key events sent on a keycode before it is remapped, when they
// do not answer a _NET_WM_PING (see ping.go).
const unicodeSettle = 120 * time.Millisecond

type unicodeTyper struct {
	inited bool
	spare  []xproto.Keycode // keycodes without keysyms, ours to map
	per    byte             // keysyms per keycode
	shift  xproto.Keycode   // Shift_L
	owner  map[xproto.Keycode]rune
	code   map[rune]xproto.Keycode
	used   map[xproto.Keycode]int64 // last use, for eviction
	clock  int64
	usedAt map[xproto.Keycode]time.Time // when a key event last went to a keycode
	last   time.Time                    // the latest of usedAt
}

func (r *Robot) initUnicode() {
	u := &r.uni
	if u.inited {
		return
	}
	u.inited = true
	u.owner, u.code, u.used = map[xproto.Keycode]rune{}, map[rune]xproto.Keycode{}, map[xproto.Keycode]int64{}
	u.usedAt = map[xproto.Keycode]time.Time{}
	setup := r.xu.Setup()
	min, max := setup.MinKeycode, setup.MaxKeycode
	rep, err := xproto.GetKeyboardMapping(r.conn, min, byte(max-min+1)).Reply()
	if err != nil || rep.KeysymsPerKeycode == 0 {
		return
	}
	u.per = rep.KeysymsPerKeycode
	for code := int(min); code <= int(max); code++ {
		if rep.Keysyms[(code-int(min))*int(u.per)] == 0xffe1 { // Shift_L
			u.shift = xproto.Keycode(code)
			break
		}
	}
	// Spare keycodes have no keysym at all; take up to 64 from the top.
	for code := int(max); code >= int(min) && len(u.spare) < 64; code-- {
		i := (code - int(min)) * int(u.per)
		empty := true
		for j := 0; j < int(u.per); j++ {
			if rep.Keysyms[i+j] != 0 {
				empty = false
				break
			}
		}
		if empty {
			u.spare = append(u.spare, xproto.Keycode(code))
		}
	}
}

// keysymFor is the X keysym of a character: Latin-1 keysyms are the code
// points, others are 0x01000000 + code point.
func keysymFor(ch rune) xproto.Keysym {
	if ch >= 0x20 && ch <= 0x7e || ch >= 0xa0 && ch <= 0xff {
		return xproto.Keysym(ch)
	}
	return xproto.Keysym(0x01000000 + ch)
}

func isPlain(ch rune) bool { return ch >= 0x20 && ch <= 0x7e || ch == '\n' || ch == '\t' || ch == '\r' }

// cased reports whether ch goes on the shifted level above its lower case.
func (u *unicodeTyper) cased(ch rune) (lower rune, ok bool) {
	if l := unicode.ToLower(ch); l != ch && unicode.IsUpper(ch) && u.shift != 0 {
		return l, true
	}
	return ch, false
}

// prepare maps every character of chars that has no keycode yet, evicting
// the least recently used ones not in chars; it reports whether it changed
// the mapping. A keycode is remapped only unicodeSettle after its last key
// event: programs read key events against the mapping they hold when they
// get to them, so an earlier remap turned characters still in flight into
// the new ones. The remaps go out together, with one round trip. r.mu is
// held.
func (r *Robot) prepare(ctx context.Context, chars []rune) (bool, error) {
	u := &r.uni
	need := map[rune]bool{}
	var distinct []rune
	for _, c := range chars {
		if !need[c] {
			need[c] = true
			distinct = append(distinct, c)
		}
	}
	chars = distinct
	// choose picks the keycodes; with commit it takes them.
	type job struct {
		code xproto.Keycode
		ch   rune
	}
	choose := func(commit bool) ([]job, time.Time, error) {
		var jobs []job
		var free time.Time
		taken := map[xproto.Keycode]bool{}
		for _, ch := range chars {
			if commit {
				u.clock++
			}
			if code, ok := u.code[ch]; ok {
				if commit {
					u.used[code] = u.clock
				}
				continue
			}
			var code xproto.Keycode
			var oldest int64 = -1
			for _, c := range u.spare {
				if taken[c] {
					continue
				}
				owner, mapped := u.owner[c]
				if !mapped {
					code = c
					break
				}
				if !need[owner] && (oldest < 0 || u.used[c] < oldest) {
					code, oldest = c, u.used[c]
				}
			}
			if code == 0 {
				return nil, free, fmt.Errorf("no spare keycode left for %q", ch)
			}
			taken[code] = true
			if t := u.usedAt[code].Add(unicodeSettle); t.After(free) {
				free = t
			}
			jobs = append(jobs, job{code, ch})
			if commit {
				if old, mapped := u.owner[code]; mapped {
					delete(u.code, old)
				}
				u.owner[code], u.code[ch], u.used[code] = ch, code, u.clock
			}
		}
		return jobs, free, nil
	}
	jobs, free, err := choose(false)
	if err != nil || len(jobs) == 0 {
		return false, err
	}
	if wait := time.Until(free); wait > 0 {
		if _, err := r.catchUp(ctx, wait); err != nil {
			return false, err
		}
	}
	jobs, _, _ = choose(true)
	cookies := make([]xproto.ChangeKeyboardMappingCookie, len(jobs))
	for i, j := range jobs {
		lower, _ := u.cased(j.ch)
		syms := make([]xproto.Keysym, u.per)
		for k := range syms {
			if k%2 == 0 {
				syms[k] = keysymFor(lower)
			} else {
				syms[k] = keysymFor(j.ch)
			}
		}
		cookies[i] = xproto.ChangeKeyboardMappingChecked(r.conn, 1, j.code, u.per, syms)
	}
	var errs []error
	for i, c := range cookies {
		if err := c.Check(); err != nil {
			errs = append(errs, fmt.Errorf("map %q onto keycode %d: %w", jobs[i].ch, jobs[i].code, err))
		}
	}
	return true, errors.Join(errs...)
}

// segments splits text so that no segment has more distinct non-ASCII
// characters than there are spare keycodes.
func segments(text string, pool int) [][]rune {
	var out [][]rune
	var cur []rune
	seen := map[rune]bool{}
	for _, ch := range text {
		if !isPlain(ch) && !seen[ch] {
			if len(seen) == pool && len(cur) > 0 {
				out = append(out, cur)
				cur, seen = nil, map[rune]bool{}
			}
			seen[ch] = true
		}
		cur = append(cur, ch)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// typeText types text one character at a time; between characters it
// checks ctx and waits perChar.
func (r *Robot) typeText(ctx context.Context, text string, perChar time.Duration) error {
	r.mu.Lock()
	r.initUnicode()
	pool := len(r.uni.spare)
	r.mu.Unlock()
	if pool < 2 {
		pool = 0
	}
	for _, seg := range segments(text, max(pool, 1)) {
		if pool > 0 {
			var odd []rune
			for _, ch := range seg {
				if !isPlain(ch) {
					odd = append(odd, ch)
				}
			}
			if len(odd) > 0 {
				r.mu.Lock()
				changed, err := r.prepare(ctx, odd)
				if err == nil && changed {
					_, err = r.catchUp(ctx, unicodeSettle)
				}
				r.mu.Unlock()
				if err != nil {
					if ctx.Err() != nil {
						return err
					}
					return fmt.Errorf("type text: %w", err)
				}
			}
		}
		for _, ch := range seg {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if err := r.typeRune(ch, pool > 0); err != nil {
				return err
			}
			if perChar > 0 {
				if err := sleepCtx(ctx, perChar); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *Robot) typeRune(ch rune, mapped bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ch {
	case '\n':
		return robotgo.KeyTap("enter")
	case '\t':
		return robotgo.KeyTap("tab")
	case '\r':
		return nil
	}
	if isPlain(ch) {
		robotgo.TypeStr(string(ch))
		return nil
	}
	u := &r.uni
	code, ok := u.code[ch]
	if mapped && !ok {
		// The keymap was restored since the segment was prepared (a
		// sub-flow ended, say): map the character again.
		changed, err := r.prepare(context.Background(), []rune{ch})
		if err != nil {
			return fmt.Errorf("type text: %w", err)
		}
		if changed {
			r.catchUp(context.Background(), unicodeSettle)
		}
		code, ok = u.code[ch]
	}
	if !mapped || !ok {
		robotgo.TypeStr(string(ch))
		robotgo.MilliSleep(40)
		return nil
	}
	u.clock++
	u.used[code] = u.clock
	defer func() { u.last = time.Now(); u.usedAt[code] = u.last }()
	type ev struct {
		t    byte
		code xproto.Keycode
	}
	evs := []ev{{xproto.KeyPress, code}, {xproto.KeyRelease, code}}
	if _, shifted := u.cased(ch); shifted {
		evs = []ev{{xproto.KeyPress, u.shift}, {xproto.KeyPress, code}, {xproto.KeyRelease, code}, {xproto.KeyRelease, u.shift}}
	}
	// The events go out together and are checked with one round trip.
	cookies := make([]xtest.FakeInputCookie, len(evs))
	for i, e := range evs {
		cookies[i] = xtest.FakeInputChecked(r.conn, e.t, byte(e.code), 0, r.root, 0, 0, 0)
	}
	var errs []error
	for _, c := range cookies {
		if err := c.Check(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("type %q: %w", ch, err)
	}
	return nil
}

// RestoreKeymap gives every keycode mapped for Unicode typing its empty
// mapping back (they were spare, without keysyms, when taken), after
// programs have had time to read the key events sent on them. It
// implements desktop.KeymapRestorer; typing later maps them again.
func (r *Robot) RestoreKeymap() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := &r.uni
	if len(u.owner) == 0 {
		return nil
	}
	if wait := unicodeSettle - time.Since(u.last); wait > 0 {
		r.catchUp(context.Background(), wait)
	}
	empty := make([]xproto.Keysym, u.per)
	var errs []error
	for code := range u.owner {
		if err := xproto.ChangeKeyboardMappingChecked(r.conn, 1, code, u.per, empty).Check(); err != nil {
			errs = append(errs, fmt.Errorf("restore keycode %d: %w", code, err))
		}
	}
	clear(u.owner)
	clear(u.code)
	clear(u.used)
	clear(u.usedAt)
	return errors.Join(errs...)
}
