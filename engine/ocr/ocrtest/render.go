// Package ocrtest renders text into pictures with real fonts, for the tests
// of OCR: DejaVu Sans for Latin text, drawn with golang.org/x/image's
// OpenType rasterizer, and WenQuanYi Micro Hei for Chinese, drawn by
// rsvg-convert (x/image cannot parse that font collection). The Debian
// packages are fonts-dejavu-core, fonts-wqy-microhei and librsvg2-bin,
// which `make deps` installs.
package ocrtest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Font files.
const (
	DejaVu    = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	MicroHei  = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
	fontsHint = "make deps installs fonts-dejavu-core, fonts-wqy-microhei and librsvg2-bin"
)

// Line is a line of text drawn with its top-left corner at At.
type Line struct {
	Text    string
	At      image.Point
	Size    float64 // pixels; 0 means 32
	Chinese bool    // draw with WenQuanYi Micro Hei (through rsvg-convert)
}

func face(size float64) (font.Face, error) {
	b, err := os.ReadFile(DejaVu)
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, fontsHint)
	}
	f, err := opentype.Parse(b)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

// chinese renders one line with WenQuanYi Micro Hei through rsvg-convert.
func chinese(text string, size float64) (image.Image, error) {
	w := int(float64(len([]rune(text))+1) * size * 1.2)
	h := int(size * 1.6)
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(text))
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d"><rect width="100%%" height="100%%" fill="white"/>`+
		`<text x="0" y="%g" font-family="WenQuanYi Micro Hei" font-size="%g" fill="black">%s</text></svg>`, w, h, size*1.1, size, esc.String())
	cmd := exec.Command("rsvg-convert", "-f", "png")
	cmd.Stdin = strings.NewReader(svg)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("rsvg-convert: %v %s (%s)", err, errb.String(), fontsHint)
	}
	if _, err := os.Stat(MicroHei); err != nil {
		return nil, fmt.Errorf("%v (%s)", err, fontsHint)
	}
	return png.Decode(&out)
}

// Render draws lines in black on a white w x h picture.
func Render(w, h int, lines ...Line) (*image.RGBA, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for _, l := range lines {
		size := l.Size
		if size == 0 {
			size = 32
		}
		if l.Chinese {
			pic, err := chinese(l.Text, size)
			if err != nil {
				return nil, err
			}
			draw.Draw(img, pic.Bounds().Add(l.At), pic, image.Point{}, draw.Src)
			continue
		}
		f, err := face(size)
		if err != nil {
			return nil, err
		}
		d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: f,
			Dot: fixed.P(l.At.X, l.At.Y+f.Metrics().Ascent.Ceil())}
		d.DrawString(l.Text)
		f.Close()
	}
	return img, nil
}

// Width is how wide Latin text is drawn at size (0 means 32).
func Width(text string, size float64) (int, error) {
	if size == 0 {
		size = 32
	}
	f, err := face(size)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return font.MeasureString(f, text).Ceil(), nil
}
