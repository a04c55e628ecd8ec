package ui

import (
	"image"
	"image/color"
	"math"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"

	"deskbot/engine"
)

// nodeView holds the canvas objects of one node; they are reused between
// frames so that dragging only moves objects.
type nodeView struct {
	bg, accent *canvas.Rectangle
	title, sub *canvas.Text
	icon       *canvas.Image
	iconName   string
	in         *canvas.Circle
	bp         *canvas.Circle
	warn       *canvas.Text
	ports      []portView
	portNames  []string
}

type portView struct {
	dot   *canvas.Circle
	label *canvas.Text
	pill  *canvas.Rectangle // behind the label, so an edge under it does not hide it
}

// boxView draws a group box or a sticky note.
type boxView struct {
	bg    *canvas.Rectangle
	title *canvas.Rectangle
	text  *canvas.Text
	lines []*canvas.Text
}

type edgeView struct {
	segs  []*canvas.Line
	arrow *canvas.Polygon
}

type graphRenderer struct {
	c         *FlowCanvas
	bg        *canvas.Rectangle
	grid      *canvas.Raster
	gridImg   *image.NRGBA
	gridKey   [5]float32
	nodes     map[string]*nodeView
	edges     []*edgeView
	rubber    *canvas.Rectangle
	connLine  *canvas.Line
	ghostBox  *canvas.Rectangle
	ghostText *canvas.Text
	hint      *canvas.Text
	zoomText  *canvas.Text
	tipBox    *canvas.Rectangle
	tipText   *canvas.Text
	groups    []*boxView
	notes     []*boxView
	objects   []fyne.CanvasObject
	size      fyne.Size
}

func (r *graphRenderer) Destroy() {}

func (r *graphRenderer) MinSize() fyne.Size { return fyne.NewSize(200, 150) }

func (r *graphRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *graphRenderer) Layout(s fyne.Size) {
	r.size = s
	if r.c.pendingFit && s.Width >= 50 && s.Height >= 50 {
		r.c.Fit() // refreshes, which builds
		return
	}
	r.build()
}

func (r *graphRenderer) Refresh() {
	r.build()
	canvas.Refresh(r.bg)
}

func col(n fyne.ThemeColorName) color.Color { return theme.Color(n) }

// setText updates a text object, refreshing it only when it changed (text
// objects cache a texture).
func setText(t *canvas.Text, s string, size float32, c color.Color, bold bool) {
	if t.Text == s && t.TextSize == size && t.Color == c && t.TextStyle.Bold == bold {
		return
	}
	t.Text, t.TextSize, t.Color, t.TextStyle.Bold = s, size, c, bold
	t.Refresh()
}

func setFill(o *canvas.Rectangle, fill, stroke color.Color, sw float32) {
	if o.FillColor == fill && o.StrokeColor == stroke && o.StrokeWidth == sw {
		return
	}
	o.FillColor, o.StrokeColor, o.StrokeWidth = fill, stroke, sw
	o.Refresh()
}

func (r *graphRenderer) build() {
	c := r.c
	f := c.doc.Flow
	z := c.zoom
	s := r.size
	r.bg.FillColor = col(theme.ColorNameInputBackground)
	r.bg.Resize(s)
	objs := r.objects[:0]
	objs = append(objs, r.bg)
	if r.grid == nil {
		r.grid = canvas.NewRaster(r.drawGrid)
	}
	r.grid.Resize(s)
	if key := [5]float32{c.offset.X, c.offset.Y, z, s.Width, s.Height}; key != r.gridKey {
		r.gridKey = key
		r.grid.Refresh()
	}
	objs = append(objs, r.grid)

	// visible document rectangle
	vx0, vy0 := (0-c.offset.X)/z, (0-c.offset.Y)/z
	vx1, vy1 := (s.Width-c.offset.X)/z, (s.Height-c.offset.Y)/z
	visible := func(x, y, w, h float32) bool { return x < vx1 && x+w > vx0 && y < vy1 && y+h > vy0 }

	fg := col(theme.ColorNameForeground)
	edgeCol := withAlpha(col(theme.ColorNamePlaceHolder), 0xff)
	primary := col(theme.ColorNamePrimary)

	r.buildBoxes(&objs, visible)

	// edges
	for len(r.edges) < len(f.Edges) {
		ev := &edgeView{arrow: canvas.NewPolygon(3, edgeCol)}
		ev.arrow.Angle = 90
		r.edges = append(r.edges, ev)
	}
	routes := c.edgeRoutes()
	for i, e := range f.Edges {
		ev := r.edges[i]
		pts := routes[i]
		if len(pts) < 2 {
			continue
		}
		for len(ev.segs) < len(pts)-1 {
			ev.segs = append(ev.segs, canvas.NewLine(edgeCol))
		}
		bx0, by0, bx1, by1 := pts[0].X, pts[0].Y, pts[0].X, pts[0].Y
		for _, p := range pts {
			bx0, by0, bx1, by1 = min(bx0, p.X), min(by0, p.Y), max(bx1, p.X), max(by1, p.Y)
		}
		if !visible(bx0-arrowSize, by0-arrowSize, bx1-bx0+2*arrowSize, by1-by0+2*arrowSize) {
			continue
		}
		ec := color.Color(withAlpha(portColor(e.Port), 0xd0))
		if e.Port == engine.PortNext {
			ec = edgeCol
		}
		w := float32(1.6)
		if i == c.selEdge {
			ec, w = primary, 3
		}
		last := len(pts) - 1
		sp := append([]engine.Point(nil), pts...)
		sp[last].X -= arrowSize * 0.8 // leave room for the arrow head
		for k := 0; k < last; k++ {
			l := ev.segs[k]
			if l.StrokeColor != ec || l.StrokeWidth != w {
				l.StrokeColor, l.StrokeWidth = ec, w
				l.Refresh()
			}
			l.Position1 = c.ToScreen(sp[k])
			l.Position2 = c.ToScreen(sp[k+1])
			objs = append(objs, l)
		}
		pts3 := pts[last]
		as := arrowSize * z
		if ev.arrow.FillColor != ec {
			ev.arrow.FillColor = ec
			ev.arrow.Refresh()
		}
		tip := c.ToScreen(pts3)
		ev.arrow.Resize(fyne.NewSize(as, as))
		ev.arrow.Move(fyne.NewPos(tip.X-as, tip.Y-as/2))
		objs = append(objs, ev.arrow)
	}

	// nodes
	seen := make(map[string]bool, len(f.Nodes))
	lod := z >= lodZoom
	cardBg := col(theme.ColorNameBackground)
	border := col(theme.ColorNameSeparator)
	sub := col(theme.ColorNamePlaceHolder)
	errCol := col(theme.ColorNameError)
	for ni, n := range f.Nodes {
		seen[n.ID] = true
		ports := c.ports(n)
		x, y, w, h := n.Position.X, n.Position.Y, float32(nodeW), nodeHeight(len(ports))
		if !visible(x-portHit, y-portHit, w+2*portHit+60, h+2*portHit) {
			continue
		}
		v := r.nodes[n.ID]
		if v == nil || !sameStrings(v.portNames, ports) {
			v = newNodeView(ports)
			r.nodes[n.ID] = v
		}
		spec, _ := c.reg.Spec(n.Type)
		accent := color.NRGBA{0x88, 0x88, 0x88, 0xff}
		typeTitle := n.Type
		if spec != nil {
			accent = categoryColor(spec.Category)
			typeTitle = tr("activity."+spec.Type, spec.Title)
		}
		stroke, sw := border, float32(1)
		fill := cardBg
		switch {
		case n.ID == c.running:
			fill = withAlpha(primary, 0x55)
			stroke, sw = primary, 3
		case c.states[n.ID].state == NodeStateFailed:
			fill = withAlpha(errCol, 0x40)
			stroke, sw = errCol, 3
		case c.selected[n.ID]:
			stroke, sw = primary, 2.5
		case c.Problems[n.ID]:
			stroke, sw = errCol, 1.5
		}
		if n.Disabled {
			fill = withAlpha(cardBg, 0x80)
		}
		setFill(v.bg, fill, stroke, sw*max(z, 0.6))
		v.bg.CornerRadius = 7 * z
		tl := c.ToScreen(n.Position)
		v.bg.Move(tl)
		v.bg.Resize(fyne.NewSize(w*z, h*z))
		setFill(v.accent, accent, color.Transparent, 0)
		v.accent.CornerRadius = 3 * z
		v.accent.Move(fyne.NewPos(tl.X+3*z, tl.Y+4*z))
		v.accent.Resize(fyne.NewSize(5*z, (h-8)*z))
		objs = append(objs, v.bg, v.accent)

		_, label := c.nodeTitle(n)
		if z >= tinyZoom {
			setText(v.title, label, 12.5*z, fg, true)
			v.title.Move(fyne.NewPos(tl.X+14*z, tl.Y+8*z))
			objs = append(objs, v.title)
		}
		if lod && spec != nil {
			if v.iconName != spec.Icon {
				v.iconName = spec.Icon
				v.icon.Resource = specIcon(spec)
				v.icon.Refresh()
			}
			is := 14 * z
			v.icon.Resize(fyne.NewSize(is, is))
			v.icon.Move(fyne.NewPos(tl.X+(w-22)*z, tl.Y+27*z))
			objs = append(objs, v.icon)
		}
		if lod {
			setText(v.sub, ellipsize(typeTitle, 24), 10.5*z, sub, false)
			v.sub.Move(fyne.NewPos(tl.X+14*z, tl.Y+28*z))
			objs = append(objs, v.sub)
		}
		// input port
		ip := c.ToScreen(inPortPos(n, len(ports)))
		pr := portR * z
		if v.in.FillColor != cardBg || v.in.StrokeColor != edgeCol {
			v.in.FillColor, v.in.StrokeColor = cardBg, edgeCol
			v.in.Refresh()
		}
		v.in.StrokeWidth = 1.5
		v.in.Move(fyne.NewPos(ip.X-pr, ip.Y-pr))
		v.in.Resize(fyne.NewSize(2*pr, 2*pr))
		objs = append(objs, v.in)
		if n.Type == "control.start" {
			v.in.Hide()
		} else {
			v.in.Show()
		}
		labelBottom := float32(math.Inf(-1))
		for i, pv := range v.ports {
			pp := c.ToScreen(portPos(n, i, len(ports)))
			pc := portColor(ports[i])
			if pv.dot.FillColor != pc {
				pv.dot.FillColor = pc
				pv.dot.Refresh()
			}
			dr := pr
			if c.hoverPort[0] == n.ID && c.hoverPort[1] == ports[i] {
				dr = pr * 1.7 // the port under the pointer grows: drag from here
			}
			pv.dot.Move(fyne.NewPos(pp.X-dr, pp.Y-dr))
			pv.dot.Resize(fyne.NewSize(2*dr, 2*dr))
			objs = append(objs, pv.dot)
			if ports[i] != engine.PortNext && lod {
				setText(pv.label, tr("port."+ports[i], ports[i]), portLabelSize(z), pc, false)
				ts := pv.label.MinSize()
				// above the port's line; below it when that would
				// overlap the label before; else not at all (never
				// shrunk to an unreadable size)
				lp := fyne.NewPos(pp.X+pr+3, pp.Y-ts.Height)
				if lp.Y < labelBottom {
					lp.Y = pp.Y + 1
					if i+1 < len(ports) && lp.Y+ts.Height > pp.Y+portGap*z-ts.Height {
						continue // the next port's label needs that room
					}
				}
				if c.labelHitsNode(ni, lp, ts) {
					continue // it would lie on another node
				}
				labelBottom = lp.Y + ts.Height
				pv.label.Move(lp)
				setFill(pv.pill, withAlpha(cardBg, 0xe0), color.Transparent, 0)
				pv.pill.Move(lp.Subtract(fyne.NewPos(1, 0)))
				pv.pill.Resize(fyne.NewSize(ts.Width+2, ts.Height-1))
				objs = append(objs, pv.pill, pv.label)
			}
		}
		if c.Breakpoints[n.ID] {
			v.bp.FillColor = errCol
			v.bp.Move(fyne.NewPos(tl.X-6*z, tl.Y-6*z))
			v.bp.Resize(fyne.NewSize(13*z, 13*z))
			objs = append(objs, v.bp)
		}
		if c.Problems[n.ID] && lod {
			setText(v.warn, "⚠", 13*z, errCol, true)
			v.warn.Move(fyne.NewPos(tl.X+(w-20)*z, tl.Y+4*z))
			objs = append(objs, v.warn)
		}
	}
	if len(r.nodes) > len(f.Nodes) {
		for id := range r.nodes {
			if !seen[id] {
				delete(r.nodes, id)
			}
		}
	}

	// overlays
	switch c.mode {
	case dragRubber:
		r.rubber.FillColor = withAlpha(primary, 0x22)
		r.rubber.StrokeColor = primary
		x0, y0 := min(c.start.X, c.cur.X), min(c.start.Y, c.cur.Y)
		r.rubber.Move(fyne.NewPos(x0, y0))
		r.rubber.Resize(fyne.NewSize(abs32(c.cur.X-c.start.X), abs32(c.cur.Y-c.start.Y)))
		objs = append(objs, r.rubber)
	case dragConnect:
		if p, ok := c.PortPosition(c.connFrom, c.connPort); ok {
			r.connLine.StrokeColor = portColor(c.connPort)
			r.connLine.Position1 = p
			r.connLine.Position2 = c.cur
			r.connLine.Refresh()
			objs = append(objs, r.connLine)
		}
	}
	if c.ghost {
		r.ghostBox.FillColor = withAlpha(primary, 0x30)
		r.ghostBox.StrokeColor = primary
		gw, gh := nodeW*z, nodeMinH*z
		r.ghostBox.Move(fyne.NewPos(c.ghostPos.X-gw/2, c.ghostPos.Y-gh/2))
		r.ghostBox.Resize(fyne.NewSize(gw, gh))
		setText(r.ghostText, c.ghostTitle, 13*z, fg, true)
		r.ghostText.Move(fyne.NewPos(c.ghostPos.X-gw/2+14*z, c.ghostPos.Y-gh/2+8*z))
		objs = append(objs, r.ghostBox, r.ghostText)
	}
	setText(r.zoomText, c.ZoomText(), theme.CaptionTextSize(), sub, false)
	zs := r.zoomText.MinSize()
	r.zoomText.Move(fyne.NewPos(s.Width-zs.Width-8, s.Height-zs.Height-6))
	objs = append(objs, r.zoomText)
	if c.tip != "" {
		setText(r.tipText, c.tip, theme.TextSize(), fg, false)
		ts := r.tipText.MinSize()
		tp := c.hover.Add(fyne.NewPos(14, 18))
		if tp.X+ts.Width+8 > s.Width {
			tp.X = max(0, s.Width-ts.Width-8)
		}
		setFill(r.tipBox, col(theme.ColorNameOverlayBackground), border, 1)
		r.tipBox.Move(tp)
		r.tipBox.Resize(fyne.NewSize(ts.Width+8, ts.Height+4))
		r.tipText.Move(tp.Add(fyne.NewPos(4, 2)))
		objs = append(objs, r.tipBox, r.tipText)
	}
	if len(f.Nodes) <= 1 {
		setText(r.hint, lang.L("Drag activities from the palette onto the canvas. Drag from a port to a node to connect."), 13, sub, false)
		r.hint.Move(fyne.NewPos(s.Width/2, s.Height-40))
		objs = append(objs, r.hint)
	}
	objs = append(objs, c.tipObjects(s)...)
	r.objects = objs
}

// drawGrid paints the dot grid (one raster instead of hundreds of objects).
func (r *graphRenderer) drawGrid(w, h int) image.Image {
	if r.gridImg == nil || r.gridImg.Rect.Dx() != w || r.gridImg.Rect.Dy() != h {
		r.gridImg = image.NewNRGBA(image.Rect(0, 0, w, h))
	} else {
		clear(r.gridImg.Pix)
	}
	img := r.gridImg
	if r.size.Width <= 0 {
		return img
	}
	sc := float64(w) / float64(r.size.Width)
	step := 20 * float64(r.c.zoom) * sc
	for step < 12 {
		step *= 2
	}
	dot := withAlpha(theme.Color(theme.ColorNameForeground), 0x30)
	ox := math.Mod(float64(r.c.offset.X)*sc, step)
	oy := math.Mod(float64(r.c.offset.Y)*sc, step)
	if ox < 0 {
		ox += step
	}
	if oy < 0 {
		oy += step
	}
	d := int(math.Max(1, math.Round(1.5*sc)))
	for y := oy; y < float64(h); y += step {
		for x := ox; x < float64(w); x += step {
			x0, y0 := int(x), int(y)
			for dy := 0; dy < d; dy++ {
				for dx := 0; dx < d; dx++ {
					if x0+dx < w && y0+dy < h {
						img.SetNRGBA(x0+dx, y0+dy, dot)
					}
				}
			}
		}
	}
	return img
}

func newNodeView(ports []string) *nodeView {
	v := &nodeView{
		bg:     canvas.NewRectangle(color.Transparent),
		accent: canvas.NewRectangle(color.Transparent),
		title:  canvas.NewText("", color.Black),
		sub:    canvas.NewText("", color.Black),
		in:     canvas.NewCircle(color.Transparent),
		icon:   canvas.NewImageFromResource(nil),
		bp:     canvas.NewCircle(color.Transparent),
		warn:   canvas.NewText("", color.Black),
	}
	v.portNames = append([]string(nil), ports...)
	for range ports {
		v.ports = append(v.ports, portView{dot: canvas.NewCircle(color.Transparent), label: canvas.NewText("", color.Black), pill: canvas.NewRectangle(color.Transparent)})
	}
	return v
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ellipsize(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// portLabelSize is the text size of port labels on screen: never below the
// theme's caption size, however far the view is zoomed out.
func portLabelSize(z float32) float32 { return max(theme.CaptionTextSize(), 11*z) }

// specIcon returns the theme icon that spec.Icon names (nil for none).
func specIcon(s *engine.Spec) fyne.Resource {
	if s == nil || s.Icon == "" {
		return nil
	}
	return theme.Icon(fyne.ThemeIconName(s.Icon))
}

// buildBoxes lays out the group boxes and sticky notes (under the edges
// and nodes).
func (r *graphRenderer) buildBoxes(objs *[]fyne.CanvasObject, visible func(x, y, w, h float32) bool) {
	c := r.c
	f := c.doc.Flow
	z := c.zoom
	fg := col(theme.ColorNameForeground)
	for len(r.groups) < len(f.Groups) {
		r.groups = append(r.groups, newBoxView())
	}
	for i, g := range f.Groups {
		if !visible(g.Position.X, g.Position.Y, g.Size.W, g.Size.H) {
			continue
		}
		v := r.groups[i]
		gc := parseColor(g.Color, color.NRGBA{0x5b, 0x6c, 0xf0, 0xff})
		tl := c.ToScreen(g.Position)
		gs, gw := color.Color(withAlpha(gc, 0xa0)), float32(1.5)
		if c.selBox == (boxSel{boxGroup, i}) {
			gs, gw = col(theme.ColorNamePrimary), 2.5
		}
		setFill(v.bg, withAlpha(gc, 0x18), gs, gw)
		v.bg.CornerRadius = 8 * z
		v.bg.Move(tl)
		v.bg.Resize(fyne.NewSize(g.Size.W*z, g.Size.H*z))
		setFill(v.title, withAlpha(gc, 0x40), color.Transparent, 0)
		v.title.CornerRadius = 8 * z
		v.title.Move(tl)
		v.title.Resize(fyne.NewSize(g.Size.W*z, groupTitleH*z))
		*objs = append(*objs, v.bg, v.title)
		if z >= tinyZoom {
			setText(v.text, g.Title, max(theme.CaptionTextSize(), 13*z), fg, true)
			v.text.Move(tl.Add(fyne.NewPos(8*z, (groupTitleH*z-v.text.MinSize().Height)/2)))
			*objs = append(*objs, v.text)
		}
	}
	for len(r.notes) < len(f.Notes) {
		r.notes = append(r.notes, newBoxView())
	}
	for i, n := range f.Notes {
		if !visible(n.Position.X, n.Position.Y, n.Size.W, n.Size.H) {
			continue
		}
		v := r.notes[i]
		nc := parseColor(n.Color, parseColor(defaultNoteColor, color.NRGBA{}))
		tl := c.ToScreen(n.Position)
		ns, nw := color.Color(withAlpha(color.Black, 0x30)), float32(1)
		if c.selBox == (boxSel{boxNote, i}) {
			ns, nw = col(theme.ColorNamePrimary), 2.5
		}
		setFill(v.bg, nc, ns, nw)
		v.bg.CornerRadius = 3 * z
		v.bg.Move(tl)
		v.bg.Resize(fyne.NewSize(n.Size.W*z, n.Size.H*z))
		*objs = append(*objs, v.bg)
		if z < tinyZoom {
			continue
		}
		lines := strings.Split(n.Text, "\n")
		ts := 12 * z
		lh := fyne.MeasureText("Ag", ts, fyne.TextStyle{}).Height
		for k, l := range lines {
			if float32(k+1)*lh > n.Size.H*z-8*z {
				break
			}
			for len(v.lines) <= k {
				v.lines = append(v.lines, canvas.NewText("", color.Black))
			}
			setText(v.lines[k], l, ts, color.NRGBA{0x33, 0x2b, 0x00, 0xff}, false)
			v.lines[k].Move(tl.Add(fyne.NewPos(8*z, 6*z+float32(k)*lh)))
			*objs = append(*objs, v.lines[k])
		}
	}
}

func newBoxView() *boxView {
	return &boxView{bg: canvas.NewRectangle(color.Transparent), title: canvas.NewRectangle(color.Transparent), text: canvas.NewText("", color.Black)}
}

// labelHitsNode reports whether a port label of node number self at
// screen position p and size sz would overlap another node. It uses the
// node boxes of the last routing (edgeRoutes runs first in a frame).
func (c *FlowCanvas) labelHitsNode(self int, p fyne.Position, sz fyne.Size) bool {
	a, b := c.ToDoc(p), c.ToDoc(p.Add(fyne.NewPos(sz.Width, sz.Height)))
	for i, bx := range c.nodeBoxes {
		if i != self && a.X < bx.x1 && bx.x0 < b.X && a.Y < bx.y1 && bx.y0 < b.Y {
			return true
		}
	}
	return false
}
