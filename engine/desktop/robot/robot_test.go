//go:build !windows && !darwin

package robot_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"deskbot/engine/desktop"
	"deskbot/engine/desktop/robot"
)

func clickNameField(t testing.TB, r interface {
	Capture(image.Rectangle) (*image.RGBA, error)
	MoveMouse(int, int, bool) error
	Click(desktop.Button, bool) error
}, f *form) {
	t.Helper()
	shot, err := r.Capture(f.win.Bounds)
	if err != nil {
		t.Fatal(err)
	}
	m := findNameAnchor(t, shot)
	c := m.Center().Add(f.win.Bounds.Min)
	r.MoveMouse(c.X+120, c.Y, false)
	r.Click(desktop.Left, false)
	time.Sleep(200 * time.Millisecond)
}

// TestTypeTextUnicode types many distinct non-ASCII characters, repeatedly,
// quickly: each must arrive as itself (robotgo's single remapped keycode
// garbles this; see unicode.go).
func TestTypeTextUnicode(t *testing.T) {
	r := xserver(t)
	f := startForm(t, r, "Unicode Form")
	if err := r.ActivateWindow(f.win.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	clickNameField(t, r, f)
	s := "ëØé✓日本ñüÄ€ab Ωß"
	want := strings.Repeat(s, 4)
	if err := r.TypeText(context.Background(), want, 0); err != nil {
		t.Fatal(err)
	}
	var got string
	waitFor(3*time.Second, func() bool { got = f.read(t).Name; return got == want })
	if got != want {
		t.Errorf("typed\n%q\ngot\n%q", want, got)
	}
}

// TestClipboardRoundTrip sets and reads the clipboard through xclip.
func TestClipboardRoundTrip(t *testing.T) {
	r := xserver(t)
	for _, s := range []string{"plain", "Ünïcödé ✓ 日本\nsecond line"} {
		if err := r.ClipboardSet(s); err != nil {
			t.Fatal(err)
		}
		got, err := r.ClipboardGet()
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Errorf("clipboard %q, want %q", got, s)
		}
	}
}

// TestKeyToggleReleasedByReleaseAll holds shift and a mouse button, and
// checks that ReleaseAll lets go of both (XQueryKeymap agrees).
func TestKeyToggleReleasedByReleaseAll(t *testing.T) {
	r := xserver(t)
	k, _ := desktop.ParseKey("shift")
	if err := r.KeyToggle(k, true); err != nil {
		t.Fatal(err)
	}
	if held, _ := r.HeldKeys(); len(held) == 0 {
		t.Fatal("shift is not down after KeyToggle")
	}
	if err := r.ReleaseAll(); err != nil {
		t.Fatal(err)
	}
	if held, _ := r.HeldKeys(); len(held) != 0 {
		t.Errorf("keys still down after ReleaseAll: %v", held)
	}
}

// TestScreenAndPointer checks the screen size, pointer moves and a pixel
// read against ImageMagick-free expectations (the root is black under
// Xvfb with jwm's default background).
func TestScreenAndPointer(t *testing.T) {
	r := xserver(t)
	w, h, err := r.ScreenSize()
	if err != nil || w != 1280 || h != 800 {
		t.Fatalf("screen %dx%d %v, want 1280x800", w, h, err)
	}
	if err := r.MoveMouse(700, 500, false); err != nil {
		t.Fatal(err)
	}
	if x, y, _ := r.MousePos(); x != 700 || y != 500 {
		t.Errorf("pointer at %d,%d, want 700,500", x, y)
	}
	if err := r.MoveMouse(900, 600, true); err != nil {
		t.Fatal(err)
	}
	if x, y, _ := r.MousePos(); x != 900 || y != 600 {
		t.Errorf("pointer at %d,%d after a smooth move, want 900,600", x, y)
	}
	if err := r.MoveMouse(-1, 5, false); err == nil {
		t.Error("a move off the screen did not fail")
	}
	img, err := r.Capture(image.Rect(10, 20, 110, 70))
	if err != nil || img.Bounds().Dx() != 100 || img.Bounds().Dy() != 50 {
		t.Fatalf("capture: %v %v", img.Bounds(), err)
	}
	if _, err := r.Capture(image.Rect(1200, 700, 1400, 900)); err == nil {
		t.Error("a capture off the screen did not fail")
	}
}

// TestNewWithoutDisplay fails clearly when there is no X display.
func TestNewWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	_, err := robot.New()
	if err == nil || !strings.Contains(err.Error(), "no X display") {
		t.Fatalf("New without DISPLAY: %v", err)
	}
	t.Setenv("DISPLAY", ":4242")
	if _, err := robot.New(); err == nil || !strings.Contains(err.Error(), `cannot connect to X display ":4242"`) {
		t.Fatalf("New with a dead display: %v", err)
	}
}

// TestMinimizeAndRestoreWindow minimizes the form through the window
// manager (ICCCM WM_CHANGE_STATE), reads its WM_STATE back with xprop, and
// brings it back with ActivateWindow.
func TestMinimizeAndRestoreWindow(t *testing.T) {
	r := xserver(t)
	f := startForm(t, r, "Minimize Me")
	state := func() string {
		out, _ := exec.Command("xprop", "-id", fmt.Sprint(f.win.ID), "WM_STATE").Output()
		return string(out)
	}
	if err := r.MinimizeWindow(f.win.ID); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(state(), "Iconic") }) {
		t.Fatalf("window not minimized: %s", state())
	}
	if err := r.ActivateWindow(f.win.ID); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(state(), "Normal") }) {
		t.Fatalf("window not restored: %s", state())
	}
	if !waitFor(5*time.Second, func() bool { a, err := r.ActiveWindow(); return err == nil && a.ID == f.win.ID }) {
		t.Error("the restored window does not have the focus")
	}
}

// cjk is n distinct CJK ideographs from U+4E00.
func cjk(n int) string {
	r := make([]rune, n)
	for i := range r {
		r[i] = rune(0x4e00 + i)
	}
	return string(r)
}

// TestTypeTextManyCJK types 300 distinct CJK characters, far more than
// there are spare keycodes: each must arrive as itself.
func TestTypeTextManyCJK(t *testing.T) {
	r := xserver(t)
	f := startForm(t, r, "CJK Form")
	if err := r.ActivateWindow(f.win.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	clickNameField(t, r, f)
	want := cjk(300)
	if err := r.TypeText(context.Background(), want, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.RestoreKeymap(); err != nil {
		t.Fatal(err)
	}
	var got string
	waitFor(5*time.Second, func() bool { got = f.read(t).Name; return got == want })
	if got != want {
		t.Errorf("typed\n%q\ngot\n%q", want, got)
	}
}

// BenchmarkTypeText types 300 ASCII characters and 300 distinct CJK
// characters into the form in each round, the keymap restored after each
// text as at the end of a run, and reports the time per character of both
// and their ratio (the same run is the baseline).
func BenchmarkTypeText(b *testing.B) {
	r := xserver(b)
	f := startForm(b, r, "Bench Form")
	if err := r.ActivateWindow(f.win.ID); err != nil {
		b.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	clickNameField(b, r, f)
	ascii := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 7)[:300]
	han := cjk(300)
	selectAll, _ := desktop.ParseKey("ctrl+a")
	del, _ := desktop.ParseKey("backspace")
	clearField := func() {
		r.KeyTap(selectAll)
		r.KeyTap(del)
		waitFor(5*time.Second, func() bool { return f.read(b).Name == "" })
	}
	typeOne := func(text string) time.Duration {
		clearField()
		start := time.Now()
		if err := r.TypeText(context.Background(), text, 0); err != nil {
			b.Fatal(err)
		}
		if err := r.RestoreKeymap(); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		var got string
		waitFor(10*time.Second, func() bool { got = f.read(b).Name; return got == text })
		if got != text {
			b.Fatalf("typed %q, got %q", text, got)
		}
		return d
	}
	var da, dc time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		da += typeOne(ascii)
		dc += typeOne(han)
	}
	b.StopTimer()
	perA := float64(da.Nanoseconds()) / float64(b.N*300)
	perC := float64(dc.Nanoseconds()) / float64(b.N*300)
	b.ReportMetric(perA, "ascii-ns/char")
	b.ReportMetric(perC, "cjk-ns/char")
	b.ReportMetric(perC/perA, "cjk/ascii")
}

// findNameAnchor finds the form program's name label (the asset picture
// assets/formapp/name-anchor.png) in shot.
func findNameAnchor(t testing.TB, shot image.Image) desktop.Match {
	t.Helper()
	b, err := os.ReadFile("../../../assets/formapp/name-anchor.png")
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := desktop.FindImage(shot, anchor, 0.05)
	if !ok {
		t.Fatal("the name anchor is not in the screenshot")
	}
	return m
}

// TestSetWindowBounds moves and resizes a real window through jwm and reads
// its content area back, from Deskbot and from xwininfo.
func TestSetWindowBounds(t *testing.T) {
	r := xserver(t)
	f := startForm(t, r, "Move Me")
	want := image.Rect(150, 120, 150+520, 120+310)
	if err := r.SetWindowBounds(f.win.ID, want); err != nil {
		t.Fatal(err)
	}
	var got image.Rectangle
	if !waitFor(5*time.Second, func() bool {
		ws, err := r.Windows()
		for _, w := range ws {
			if err == nil && w.ID == f.win.ID {
				got = w.Bounds
			}
		}
		return got == want
	}) {
		t.Fatalf("bounds %v, want %v", got, want)
	}
	out, err := exec.Command("xwininfo", "-id", fmt.Sprint(f.win.ID)).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Absolute upper-left X:  150", "Absolute upper-left Y:  120", "Width: 520", "Height: 310"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("xwininfo lacks %q:\n%s", s, out)
		}
	}
	if err := r.SetWindowBounds(f.win.ID, image.Rect(10, 10, 10, 50)); err == nil {
		t.Error("an empty size was accepted")
	}
}
