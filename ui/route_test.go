package ui

import (
	"fmt"
	"testing"

	"deskbot/engine"
)

// desktopSample is the 17-node desktop sample flow.
const desktopSample = "../assets/flows/fill-form-from-csv.json"

func loadSample(t testing.TB, path string) *engine.Flow {
	t.Helper()
	f, err := engine.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// segCrossesBox reports whether the axis-aligned segment a-b passes through
// the inside of b (touching its border does not count).
func segCrossesBox(a, b engine.Point, x0, y0, x1, y1 float32) bool {
	if a.Y == b.Y {
		lo, hi := min(a.X, b.X), max(a.X, b.X)
		return a.Y > y0 && a.Y < y1 && hi > x0 && lo < x1
	}
	lo, hi := min(a.Y, b.Y), max(a.Y, b.Y)
	return a.X > x0 && a.X < x1 && hi > y0 && lo < y1
}

// sharedStretch returns the length two axis-aligned segments have in common.
func sharedStretch(a1, a2, b1, b2 engine.Point) float32 {
	switch {
	case a1.Y == a2.Y && b1.Y == b2.Y && a1.Y == b1.Y && a1.X != a2.X && b1.X != b2.X:
		return min(max(a1.X, a2.X), max(b1.X, b2.X)) - max(min(a1.X, a2.X), min(b1.X, b2.X))
	case a1.X == a2.X && b1.X == b2.X && a1.X == b1.X && a1.Y != a2.Y && b1.Y != b2.Y:
		return min(max(a1.Y, a2.Y), max(b1.Y, b2.Y)) - max(min(a1.Y, a2.Y), min(b1.Y, b2.Y))
	}
	return 0
}

// checkRoutes fails the test when an edge's polyline is not orthogonal,
// crosses a node box, or shares a stretch with another edge. Edges into
// the same node may share their last segment (they meet at its input).
func checkRoutes(t *testing.T, c *FlowCanvas) {
	t.Helper()
	f := c.doc.Flow
	routes := c.edgeRoutes()
	for i, pts := range routes {
		e := f.Edges[i]
		if len(pts) < 2 {
			t.Errorf("edge %v has no route", e)
			continue
		}
		for k := 0; k+1 < len(pts); k++ {
			a, b := pts[k], pts[k+1]
			if a.X != b.X && a.Y != b.Y {
				t.Errorf("edge %v: segment %v-%v is not horizontal or vertical", e, a, b)
			}
			for _, n := range f.Nodes {
				x, y, w, h := c.nodeRect(n)
				if segCrossesBox(a, b, x, y, x+w, y+h) {
					t.Errorf("edge %s.%s->%s: segment %v-%v crosses node %s (%v,%v %vx%v)", e.From, e.Port, e.To, a, b, n.ID, x, y, w, h)
				}
			}
		}
	}
	for i := range routes {
		for j := i + 1; j < len(routes); j++ {
			a, b := routes[i], routes[j]
			for k := 0; k+1 < len(a); k++ {
				for l := 0; l+1 < len(b); l++ {
					if f.Edges[i].To == f.Edges[j].To && k == len(a)-2 && l == len(b)-2 {
						continue // both end in the same input
					}
					if s := sharedStretch(a[k], a[k+1], b[l], b[l+1]); s > 0 {
						t.Errorf("edges %v and %v share %v units: %v-%v and %v-%v", f.Edges[i], f.Edges[j], s, a[k], a[k+1], b[l], b[l+1])
					}
				}
			}
		}
	}
}

func TestEdgesRouteAroundNodesAndApart(t *testing.T) {
	for _, tc := range []struct {
		name string
		flow func() *engine.Flow
	}{
		{"letters", screenFlow},
		{"desktop sample", func() *engine.Flow { return loadSample(t, desktopSample) }},
		{"invoice sample", func() *engine.Flow { return loadSample(t, "../assets/flows/invoice-summary.json") }},
		{"wall", func() *engine.Flow {
			// a node standing between two connected nodes, and two edges
			// from one node's ports into the same far node
			f := engine.NewFlow("wall")
			f.Nodes[0].Position = engine.Point{X: 0, Y: 100}
			add := func(id, typ string, x, y float32) {
				f.Nodes = append(f.Nodes, &engine.Node{ID: id, Type: typ, Position: engine.Point{X: x, Y: y}})
			}
			add("if", "control.if", 200, 100)
			add("wall", "control.log", 420, 80)
			add("far", "control.log", 650, 100)
			add("back", "control.log", 420, 260)
			f.Edges = []engine.Edge{{From: "start", Port: "next", To: "if"}, {From: "if", Port: "true", To: "far"},
				{From: "if", Port: "false", To: "far"}, {From: "far", Port: "next", To: "if"}, {From: "if", Port: "error", To: "back"}}
			return f
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewFlowCanvas(NewDocument(tc.flow(), ""), nil)
			checkRoutes(t, c)
		})
	}
}

// TestRoutesFollowEdits checks that the cached routes follow a moved node.
func TestRoutesFollowEdits(t *testing.T) {
	c := NewFlowCanvas(NewDocument(screenFlow(), ""), nil)
	before := fmt.Sprint(c.edgeRoutes())
	c.doc.Edit(func(f *engine.Flow) { f.Node("done").Position.Y += 200 })
	if after := fmt.Sprint(c.edgeRoutes()); after == before {
		t.Fatal("routes did not change after a node moved")
	}
	checkRoutes(t, c)
	// Moves of one node at a time (a drag) route only some edges again:
	// a node dropped onto other edges' lanes pushes them aside.
	spots := []engine.Point{{X: 300, Y: 300}, {X: 1000, Y: 150}, {X: 450, Y: 20}}
	// and a free spot right on another edge's route
	free := func(p engine.Point) bool {
		for _, n := range c.doc.Flow.Nodes {
			x, y, w, h := c.nodeRect(n)
			if n.ID != "done" && p.X < x+w+20 && x < p.X+nodeW+20 && p.Y < y+h+20 && y < p.Y+80+20 {
				return false
			}
		}
		return true
	}
	onRoute := false
	for i, pts := range c.edgeRoutes() {
		e := c.doc.Flow.Edges[i]
		for k := 0; k+1 < len(pts) && !onRoute && e.From != "done" && e.To != "done"; k++ {
			a, b := pts[k], pts[k+1]
			if abs32(a.X-b.X)+abs32(a.Y-b.Y) < 60 {
				continue
			}
			p := engine.Point{X: (a.X+b.X)/2 - nodeW/2, Y: (a.Y+b.Y)/2 - 30}
			if free(p) {
				spots, onRoute = append(spots, p), true
			}
		}
	}
	if !onRoute {
		t.Fatal("no free spot on a route")
	}
	for _, p := range spots {
		c.doc.Edit(func(f *engine.Flow) { f.Node("done").Position = p })
		if d := c.dirtyEdges(map[string]routeGeom{}); d != nil {
			t.Fatal("dirtyEdges accepted a different node set")
		}
		checkRoutes(t, c)
	}
}

// BenchmarkEdgeRoutes routes every edge of a flow once (what a frame
// costs while a node is dragged). The baseline sub-benchmark builds the
// same boxes and requests with straight three-segment routes, in the
// same run.
func BenchmarkEdgeRoutes(b *testing.B) {
	for _, n := range []int{17, 120, 500} {
		f := bigFlow(n)
		if n == 17 {
			f = loadSample(b, desktopSample)
		}
		c := NewFlowCanvas(NewDocument(f, ""), nil)
		b.Run(fmt.Sprintf("routed-%d", n), func(b *testing.B) {
			for b.Loop() {
				c.routes = nil
				c.edgeRoutes()
			}
		})
		b.Run(fmt.Sprintf("straight-%d", n), func(b *testing.B) {
			for b.Loop() {
				for _, e := range f.Edges {
					from, to := f.Node(e.From), f.Node(e.To)
					ps := c.ports(from)
					a, z := portPos(from, 0, len(ps)), inPortPos(to, len(c.ports(to)))
					mid := (a.X + z.X) / 2
					_ = simplify([]engine.Point{a, {X: mid, Y: a.Y}, {X: mid, Y: z.Y}, z})
				}
			}
		})
	}
}
