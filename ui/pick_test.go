package ui

import (
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
	deskt "deskbot/engine/desktop"
)

// pickPattern is a picture that shows up nowhere else.
func pickPattern(w, h, seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8((x*7 + y*13 + seed*31 + (x/5)*(y/3)*17) % 256)
			img.SetRGBA(x, y, color.RGBA{v, 255 - v, uint8((x*y + seed) % 256), 255})
		}
	}
	return img
}

// pickScreen is a 1280x800 grey screen with tmpl at at.
func pickScreen(tmpl image.Image, at image.Point) *image.RGBA {
	s := image.NewRGBA(image.Rect(0, 0, 1280, 800))
	draw.Draw(s, s.Bounds(), &image.Uniform{color.RGBA{0x30, 0x30, 0x38, 255}}, image.Point{}, draw.Src)
	if tmpl != nil {
		draw.Draw(s, tmpl.Bounds().Add(at), tmpl, image.Point{}, draw.Src)
	}
	return s
}

// newPickStudio opens a studio on the fyne test driver whose screen is a
// Fake desktop, on a saved flow with a find, a click and a move node.
func newPickStudio(t *testing.T) (*Studio, chan func(), *deskt.Fake, string) {
	t.Helper()
	old := pickHideDelay
	pickHideDelay = 0
	t.Cleanup(func() { pickHideDelay = old })
	a := test.NewApp()
	t.Cleanup(a.Quit)
	fake := deskt.NewFake()
	s := NewStudio(a, Options{DataDir: t.TempDir(), Screen: func() (deskt.Desktop, error) { return fake, nil }})
	ui := make(chan func(), 4096)
	s.bridge.do = func(f func()) { ui <- f }
	f := engine.NewFlow("Pick test")
	add := func(id, typ string, params map[string]any) {
		f.Nodes = append(f.Nodes, &engine.Node{ID: id, Type: typ, Params: params, Position: engine.Point{X: float32(100 * len(f.Nodes)), Y: 0}})
	}
	add("find", "screen.find_image", nil)
	add("click", "mouse.click", map[string]any{"x": 5.0, "y": 6.0})
	add("move", "mouse.move", nil)
	dir := t.TempDir()
	flowPath := filepath.Join(dir, "pick.json")
	if err := f.Save(flowPath); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenFile(flowPath); err != nil {
		t.Fatal(err)
	}
	s.Win.Resize(fyne.NewSize(1280, 800))
	return s, ui, fake, dir
}

// overlayFor taps the button and waits for the overlay window.
func overlayFor(t *testing.T, s *Studio, ui chan func(), button string) *pickOverlay {
	t.Helper()
	s.overlay = nil
	b, ok := s.Props.Fields[button].(*widget.Button)
	if !ok {
		t.Fatalf("no %s button among %v", button, keys(s.Props.Fields))
	}
	test.Tap(b)
	if !pump(t, ui, patience, func() bool { return s.overlay != nil }) {
		t.Fatal("no overlay")
	}
	o := s.overlay
	o.Resize(fyne.NewSize(float32(o.shot.Rect.Dx()), float32(o.shot.Rect.Dy())))
	return o
}

func keys(m map[string]fyne.CanvasObject) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// drag drags on the overlay from a to b (overlay positions).
func drag(o *pickOverlay, a, b fyne.Position) {
	o.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: a}, Button: desktop.MouseButtonPrimary})
	mid := fyne.NewPos((a.X+b.X)/2, (a.Y+b.Y)/2)
	o.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: mid}, Dragged: fyne.NewDelta(mid.X-a.X, mid.Y-a.Y)})
	o.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: b}, Dragged: fyne.NewDelta(b.X-mid.X, b.Y-mid.Y)})
	o.DragEnd()
}

func TestIndicatePictureRegionAndPoints(t *testing.T) {
	s, ui, fake, dir := newPickStudio(t)
	tmpl := pickPattern(60, 30, 3)
	fake.SetScreen(pickScreen(tmpl, image.Pt(400, 250)))

	// A picture: the dragged rectangle is saved next to the flow.
	s.Canvas.Select("find")
	if _, ok := s.Props.Fields["pick:region"]; !ok {
		t.Fatal("the search region has no Indicate button")
	}
	if img := s.Props.Fields["preview:image"].(*canvas.Image); img.Visible() {
		t.Error("a preview is shown before there is a picture")
	}
	o := overlayFor(t, s, ui, "pick:image")
	if o.kind != engine.PickImage {
		t.Fatal("wrong overlay")
	}
	drag(o, fyne.NewPos(400, 250), fyne.NewPos(460, 280))
	if got := s.Doc.Flow.Node("find").Params["image"]; got != "images/find.png" {
		t.Fatalf("image = %v", got)
	}
	saved, err := deskt.LoadPNG(filepath.Join(dir, "images", "find.png"))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := deskt.FindImage(saved, tmpl, 0); !ok || saved.Bounds() != tmpl.Bounds() || m.Score != 0 {
		t.Fatalf("the saved picture is not the dragged pixels: %v", saved.Bounds())
	}
	if img := s.Props.Fields["preview:image"].(*canvas.Image); !img.Visible() || img.Image == nil || img.Image.Bounds() != tmpl.Bounds() {
		t.Error("no preview of the picture under the field")
	}
	// Undo takes the whole pick back in one step.
	s.Undo()
	if _, has := s.Doc.Flow.Node("find").Params["image"]; has {
		t.Error("undo left the picked image")
	}
	s.Redo()

	// A region, dragged from bottom right to top left.
	o = overlayFor(t, s, ui, "pick:region")
	drag(o, fyne.NewPos(700, 500), fyne.NewPos(100, 50))
	if got := s.Doc.Flow.Node("find").Params["region"]; got != "100,50,600,450" {
		t.Errorf("region = %v", got)
	}
	// Escape cancels and changes nothing.
	o = overlayFor(t, s, ui, "pick:region")
	o.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(1, 1)}})
	wins := s.App.Driver().AllWindows()
	wins[len(wins)-1].Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if got := s.Doc.Flow.Node("find").Params["region"]; got != "100,50,600,450" || !o.finished {
		t.Errorf("after Escape: region %v, finished %v", got, o.finished)
	}

	// An absolute point on a move node.
	s.Canvas.Select("move")
	o = overlayFor(t, s, ui, "pick:x")
	o.Tapped(&fyne.PointEvent{Position: fyne.NewPos(321, 123)})
	if p := s.Doc.Flow.Node("move").Params; p["x"] != 321.0 || p["y"] != 123.0 {
		t.Errorf("move point = %v", p)
	}

	// A point at the very edge stays on the screen.
	o = overlayFor(t, s, ui, "pick:x")
	o.Tapped(&fyne.PointEvent{Position: fyne.NewPos(1280, 800)})
	if p := s.Doc.Flow.Node("move").Params; p["x"] != 1279.0 || p["y"] != 799.0 {
		t.Errorf("edge point = %v", p)
	}

	// A click node: the picture replaces its x and y; a point is then
	// stored relative to the picture's centre (430, 265).
	s.Canvas.Select("click")
	o = overlayFor(t, s, ui, "pick:image")
	drag(o, fyne.NewPos(400, 250), fyne.NewPos(460, 280))
	p := s.Doc.Flow.Node("click").Params
	if p["image"] != "images/click.png" || p["x"] != nil || p["y"] != nil {
		t.Fatalf("click after picking its picture: %v", p)
	}
	o = overlayFor(t, s, ui, "pick:offset_x")
	o.Tapped(&fyne.PointEvent{Position: fyne.NewPos(530, 260)})
	p = s.Doc.Flow.Node("click").Params
	if p["offset_x"] != 100.0 || p["offset_y"] != -5.0 {
		t.Fatalf("offset = %v, %v; want 100, -5", p["offset_x"], p["offset_y"])
	}
	if probs := engine.Lint(s.Doc.Flow, engine.Default, dir); hasErrorOn(probs, "click") {
		t.Errorf("lint: %v", probs)
	}
	// The picture gone from the screen: the relative point says so.
	fake.SetScreen(pickScreen(nil, image.Point{}))
	o = overlayFor(t, s, ui, "pick:offset_x")
	o.Tapped(&fyne.PointEvent{Position: fyne.NewPos(10, 10)})
	if p := s.Doc.Flow.Node("click").Params; p["offset_x"] != 100.0 {
		t.Errorf("a failed relative pick changed the offset: %v", p)
	}
	// An absolute point on the click node replaces its picture.
	o = overlayFor(t, s, ui, "pick:x")
	o.Tapped(&fyne.PointEvent{Position: fyne.NewPos(20, 30)})
	if p := s.Doc.Flow.Node("click").Params; p["x"] != 20.0 || p["image"] != nil || p["offset_x"] != nil {
		t.Errorf("click after an absolute point: %v", p)
	}
}

func hasErrorOn(ps []engine.Problem, id string) bool {
	for _, p := range ps {
		if p.NodeID == id && p.Severity == engine.SeverityError {
			return true
		}
	}
	return false
}

func TestIndicatePictureNeedsASavedFlow(t *testing.T) {
	s, _, _, _ := newPickStudio(t)
	s.Doc.Path = ""
	s.Canvas.Select("find")
	test.Tap(s.Props.Fields["pick:image"].(*widget.Button))
	if s.picking || s.overlay != nil {
		t.Error("picking started on an unsaved flow")
	}
}

func TestTestImageShowsWhereAndScore(t *testing.T) {
	old := highlightFor
	highlightFor = 0
	t.Cleanup(func() { highlightFor = old })
	s, ui, fake, dir := newPickStudio(t)
	tmpl := pickPattern(60, 30, 3)
	if err := deskt.SavePNG(filepath.Join(dir, "images", "b.png"), tmpl); err != nil {
		t.Fatal(err)
	}
	s.Doc.SetParam("find", "image", "images/b.png")
	fake.SetScreen(pickScreen(tmpl, image.Pt(400, 250)))
	s.Canvas.Select("find")
	o := overlayFor(t, s, ui, "pick.test")
	if o.marked != image.Rect(400, 250, 460, 280) || o.sel.StrokeColor != foundColor || !o.sel.Visible() {
		t.Errorf("highlight at %v (colour %v)", o.marked, o.sel.StrokeColor)
	}
	res := s.Props.Fields["pick.result"].(*widget.Label)
	if !strings.Contains(res.Text, "Found at 430, 265 (60×30), score 0.0000") {
		t.Errorf("result %q", res.Text)
	}
	// The highlight goes by itself and the studio comes back.
	if !pump(t, ui, patience, func() bool { return o.finished }) {
		t.Error("the highlight stayed")
	}
	// Not there: the best score, above the tolerance.
	other := pickScreen(pickPattern(60, 30, 40), image.Pt(100, 100))
	fake.SetScreen(other)
	o = overlayFor(t, s, ui, "pick.test")
	res = s.Props.Fields["pick.result"].(*widget.Label)
	if !strings.HasPrefix(res.Text, "Not found: best score 0.") || !strings.Contains(res.Text, "above the tolerance 0.10") || o.sel.StrokeColor != notFoundColor {
		t.Errorf("result %q, colour %v", res.Text, o.sel.StrokeColor)
	}
	// The result stays with the node when the form is rebuilt.
	s.Canvas.Select("move")
	s.Canvas.Select("find")
	if got := s.Props.Fields["pick.result"].(*widget.Label).Text; got != res.Text {
		t.Errorf("result after reselecting: %q", got)
	}
	// A region limits the search.
	fake.SetScreen(pickScreen(tmpl, image.Pt(400, 250)))
	s.Doc.SetParam("find", "region", "0,0,300,300")
	o = overlayFor(t, s, ui, "pick.test")
	if got := s.Props.Fields["pick.result"].(*widget.Label).Text; !strings.HasPrefix(got, "Not found") {
		t.Errorf("found outside the region: %q", got)
	}
	_ = o
}
