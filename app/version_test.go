package main

import (
	"bytes"
	"image/png"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robotn/xgb"
	"github.com/robotn/xgb/xproto"

	"deskbot/assets/icon"
	"deskbot/engine/desktop/robot"
	"deskbot/engine/desktop/xvfbtest"
)

// TestVersionStamped: a binary built with the Makefile's -ldflags prints
// the version and commit it was given, for --version and for `version`; a
// plain build says it is a development build instead of inventing one.
func TestVersionStamped(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "deskbot")
	out, err := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X main.version=1.2.3 -X main.commit=abc1234-dirty", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, arg := range []string{"--version", "version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", arg, err, out)
		}
		if !regexp.MustCompile(`^deskbot 1\.2\.3 \(commit abc1234-dirty, linux/amd64, go1\.\d+`).Match(out) {
			t.Errorf("%s printed %q", arg, out)
		}
	}
	out, _ = exec.Command(deskbot(t), "--version").CombinedOutput()
	if !strings.HasPrefix(string(out), "deskbot devel (commit ") {
		t.Errorf("an unstamped build printed %q", out)
	}
}

// TestStudioWindowIcon: the studio's window carries Deskbot's icon, as the
// window manager sees it (_NET_WM_ICON: width, height, pixels), and the icon
// is a real 256x256 PNG.
func TestStudioWindowIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(icon.Resource.Content()))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("icon is %v", b)
	}
	if testing.Short() {
		t.Skip("X test")
	}
	xs := xvfbtest.Start(t, xvfbtest.Options{WM: true, Tools: []string{"xdotool", "xprop"}})
	studio := exec.Command(deskbot(t))
	studio.Env = append(xs.Env(), "DESKBOT_DATA="+t.TempDir(), "HOME="+t.TempDir())
	var log bytes.Buffer
	studio.Stdout, studio.Stderr = &log, &log
	if err := studio.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { studio.Process.Kill(); studio.Wait() }()
	var win string
	deadline := time.Now().Add(time.Minute) // patience, not a speed check
	for win == "" && time.Now().Before(deadline) {
		search := exec.Command("xdotool", "search", "--name", "^Deskbot$")
		search.Env = xs.Env()
		out, _ := search.Output()
		win = strings.TrimSpace(string(out))
		if win == "" {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if win == "" {
		t.Fatalf("no studio window\n%s", log.String())
	}
	win = strings.Fields(win)[0]
	// _NET_WM_ICON is width, height, then ARGB pixels row by row.
	id, err := strconv.ParseUint(win, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	c, err := xgb.NewConnDisplay(xs.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer robot.CloseX(c)
	atom, err := xproto.InternAtom(c, true, uint16(len("_NET_WM_ICON")), "_NET_WM_ICON").Reply()
	if err != nil {
		t.Fatal(err)
	}
	var vals []uint32
	for time.Now().Before(deadline) {
		r, err := xproto.GetProperty(c, false, xproto.Window(id), atom.Atom, xproto.AtomCardinal, 0, 1<<20).Reply()
		if err != nil {
			t.Fatal(err)
		}
		if r.ValueLen > 0 {
			for i := 0; i+4 <= len(r.Value); i += 4 {
				vals = append(vals, xgb.Get32(r.Value[i:]))
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(vals) != 2+256*256 || vals[0] != 256 || vals[1] != 256 {
		n := min(len(vals), 2)
		t.Fatalf("the studio window's icon has %d values, starting %v", len(vals), vals[:n])
	}
	// Opaque pixels match the PNG's: the middle of the face and the
	// background's edge.
	for _, pt := range [][2]int{{128, 128}, {20, 128}, {128, 230}} {
		r, g, b, a := img.At(pt[0], pt[1]).RGBA()
		want := a>>8<<24 | r>>8<<16 | g>>8<<8 | b>>8
		if got := vals[2+pt[1]*256+pt[0]]; got != want {
			t.Errorf("icon pixel %v: window has %#x, the PNG %#x", pt, got, want)
		}
	}
}
