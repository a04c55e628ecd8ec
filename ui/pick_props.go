package ui

import (
	"image"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
	deskt "deskbot/engine/desktop"
)

// PickHooks connect the property panel to the studio's screen picking.
type PickHooks struct {
	// Indicate, when set, lets the user pick a field on the screen; it
	// adds an "Indicate" button beside every field with Field.Pick.
	Indicate func(nodeID, field string)
	// Test, when set, searches the screen for a node's picture now; it
	// adds a "Test" button to nodes with a picture field.
	Test func(nodeID string)
	// BaseDir is the flow's folder, for picture previews.
	BaseDir func() string

	results map[string]string // Test's last result per node
	result  *widget.Label     // the shown node's
}

// previewMax bounds a picture preview in the properties.
var previewMax = fyne.NewSize(260, 140)

// pickField adds, to the editor ed of field fd (its entry e), an Indicate
// button and, for a picture, a preview under the field that follows the
// entry.
func (p *PropertyPanel) pickField(n *engine.Node, fd engine.Field, e *widget.Entry, ed fyne.CanvasObject) (fyne.CanvasObject, []fyne.CanvasObject) {
	if fd.Pick == engine.PickNone {
		return ed, nil
	}
	id, name := n.ID, fd.Name
	if p.Pick.Indicate != nil {
		btn := widget.NewButtonWithIcon(lang.L("Indicate"), theme.ZoomFitIcon(), func() { p.Pick.Indicate(id, name) })
		btn.Importance = widget.HighImportance // the quick way to fill the field
		p.Fields["pick:"+name] = btn
		ed = container.NewBorder(nil, nil, nil, btn, ed)
	}
	if fd.Pick != engine.PickImage {
		return ed, nil
	}
	prev := canvas.NewImageFromImage(nil)
	prev.FillMode = canvas.ImageFillContain
	prev.ScaleMode = canvas.ImageScalePixels
	note := hintLabel("")
	show := func() {
		img, msg := p.loadPreview(n, name)
		prev.Image = img
		if img == nil {
			prev.SetMinSize(fyne.NewSize(0, 0))
			prev.Hide()
			note.SetText(msg)
			if msg == "" {
				note.Hide()
			} else {
				note.Show()
			}
			return
		}
		b := img.Bounds()
		w, h := float32(b.Dx()), float32(b.Dy())
		if sc := min(previewMax.Width/w, previewMax.Height/h, 2); sc > 0 {
			w, h = w*sc, h*sc
		}
		prev.SetMinSize(fyne.NewSize(w, h))
		prev.Show()
		prev.Refresh()
		note.SetText(fmtSize(b))
		note.Show()
	}
	show()
	if old := e.OnChanged; old != nil {
		e.OnChanged = func(s string) { old(s); show() }
	}
	p.Fields["preview:"+name] = prev
	extra := []fyne.CanvasObject{container.NewHBox(prev), note}
	if spec, ok := p.reg.Spec(n.Type); ok && pictureField(spec) == name {
		extra = append(extra, p.pickTest(n)...)
	}
	return ed, extra
}

// loadPreview loads the picture of a node's field; with none it says why
// (nothing when the field is empty).
func (p *PropertyPanel) loadPreview(n *engine.Node, field string) (image.Image, string) {
	cur := p.doc.Flow.Node(n.ID)
	if cur == nil {
		return nil, ""
	}
	if v, _ := cur.Params[field].(string); v == "" {
		return nil, ""
	}
	base := ""
	if p.Pick.BaseDir != nil {
		base = p.Pick.BaseDir()
	}
	path, err := resolvePicture(base, cur, field)
	if err != nil {
		return nil, err.Error()
	}
	img, err := deskt.LoadPNG(path)
	if err != nil {
		return nil, err.Error()
	}
	return img, ""
}

func fmtSize(b image.Rectangle) string {
	return lang.L("Picture") + " " + strconv.Itoa(b.Dx()) + "×" + strconv.Itoa(b.Dy())
}

// pickTest is the "Test" button and its result, under a node's picture.
func (p *PropertyPanel) pickTest(n *engine.Node) []fyne.CanvasObject {
	if p.Pick.Test == nil {
		return nil
	}
	id := n.ID
	btn := widget.NewButtonWithIcon(lang.L("Test on screen"), theme.SearchIcon(), func() { p.Pick.Test(id) })
	btn.Importance = widget.HighImportance
	res := hintLabel(p.Pick.results[id])
	if p.Pick.results[id] == "" {
		res.SetText(lang.L("Searches the screen now and shows where the picture is."))
	}
	p.Pick.result = res
	p.Fields["pick.test"], p.Fields["pick.result"] = btn, res
	return []fyne.CanvasObject{btn, res}
}

// setTestResult keeps Test's result for node id and shows it when the
// panel shows that node.
func (p *PropertyPanel) setTestResult(id, msg string) {
	if p.Pick.results == nil {
		p.Pick.results = map[string]string{}
	}
	p.Pick.results[id] = msg
	if p.nodeID == id && p.Pick.result != nil {
		p.Pick.result.SetText(msg)
	}
}
