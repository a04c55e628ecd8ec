package desktop_test

import (
	"image"
	"path/filepath"
	"testing"

	"deskbot/engine/desktop"
)

func TestCropSaveLoadRegion(t *testing.T) {
	tmpl := pattern(40, 20, 5)
	shot := screenWith(tmpl, image.Pt(500, 300))
	cut, err := desktop.Crop(shot, image.Rect(540, 320, 500, 300)) // dragged up and left
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "images", "n1.png")
	if err := desktop.SavePNG(p, cut); err != nil {
		t.Fatal(err)
	}
	back, err := desktop.LoadPNG(p)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := desktop.FindImage(back, tmpl, 0); !ok || back.Bounds() != tmpl.Bounds() || m.Score != 0 {
		t.Fatalf("the saved picture is not the template: %v %v", back.Bounds(), ok)
	}
	if _, err := desktop.Crop(shot, image.Rect(2000, 2000, 2100, 2100)); err == nil {
		t.Error("a rectangle off the screen was cropped")
	}
	if _, err := desktop.Crop(shot, image.Rect(10, 10, 10, 50)); err == nil {
		t.Error("an empty rectangle was cropped")
	}
	if _, err := desktop.LoadPNG(filepath.Join(t.TempDir(), "none.png")); err == nil {
		t.Error("a missing file loaded")
	}
	s := desktop.RegionString(image.Rect(540, 320, 500, 300))
	if r, err := desktop.ParseRegion(s); err != nil || r != image.Rect(500, 300, 540, 320) || s != "500,300,40,20" {
		t.Errorf("RegionString = %q, parsed back %v %v", s, r, err)
	}
}

func TestBestMatchScoresAMiss(t *testing.T) {
	tmpl := pattern(40, 20, 5)
	shot := screenWith(tmpl, image.Pt(500, 300))
	if m, ok := desktop.BestMatch(shot, tmpl); !ok || m.Score != 0 || m.Rect.Min != image.Pt(500, 300) {
		t.Errorf("exact: %+v %v", m, ok)
	}
	other := pattern(40, 20, 77)
	m, ok := desktop.BestMatch(shot, other)
	if !ok || m.Score <= 0.1 || m.Score > 1 {
		t.Errorf("a picture not on the screen: %+v %v, want a poor score", m, ok)
	}
	if _, found := desktop.FindImage(shot, other, 0.1); found {
		t.Error("FindImage found a picture that is not there")
	}
	if _, ok := desktop.BestMatch(tmpl, shot); ok {
		t.Error("a template larger than the screen matched")
	}
}
