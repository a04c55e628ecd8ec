package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // image formats ocr.read reads
	_ "image/jpeg"
	"image/png"
	"os"
	"strings"

	_ "golang.org/x/image/bmp"
	xdraw "golang.org/x/image/draw"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"deskbot/engine"
	"deskbot/engine/desktop"
)

// Languages are the language choices of ocr.read, as Tesseract names them.
var Languages = []string{"eng", "chi_sim", "eng+chi_sim"}

// Layouts are how ocr.read expects the text to be laid out.
var Layouts = []string{"auto", "block", "line", "word"}

func init() {
	engine.Register(engine.Spec{
		Type: "ocr.read", Title: "Read text (OCR)", Category: "Documents", SideEffects: true, Icon: "visibility",
		Summary: "Reads the text in an image file or a region of the screen with Tesseract.",
		Doc: "With an image (PNG, JPEG, GIF, BMP, TIFF or WebP) its text is read; without one, the screen's, or " +
			"the region's (left,top,width,height) when one is given. Language is eng (English), chi_sim (Simplified " +
			"Chinese) or eng+chi_sim for both. Small screen text reads better scaled up: scale 2 or 3 enlarges the " +
			"picture before reading. Words, if set, gets one object per word, {text, left, top, width, height, x, y, " +
			"confidence}, in screen coordinates for the screen (x and y are the centre, ready for a click), in pixels " +
			"of the image otherwise. OCR needs Tesseract: the Linux build has it; a build without it fails the step " +
			"with an error that says so.",
		Fields: []engine.Field{
			{Name: "image", Title: "Image file", Kind: engine.KindPath, Help: "Empty reads the screen."},
			{Name: "region", Title: "Screen region", Kind: engine.KindText, Help: "left,top,width,height; empty for the whole screen (no image only)."},
			{Name: "language", Title: "Language", Kind: engine.KindSelect, Options: Languages, Default: "eng"},
			{Name: "output", Title: "Text into", Kind: engine.KindVar, Required: true, Default: "text"},
			{Name: "words", Title: "Words into", Kind: engine.KindVar, Advanced: true},
			{Name: "layout", Title: "Layout", Kind: engine.KindSelect, Options: Layouts, Default: "auto", Advanced: true,
				Help: "auto finds the blocks of text; line and word read a single line or word."},
			{Name: "scale", Title: "Scale", Kind: engine.KindInt, Default: 1.0, Advanced: true, Help: "1 to 4: enlarge the picture before reading."},
		},
		New: newRead,
	})
}

// Request is one recognition.
type Request struct {
	Image    image.Image
	Language string // one of Languages
	Layout   string // one of Layouts
}

// Word is a recognised word and its box in the image.
type Word struct {
	Text       string
	Box        image.Rectangle
	Confidence float64
}

// Result is what a recognition found.
type Result struct {
	Text  string
	Words []Word
}

// ErrNotBuilt is the error of a build without Tesseract.
var ErrNotBuilt = errors.New("OCR is not part of this build (Tesseract is linked through cgo on Linux; this build has no cgo or is for Windows)")

// maxPixels bounds the pictures read: a 16k x 16k image is far more than
// any screen, and a small file that claims more is refused before it is
// decoded.
const maxPixels = 16384 * 16384 / 2

// LoadImage decodes an image file's bytes, refusing pictures too large to
// read.
func LoadImage(b []byte) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, errors.New("not an image Deskbot reads (PNG, JPEG, GIF, BMP, TIFF or WebP)")
		}
		return nil, fmt.Errorf("not a readable image: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("the %s image is %dx%d pixels; OCR reads images of 1 to %d pixels", format, cfg.Width, cfg.Height, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("the %s image is damaged: %v", format, err)
	}
	return img, nil
}

// Scale enlarges img n times (n 1 returns it as it is).
func Scale(img image.Image, n int) image.Image {
	if n <= 1 {
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*n, b.Dy()*n))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// pngBytes encodes img for Tesseract (Leptonica reads the PNG that Go
// wrote, never the file the flow named).
func pngBytes(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Read recognises the text in r.Image. It returns when ctx ends, leaving
// Tesseract to finish on its own.
func Read(ctx context.Context, r Request) (*Result, error) {
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := recognize(r)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func newRead(p *engine.Params) (engine.Activity, error) {
	img, region, lang, out := p.Template("image"), p.Template("region"), p.Select("language"), p.Var("output")
	words, layout, scale := p.Var("words"), p.Select("layout"), p.Int("scale")
	hasImage := p.Has("image")
	if scale < 1 || scale > 4 {
		p.Fail("scale", "want 1 to 4, got %d", scale)
	}
	if hasImage && p.Has("region") {
		p.Fail("region", "a region is read from the screen; leave it empty when reading an image file")
	}
	if region.IsConst() && region.Source != "" {
		if _, err := desktop.ParseRegion(region.Source); err != nil {
			p.Fail("region", "%v", err)
		}
	}
	return engine.ActivityFunc(func(ctx context.Context, c *engine.Call) (string, error) {
		var pic image.Image
		var origin image.Point
		what := "the screen"
		if hasImage {
			name, err := c.Path(img)
			if err != nil {
				return "", fmt.Errorf("image: %w", err)
			}
			what = name
			b, err := os.ReadFile(name)
			if err != nil {
				return "", fmt.Errorf("read image: %w", err)
			}
			if pic, err = LoadImage(b); err != nil {
				return "", fmt.Errorf("image %q: %w", name, err)
			}
		} else {
			s, err := c.Text(region)
			if err != nil {
				return "", fmt.Errorf("region: %w", err)
			}
			r, err := desktop.ParseRegion(s)
			if err != nil {
				return "", fmt.Errorf("region: %w", err)
			}
			if !r.Empty() {
				what = fmt.Sprintf("the screen region %d,%d,%d,%d", r.Min.X, r.Min.Y, r.Dx(), r.Dy())
			}
			d, err := desktop.From(c)
			if err != nil {
				return "", err
			}
			if pic, err = d.Capture(r); err != nil {
				return "", fmt.Errorf("capture %s: %w", what, err)
			}
			origin = r.Min
		}
		c.Waiting("Tesseract to read " + what)
		res, err := Read(ctx, Request{Image: Scale(pic, scale), Language: lang, Layout: layout})
		if err != nil {
			return "", fmt.Errorf("OCR of %s: %w", what, err)
		}
		text := strings.TrimSpace(res.Text)
		c.Output("characters", len([]rune(text)))
		c.Output("words", len(res.Words))
		if words != "" {
			list := make([]any, 0, len(res.Words))
			for _, w := range res.Words {
				b := image.Rect(w.Box.Min.X/scale, w.Box.Min.Y/scale, w.Box.Max.X/scale, w.Box.Max.Y/scale).Add(origin)
				list = append(list, map[string]any{"text": w.Text, "left": float64(b.Min.X), "top": float64(b.Min.Y),
					"width": float64(b.Dx()), "height": float64(b.Dy()), "x": float64(b.Min.X + b.Dx()/2), "y": float64(b.Min.Y + b.Dy()/2),
					"confidence": w.Confidence})
			}
			if err := c.Set(words, list); err != nil {
				return "", err
			}
		}
		return "", c.Set(out, text)
	}), nil
}
