package desktop

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
)

// Helpers for the studio's "Indicate on screen" and "Test": cut a picked
// rectangle out of a screenshot, save it next to the flow, write a region
// the way the region fields read it, and find a picture with its best
// score even when it is not good enough.

// Crop copies rectangle r of img (in img's coordinates) into a new image
// whose bounds start at 0,0. r is clipped to img; an empty result is an
// error.
func Crop(img *image.RGBA, r image.Rectangle) (*image.RGBA, error) {
	c := r.Canon().Intersect(img.Bounds())
	if c.Empty() {
		return nil, fmt.Errorf("crop %v: the rectangle is empty or off the screen %v", r, img.Bounds())
	}
	out := image.NewRGBA(image.Rect(0, 0, c.Dx(), c.Dy()))
	draw.Draw(out, out.Bounds(), img, c.Min, draw.Src)
	return out, nil
}

// SavePNG writes img to path as a PNG, making the folder when missing; the
// file is replaced whole (written aside, then renamed).
func SavePNG(path string, img *image.RGBA) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save picture %q: %w", path, err)
	}
	return writePNG(path, img)
}

// LoadPNG reads a PNG file.
func LoadPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("picture: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("picture %q: %w", path, err)
	}
	return img, nil
}

// RegionString writes r as "left,top,width,height", the form ParseRegion
// reads.
func RegionString(r image.Rectangle) string {
	r = r.Canon()
	return fmt.Sprintf("%d,%d,%d,%d", r.Min.X, r.Min.Y, r.Dx(), r.Dy())
}

// BestMatch returns where tmpl fits img best and its score, however poor
// (0 is exact, 1 is as different as can be); ok is false only when tmpl
// cannot fit at all (larger than img, empty or fully transparent).
func BestMatch(img, tmpl image.Image) (m Match, ok bool) {
	return FindImage(img, tmpl, 1)
}

// SafeFileName turns s (a node id) into a file name: every byte other than
// letters, digits, - and _ becomes _.
func SafeFileName(s string) string {
	if s == "" {
		return "_"
	}
	return safeName(s)
}
