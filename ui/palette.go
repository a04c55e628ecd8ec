package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// Palette lists the registry's activities by category with a search box.
// Items are dragged onto the canvas (or double-clicked to add one in the
// middle of the view).
type Palette struct {
	Search *widget.Entry
	Items  []*PaletteItem
	box    *fyne.Container
	root   fyne.CanvasObject
	reg    *engine.Registry
}

// NewPalette builds the palette from reg's specs. onDrag is called while an
// item is dragged (absolute position), onDrop when the drag ends, onAdd for a
// double click.
func NewPalette(reg *engine.Registry, onDrag func(*engine.Spec, fyne.Position), onDrop func(*engine.Spec, fyne.Position), onAdd func(*engine.Spec)) *Palette {
	p := &Palette{reg: reg, box: container.NewVBox()}
	for _, s := range reg.Specs() {
		if s.Type == "control.start" {
			continue // a flow has exactly one, made with the flow
		}
		p.Items = append(p.Items, newPaletteItem(s, onDrag, onDrop, onAdd))
	}
	p.Search = widget.NewEntry()
	p.Search.SetPlaceHolder(lang.L("Search activities"))
	p.Search.OnChanged = func(string) { p.fill() }
	p.fill()
	p.root = container.NewBorder(container.NewPadded(p.Search), nil, nil, nil, container.NewVScroll(p.box))
	return p
}

// Object returns the palette's widget tree.
func (p *Palette) Object() fyne.CanvasObject { return p.root }

// Item returns the item for an activity type.
func (p *Palette) Item(typ string) *PaletteItem {
	for _, it := range p.Items {
		if it.Spec.Type == typ {
			return it
		}
	}
	return nil
}

func (p *Palette) fill() {
	q := strings.ToLower(strings.TrimSpace(p.Search.Text))
	var objs []fyne.CanvasObject
	cat := ""
	for _, it := range p.Items {
		s := it.Spec
		if q != "" && !strings.Contains(strings.ToLower(s.Title+" "+s.Type+" "+s.Summary+" "+s.Category+" "+it.title), q) {
			continue
		}
		if s.Category != cat {
			cat = s.Category
			h := widget.NewLabelWithStyle(tr("category."+cat, cat), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			objs = append(objs, h)
		}
		objs = append(objs, it)
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("No activity matches")))
	}
	p.box.Objects = objs
	p.box.Refresh()
}

// PaletteItem is one draggable activity in the palette.
type PaletteItem struct {
	widget.BaseWidget
	Spec    *engine.Spec
	title   string
	onDrag  func(*engine.Spec, fyne.Position)
	onDrop  func(*engine.Spec, fyne.Position)
	onAdd   func(*engine.Spec)
	last    fyne.Position
	hovered bool
	bg      *canvas.Rectangle
	tip     *widget.PopUp // the summary, shown while the pointer is over the item
}

func newPaletteItem(s *engine.Spec, onDrag, onDrop func(*engine.Spec, fyne.Position), onAdd func(*engine.Spec)) *PaletteItem {
	it := &PaletteItem{Spec: s, title: tr("activity."+s.Type, s.Title), onDrag: onDrag, onDrop: onDrop, onAdd: onAdd}
	it.ExtendBaseWidget(it)
	return it
}

// CreateRenderer is part of fyne.Widget.
func (it *PaletteItem) CreateRenderer() fyne.WidgetRenderer {
	it.bg = canvas.NewRectangle(color.Transparent)
	it.bg.CornerRadius = 5
	accent := canvas.NewRectangle(categoryColor(it.Spec.Category))
	accent.CornerRadius = 2
	accent.SetMinSize(fyne.NewSize(4, 18))
	title := widget.NewLabel(it.title)
	title.Truncation = fyne.TextTruncateEllipsis
	title.Importance = widget.MediumImportance
	left := fyne.CanvasObject(container.NewCenter(accent))
	if res := specIcon(it.Spec); res != nil {
		icon := widget.NewIcon(res)
		left = container.NewHBox(container.NewCenter(accent), icon)
	}
	row := container.NewBorder(nil, nil, left, nil, title)
	return widget.NewSimpleRenderer(container.NewStack(it.bg, row))
}

// Dragged tells the studio where the item is being dragged (fyne.Draggable).
func (it *PaletteItem) Dragged(e *fyne.DragEvent) {
	if it.tip != nil {
		it.tip.Hide()
	}
	it.last = e.AbsolutePosition
	if it.onDrag != nil {
		it.onDrag(it.Spec, e.AbsolutePosition)
	}
}

// DragEnd drops the activity where the drag ended (fyne.Draggable).
func (it *PaletteItem) DragEnd() {
	if it.onDrop != nil {
		it.onDrop(it.Spec, it.last)
	}
}

// DoubleTapped adds the activity in the middle of the view.
func (it *PaletteItem) DoubleTapped(*fyne.PointEvent) {
	if it.onAdd != nil {
		it.onAdd(it.Spec)
	}
}

// MouseIn highlights the item and shows the activity's summary as a
// tooltip below it (desktop.Hoverable).
func (it *PaletteItem) MouseIn(*desktop.MouseEvent) {
	it.bg.FillColor = theme.Color(theme.ColorNameHover)
	it.bg.Refresh()
	it.showTip()
}

// TooltipText is the tooltip of the item: the activity's summary.
func (it *PaletteItem) TooltipText() string {
	return tr("summary."+it.Spec.Type, it.Spec.Summary)
}

func (it *PaletteItem) showTip() {
	app := fyne.CurrentApp()
	if app == nil || it.TooltipText() == "" {
		return
	}
	cv := app.Driver().CanvasForObject(it)
	if cv == nil {
		return
	}
	if it.tip == nil {
		l := widget.NewLabel(it.TooltipText())
		l.Wrapping = fyne.TextWrapWord
		it.tip = widget.NewPopUp(container.NewGridWrap(fyne.NewSize(280, l.MinSize().Height*3), l), cv)
	}
	pos := app.Driver().AbsolutePositionForObject(it).Add(fyne.NewPos(16, it.Size().Height))
	it.tip.ShowAtPosition(pos)
}

// Tip returns the tooltip pop-up while it shows, else nil.
func (it *PaletteItem) Tip() *widget.PopUp {
	if it.tip == nil || !it.tip.Visible() {
		return nil
	}
	return it.tip
}

// MouseMoved is part of desktop.Hoverable.
func (it *PaletteItem) MouseMoved(*desktop.MouseEvent) {}

// MouseOut is part of desktop.Hoverable.
func (it *PaletteItem) MouseOut() {
	it.bg.FillColor = color.Transparent
	it.bg.Refresh()
	if it.tip != nil {
		it.tip.Hide()
	}
}

// Cursor shows a hand over the item (desktop.Cursorable).
func (it *PaletteItem) Cursor() desktop.Cursor { return desktop.PointerCursor }
