package desktop

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "screen.screenshot", Title: "Take screenshot", Category: "Screen", SideEffects: true, Icon: "fileImage",
		Summary: "Saves a PNG of the whole screen, a region or the active window with the run, and puts its path in a variable.",
		Doc:     "Without a file name the picture goes into the run's artifact folder as shot-NODE-TIME.png.",
		Fields: []engine.Field{
			{Name: "area", Title: "Area", Kind: engine.KindSelect, Default: "screen", Options: []string{"screen", "region", "active_window"}},
			{Name: "region", Title: "Region", Kind: engine.KindText, Pick: engine.PickRegion, Help: "left,top,width,height (area region only)."},
			{Name: "file", Title: "File", Kind: engine.KindPath, Help: "Where to save the PNG; empty for the run's artifact folder.", Advanced: true},
			{Name: "output", Title: "Path into variable", Kind: engine.KindVar, Default: "screenshot"},
		},
		New: newScreenshot,
	})
	engine.Register(engine.Spec{
		Type: "screen.find_image", Title: "Find image", Category: "Screen", SideEffects: true, Icon: "mediaPhoto",
		Summary: "Looks for an image (a PNG template) on the screen until it shows or the timeout passes.",
		Doc: "The variable gets {x, y, left, top, width, height, score}: x and y are the centre, ready for a click. " +
			"When the image does not show in time the step follows `not_found`, or fails when that port is not connected. " +
			"Tolerance 0 wants exact pixels; 0.1 (the default) copes with small colour changes.",
		Fields: []engine.Field{
			{Name: "image", Title: "Image", Kind: engine.KindPath, Required: true, Pick: engine.PickImage},
			fTolerance, fRegion, fTimeout("5s"), fInterval,
			{Name: "output", Title: "Position into variable", Kind: engine.KindVar, Default: "found"},
		},
		Ports: []string{engine.PortNext, engine.PortNotFound},
		New:   newFindImage,
	})
	engine.Register(engine.Spec{
		Type: "screen.wait_image", Title: "Wait for image", Category: "Screen", SideEffects: true, Icon: "visibility",
		Summary: "Waits until an image appears on the screen, or until it vanishes.",
		Doc:     "Follows `timeout` when the wait runs out, or fails when that port is not connected.",
		Fields: []engine.Field{
			{Name: "image", Title: "Image", Kind: engine.KindPath, Required: true, Pick: engine.PickImage},
			{Name: "until", Title: "Until it", Kind: engine.KindSelect, Default: "appears", Options: []string{"appears", "vanishes"}},
			fTolerance, fRegion, fTimeout("10s"), fInterval,
		},
		Ports: []string{engine.PortNext, "timeout"},
		New:   newWaitImage,
	})
	engine.Register(engine.Spec{
		Type: "screen.pixel_color", Title: "Get pixel colour", Category: "Screen", SideEffects: true, Icon: "colorPalette",
		Summary: "Puts the colour of one screen pixel into a variable, as #rrggbb.",
		Fields: append(fieldXY(true, ""),
			engine.Field{Name: "output", Title: "Into variable", Kind: engine.KindVar, Default: "color"}),
		New: newPixel,
	})
	engine.Register(engine.Spec{
		Type: "screen.wait_color", Title: "Wait for colour", Category: "Screen", SideEffects: true, Icon: "colorChromatic",
		Summary: "Waits until a screen pixel has a colour (or no longer has it).",
		Doc:     "Follows `timeout` when the wait runs out, or fails when that port is not connected.",
		Fields: append(fieldXY(true, ""),
			engine.Field{Name: "color", Title: "Colour", Kind: engine.KindText, Required: true, Help: "#rrggbb, e.g. #3a7bd5"},
			engine.Field{Name: "until", Title: "Until the pixel", Kind: engine.KindSelect, Default: "matches", Options: []string{"matches", "differs"}},
			engine.Field{Name: "tolerance", Title: "Tolerance", Kind: engine.KindInt, Default: 16.0, Help: "Largest difference per channel (0-255)."},
			fTimeout("10s"), fInterval),
		Ports: []string{engine.PortNext, "timeout"},
		New:   newWaitColor,
	})
	engine.Register(engine.Spec{
		Type: "screen.size", Title: "Screen size", Category: "Screen", SideEffects: true, Icon: "viewFullScreen",
		Summary: "Puts the screen's size into a variable as {width, height}.",
		Fields:  []engine.Field{{Name: "output", Title: "Into variable", Kind: engine.KindVar, Default: "screen"}},
		New:     newScreenSize,
	})
}

func newScreenshot(p *engine.Params) (engine.Activity, error) {
	area := p.Select("area")
	region := p.Template("region")
	if area == "region" && !p.Has("region") {
		p.Fail("region", "area region needs a region (left,top,width,height)")
	}
	file := p.Template("file")
	hasFile := p.Has("file")
	out := p.Var("output")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		var r image.Rectangle
		switch area {
		case "region":
			s, err := e.c.Text(region)
			if err != nil {
				return "", fmt.Errorf("region: %w", err)
			}
			if r, err = ParseRegion(s); err != nil {
				return "", err
			}
		case "active_window":
			var err error
			if r, err = windowArea(e.d); err != nil {
				if !e.dry {
					return "", err
				}
				r = image.Rectangle{}
			}
		}
		var path string
		if hasFile {
			var err error
			if path, err = e.c.Path(file); err != nil {
				return "", fmt.Errorf("file: %w", err)
			}
		} else {
			dir, err := e.c.ArtifactDir()
			if err != nil {
				return "", err
			}
			path = filepath.Join(dir, fmt.Sprintf("shot-%s-%s.png", safeName(e.c.Node.ID), time.Now().Format("150405.000")))
		}
		var img *image.RGBA
		if err := e.do(ctx, func() error {
			var err error
			img, err = e.d.Capture(r)
			return err
		}); err != nil {
			return "", err
		}
		if e.dry {
			e.note("save the screenshot as %s", path)
		} else if err := writePNG(path, img); err != nil {
			return "", err
		}
		e.c.Output("screenshot", path)
		if out != "" {
			return "", e.c.Set(out, path)
		}
		return "", nil
	}}, p.Err()
}

// notFound returns port, or an error when port is not connected.
func notFound(e *env, port string, err error) (string, error) {
	if e.c.Flow().Next(e.c.Node.ID, port) == "" {
		return "", err
	}
	return port, nil
}

func newFindImage(p *engine.Params) (engine.Activity, error) {
	s := newImageSearch(p, "image")
	out := p.Var("output")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		m, ok, err := s.find(ctx, e, false)
		if err != nil {
			return "", err
		}
		if !ok {
			path, _ := e.c.Path(s.image)
			return notFound(e, engine.PortNotFound, fmt.Errorf("image %s: %w on the screen within %s", path, ErrNotFound, s.timeout))
		}
		v := matchValue(m)
		e.c.Output("found", v)
		if out != "" {
			return "", e.c.Set(out, v)
		}
		return "", nil
	}}, p.Err()
}

func newWaitImage(p *engine.Params) (engine.Activity, error) {
	s := newImageSearch(p, "image")
	vanish := p.Select("until") == "vanishes"
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		_, ok, err := s.find(ctx, e, vanish)
		if err != nil {
			return "", err
		}
		if !ok {
			path, _ := e.c.Path(s.image)
			what := "appear"
			if vanish {
				what = "vanish"
			}
			return notFound(e, "timeout", fmt.Errorf("image %s did not %s within %s", path, what, s.timeout))
		}
		return "", nil
	}}, p.Err()
}

// Hex writes a colour as #rrggbb.
func Hex(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

// ParseHex reads #rrggbb (the # is optional).
func ParseHex(s string) (color.RGBA, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(t) != 6 {
		return color.RGBA{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	v, err := strconv.ParseUint(t, 16, 32)
	if err != nil {
		return color.RGBA{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}, nil
}

func pixel(d Desktop, x, y int) (color.RGBA, error) {
	img, err := d.Capture(image.Rect(x, y, x+1, y+1))
	if err != nil {
		return color.RGBA{}, fmt.Errorf("read pixel (%d, %d): %w", x, y, err)
	}
	return img.RGBAAt(0, 0), nil
}

func newPixel(p *engine.Params) (engine.Activity, error) {
	x, y := p.Expr("x"), p.Expr("y")
	out := p.Var("output")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		px, py, err := point(e.c, x, y)
		if err != nil {
			return "", err
		}
		var c color.RGBA
		if err := e.do(ctx, func() error {
			var err error
			c, err = pixel(e.d, px, py)
			return err
		}); err != nil {
			return "", err
		}
		e.note("read the colour at (%d, %d)", px, py)
		e.c.Output("color", Hex(c))
		return "", e.c.Set(out, Hex(c))
	}}, p.Err()
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

func newWaitColor(p *engine.Params) (engine.Activity, error) {
	x, y := p.Expr("x"), p.Expr("y")
	col := p.Template("color")
	if col.IsConst() {
		s, _ := col.String(nil)
		if _, err := ParseHex(s); err != nil {
			p.Fail("color", "%v", err)
		}
	}
	differs := p.Select("until") == "differs"
	tol := p.Int("tolerance")
	if tol < 0 || tol > 255 {
		p.Fail("tolerance", "want 0 to 255, got %d", tol)
	}
	timeout, interval := p.Duration("timeout"), p.Duration("interval")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		px, py, err := point(e.c, x, y)
		if err != nil {
			return "", err
		}
		cs, err := e.c.Text(col)
		if err != nil {
			return "", fmt.Errorf("color: %w", err)
		}
		want, err := ParseHex(cs)
		if err != nil {
			return "", err
		}
		if e.dry {
			verb := "to become"
			if differs {
				verb = "to change from"
			}
			e.note("wait up to %s for the pixel at (%d, %d) %s %s", timeout, px, py, verb, Hex(want))
			return "", nil
		}
		if differs {
			e.c.Waiting(fmt.Sprintf("the pixel at (%d, %d) to change from %s", px, py, Hex(want)))
		} else {
			e.c.Waiting(fmt.Sprintf("the pixel at (%d, %d) to become %s", px, py, Hex(want)))
		}
		var last color.RGBA
		ok, err := e.poll(ctx, timeout, interval, func() (bool, error) {
			c, err := pixel(e.d, px, py)
			last = c
			return near(c, want, tol) != differs, err
		})
		if err != nil {
			return "", err
		}
		e.c.Output("color", Hex(last))
		if !ok {
			return notFound(e, "timeout", fmt.Errorf("pixel (%d, %d) is %s, not the awaited %s (differs: %v) after %s", px, py, Hex(last), Hex(want), differs, timeout))
		}
		return "", nil
	}}, p.Err()
}

func newScreenSize(p *engine.Params) (engine.Activity, error) {
	out := p.Var("output")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		w, h, err := e.d.ScreenSize()
		if err != nil {
			return "", fmt.Errorf("screen size: %w", err)
		}
		e.note("read the screen size (%dx%d)", w, h)
		v := map[string]any{"width": w, "height": h}
		e.c.Output("size", v)
		return "", e.c.Set(out, v)
	}}, p.Err()
}
