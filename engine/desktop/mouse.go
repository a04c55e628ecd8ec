package desktop

import (
	"context"
	"fmt"
	"image"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "mouse.move", Title: "Move mouse", Category: "Mouse", SideEffects: true, Icon: "arrowForward",
		Summary: "Moves the mouse pointer to a point on the screen.",
		Doc:     "Coordinates are screen pixels from the top-left corner. Keep away from the corner itself: x and y both at most 2 is the failsafe corner, which stops the run.",
		Fields: append(fieldXY(true, ""),
			engine.Field{Name: "smooth", Title: "Smooth", Kind: engine.KindBool, Default: false, Help: "Glide like a hand would (always on in slow motion)."}),
		New: newMove,
	})
	engine.Register(engine.Spec{
		Type: "mouse.click", Title: "Click", Category: "Mouse", SideEffects: true, Icon: "radioButtonChecked",
		Summary: "Clicks (left, right or double) at a point, at the centre of an image found on screen, or where the pointer is.",
		Doc: "Give either x and y, or an image: a PNG cut out of a screenshot (a button, an icon). With an image the " +
			"screen is searched until the timeout; when it is not found the step follows its `not_found` port, or fails " +
			"when that port is not connected. With an image, offset x and y move the click away from the image's centre, " +
			"so that a label next to a field can anchor a click into the field. With neither, the click happens where the pointer is.",
		Fields: append(fieldXY(false, "Leave x and y empty to click on an image or where the pointer is."),
			engine.Field{Name: "image", Title: "Image", Kind: engine.KindPath, Pick: engine.PickImage, Help: "A PNG template to find and click on the centre of."},
			engine.Field{Name: "offset_x", Title: "Offset x", Kind: engine.KindInt, Pick: engine.PickPoint, PickY: "offset_y", PickAnchor: "image",
				Help: "With an image: click this many pixels right of its centre (negative: left)."},
			engine.Field{Name: "offset_y", Title: "Offset y", Kind: engine.KindInt, Help: "With an image: click this many pixels below its centre (negative: above)."},
			fTolerance, fRegion, fTimeout("5s"), fInterval,
			engine.Field{Name: "button", Title: "Button", Kind: engine.KindSelect, Default: "left", Options: Buttons},
			engine.Field{Name: "clicks", Title: "Clicks", Kind: engine.KindSelect, Default: "single", Options: []string{"single", "double"}},
		),
		Ports: []string{engine.PortNext, engine.PortNotFound},
		New:   newClick,
	})
	engine.Register(engine.Spec{
		Type: "mouse.drag", Title: "Drag", Category: "Mouse", SideEffects: true, Icon: "dragCornerIndicator",
		Summary: "Presses a mouse button at one point, moves to another and lets go.",
		Fields: []engine.Field{
			{Name: "from_x", Title: "From x", Kind: engine.KindExpr, Required: true, Pick: engine.PickPoint, PickY: "from_y"},
			{Name: "from_y", Title: "From y", Kind: engine.KindExpr, Required: true},
			{Name: "to_x", Title: "To x", Kind: engine.KindExpr, Required: true, Pick: engine.PickPoint, PickY: "to_y"},
			{Name: "to_y", Title: "To y", Kind: engine.KindExpr, Required: true},
			{Name: "button", Title: "Button", Kind: engine.KindSelect, Default: "left", Options: Buttons},
		},
		New: newDrag,
	})
	engine.Register(engine.Spec{
		Type: "mouse.scroll", Title: "Scroll", Category: "Mouse", SideEffects: true, Icon: "moreVertical",
		Summary: "Turns the mouse wheel, optionally at a point.",
		Fields: append([]engine.Field{
			{Name: "direction", Title: "Direction", Kind: engine.KindSelect, Default: "down", Options: []string{"down", "up", "left", "right"}},
			{Name: "amount", Title: "Notches", Kind: engine.KindInt, Default: 3.0, Help: "Wheel steps."},
		}, fieldXY(false, "Leave empty to scroll where the pointer is.")...),
		New: newScroll,
	})
}

func optXY(p *engine.Params) (x, y *engine.Expr, ok bool) {
	if p.Has("x") != p.Has("y") {
		p.Fail("x", "give both x and y, or neither")
		return nil, nil, false
	}
	if !p.Has("x") {
		return nil, nil, false
	}
	return p.Expr("x"), p.Expr("y"), true
}

func newMove(p *engine.Params) (engine.Activity, error) {
	x, y := p.Expr("x"), p.Expr("y")
	smooth := p.Bool("smooth")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		px, py, err := point(e.c, x, y)
		if err != nil {
			return "", err
		}
		return "", e.do(ctx, func() error {
			return e.d.MoveMouse(px, py, smooth || e.c.Flow().Settings.SlowMotion)
		})
	}}, p.Err()
}

func newClick(p *engine.Params) (engine.Activity, error) {
	x, y, hasXY := optXY(p)
	var search *imageSearch
	if p.Has("image") {
		if hasXY {
			p.Fail("image", "give either x and y or an image, not both")
		}
		search = newImageSearch(p, "image")
	}
	var off image.Point
	if p.Has("offset_x") || p.Has("offset_y") {
		if search == nil {
			f := "offset_x"
			if !p.Has(f) {
				f = "offset_y"
			}
			p.Fail(f, "an offset is relative to an image: give an image too")
		}
		off = image.Pt(p.Int("offset_x"), p.Int("offset_y"))
	}
	button := Button(p.Select("button"))
	double := p.Select("clicks") == "double"
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		var px, py int
		move := true
		switch {
		case search != nil:
			m, ok, err := search.find(ctx, e, false)
			if err != nil {
				return "", err
			}
			if !ok {
				if next := e.c.Flow().Next(e.c.Node.ID, engine.PortNotFound); next == "" {
					path, _ := e.c.Path(search.image)
					return "", fmt.Errorf("image %s: %w on the screen within %s", path, ErrNotFound, search.timeout)
				}
				return engine.PortNotFound, nil
			}
			e.c.Output("found", matchValue(m))
			c := m.Center().Add(off)
			px, py = c.X, c.Y
		case hasXY:
			var err error
			if px, py, err = point(e.c, x, y); err != nil {
				return "", err
			}
		default:
			move = false
		}
		smooth := e.c.Flow().Settings.SlowMotion
		return "", e.do(ctx, func() error {
			if move {
				if err := e.d.MoveMouse(px, py, smooth); err != nil {
					return err
				}
			}
			return e.d.Click(button, double)
		})
	}}, p.Err()
}

func newDrag(p *engine.Params) (engine.Activity, error) {
	fx, fy, tx, ty := p.Expr("from_x"), p.Expr("from_y"), p.Expr("to_x"), p.Expr("to_y")
	button := Button(p.Select("button"))
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		x0, y0, err := point(e.c, fx, fy)
		if err != nil {
			return "", fmt.Errorf("from: %w", err)
		}
		x1, y1, err := point(e.c, tx, ty)
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		if err := e.check(ctx); err != nil {
			return "", err
		}
		if err := e.d.MoveMouse(x0, y0, false); err != nil {
			return "", err
		}
		if err := e.d.MouseButton(button, true); err != nil {
			return "", err
		}
		err = e.d.MoveMouse(x1, y1, true)
		// Let go whatever happened (a crash is recovered by the runner).
		if uerr := e.d.MouseButton(button, false); err == nil {
			err = uerr
		}
		if err != nil {
			return "", err
		}
		return "", e.wait(ctx)
	}}, p.Err()
}

func newScroll(p *engine.Params) (engine.Activity, error) {
	dir := p.Select("direction")
	n := p.Int("amount")
	if n < 0 {
		p.Fail("amount", "want a positive number of notches")
	}
	x, y, hasXY := optXY(p)
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		var px, py int
		if hasXY {
			var err error
			if px, py, err = point(e.c, x, y); err != nil {
				return "", err
			}
		}
		dx, dy := 0, 0
		switch dir {
		case "down":
			dy = n
		case "up":
			dy = -n
		case "right":
			dx = n
		case "left":
			dx = -n
		}
		return "", e.do(ctx, func() error {
			if hasXY {
				if err := e.d.MoveMouse(px, py, false); err != nil {
					return err
				}
			}
			return e.d.Scroll(dx, dy)
		})
	}}, p.Err()
}
