package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestArrangedSampleUnderXvfb opens the arranged desktop sample in the
// real studio at 1600x1000, fits it into view and takes a screenshot: the
// nodes, their icons and the port labels (red "error", "not_found") show.
// DESKBOT_SCREENSHOT_ARRANGED=path keeps the screenshot (the one in
// assets/screenshots was made so).
func TestArrangedSampleUnderXvfb(t *testing.T) {
	x := startX(t)
	test.NewTempApp(t)
	dir := t.TempDir()
	doc := NewDocument(loadSample(t, desktopSample), "")
	c := NewFlowCanvas(doc, nil)
	c.Resize(fyne.NewSize(850, 540))
	c.Arrange()
	for _, png := range []string{"fill-form-email.png", "fill-form-name.png", "fill-form-save.png"} {
		b, err := os.ReadFile(filepath.Join("../assets/flows", png))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, png), b, 0o644)
	}
	flowPath := filepath.Join(dir, "fill-form-from-csv.json")
	if err := doc.Flow.Save(flowPath); err != nil {
		t.Fatal(err)
	}
	win, _ := x.openStudio(t, flowPath, "Fill form")
	_ = x.cmd("xdotool", "windowmove", win, "0", "0").Run()
	_ = x.cmd("xdotool", "windowsize", win, "1600", "1000").Run()
	time.Sleep(1500 * time.Millisecond)
	_ = x.cmd("xdotool", "windowactivate", "--sync", win).Run()
	_ = x.cmd("xdotool", "key", "--window", win, "ctrl+0").Run() // fit to the new size
	time.Sleep(1500 * time.Millisecond)
	shot := filepath.Join(dir, "arranged.png")
	if out, err := x.cmd("import", "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	cv := canvasArea(t, x, win)
	desktopAccent := countNearIn(img, cv, 0x14, 0xa3, 0x8b, 14)
	errRed := 0 // reddish pixels: dots, and the anti-aliased label text
	for y := cv.Min.Y; y < cv.Max.Y; y++ {
		for x := cv.Min.X; x < cv.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 > 120 && int(r>>8) > int(g>>8)+50 && int(r>>8) > int(b>>8)+50 {
				errRed++
			}
		}
	}
	t.Logf("canvas %v: %d px of node accents, %d px of error red (dots and labels)", cv, desktopAccent, errRed)
	// Measured at 48%: 2235 px with the labels, 1292 px without them (the
	// dots and the red accents of the Mouse nodes).
	if errRed < 1750 {
		t.Errorf("port labels do not show: %d px of error red", errRed)
	}
	if dst := os.Getenv("DESKBOT_SCREENSHOT_ARRANGED"); dst != "" {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}
