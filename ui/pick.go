package ui

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
	deskt "deskbot/engine/desktop"
)

// "Indicate on screen": the studio hides itself, takes a screenshot of the
// whole screen, and shows it full-screen in a borderless window; the user
// drags a rectangle (a picture, a region) or clicks a point on it, Escape or
// the right button cancels, and the studio comes back with the field set.
// A picture is saved as images/<node id>.png next to the flow. A point on
// a field with a picture anchor (Field.PickAnchor) is stored as an offset
// from the centre of that picture as found on the screenshot.
//
// "Test" on a node with a picture searches the screen now, highlights the
// best place for a moment and shows the score in the properties.

// pickHideDelay is how long the studio waits, once hidden, for the window
// manager to take its window off the screen before the screenshot.
var pickHideDelay = 400 * time.Millisecond

// highlightFor is how long Test shows where the picture is.
var highlightFor = 1500 * time.Millisecond

// ImagesDir is the folder next to the flow where picked pictures go.
const ImagesDir = "images"

// wirePick connects the property panel's pick buttons and previews.
func (s *Studio) wirePick() {
	s.Props.Pick.BaseDir = s.baseDir
	if s.opts.Screen == nil {
		return
	}
	s.Props.Pick.Indicate = s.Indicate
	s.Props.Pick.Test = s.TestImage
}

// pickResult is what the user did on the overlay.
type pickResult struct {
	cancelled bool
	point     image.Point     // a click, in screen pixels
	rect      image.Rectangle // a drag, in screen pixels
}

// grab hides the studio, waits for its window to leave the screen, takes a
// screenshot and calls then on the UI goroutine (the studio stays hidden:
// then shows it again).
func (s *Studio) grab(then func(shot *image.RGBA, err error)) {
	if s.picking {
		return
	}
	d, err := s.opts.Screen()
	if err != nil {
		then(nil, fmt.Errorf("%s: %w", lang.L("The screen is not available"), err))
		return
	}
	s.picking = true
	s.Win.Hide()
	go func() {
		time.Sleep(pickHideDelay)
		shot, err := d.Capture(image.Rectangle{})
		s.bridge.post(func() {
			s.picking = false
			then(shot, err)
		})
	}()
}

// comeBack shows the studio again after a pick.
func (s *Studio) comeBack() {
	s.Win.Show()
	s.Win.RequestFocus()
}

// Indicate lets the user pick field of node nodeID on the screen.
func (s *Studio) Indicate(nodeID, field string) {
	n := s.Doc.Flow.Node(nodeID)
	if n == nil || s.opts.Screen == nil {
		return
	}
	spec, ok := s.reg.Spec(n.Type)
	if !ok {
		return
	}
	fd := spec.Field(field)
	if fd == nil || fd.Pick == engine.PickNone {
		return
	}
	if fd.Pick == engine.PickImage && s.Doc.Path == "" {
		dialog.ShowInformation(lang.L("Indicate on screen"), lang.L("Save the flow first: the picture is saved in an images folder next to it."), s.Win)
		return
	}
	var anchor image.Image
	if fd.PickAnchor != "" {
		img, err := s.nodePicture(n, fd.PickAnchor)
		if err != nil {
			dialog.ShowError(fmt.Errorf("%s: %w", lang.L("The point is relative to the picture: indicate the picture first"), err), s.Win)
			return
		}
		anchor = img
	}
	s.grab(func(shot *image.RGBA, err error) {
		if err != nil {
			s.comeBack()
			dialog.ShowError(err, s.Win)
			return
		}
		hint := lang.L("Click the point. Esc cancels.")
		if fd.Pick != engine.PickPoint {
			hint = lang.L("Drag a rectangle over it. Esc cancels.")
		}
		s.showOverlay(shot, fd.Pick, hint, func(r pickResult) {
			s.comeBack()
			if r.cancelled {
				s.setStatus(lang.L("Indicate cancelled"))
				return
			}
			if err := s.applyPick(nodeID, *fd, spec, shot, anchor, r); err != nil {
				dialog.ShowError(err, s.Win)
			}
		})
	})
}

// nodePicture loads the picture of node n's image field.
func (s *Studio) nodePicture(n *engine.Node, field string) (image.Image, error) {
	p, err := s.picturePath(n, field)
	if err != nil {
		return nil, err
	}
	return deskt.LoadPNG(p)
}

// picturePath is the file of node n's image field, resolved against the
// flow's folder.
func (s *Studio) picturePath(n *engine.Node, field string) (string, error) {
	return resolvePicture(s.baseDir(), n, field)
}

func resolvePicture(base string, n *engine.Node, field string) (string, error) {
	v, _ := n.Params[field].(string)
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", fmt.Errorf("%s: %s", field, lang.L("no picture yet"))
	case strings.Contains(v, "{{"):
		return "", fmt.Errorf("%s: %s", field, lang.L("the picture's path is computed when the flow runs"))
	case filepath.IsAbs(v):
		return v, nil
	}
	return filepath.Join(base, filepath.FromSlash(v)), nil
}

// nodeTolerance is the node's tolerance param, or the spec's default.
func nodeTolerance(n *engine.Node, spec *engine.Spec) float64 {
	if v, ok := n.Params["tolerance"].(float64); ok && v >= 0 && v <= 1 {
		return v
	}
	if f := spec.Field("tolerance"); f != nil {
		if v, ok := f.Default.(float64); ok {
			return v
		}
	}
	return 0.1
}

// applyPick stores what the user picked into the node, as one edit.
func (s *Studio) applyPick(nodeID string, fd engine.Field, spec *engine.Spec, shot *image.RGBA, anchor image.Image, r pickResult) error {
	n := s.Doc.Flow.Node(nodeID)
	if n == nil {
		return fmt.Errorf("node %s is gone", nodeID)
	}
	set := map[string]any{}
	var clear []string
	var status string
	switch fd.Pick {
	case engine.PickImage:
		cut, err := deskt.Crop(shot, r.rect)
		if err != nil {
			return err
		}
		rel := path.Join(ImagesDir, deskt.SafeFileName(nodeID)+".png")
		if err := deskt.SavePNG(filepath.Join(filepath.Dir(s.Doc.Path), filepath.FromSlash(rel)), cut); err != nil {
			return err
		}
		set[fd.Name] = rel
		// A picture replaces a point on the screen (a click takes either).
		for _, f := range spec.Fields {
			if f.Pick == engine.PickPoint && f.PickAnchor == "" {
				clear = append(clear, f.Name, f.PickY)
			}
		}
		status = fmt.Sprintf(lang.L("Saved the picture as %s"), rel)
	case engine.PickRegion:
		if r.rect.Empty() {
			return errors.New(lang.L("Drag a rectangle, not a click"))
		}
		set[fd.Name] = deskt.RegionString(r.rect)
		status = fmt.Sprintf(lang.L("Region %s"), set[fd.Name])
	case engine.PickPoint:
		if fd.PickAnchor == "" {
			set[fd.Name], set[fd.PickY] = float64(r.point.X), float64(r.point.Y)
			// An absolute point replaces a picture and its offsets.
			for _, f := range spec.Fields {
				if f.Pick == engine.PickImage {
					clear = append(clear, f.Name)
				}
				if f.Pick == engine.PickPoint && f.PickAnchor != "" {
					clear = append(clear, f.Name, f.PickY)
				}
			}
			status = fmt.Sprintf(lang.L("Point %d, %d"), r.point.X, r.point.Y)
			break
		}
		tol := nodeTolerance(n, spec)
		m, ok := deskt.FindImage(shot, anchor, tol)
		if !ok {
			best, _ := deskt.BestMatch(shot, anchor)
			return fmt.Errorf(lang.L("The picture of %s is not on the screen (best score %.4f, tolerance %.2f): indicate the picture again"), fd.PickAnchor, best.Score, tol)
		}
		off := r.point.Sub(m.Center())
		set[fd.Name], set[fd.PickY] = float64(off.X), float64(off.Y)
		status = fmt.Sprintf(lang.L("Point %d, %d from the centre of the picture"), off.X, off.Y)
	}
	s.Doc.SetNode(nodeID, "pick:"+fd.Name, func(n *engine.Node) {
		if n.Params == nil {
			n.Params = map[string]any{}
		}
		for _, k := range clear {
			delete(n.Params, k)
		}
		for k, v := range set {
			n.Params[k] = v
		}
	})
	s.setStatus(status)
	return nil
}

// TestImage searches the screen now for node nodeID's picture, highlights
// the best place for a moment and shows the score in the properties.
func (s *Studio) TestImage(nodeID string) {
	n := s.Doc.Flow.Node(nodeID)
	if n == nil || s.opts.Screen == nil {
		return
	}
	spec, ok := s.reg.Spec(n.Type)
	if !ok {
		return
	}
	field := pictureField(spec)
	if field == "" {
		return
	}
	tmpl, err := s.nodePicture(n, field)
	if err != nil {
		dialog.ShowError(err, s.Win)
		return
	}
	tol := nodeTolerance(n, spec)
	var region image.Rectangle
	if rs, _ := n.Params["region"].(string); rs != "" && !strings.Contains(rs, "{{") {
		if region, err = deskt.ParseRegion(rs); err != nil {
			dialog.ShowError(err, s.Win)
			return
		}
	}
	s.grab(func(shot *image.RGBA, err error) {
		if err != nil {
			s.comeBack()
			dialog.ShowError(err, s.Win)
			return
		}
		res := testPicture(shot, tmpl, region, tol)
		s.Props.setTestResult(nodeID, res.String())
		fmt.Fprintf(os.Stderr, "deskbot: test %s: %s\n", nodeID, res.String())
		s.setStatus(res.String())
		s.showHighlight(shot, res, func() { s.comeBack() })
	})
}

// pictureField is the spec's first picture field.
func pictureField(spec *engine.Spec) string {
	for _, f := range spec.Fields {
		if f.Pick == engine.PickImage {
			return f.Name
		}
	}
	return ""
}

// testResult is what Test found.
type testResult struct {
	found     bool
	fits      bool // the picture fits in the searched area at all
	rect      image.Rectangle
	score     float64
	tolerance float64
}

func (r testResult) String() string {
	c := image.Pt((r.rect.Min.X+r.rect.Max.X)/2, (r.rect.Min.Y+r.rect.Max.Y)/2)
	switch {
	case !r.fits:
		return lang.L("Not found: the picture is larger than the searched area")
	case r.found:
		return fmt.Sprintf(lang.L("Found at %d, %d (%d×%d), score %.4f"), c.X, c.Y, r.rect.Dx(), r.rect.Dy(), r.score)
	}
	return fmt.Sprintf(lang.L("Not found: best score %.4f at %d, %d, above the tolerance %.2f"), r.score, c.X, c.Y, r.tolerance)
}

// testPicture looks for tmpl in region of shot (empty: all of it).
func testPicture(shot *image.RGBA, tmpl image.Image, region image.Rectangle, tol float64) testResult {
	area := shot
	if !region.Empty() {
		c, err := deskt.Crop(shot, region)
		if err != nil {
			return testResult{tolerance: tol}
		}
		area = c
		region = region.Intersect(shot.Bounds())
	}
	m, ok := deskt.BestMatch(area, tmpl)
	if !ok {
		return testResult{tolerance: tol}
	}
	return testResult{fits: true, found: m.Score <= tol, rect: m.Rect.Add(region.Min), score: m.Score, tolerance: tol}
}

// --- the overlay window ---

// showOverlay shows shot full-screen and calls done once with what the
// user picked.
func (s *Studio) showOverlay(shot *image.RGBA, kind engine.PickKind, hint string, done func(pickResult)) *pickOverlay {
	w := s.App.NewWindow("Deskbot — " + lang.L("Indicate on screen"))
	o := newPickOverlay(shot, kind, hint)
	o.done = func(r pickResult) {
		w.Close()
		done(r)
	}
	w.SetPadded(false)
	w.SetContent(o)
	w.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if e.Name == fyne.KeyEscape {
			o.finish(pickResult{cancelled: true})
		}
	})
	w.SetCloseIntercept(func() { o.finish(pickResult{cancelled: true}) })
	w.Resize(fyne.NewSize(float32(shot.Rect.Dx()), float32(shot.Rect.Dy())))
	w.SetFullScreen(true)
	w.Show()
	w.RequestFocus()
	s.overlay = o
	return o
}

// showHighlight shows shot full-screen with Test's result drawn on it for
// highlightFor (a click or Escape ends it sooner), then calls done.
func (s *Studio) showHighlight(shot *image.RGBA, res testResult, done func()) *pickOverlay {
	o := s.showOverlay(shot, engine.PickNone, res.String(), func(pickResult) { done() })
	if res.fits {
		o.mark(res.rect, res.found)
	}
	time.AfterFunc(highlightFor, func() { s.bridge.post(func() { o.finish(pickResult{cancelled: true}) }) })
	return o
}

// Colours of the overlay.
var (
	pickColor     = color.NRGBA{0xe5, 0x39, 0x35, 0xff} // the rectangle being dragged
	dimColor      = color.NRGBA{0x00, 0x00, 0x00, 0x70} // the screen around it
	foundColor    = color.NRGBA{0x00, 0xc8, 0x53, 0xff} // Test: found
	notFoundColor = color.NRGBA{0xff, 0x91, 0x00, 0xff} // Test: best place, not good enough
)

// pickOverlay is the screenshot the user picks on. Kind PickNone only
// shows (Test's highlight): any click ends it.
type pickOverlay struct {
	widget.BaseWidget
	shot     *image.RGBA
	kind     engine.PickKind
	img      *canvas.Image
	sel      *canvas.Rectangle
	hint     *canvas.Text
	hintText string
	hintBg   *canvas.Rectangle
	start    fyne.Position
	end      fyne.Position
	dragging bool
	marked   image.Rectangle      // in screen pixels, when shown
	dims     [4]*canvas.Rectangle // darken the screen around the selection
	done     func(pickResult)
	finished bool
}

func newPickOverlay(shot *image.RGBA, kind engine.PickKind, hint string) *pickOverlay {
	o := &pickOverlay{shot: shot, kind: kind}
	o.img = canvas.NewImageFromImage(shot)
	o.img.FillMode = canvas.ImageFillStretch
	o.img.ScaleMode = canvas.ImageScalePixels
	o.sel = canvas.NewRectangle(color.Transparent)
	o.sel.StrokeColor = pickColor
	o.sel.StrokeWidth = 2
	o.sel.Hide()
	// Fixed colours: the hint lies on a screenshot, not on the theme.
	o.hintText = hint
	o.hint = canvas.NewText(hint, color.White)
	o.hint.TextStyle.Bold = true
	o.hint.TextSize = theme.TextSize() * 1.2
	o.hint.Alignment = fyne.TextAlignCenter
	o.hintBg = canvas.NewRectangle(color.NRGBA{0x20, 0x20, 0x28, 0xe6})
	o.hintBg.CornerRadius = 6
	o.hintBg.StrokeColor = pickColor
	o.hintBg.StrokeWidth = 2
	for i := range o.dims {
		o.dims[i] = canvas.NewRectangle(dimColor)
	}
	o.ExtendBaseWidget(o)
	return o
}

// CreateRenderer is part of fyne.Widget.
func (o *pickOverlay) CreateRenderer() fyne.WidgetRenderer {
	objs := []fyne.CanvasObject{o.img}
	for _, d := range o.dims {
		objs = append(objs, d)
	}
	return &pickRenderer{o: o, objs: append(objs, o.sel, o.hintBg, o.hint)}
}

type pickRenderer struct {
	o    *pickOverlay
	objs []fyne.CanvasObject
}

func (r *pickRenderer) Layout(sz fyne.Size) {
	o := r.o
	o.img.Move(fyne.NewPos(0, 0))
	o.img.Resize(sz)
	hs := o.hint.MinSize()
	hs.Width += theme.Padding() * 6
	hs.Height += theme.Padding() * 3
	pos := fyne.NewPos((sz.Width-hs.Width)/2, theme.Padding()*4)
	if !o.marked.Empty() && o.toPos(o.marked.Min).Y < pos.Y+hs.Height+8 {
		pos.Y = sz.Height - hs.Height - theme.Padding()*4 // out of the highlight's way
	}
	o.hintBg.Move(pos)
	o.hintBg.Resize(hs)
	o.hint.Move(pos)
	o.hint.Resize(hs)
	if !o.marked.Empty() {
		a, b := o.toPos(o.marked.Min), o.toPos(o.marked.Max)
		w := o.sel.StrokeWidth
		o.sel.Move(fyne.NewPos(a.X-w, a.Y-w))
		o.sel.Resize(fyne.NewSize(b.X-a.X+2*w, b.Y-a.Y+2*w))
	}
	o.layoutDims(sz)
}

// layoutDims darkens the screen around the selection (or the mark): all
// of it while a picture or region is still to be dragged, none for a point.
func (o *pickOverlay) layoutDims(sz fyne.Size) {
	var a, b fyne.Position
	switch {
	case o.sel.Visible():
		a, b = o.sel.Position(), o.sel.Position().Add(o.sel.Size())
	case o.kind == engine.PickImage || o.kind == engine.PickRegion:
		a, b = fyne.NewPos(0, 0), fyne.NewPos(0, 0)
	default:
		for _, d := range o.dims {
			d.Hide()
		}
		return
	}
	rects := [4][4]float32{
		{0, 0, sz.Width, a.Y},         // above
		{0, b.Y, sz.Width, sz.Height}, // below
		{0, a.Y, a.X, b.Y},            // left
		{b.X, a.Y, sz.Width, b.Y},     // right
	}
	for i, r := range rects {
		d := o.dims[i]
		if r[2] <= r[0] || r[3] <= r[1] {
			d.Hide()
			continue
		}
		d.Move(fyne.NewPos(r[0], r[1]))
		d.Resize(fyne.NewSize(r[2]-r[0], r[3]-r[1]))
		d.Show()
	}
}

func (r *pickRenderer) MinSize() fyne.Size           { return fyne.NewSize(100, 100) }
func (r *pickRenderer) Refresh()                     { r.Layout(r.o.Size()); canvas.Refresh(r.o) }
func (r *pickRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *pickRenderer) Destroy()                     {}

// toScreen maps a position on the overlay to a screen pixel (the overlay
// shows the whole screenshot stretched over the full-screen window).
func (o *pickOverlay) toScreen(p fyne.Position) image.Point {
	sz := o.Size()
	b := o.shot.Rect
	if sz.Width <= 0 || sz.Height <= 0 {
		return image.Point{}
	}
	x := int(math.Round(float64(p.X) * float64(b.Dx()) / float64(sz.Width)))
	y := int(math.Round(float64(p.Y) * float64(b.Dy()) / float64(sz.Height)))
	return image.Pt(min(max(x, 0), b.Dx()), min(max(y, 0), b.Dy()))
}

// onScreen keeps a point on the screen's last row and column (toScreen
// gives up to the width and height, the end of a rectangle).
func (o *pickOverlay) onScreen(p image.Point) image.Point {
	return image.Pt(min(p.X, o.shot.Rect.Dx()-1), min(p.Y, o.shot.Rect.Dy()-1))
}

// toPos maps a screen pixel to a position on the overlay.
func (o *pickOverlay) toPos(p image.Point) fyne.Position {
	sz := o.Size()
	b := o.shot.Rect
	return fyne.NewPos(float32(p.X)*sz.Width/float32(max(b.Dx(), 1)), float32(p.Y)*sz.Height/float32(max(b.Dy(), 1)))
}

// mark draws a rectangle (screen pixels) on the overlay.
func (o *pickOverlay) mark(r image.Rectangle, found bool) {
	o.marked = r
	o.sel.StrokeColor = notFoundColor
	if found {
		o.sel.StrokeColor = foundColor
	}
	o.sel.StrokeWidth = 4
	o.sel.Show()
	o.Refresh()
}

func (o *pickOverlay) finish(r pickResult) {
	if o.finished {
		return
	}
	o.finished = true
	if o.done != nil {
		o.done(r)
	}
}

// MouseDown starts a pick; the secondary button cancels (desktop.Mouseable).
func (o *pickOverlay) MouseDown(e *desktop.MouseEvent) {
	if e.Button == desktop.MouseButtonSecondary || o.kind == engine.PickNone {
		o.finish(pickResult{cancelled: true})
		return
	}
	o.start, o.end, o.dragging = e.Position, e.Position, false
}

// MouseUp is part of desktop.Mouseable.
func (o *pickOverlay) MouseUp(*desktop.MouseEvent) {}

// Dragged draws the rectangle being dragged (fyne.Draggable).
func (o *pickOverlay) Dragged(e *fyne.DragEvent) {
	if o.kind == engine.PickNone {
		return
	}
	o.dragging = true
	o.end = e.Position
	o.marked = image.Rectangle{}
	x0, y0 := min(o.start.X, o.end.X), min(o.start.Y, o.end.Y)
	o.sel.Move(fyne.NewPos(x0, y0))
	o.sel.Resize(fyne.NewSize(pickAbs(o.end.X-o.start.X), pickAbs(o.end.Y-o.start.Y)))
	o.sel.Show()
	o.sel.Refresh()
	a, b := o.toScreen(o.start), o.toScreen(o.end)
	r := image.Rectangle{Min: a, Max: b}.Canon()
	o.hint.Text = fmt.Sprintf("%s   %d, %d   %d×%d", o.hintText, r.Min.X, r.Min.Y, r.Dx(), r.Dy())
	o.Refresh()
}

// DragEnd finishes a rectangle (or, for a point, the point where the drag
// ended) (fyne.Draggable).
func (o *pickOverlay) DragEnd() {
	if !o.dragging || o.kind == engine.PickNone {
		return
	}
	o.dragging = false
	a, b := o.toScreen(o.start), o.toScreen(o.end)
	if o.kind == engine.PickPoint {
		o.finish(pickResult{point: o.onScreen(b)})
		return
	}
	r := image.Rectangle{Min: a, Max: b}.Canon()
	if r.Dx() < 2 || r.Dy() < 2 {
		o.sel.Hide()
		return
	}
	o.finish(pickResult{rect: r})
}

// Tapped picks a point (fyne.Tappable); a rectangle needs a drag.
func (o *pickOverlay) Tapped(e *fyne.PointEvent) {
	if o.kind == engine.PickPoint {
		o.finish(pickResult{point: o.onScreen(o.toScreen(e.Position))})
	}
}

// Cursor is a crosshair (desktop.Cursorable).
func (o *pickOverlay) Cursor() desktop.Cursor { return desktop.CrosshairCursor }

func pickAbs(f float32) float32 {
	if f < 0 {
		return -f
	}
	return f
}

// ScreenOpener opens the live desktop (Options.Screen).
type ScreenOpener = func() (deskt.Desktop, error)
