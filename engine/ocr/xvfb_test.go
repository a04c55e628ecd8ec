//go:build cgo && linux

package ocr_test

import (
	"context"
	"image"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine/desktop/robot"
	"deskbot/engine/desktop/xvfbtest"
	"deskbot/engine/ocr/ocrtest"
)

// On a real X server (Xvfb), text shown on the screen — a picture set as
// the root window's background by ImageMagick's display — is captured by
// the robot desktop and read.
func TestOCRReadsXScreenRegion(t *testing.T) {
	srv, err := xvfbtest.New(xvfbtest.Options{Screen: "1280x800x24", Tools: []string{"display"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	dir := t.TempDir()
	pic := filepath.Join(dir, "screen.png")
	writePNG(t, pic, render(t, 1280, 800,
		ocrtest.Line{Text: "Balance 1,250.00", At: image.Pt(200, 300), Size: 18},
		ocrtest.Line{Text: "Elsewhere", At: image.Pt(900, 700), Size: 18}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	show := exec.CommandContext(ctx, "display", "-window", "root", pic)
	show.Env = srv.Env()
	// display exits 1 after it has set the root window's background; what
	// it did is checked by the capture below.
	out, showErr := show.CombinedOutput()
	t.Setenv("DISPLAY", srv.Display)
	r, err := robot.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() }) // before the server stops (cleanups run last first)
	res, err := runOCR(t, dir, map[string]any{"region": "190,290,400,40", "scale": 2}, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(res.Vars["text"].(string)); got != "Balance 1,250.00" {
		t.Fatalf("read %q from the X screen (display: %v %s)", got, showErr, out)
	}
}
