package robot_test

import (
	"bytes"
	"context"
	"deskbot/engine/desktop"
	"image"
	"image/png"
	"os"
	"testing"
	"time"
)

func TestTmpUnicode(t *testing.T) {
	r := xserver(t)
	f := startForm(t, r, "Uni Form")
	r.ActivateWindow(f.win.ID)
	time.Sleep(300 * time.Millisecond)
	shot, _ := r.Capture(image.Rectangle{})
	anc, _ := os.ReadFile("../testdata/formapp/name-anchor.png")
	ai, _ := png.Decode(bytes.NewReader(anc))
	m, ok := desktop.FindImage(shot, ai, 0.05)
	t.Log(m, ok, f.win.Bounds)
	r.MoveMouse(m.Center().X+120, m.Center().Y, false)
	r.Click(desktop.Left, false)
	time.Sleep(200 * time.Millisecond)
	s := "ëØé✓日本ñüÄ€ab"
	for i := 0; i < 4; i++ {
		r.TypeText(context.Background(), s, 0)
	}
	time.Sleep(time.Second)
	got := f.read(t).Name
	t.Logf("got  %q", got)
	want := s + s + s + s
	t.Logf("want %q equal=%v lost=%d", want, got == want, len([]rune(want))-len([]rune(got)))
}
