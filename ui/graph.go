package ui

import (
	"encoding/binary"
	"hash/fnv"
	"image/color"
	"math"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// Node geometry in document units (zoom 1).
const (
	nodeW     = 150
	nodeMinH  = 58
	portGap   = 24
	portR     = 5
	portHit   = 10
	gridSnap  = 10
	minZoom   = 0.15
	maxZoom   = 2.5
	lodZoom   = 0.45 // below this, subtitles and port labels are hidden
	tinyZoom  = 0.3  // below this, titles too
	edgeHit   = 6
	arrowSize = 10
)

type dragMode int

const (
	dragNone dragMode = iota
	dragMove
	dragConnect
	dragRubber
	dragPan
)

// FlowCanvas is the flowchart view of a Document. It draws nodes with their
// labelled output ports and the edges between them, and turns mouse and key
// input into Document edits. It holds no flow state of its own besides the
// view (pan, zoom, selection, run highlight).
type FlowCanvas struct {
	widget.BaseWidget

	doc *Document
	reg *engine.Registry

	offset fyne.Position // screen = doc*zoom + offset
	zoom   float32

	selected map[string]bool
	selEdge  int    // index into Flow.Edges, -1 for none
	selBox   boxSel // the selected note or group
	lastTap  time.Time
	running  string
	// Breakpoints are the nodes with a breakpoint; Problems those with lint
	// errors. Both are set by the studio.
	Breakpoints map[string]bool
	Problems    map[string]bool

	// Highlights records every node highlighted as running, in order.
	Highlights []string

	// OnSelect is called after the selection changes.
	OnSelect func()
	// OnContextMenu is called for a secondary tap on a node ("" for none).
	OnContextMenu func(nodeID string, abs fyne.Position)
	// OnViewChange is called after pan or zoom.
	OnViewChange func()
	// OnKey gets the keys the canvas does not use itself (F5, F9, ...).
	OnKey func(*fyne.KeyEvent)
	// OnNodeTip is called when the pointer enters a node with a state
	// tooltip (see SetNodeState) or leaves it (id ""); pos is in widget
	// coordinates.
	OnNodeTip func(id, tip string, pos fyne.Position)
	states    map[string]nodeState
	hoverTip  string
	stateTip  *tipView

	mode      dragMode
	down      *desktop.MouseEvent
	start     fyne.Position // widget coords
	cur       fyne.Position
	connFrom  string
	connPort  string
	before    []byte
	moveOrig  map[string]engine.Point
	moveGroup int // group being dragged by its title, or -1
	moveNote  int // note being dragged, or -1
	boxOrig   engine.Point
	moved     bool
	rubberAdd bool

	pendingFit bool
	hover      fyne.Position // last pointer position over the canvas
	hoverPort  [2]string     // node id and port under the pointer
	tip        string        // tooltip text at the pointer, "" for none

	ghost      bool
	ghostPos   fyne.Position // widget coords
	ghostTitle string

	r *graphRenderer

	routes     [][]engine.Point // cached edge routes (see edgeRoutes)
	routesKey  uint64
	routesDoc  *engine.Flow
	routeGeom  map[string]routeGeom // node geometry of the cached routes
	routeEdges []engine.Edge        // edges of the cached routes
	nodeBoxes  []box                // node boxes of the cached routes, in node order
}

// NewFlowCanvas returns a canvas showing doc.
func NewFlowCanvas(doc *Document, reg *engine.Registry) *FlowCanvas {
	if reg == nil {
		reg = engine.Default
	}
	c := &FlowCanvas{doc: doc, reg: reg, zoom: 1, selected: map[string]bool{}, selEdge: -1,
		Breakpoints: map[string]bool{}, Problems: map[string]bool{}, offset: fyne.NewPos(20, 20), moveGroup: -1, moveNote: -1}
	c.ExtendBaseWidget(c)
	return c
}

// SetDocument shows another document.
func (c *FlowCanvas) SetDocument(doc *Document) {
	c.doc = doc
	c.selected = map[string]bool{}
	c.selEdge, c.selBox = -1, boxSel{}
	c.running = ""
	c.Refresh()
}

// Zoom returns the current zoom factor.
func (c *FlowCanvas) Zoom() float32 { return c.zoom }

// ToScreen converts a document point to widget coordinates.
func (c *FlowCanvas) ToScreen(p engine.Point) fyne.Position {
	return fyne.NewPos(p.X*c.zoom+c.offset.X, p.Y*c.zoom+c.offset.Y)
}

// ToDoc converts widget coordinates to a document point.
func (c *FlowCanvas) ToDoc(p fyne.Position) engine.Point {
	return engine.Point{X: (p.X - c.offset.X) / c.zoom, Y: (p.Y - c.offset.Y) / c.zoom}
}

// Selection returns the selected node ids.
func (c *FlowCanvas) Selection() []string {
	var out []string
	for _, n := range c.doc.Flow.Nodes {
		if c.selected[n.ID] {
			out = append(out, n.ID)
		}
	}
	return out
}

// SelectedSet returns the selected ids as a set (a copy).
func (c *FlowCanvas) SelectedSet() map[string]bool {
	m := map[string]bool{}
	for k, v := range c.selected {
		if v {
			m[k] = true
		}
	}
	return m
}

// Select replaces the selection.
func (c *FlowCanvas) Select(ids ...string) {
	c.selected = map[string]bool{}
	for _, id := range ids {
		c.selected[id] = true
	}
	c.selEdge, c.selBox = -1, boxSel{}
	c.Refresh()
	c.selectionChanged()
}

// SelectAll selects every node.
func (c *FlowCanvas) SelectAll() {
	ids := make([]string, 0, len(c.doc.Flow.Nodes))
	for _, n := range c.doc.Flow.Nodes {
		ids = append(ids, n.ID)
	}
	c.Select(ids...)
}

func (c *FlowCanvas) selectionChanged() {
	if c.OnSelect != nil {
		c.OnSelect()
	}
}

// SetRunning highlights node id as running ("" for none).
func (c *FlowCanvas) SetRunning(id string) {
	if id == c.running {
		return
	}
	c.running = id
	if id != "" {
		c.Highlights = append(c.Highlights, id)
	}
	c.Refresh()
}

// SetRunningSeq records nodes started one after another since the last
// frame and highlights the last, redrawing once.
func (c *FlowCanvas) SetRunningSeq(ids []string) {
	if len(ids) == 0 {
		return
	}
	c.Highlights = append(c.Highlights, ids...)
	if len(c.Highlights) > 100000 {
		c.Highlights = append(c.Highlights[:0], c.Highlights[len(c.Highlights)-50000:]...)
	}
	last := ids[len(ids)-1]
	if last != c.running {
		c.running = last
		c.Refresh()
	}
}

// Running returns the highlighted node.
func (c *FlowCanvas) Running() string { return c.running }

// DeleteSelection removes the selected nodes (or the selected edge).
func (c *FlowCanvas) DeleteSelection() {
	if c.deleteBox() {
		return
	}
	nodes := c.SelectedSet()
	edges := map[int]bool{}
	if c.selEdge >= 0 && c.selEdge < len(c.doc.Flow.Edges) {
		edges[c.selEdge] = true
	}
	if len(nodes) == 0 && len(edges) == 0 {
		return
	}
	c.selected = map[string]bool{}
	c.selEdge, c.selBox = -1, boxSel{}
	c.doc.Delete(nodes, edges)
	c.selectionChanged()
}

// nodeHeight is the height of a node with spec's ports (plus error).
func nodeHeight(nports int) float32 {
	h := float32(portGap * (nports + 1))
	if h < nodeMinH {
		h = nodeMinH
	}
	return h
}

// ports returns a node's output ports, error last.
func (c *FlowCanvas) ports(n *engine.Node) []string {
	if s, ok := c.reg.Spec(n.Type); ok {
		out := append([]string(nil), s.NodePorts(n)...)
		return append(out, engine.PortError)
	}
	return []string{engine.PortNext, engine.PortError}
}

// nodeRect returns a node's box in document units.
func (c *FlowCanvas) nodeRect(n *engine.Node) (x, y, w, h float32) {
	return n.Position.X, n.Position.Y, nodeW, nodeHeight(len(c.ports(n)))
}

// portPos returns the document position of output port i of n ports.
func portPos(n *engine.Node, i, nports int) engine.Point {
	h := nodeHeight(nports)
	return engine.Point{X: n.Position.X + nodeW, Y: n.Position.Y + h*float32(i+1)/float32(nports+1)}
}

func inPortPos(n *engine.Node, nports int) engine.Point {
	return engine.Point{X: n.Position.X, Y: n.Position.Y + nodeHeight(nports)/2}
}

// PortPosition returns the widget position of a node's output port.
func (c *FlowCanvas) PortPosition(id, port string) (fyne.Position, bool) {
	n := c.doc.Flow.Node(id)
	if n == nil {
		return fyne.Position{}, false
	}
	ps := c.ports(n)
	for i, p := range ps {
		if p == port {
			return c.ToScreen(portPos(n, i, len(ps))), true
		}
	}
	return fyne.Position{}, false
}

// NodeCenter returns the widget position of a node's centre.
func (c *FlowCanvas) NodeCenter(id string) (fyne.Position, bool) {
	n := c.doc.Flow.Node(id)
	if n == nil {
		return fyne.Position{}, false
	}
	x, y, w, h := c.nodeRect(n)
	return c.ToScreen(engine.Point{X: x + w/2, Y: y + h/2}), true
}

// nodeAt returns the topmost node under document point p.
func (c *FlowCanvas) nodeAt(p engine.Point) *engine.Node {
	ns := c.doc.Flow.Nodes
	for i := len(ns) - 1; i >= 0; i-- {
		x, y, w, h := c.nodeRect(ns[i])
		if p.X >= x && p.X <= x+w && p.Y >= y && p.Y <= y+h {
			return ns[i]
		}
	}
	return nil
}

// portAt returns the output port under document point p.
func (c *FlowCanvas) portAt(p engine.Point) (string, string) {
	hit := float32(portHit) / float32(math.Max(float64(c.zoom), 0.6))
	ns := c.doc.Flow.Nodes
	for i := len(ns) - 1; i >= 0; i-- {
		n := ns[i]
		if p.X < n.Position.X+nodeW-hit || p.X > n.Position.X+nodeW+hit {
			continue
		}
		ps := c.ports(n)
		for j, port := range ps {
			pp := portPos(n, j, len(ps))
			if abs32(p.X-pp.X) <= hit && abs32(p.Y-pp.Y) <= hit {
				return n.ID, port
			}
		}
	}
	return "", ""
}

// routeKey fingerprints everything the edge routes depend on: node boxes,
// port counts and edges.
func (c *FlowCanvas) routeKey() uint64 {
	h := fnv.New64a()
	var buf [8]byte
	put := func(v float32) {
		binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
		h.Write(buf[:4])
	}
	for _, n := range c.doc.Flow.Nodes {
		h.Write([]byte(n.ID))
		put(n.Position.X)
		put(n.Position.Y)
		for _, p := range c.ports(n) {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	for _, e := range c.doc.Flow.Edges {
		h.Write([]byte(e.From + "\x00" + e.Port + "\x00" + e.To + "\x01"))
	}
	return h.Sum64()
}

// edgeRoutes returns the routed polyline of every edge in document units
// (nil for an edge whose ends or port are missing). Routes go round the
// node boxes and keep apart from each other (see route.go); they are
// recomputed only when the geometry changed, and when a few nodes moved
// (a drag) only the edges that touch them or now cross them are routed
// again.
func (c *FlowCanvas) edgeRoutes() [][]engine.Point {
	key := c.routeKey()
	f := c.doc.Flow
	if c.routes != nil && key == c.routesKey && c.routesDoc == f {
		return c.routes
	}
	geom := make(map[string]routeGeom, len(f.Nodes))
	boxes := make([]box, len(f.Nodes))
	for i, n := range f.Nodes {
		x, y, w, h := c.nodeRect(n)
		boxes[i] = box{x, y, x + w, y + h}
		geom[n.ID] = routeGeom{n.Position, len(c.ports(n))}
	}
	r := newRouter(boxes)
	out := make([][]engine.Point, len(f.Edges))
	dirty := c.dirtyEdges(geom)
	for i, d := range dirty {
		if !d {
			out[i] = c.routes[i]
			for k := 0; k+1 < len(out[i]); k++ {
				r.mark(out[i][k], out[i][k+1])
			}
		}
	}
	for i, e := range f.Edges {
		if dirty != nil && !dirty[i] {
			continue
		}
		from, to := f.Node(e.From), f.Node(e.To)
		if from == nil || to == nil {
			continue
		}
		ps := c.ports(from)
		idx := slices.Index(ps, e.Port)
		if idx < 0 {
			continue
		}
		out[i] = r.route(routeReq{from: portPos(from, idx, len(ps)), to: inPortPos(to, len(c.ports(to)))})
	}
	c.routes, c.routesKey, c.routesDoc = out, key, f
	c.routeGeom, c.routeEdges, c.nodeBoxes = geom, slices.Clone(f.Edges), boxes
	return out
}

// routeGeom is what a node's edge routes depend on.
type routeGeom struct {
	pos    engine.Point
	nports int
}

// dirtyEdges says which edges need routing again after the geometry
// changed to geom: nil (all of them) unless the edges are the same as at
// the last routing and only a few nodes changed; else the edges that touch
// a changed node or whose old route crosses a changed node's new box.
func (c *FlowCanvas) dirtyEdges(geom map[string]routeGeom) []bool {
	f := c.doc.Flow
	if c.routes == nil || c.routesDoc != f || len(geom) != len(c.routeGeom) || !slices.Equal(f.Edges, c.routeEdges) {
		return nil
	}
	var changed []box
	moved := map[string]bool{}
	for id, g := range geom {
		if old, ok := c.routeGeom[id]; !ok || old != g {
			moved[id] = true
			n := f.Node(id)
			x, y, w, h := c.nodeRect(n)
			changed = append(changed, box{x, y, x + w, y + h}.inflate(routeMargin))
		}
	}
	if len(moved) > max(8, len(geom)/4) {
		return nil
	}
	dirty := make([]bool, len(f.Edges))
	for i, e := range f.Edges {
		if moved[e.From] || moved[e.To] || c.routes[i] == nil {
			dirty[i] = true
			continue
		}
		pts := c.routes[i]
		for k := 0; k+1 < len(pts) && !dirty[i]; k++ {
			for _, b := range changed {
				if segTouchesBox(pts[k], pts[k+1], b) {
					dirty[i] = true
					break
				}
			}
		}
	}
	return dirty
}

// segTouchesBox reports whether the axis-aligned segment a-b meets b.
func segTouchesBox(a, b engine.Point, bx box) bool {
	return max(a.X, b.X) >= bx.x0 && min(a.X, b.X) <= bx.x1 && max(a.Y, b.Y) >= bx.y0 && min(a.Y, b.Y) <= bx.y1
}

// edgePoints returns the routed polyline of an edge in document units.
func (c *FlowCanvas) edgePoints(e engine.Edge) ([]engine.Point, bool) {
	rs := c.edgeRoutes()
	for i, x := range c.doc.Flow.Edges {
		if x == e && rs[i] != nil {
			return rs[i], true
		}
	}
	return nil, false
}

func (c *FlowCanvas) edgeAt(p engine.Point) int {
	hit := float32(edgeHit) / c.zoom
	for i, pts := range c.edgeRoutes() {
		for k := 0; k+1 < len(pts); k++ {
			if segDist(p, pts[k], pts[k+1]) <= hit {
				return i
			}
		}
	}
	return -1
}

func segDist(p, a, b engine.Point) float32 {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := dx*dx + dy*dy
	t := float32(0)
	if l > 0 {
		t = ((p.X-a.X)*dx + (p.Y-a.Y)*dy) / l
		t = max(0, min(1, t))
	}
	x, y := a.X+t*dx-p.X, a.Y+t*dy-p.Y
	return float32(math.Sqrt(float64(x*x + y*y)))
}

func abs32(f float32) float32 {
	if f < 0 {
		return -f
	}
	return f
}

func snap(v float32) float32 { return float32(math.Round(float64(v)/gridSnap)) * gridSnap }

// MouseDown records the button and modifiers of a press (desktop.Mouseable).
func (c *FlowCanvas) MouseDown(e *desktop.MouseEvent) {
	ev := *e
	c.down = &ev
	c.focus()
}

// MouseUp is part of desktop.Mouseable.
func (c *FlowCanvas) MouseUp(*desktop.MouseEvent) {}

func (c *FlowCanvas) focus() {
	if app := fyne.CurrentApp(); app != nil {
		if cv := app.Driver().CanvasForObject(c); cv != nil {
			cv.Focus(c)
		}
	}
}

func (c *FlowCanvas) mods() fyne.KeyModifier {
	if c.down != nil {
		return c.down.Modifier
	}
	return 0
}

// Tapped selects the node or edge under the pointer (fyne.Tappable).
func (c *FlowCanvas) Tapped(e *fyne.PointEvent) {
	shift := c.mods()&fyne.KeyModifierShift != 0
	c.down = nil
	p := c.ToDoc(e.Position)
	if n := c.nodeAt(p); n != nil {
		c.selEdge, c.selBox = -1, boxSel{}
		if shift {
			c.selected[n.ID] = !c.selected[n.ID]
		} else {
			c.selected = map[string]bool{n.ID: true}
		}
		c.Refresh()
		c.selectionChanged()
		return
	}
	if i := c.edgeAt(p); i >= 0 {
		c.selected = map[string]bool{}
		c.selEdge, c.selBox = i, boxSel{}
		c.Refresh()
		c.selectionChanged()
		return
	}
	if k := c.noteAt(p); k >= 0 {
		c.tapBox(boxSel{boxNote, k})
		return
	}
	if g := c.groupTitleAt(p); g >= 0 {
		c.tapBox(boxSel{boxGroup, g})
		return
	}
	if !shift && (len(c.selected) > 0 || c.selEdge >= 0 || c.selBox.kind != 0) {
		c.selected = map[string]bool{}
		c.selEdge, c.selBox = -1, boxSel{}
		c.Refresh()
		c.selectionChanged()
	}
}

// TappedSecondary opens the node's context menu.
func (c *FlowCanvas) TappedSecondary(e *fyne.PointEvent) {
	c.down = nil
	n := c.nodeAt(c.ToDoc(e.Position))
	id := ""
	if n != nil {
		id = n.ID
		if !c.selected[id] {
			c.Select(id)
		}
	}
	if c.OnContextMenu != nil {
		c.OnContextMenu(id, e.AbsolutePosition)
	}
}

// Dragged moves nodes, draws a connection, a rubber band or pans
// (fyne.Draggable). A drag starting on an output port connects; on a node,
// moves the selection; on empty space, selects with a rubber band; with the
// middle button or ctrl/alt held, pans.
func (c *FlowCanvas) Dragged(e *fyne.DragEvent) {
	if c.mode == dragNone {
		c.beginDrag(e)
	}
	c.cur = e.Position
	switch c.mode {
	case dragPan:
		c.offset = c.offset.Add(e.Dragged)
		c.Refresh()
		c.viewChanged()
		return
	case dragMove:
		dx := (c.cur.X - c.start.X) / c.zoom
		dy := (c.cur.Y - c.start.Y) / c.zoom
		if c.moveGroup >= 0 || c.moveNote >= 0 {
			// a box and its nodes move by the same whole grid steps and
			// keep their places relative to each other
			dx, dy = snap(dx), snap(dy)
		}
		for id, o := range c.moveOrig {
			if n := c.doc.Flow.Node(id); n != nil {
				if c.moveGroup >= 0 {
					n.Position = engine.Point{X: o.X + dx, Y: o.Y + dy}
				} else {
					n.Position = engine.Point{X: snap(o.X + dx), Y: snap(o.Y + dy)}
				}
			}
		}
		bp := engine.Point{X: c.boxOrig.X + dx, Y: c.boxOrig.Y + dy}
		if g := c.moveGroup; g >= 0 && g < len(c.doc.Flow.Groups) {
			c.doc.Flow.Groups[g].Position = bp
		}
		if k := c.moveNote; k >= 0 && k < len(c.doc.Flow.Notes) {
			c.doc.Flow.Notes[k].Position = bp
		}
		c.moved = c.moved || dx != 0 || dy != 0
	}
	c.Refresh()
}

func (c *FlowCanvas) beginDrag(e *fyne.DragEvent) {
	start := e.Position.Subtract(e.Dragged)
	var mods fyne.KeyModifier
	button := desktop.MouseButtonPrimary
	if c.down != nil {
		start = c.down.Position
		mods = c.down.Modifier
		button = c.down.Button
	}
	c.start = start
	p := c.ToDoc(start)
	if button == desktop.MouseButtonTertiary || mods&(fyne.KeyModifierControl|fyne.KeyModifierAlt|fyne.KeyModifierSuper) != 0 {
		c.mode = dragPan
		return
	}
	if id, port := c.portAt(p); id != "" {
		c.mode, c.connFrom, c.connPort = dragConnect, id, port
		return
	}
	c.moveGroup, c.moveNote = -1, -1
	if n := c.nodeAt(p); n == nil {
		// a group moves with its nodes when dragged by its title bar; a
		// note moves when dragged anywhere
		if g := c.groupTitleAt(p); g >= 0 {
			c.startBoxMove(c.doc.Flow.Groups[g].Nodes, c.doc.Flow.Groups[g].Position)
			c.moveGroup = g
			return
		}
		if k := c.noteAt(p); k >= 0 {
			c.startBoxMove(nil, c.doc.Flow.Notes[k].Position)
			c.moveNote = k
			return
		}
	}
	if n := c.nodeAt(p); n != nil {
		if !c.selected[n.ID] {
			if mods&fyne.KeyModifierShift == 0 {
				c.selected = map[string]bool{}
			}
			c.selected[n.ID] = true
			c.selEdge, c.selBox = -1, boxSel{}
			c.selectionChanged()
		}
		c.mode = dragMove
		c.before = c.doc.Snapshot()
		c.moved = false
		c.moveOrig = map[string]engine.Point{}
		for _, n := range c.doc.Flow.Nodes {
			if c.selected[n.ID] {
				c.moveOrig[n.ID] = n.Position
			}
		}
		return
	}
	c.mode = dragRubber
	c.rubberAdd = mods&fyne.KeyModifierShift != 0
}

// startBoxMove starts dragging a group or note at orig with the nodes ids.
func (c *FlowCanvas) startBoxMove(ids []string, orig engine.Point) {
	c.mode = dragMove
	c.before = c.doc.Snapshot()
	c.moved = false
	c.boxOrig = orig
	c.moveOrig = map[string]engine.Point{}
	for _, id := range ids {
		if n := c.doc.Flow.Node(id); n != nil {
			c.moveOrig[id] = n.Position
		}
	}
}

// DragEnd finishes a drag (fyne.Draggable).
func (c *FlowCanvas) DragEnd() {
	mode := c.mode
	c.mode = dragNone
	c.down = nil
	switch mode {
	case dragMove:
		if c.moved {
			c.doc.Commit(c.before)
		}
		c.before, c.moveOrig = nil, nil
		c.moveGroup, c.moveNote = -1, -1
	case dragConnect:
		p := c.ToDoc(c.cur)
		if n := c.nodeAt(p); n != nil {
			c.doc.Connect(c.connFrom, c.connPort, n.ID)
		}
	case dragRubber:
		a, b := c.ToDoc(c.start), c.ToDoc(c.cur)
		x0, x1 := min(a.X, b.X), max(a.X, b.X)
		y0, y1 := min(a.Y, b.Y), max(a.Y, b.Y)
		if !c.rubberAdd {
			c.selected = map[string]bool{}
		}
		for _, n := range c.doc.Flow.Nodes {
			x, y, w, h := c.nodeRect(n)
			if x < x1 && x+w > x0 && y < y1 && y+h > y0 {
				c.selected[n.ID] = true
			}
		}
		c.selEdge, c.selBox = -1, boxSel{}
		c.selectionChanged()
	}
	c.Refresh()
}

// Scrolled pans; with ctrl held it zooms around the pointer.
func (c *FlowCanvas) Scrolled(e *fyne.ScrollEvent) {
	var mods fyne.KeyModifier
	if app := fyne.CurrentApp(); app != nil {
		if d, ok := app.Driver().(desktop.Driver); ok {
			mods = d.CurrentKeyModifiers()
		}
	}
	if mods&(fyne.KeyModifierControl|fyne.KeyModifierSuper) != 0 {
		f := float32(math.Pow(1.01, float64(e.Scrolled.DY))) // about 10% per wheel notch
		c.ZoomAt(c.zoom*f, e.Position)
		return
	}
	d := e.Scrolled
	if mods&fyne.KeyModifierShift != 0 && d.DX == 0 {
		d = fyne.NewDelta(d.DY, 0)
	}
	c.offset = c.offset.Add(d)
	c.Refresh()
	c.viewChanged()
}

func (c *FlowCanvas) viewChanged() {
	if c.OnViewChange != nil {
		c.OnViewChange()
	}
}

// ZoomAt sets the zoom, keeping the document point under at fixed.
func (c *FlowCanvas) ZoomAt(z float32, at fyne.Position) {
	z = max(minZoom, min(maxZoom, z))
	p := c.ToDoc(at)
	c.zoom = z
	c.offset = fyne.NewPos(at.X-p.X*z, at.Y-p.Y*z)
	c.Refresh()
	c.viewChanged()
}

// ZoomBy zooms by factor around the view's centre.
func (c *FlowCanvas) ZoomBy(f float32) {
	s := c.Size()
	c.ZoomAt(c.zoom*f, fyne.NewPos(s.Width/2, s.Height/2))
}

// Fit zooms and pans so that every node is in view.
func (c *FlowCanvas) Fit() {
	ns := c.doc.Flow.Nodes
	s := c.Size()
	if s.Width < 50 || s.Height < 50 {
		c.pendingFit = true // not laid out yet: fit on the first layout
		return
	}
	c.pendingFit = false
	if len(ns) == 0 {
		c.zoom, c.offset = 1, fyne.NewPos(20, 20)
		c.Refresh()
		return
	}
	x0, y0 := float32(math.Inf(1)), float32(math.Inf(1))
	x1, y1 := float32(math.Inf(-1)), float32(math.Inf(-1))
	for _, n := range ns {
		x, y, w, h := c.nodeRect(n)
		x0, y0 = min(x0, x), min(y0, y)
		x1, y1 = max(x1, x+w+50), max(y1, y+h)
	}
	const margin = 30
	z := min((s.Width-2*margin)/(x1-x0), (s.Height-2*margin)/(y1-y0))
	z = max(minZoom, min(1.2, z))
	c.zoom = z
	c.offset = fyne.NewPos((s.Width-(x1-x0)*z)/2-x0*z, (s.Height-(y1-y0)*z)/2-y0*z)
	c.Refresh()
	c.viewChanged()
}

// Reveal pans so that node id is in the middle of the view.
func (c *FlowCanvas) Reveal(id string) {
	n := c.doc.Flow.Node(id)
	if n == nil {
		return
	}
	s := c.Size()
	x, y, w, h := c.nodeRect(n)
	c.offset = fyne.NewPos(s.Width/2-(x+w/2)*c.zoom, s.Height/2-(y+h/2)*c.zoom)
	c.Refresh()
	c.viewChanged()
}

// ShowGhost shows where a palette item being dragged would land; abs is an
// absolute (window) position.
func (c *FlowCanvas) ShowGhost(abs fyne.Position, title string) {
	local, inside := c.local(abs)
	c.ghost = inside
	c.ghostPos = local
	c.ghostTitle = title
	c.Refresh()
}

// HideGhost removes the drop preview.
func (c *FlowCanvas) HideGhost() {
	if c.ghost {
		c.ghost = false
		c.Refresh()
	}
}

// local converts an absolute position to widget coordinates and says
// whether it lies on the canvas.
func (c *FlowCanvas) local(abs fyne.Position) (fyne.Position, bool) {
	var origin fyne.Position
	if app := fyne.CurrentApp(); app != nil {
		origin = app.Driver().AbsolutePositionForObject(c)
	}
	p := abs.Subtract(origin)
	s := c.Size()
	return p, p.X >= 0 && p.Y >= 0 && p.X < s.Width && p.Y < s.Height
}

// DropSpec adds a node of spec where a palette drag ended (absolute
// position); it returns the new id, or "" when the drop missed the canvas.
func (c *FlowCanvas) DropSpec(spec *engine.Spec, abs fyne.Position) string {
	c.HideGhost()
	p, inside := c.local(abs)
	if !inside {
		return ""
	}
	return c.AddSpecAt(spec, p)
}

// AddSpecAt adds a node of spec centred at widget position p.
func (c *FlowCanvas) AddSpecAt(spec *engine.Spec, p fyne.Position) string {
	d := c.ToDoc(p)
	nports := len(spec.OutPorts()) + 1
	pt := engine.Point{X: snap(d.X - nodeW/2), Y: snap(d.Y - nodeHeight(nports)/2)}
	id := c.doc.AddNode(spec, pt)
	c.Select(id)
	c.focus() // so that Delete and the arrow keys act on the new node
	return id
}

// MouseIn is part of desktop.Hoverable.
func (c *FlowCanvas) MouseIn(e *desktop.MouseEvent) { c.MouseMoved(e) }

// MouseMoved tracks the pointer to highlight the port under it.
func (c *FlowCanvas) MouseMoved(e *desktop.MouseEvent) {
	c.hover = e.Position
	tip := ""
	if n := c.nodeAt(c.ToDoc(e.Position)); n != nil {
		if full, shown := c.nodeTitle(n); shown != full {
			tip = full // the title is cut on the node: show it whole
		}
	}
	if tip != c.tip {
		c.tip = tip
		c.Refresh()
	} else if tip != "" {
		c.Refresh() // the tip follows the pointer
	}
	c.hoverState(e.Position)
	id, port := c.portAt(c.ToDoc(e.Position))
	if hp := [2]string{id, port}; hp != c.hoverPort {
		c.hoverPort = hp
		c.Refresh()
	}
}

// MouseOut is part of desktop.Hoverable.
func (c *FlowCanvas) MouseOut() {
	c.hoverState(fyne.NewPos(-1e9, -1e9))
	if c.hoverPort != [2]string{} || c.tip != "" {
		c.hoverPort = [2]string{}
		c.tip = ""
		c.Refresh()
	}
}

// Tooltip returns the text of the tooltip shown at the pointer ("" for
// none): the full title of a node whose title is cut.
func (c *FlowCanvas) Tooltip() string { return c.tip }

// titleRunes is how many characters of a title fit on a node.
const titleRunes = 17

// nodeTitle returns a node's full title (its label, or its activity's
// title) and the title as the node shows it, cut with "…" when too long.
func (c *FlowCanvas) nodeTitle(n *engine.Node) (full, shown string) {
	full = n.Label
	if full == "" {
		full = n.Type
		if s, ok := c.reg.Spec(n.Type); ok {
			full = tr("activity."+s.Type, s.Title)
		}
	}
	return full, ellipsize(full, titleRunes)
}

// Cursor is a crosshair over an output port (drag to connect) and a hand
// over a node (drag to move) (desktop.Cursorable).
func (c *FlowCanvas) Cursor() desktop.Cursor {
	if c.hoverPort[0] != "" || c.mode == dragConnect {
		return desktop.CrosshairCursor
	}
	if c.nodeAt(c.ToDoc(c.hover)) != nil {
		return desktop.PointerCursor
	}
	return desktop.DefaultCursor
}

// FocusGained is part of fyne.Focusable.
func (c *FlowCanvas) FocusGained() {}

// FocusLost is part of fyne.Focusable.
func (c *FlowCanvas) FocusLost() {}

// TypedRune is part of fyne.Focusable.
func (c *FlowCanvas) TypedRune(rune) {}

// TypedKey deletes the selection on Delete or Backspace and nudges it with
// the arrow keys.
func (c *FlowCanvas) TypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyDelete, fyne.KeyBackspace:
		c.DeleteSelection()
	case fyne.KeyLeft, fyne.KeyRight, fyne.KeyUp, fyne.KeyDown:
		sel := c.SelectedSet()
		if len(sel) == 0 {
			return
		}
		dx, dy := float32(0), float32(0)
		switch e.Name {
		case fyne.KeyLeft:
			dx = -gridSnap
		case fyne.KeyRight:
			dx = gridSnap
		case fyne.KeyUp:
			dy = -gridSnap
		case fyne.KeyDown:
			dy = gridSnap
		}
		c.doc.EditKey("nudge", func(f *engine.Flow) {
			for _, n := range f.Nodes {
				if sel[n.ID] {
					n.Position.X += dx
					n.Position.Y += dy
				}
			}
		})
	default:
		if c.OnKey != nil {
			c.OnKey(e)
		}
	}
}

// CreateRenderer is part of fyne.Widget.
func (c *FlowCanvas) CreateRenderer() fyne.WidgetRenderer {
	r := &graphRenderer{c: c, nodes: map[string]*nodeView{}}
	r.bg = canvas.NewRectangle(color.Transparent)
	r.rubber = canvas.NewRectangle(color.Transparent)
	r.rubber.StrokeWidth = 1
	r.connLine = canvas.NewLine(color.Transparent)
	r.connLine.StrokeWidth = 2
	r.ghostBox = canvas.NewRectangle(color.Transparent)
	r.ghostBox.StrokeWidth = 2
	r.ghostBox.CornerRadius = 6
	r.ghostText = canvas.NewText("", color.Black)
	r.hint = canvas.NewText("", color.Black)
	r.zoomText = canvas.NewText("", color.Black)
	r.tipBox = canvas.NewRectangle(color.Transparent)
	r.tipText = canvas.NewText("", color.Black)
	r.hint.Alignment = fyne.TextAlignCenter
	c.r = r
	return r
}

// categoryColor gives each category a stable accent colour.
func categoryColor(cat string) color.NRGBA {
	switch cat {
	case "Control":
		return color.NRGBA{0x5b, 0x6c, 0xf0, 0xff}
	case "Files":
		return color.NRGBA{0xe8, 0x9b, 0x1c, 0xff}
	case "Desktop":
		return color.NRGBA{0x14, 0xa3, 0x8b, 0xff}
	case "Excel", "Data", "Spreadsheet":
		return color.NRGBA{0x21, 0x96, 0x53, 0xff}
	case "AI", "Models":
		return color.NRGBA{0xb0, 0x4a, 0xd6, 0xff}
	case "Web", "HTTP", "Email":
		return color.NRGBA{0x2d, 0x8c, 0xd6, 0xff}
	}
	h := uint32(2166136261)
	for _, b := range []byte(cat) {
		h = (h ^ uint32(b)) * 16777619
	}
	pal := []color.NRGBA{{0xd6, 0x4d, 0x6b, 0xff}, {0x7a, 0x8c, 0x2e, 0xff}, {0x3d, 0x7e, 0xa6, 0xff}, {0xc2, 0x6a, 0x2f, 0xff}}
	return pal[h%uint32(len(pal))]
}

func portColor(port string) color.NRGBA {
	switch port {
	case engine.PortError, engine.PortNotFound:
		return color.NRGBA{0xd9, 0x3f, 0x3f, 0xff}
	case engine.PortTrue, engine.PortEach, engine.PortLoop:
		return color.NRGBA{0x2e, 0x9e, 0x5b, 0xff}
	case engine.PortFalse, engine.PortDone:
		return color.NRGBA{0xc2, 0x7c, 0x0e, 0xff}
	}
	return color.NRGBA{0x6b, 0x7a, 0x90, 0xff}
}

func withAlpha(c color.Color, a uint8) color.NRGBA {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), a}
}
