package ui

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/theme"

	"deskbot/engine"
	deskt "deskbot/engine/desktop"
)

// blob is a group of same-coloured pixels.
type blob struct{ r image.Rectangle }

func (b blob) centre() image.Point {
	return image.Pt((b.r.Min.X+b.r.Max.X)/2, (b.r.Min.Y+b.r.Max.Y)/2)
}

// colourBlobs finds rows of pixels near c within area and groups them
// into blobs separated by at least 4 pixel rows; tiny ones are dropped.
func colourBlobs(img image.Image, area image.Rectangle, c color.Color, tol, minPix int) []blob {
	cr, cg, cb, _ := c.RGBA()
	var out []blob
	var cur image.Rectangle
	n, lastY := 0, -100
	flush := func() {
		if n >= minPix {
			out = append(out, blob{cur})
		}
		n, cur = 0, image.Rectangle{}
	}
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if absInt(int(r>>8)-int(cr>>8)) > tol || absInt(int(g>>8)-int(cg>>8)) > tol || absInt(int(b>>8)-int(cb>>8)) > tol {
				continue
			}
			if y-lastY > 4 {
				flush()
			}
			lastY = y
			p := image.Rect(x, y, x+1, y+1)
			if n == 0 {
				cur = p
			} else {
				cur = cur.Union(p)
			}
			n++
		}
	}
	flush()
	return out
}

// TestPickOnScreenUnderXvfb drives "Indicate on screen" and "Test" on the
// real studio with xdotool: a window shows a known form, the test drags
// over a block of it on the picking overlay and checks the saved PNG holds exactly
// the pattern's pixels and the field its path; a point on a click node is
// stored relative to its picture; Test finds the pattern with its score.
func TestPickOnScreenUnderXvfb(t *testing.T) {
	x := startX(t)
	if _, err := exec.LookPath("display"); err != nil {
		t.Fatal("the picking test shows its target with ImageMagick's display: run `make deps`")
	}
	dir := t.TempDir()
	// The target: a contact form (a real window's screenshot) with a
	// checkered icon beside each field and a green "Save" block. The test
	// picks the Save block, and a point in the Name field relative to the
	// icon beside it.
	formImg, err := deskt.LoadPNG(filepath.Join("testdata", "pick-form.png"))
	if err != nil {
		t.Fatal(err)
	}
	form := toRGBA(formImg)
	pat, err := deskt.Crop(form, image.Rect(2, 198, 78, 234)) // the Save block and a margin
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := deskt.Crop(form, image.Rect(2, 45, 34, 77)) // the icon left of Name
	if err != nil {
		t.Fatal(err)
	}
	formFile := filepath.Join(dir, "form.png")
	if err := deskt.SavePNG(formFile, form); err != nil {
		t.Fatal(err)
	}
	// The flow: a find node, and a click node anchored on the icon.
	if err := deskt.SavePNG(filepath.Join(dir, "images", "anchor.png"), anchor); err != nil {
		t.Fatal(err)
	}
	f := engine.NewFlow("Pick test")
	f.Nodes[0].Position = engine.Point{X: 0, Y: 0}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "find", Type: "screen.find_image", Position: engine.Point{X: 0, Y: 160}},
		&engine.Node{ID: "click", Type: "mouse.click", Position: engine.Point{X: 0, Y: 320}, Params: map[string]any{"image": "images/anchor.png"}})
	flowPath := filepath.Join(dir, "pick.json")
	if err := f.Save(flowPath); err != nil {
		t.Fatal(err)
	}
	xdo := func(args ...string) {
		t.Helper()
		if out, err := x.cmd("xdotool", args...).CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v\n%s", args, err, out)
		}
	}
	shot := func(name string) *image.RGBA {
		t.Helper()
		p := filepath.Join(dir, name)
		if out, err := x.cmd("import", "-window", "root", p).CombinedOutput(); err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		img, err := deskt.LoadPNG(p)
		if err != nil {
			t.Fatal(err)
		}
		if d := os.Getenv("DESKBOT_PICK_SHOTS"); d != "" { // to look at
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(filepath.Join(d, name), b, 0o644)
		}
		return toRGBA(img)
	}
	// The form in a window of its own, right of the studio.
	viewer := x.cmd("display", "-geometry", "+940+380", formFile)
	if err := viewer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viewer.Process.Kill(); viewer.Wait() })
	var formAt image.Point
	if !waitFor(patience, func() bool {
		m, ok := deskt.FindImage(shot("form-shown.png"), form, 0)
		formAt = m.Rect.Min
		return ok
	}) {
		t.Fatal("the form window does not show")
	}
	at := formAt.Add(image.Pt(2, 198))
	t.Logf("form at %v, Save block picture at %v", formAt, at)

	win, logs := x.openStudio(t, flowPath, "Pick test")
	xdo("windowmove", win, "0", "0")
	xdo("windowsize", win, "1100", "880")
	time.Sleep(2 * time.Second)
	// The property panel: right of the canvas (canvasArea's right edge).
	cv := canvasArea(t, x, win)
	props := image.Rect(cv.Max.X, cv.Min.Y-40, cv.Max.X+(cv.Max.X-cv.Min.X), 900)

	// selectNode clicks the node drawn in spec category's accent colour
	// (the upper or lower of two when both share a colour).
	selectNode := func(typ string, lower bool) {
		t.Helper()
		sp, ok := engine.Default.Spec(typ)
		if !ok {
			t.Fatalf("no activity %s", typ)
		}
		img := shot("select.png")
		bl := colourBlobs(img, canvasArea(t, x, win), categoryColor(sp.Category), 6, 20)
		if len(bl) == 0 {
			t.Fatalf("no %s node on the canvas", typ)
		}
		sort.Slice(bl, func(i, j int) bool { return bl[i].r.Min.Y < bl[j].r.Min.Y })
		b := bl[0]
		if lower {
			b = bl[len(bl)-1]
		}
		c := b.centre()
		xdo("mousemove", fmt.Sprint(c.X), fmt.Sprint(c.Y), "click", "1")
		time.Sleep(800 * time.Millisecond)
	}
	// buttons returns the property panel's primary buttons, top to bottom.
	primary := theme.DefaultTheme().Color(theme.ColorNamePrimary, theme.VariantDark)
	buttons := func(name string) []blob {
		t.Helper()
		// the pointer off the panel: a hovered button has another colour
		xdo("mousemove", fmt.Sprint(cv.Min.X+5), fmt.Sprint(cv.Min.Y+5))
		time.Sleep(300 * time.Millisecond)
		bl := colourBlobs(shot(name), props, primary, 10, 200)
		sort.Slice(bl, func(i, j int) bool { return bl[i].r.Min.Y < bl[j].r.Min.Y })
		return bl
	}
	overlayShown := func() bool {
		out, _ := x.cmd("xdotool", "search", "--name", "Indicate on screen").Output()
		return strings.TrimSpace(string(out)) != ""
	}
	save := func() {
		_ = x.cmd("xdotool", "windowactivate", "--sync", win).Run()
		xdo("key", "--window", win, "ctrl+s")
	}
	// saved waits until the saved flow's node id has param key.
	saved := func(id, key string) map[string]any {
		t.Helper()
		var p map[string]any
		waitFor(patience, func() bool {
			g, err := engine.LoadFile(flowPath)
			if err == nil && g.Node(id) != nil {
				p = g.Node(id).Params
			}
			return p[key] != nil
		})
		return p
	}

	// 1. Indicate the find node's picture: drag over the pattern.
	selectNode("screen.find_image", false)
	bs := buttons("find-props.png")
	if len(bs) < 3 {
		t.Fatalf("want Indicate (image), Test and Indicate (region) buttons, found %d: %v", len(bs), bs)
	}
	c := bs[0].centre()
	xdo("mousemove", fmt.Sprint(c.X), fmt.Sprint(c.Y), "click", "1")
	if !waitFor(patience, overlayShown) {
		t.Fatalf("no picking overlay; output:\n%s", logs)
	}
	time.Sleep(1500 * time.Millisecond) // full screen and painted
	end := at.Add(image.Pt(pat.Rect.Dx(), pat.Rect.Dy()))
	xdo("mousemove", fmt.Sprint(at.X), fmt.Sprint(at.Y))
	time.Sleep(200 * time.Millisecond)
	xdo("mousedown", "1")
	for i := 1; i <= 10; i++ {
		p := at.Add(image.Pt(pat.Rect.Dx()*i/12, pat.Rect.Dy()*i/12))
		xdo("mousemove", fmt.Sprint(p.X), fmt.Sprint(p.Y))
		time.Sleep(30 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	during := shot("pick-on-screen.png")
	if dst := os.Getenv("DESKBOT_PICK_SCREENSHOT"); dst != "" {
		if err := deskt.SavePNG(dst, during); err != nil {
			t.Error(err)
		}
	}
	if n := countNearIn(during, image.Rect(at.X-3, at.Y-3, end.X+3, end.Y+3), 0xe5, 0x39, 0x35, 20); n < 50 {
		t.Errorf("the dragged rectangle is not drawn on the overlay (%d red pixels)", n)
	}
	xdo("mousemove", fmt.Sprint(end.X), fmt.Sprint(end.Y))
	time.Sleep(200 * time.Millisecond)
	xdo("mouseup", "1")
	if !waitFor(patience, func() bool { return !overlayShown() && x.findWindow("Pick test") != "" }) {
		t.Fatal("the overlay did not go")
	}
	time.Sleep(1 * time.Second)
	save()
	if p := saved("find", "image"); p["image"] != "images/find.png" {
		t.Fatalf("find.image = %v; output:\n%s", p["image"], logs)
	}
	got, err := deskt.LoadPNG(filepath.Join(dir, "images", "find.png"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != pat.Bounds() {
		t.Fatalf("saved picture is %v, the pattern %v", got.Bounds(), pat.Bounds())
	}
	for yy := 0; yy < pat.Rect.Dy(); yy++ {
		for xx := 0; xx < pat.Rect.Dx(); xx++ {
			r1, g1, b1, _ := got.At(xx, yy).RGBA()
			r2, g2, b2, _ := pat.At(xx, yy).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				t.Fatalf("saved picture differs from the pattern at %d,%d", xx, yy)
			}
		}
	}

	// 2. Test finds it and says where, with the score.
	bs = buttons("find-props-2.png")
	if len(bs) < 2 {
		t.Fatalf("buttons after the pick: %v", bs)
	}
	c = bs[1].centre() // Test, under the picture
	xdo("mousemove", fmt.Sprint(c.X), fmt.Sprint(c.Y), "click", "1")
	if !waitFor(patience, overlayShown) {
		t.Fatalf("Test showed no highlight; output:\n%s", logs)
	}
	time.Sleep(500 * time.Millisecond)
	hl := shot("test-highlight.png")
	if n := countNearIn(hl, image.Rect(at.X-8, at.Y-8, end.X+8, end.Y+8), 0x00, 0xc8, 0x53, 20); n < 200 {
		t.Errorf("no highlight around the pattern (%d green pixels)", n)
	}
	centre := at.Add(image.Pt(38, 18))
	want := fmt.Sprintf("deskbot: test find: Found at %d, %d (76×36), score 0.0000", centre.X, centre.Y)
	if !waitFor(patience, func() bool { return strings.Contains(logs.String(), want) }) {
		t.Errorf("want %q in the output:\n%s", want, logs)
	}
	if !waitFor(patience, func() bool { return !overlayShown() }) {
		t.Fatal("the highlight stayed")
	}

	// 3. A point on the click node, relative to its picture.
	selectNode("mouse.click", true)
	// Indicate x, Indicate image, Test (the wide one), Indicate offset_x,
	// ...: scroll the panel until the button after Test shows.
	var target, last blob
	for i := 0; i < 20 && target.r.Empty(); i++ {
		bs = buttons("click-props.png")
		test := -1
		for j, b := range bs {
			if b.r.Dx() > 150 {
				test = j
			}
		}
		if test >= 0 && test+1 < len(bs) && bs[test+1].r.Max.Y < props.Max.Y-20 {
			// the panel may still be scrolling: the same place twice
			if cand := bs[test+1]; cand == last {
				target = cand
				break
			} else {
				last = cand
			}
			time.Sleep(500 * time.Millisecond)
			continue
		}
		// over a button, not over an entry (which scrolls itself)
		m := bs[len(bs)-1].centre()
		xdo("mousemove", fmt.Sprint(m.X), fmt.Sprint(m.Y), "click", "--repeat", "3", "--delay", "50", "5")
		time.Sleep(300 * time.Millisecond)
	}
	if target.r.Empty() {
		t.Fatalf("no Indicate button for the offset: %v", bs)
	}
	c = target.centre()
	xdo("mousemove", fmt.Sprint(c.X), fmt.Sprint(c.Y), "click", "1")
	if !waitFor(patience, overlayShown) {
		t.Fatalf("no overlay for the point; output:\n%s", logs)
	}
	time.Sleep(1500 * time.Millisecond)
	pt := formAt.Add(image.Pt(245, 60)) // in the Name field; the icon's centre is at 18, 61
	xdo("mousemove", fmt.Sprint(pt.X), fmt.Sprint(pt.Y))
	time.Sleep(200 * time.Millisecond)
	xdo("click", "1")
	if !waitFor(patience, func() bool { return !overlayShown() }) {
		shot("point-failed.png")
		t.Fatalf("the overlay did not go; output:\n%s", logs)
	}
	time.Sleep(1 * time.Second)
	save()
	p := saved("click", "offset_x")
	if p["offset_x"] != 227.0 || p["offset_y"] != -1.0 || p["image"] != "images/anchor.png" {
		t.Errorf("click params %v, want offset 227, -1 from images/anchor.png; output:\n%s", p, logs)
	}
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}
