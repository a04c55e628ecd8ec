package ui

import (
	"container/heap"
	"math"
	"slices"

	"deskbot/engine"
)

// Edge routing: every edge is an orthogonal polyline found by A* on a grid
// of 10-unit steps (plus the exact port coordinates) around the node boxes.
// Bends cost extra, and so does running along a stretch another edge
// already uses, so parallel edges take neighbouring lanes instead of lying
// on top of each other. Edges are routed one after another in document
// order, which keeps the result deterministic.

const (
	routeStep    = 10  // grid spacing in document units
	routeMargin  = 8   // clearance kept around node boxes
	routeStub    = 16  // straight run out of a port and into a node
	routePad     = 120 // search window around an edge's ends
	routeBend    = 24  // cost of one bend
	routeOverlap = 150 // cost of one step on a stretch another edge uses
)

// box is an axis-aligned rectangle in document units.
type box struct{ x0, y0, x1, y1 float32 }

func (b box) inflate(d float32) box { return box{b.x0 - d, b.y0 - d, b.x1 + d, b.y1 + d} }

// containsStrict reports whether p lies inside b, not on its border.
func (b box) containsStrict(x, y float32) bool {
	return x > b.x0 && x < b.x1 && y > b.y0 && y < b.y1
}

// routeReq asks for a route from an output port to an input port.
type routeReq struct {
	from, to engine.Point
}

// lineKey names a horizontal or vertical line (in 1/2-unit fixed point).
type lineKey struct {
	at       int32
	vertical bool
}

// span is a stretch [lo, hi] along a line.
type span struct{ lo, hi float32 }

func lineOf(a, b engine.Point) (lineKey, span) {
	if a.X == b.X {
		return lineKey{int32(math.Round(float64(a.X) * 2)), true}, span{min(a.Y, b.Y), max(a.Y, b.Y)}
	}
	return lineKey{int32(math.Round(float64(a.Y) * 2)), false}, span{min(a.X, b.X), max(a.X, b.X)}
}

// router routes edges among a fixed set of obstacles, remembering the lanes
// used so far.
type router struct {
	boxes []box              // inflated node boxes
	used  map[lineKey][]span // stretches taken by the edges routed so far

	// search buffers, reused from edge to edge: a state's cost and
	// predecessor are valid when its stamp is the current gen
	g       []float32
	prev    []int32
	stamp   []uint32
	gen     uint32
	blocked []bool
	open    pq
}

func newRouter(nodes []box) *router {
	r := &router{used: map[lineKey][]span{}}
	for _, b := range nodes {
		r.boxes = append(r.boxes, b.inflate(routeMargin))
	}
	return r
}

// route returns the polyline of one edge and records its lanes. It never
// fails: when no way round the boxes exists in the search area, the
// straight three-segment route is returned.
func (r *router) route(q routeReq) []engine.Point {
	// The stubs shrink to fit a narrow gap between the two nodes; in a gap
	// too narrow for the clearance the edge jogs in the middle.
	stub := float32(routeStub)
	gap := q.to.X - q.from.X
	switch {
	case gap >= 0 && gap < 2*routeMargin+4:
		mid := q.from.X + gap/2
		pts := simplify([]engine.Point{q.from, {X: mid, Y: q.from.Y}, {X: mid, Y: q.to.Y}, q.to})
		for k := 0; k+1 < len(pts); k++ {
			r.mark(pts[k], pts[k+1])
		}
		return pts
	case gap >= 2*routeMargin+4 && gap < 2*routeStub+4:
		stub = gap/2 - 2
	}
	s := engine.Point{X: q.from.X + stub, Y: q.from.Y}
	e := engine.Point{X: q.to.X - stub, Y: q.to.Y}
	x0, x1 := min(s.X, e.X)-routePad, max(s.X, e.X)+routePad
	y0, y1 := min(s.Y, e.Y)-routePad, max(s.Y, e.Y)+routePad
	path := r.search(s, e, x0, y0, x1, y1)
	if path == nil {
		// widen to every box
		for _, b := range r.boxes {
			x0, y0, x1, y1 = min(x0, b.x0-routePad), min(y0, b.y0-routePad), max(x1, b.x1+routePad), max(y1, b.y1+routePad)
		}
		path = r.search(s, e, x0, y0, x1, y1)
	}
	var pts []engine.Point
	if path == nil {
		mid := (s.X + e.X) / 2
		pts = []engine.Point{q.from, s, {X: mid, Y: s.Y}, {X: mid, Y: e.Y}, e, q.to}
	} else {
		pts = append(append([]engine.Point{q.from}, path...), q.to)
	}
	pts = simplify(pts)
	for k := 0; k+1 < len(pts); k++ {
		r.mark(pts[k], pts[k+1])
	}
	return pts
}

// mark records segment a-b as taken.
func (r *router) mark(a, b engine.Point) {
	if a == b {
		return
	}
	k, sp := lineOf(a, b)
	r.used[k] = append(r.used[k], sp)
}

// overlaps counts the taken stretches that share more than a point with
// segment a-b.
func (r *router) overlaps(a, b engine.Point) int {
	k, sp := lineOf(a, b)
	n := 0
	for _, u := range r.used[k] {
		if min(u.hi, sp.hi)-max(u.lo, sp.lo) > 0.01 {
			n++
		}
	}
	return n
}

// axis returns the sorted grid coordinates from lo to hi: every routeStep
// and the extra values.
func axis(lo, hi float32, extra ...float32) []float32 {
	var out []float32
	for v := float32(math.Floor(float64(lo)/routeStep)) * routeStep; v <= hi; v += routeStep {
		out = append(out, v)
	}
	out = append(out, extra...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Directions: east, west, south, north.
var dirs = [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}

type pqItem struct {
	f     float32
	state int32
}

type pq []pqItem

func (p pq) Len() int           { return len(p) }
func (p pq) Less(i, j int) bool { return p[i].f < p[j].f }
func (p pq) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }
func (p *pq) Push(x any)        { *p = append(*p, x.(pqItem)) }
func (p *pq) Pop() any {
	old := *p
	it := old[len(old)-1]
	*p = old[:len(old)-1]
	return it
}

// search runs A* from s (leaving east) to e (arriving anything but west)
// on the grid inside the window; it returns the corner points from s to e,
// or nil.
func (r *router) search(s, e engine.Point, x0, y0, x1, y1 float32) []engine.Point {
	xs := axis(x0, x1, s.X, e.X)
	ys := axis(y0, y1, s.Y, e.Y)
	nx, ny := len(xs), len(ys)
	if nx*ny > 400_000 {
		return nil // a flow this spread out gets straight routes
	}
	// obstacle bitmap
	if cap(r.blocked) < nx*ny {
		r.blocked = make([]bool, nx*ny)
	}
	blocked := r.blocked[:nx*ny]
	clear(blocked)
	for _, b := range r.boxes {
		if b.x1 < x0 || b.x0 > x1 || b.y1 < y0 || b.y0 > y1 {
			continue
		}
		i0, _ := slices.BinarySearch(xs, b.x0)
		j0, _ := slices.BinarySearch(ys, b.y0)
		for i := i0; i < nx && xs[i] < b.x1; i++ {
			for j := j0; j < ny && ys[j] < b.y1; j++ {
				if b.containsStrict(xs[i], ys[j]) {
					blocked[j*nx+i] = true
				}
			}
		}
	}
	si, _ := slices.BinarySearch(xs, s.X)
	sj, _ := slices.BinarySearch(ys, s.Y)
	ei, _ := slices.BinarySearch(xs, e.X)
	ej, _ := slices.BinarySearch(ys, e.Y)
	blocked[sj*nx+si] = false
	blocked[ej*nx+ei] = false

	n := nx * ny * 4
	if cap(r.g) < n {
		r.g, r.prev, r.stamp = make([]float32, n), make([]int32, n), make([]uint32, n)
	}
	g, prev, stamp := r.g[:n], r.prev[:n], r.stamp[:n]
	r.gen++
	if r.gen == 0 { // wrapped: forget every stamp
		clear(r.stamp)
		r.gen = 1
	}
	gen := r.gen
	cost := func(st int32) float32 {
		if stamp[st] != gen {
			return float32(math.Inf(1))
		}
		return g[st]
	}
	h := func(i, j int) float32 { return abs32(xs[i]-e.X) + abs32(ys[j]-e.Y) }
	start := int32((sj*nx+si)*4 + 0)
	g[start], prev[start], stamp[start] = 0, -1, gen
	open := &r.open
	*open = append((*open)[:0], pqItem{f: h(si, sj), state: start})
	goal := int32(-1)
	for open.Len() > 0 {
		it := heap.Pop(open).(pqItem)
		st := it.state
		cell, d := int(st/4), int(st%4)
		i, j := cell%nx, cell/nx
		if it.f > cost(st)+h(i, j)+0.001 {
			continue // stale
		}
		if i == ei && j == ej && d != 1 {
			goal = st
			break
		}
		for nd, dv := range dirs {
			if nd == d^1 {
				continue // no reversing
			}
			ni, nj := i+dv[0], j+dv[1]
			if ni < 0 || nj < 0 || ni >= nx || nj >= ny || blocked[nj*nx+ni] {
				continue
			}
			// Grid lines are at most routeStep apart and every inflated box
			// is wider and taller than that, so a step between two free
			// points cannot pass through a box.
			a, b := engine.Point{X: xs[i], Y: ys[j]}, engine.Point{X: xs[ni], Y: ys[nj]}
			step := abs32(b.X-a.X) + abs32(b.Y-a.Y)
			c := g[st] + step
			if nd != d {
				c += routeBend
			}
			if u := r.overlaps(a, b); u > 0 {
				c += routeOverlap * float32(u)
			}
			ns := int32((nj*nx+ni)*4 + nd)
			if c < cost(ns) {
				g[ns], prev[ns], stamp[ns] = c, st, gen
				heap.Push(open, pqItem{f: c + h(ni, nj), state: ns})
			}
		}
	}
	if goal < 0 {
		return nil
	}
	var rev []engine.Point
	for st := goal; st >= 0; st = prev[st] {
		cell := int(st / 4)
		rev = append(rev, engine.Point{X: xs[cell%nx], Y: ys[cell/nx]})
		if st == start {
			break
		}
	}
	slices.Reverse(rev)
	return rev
}

// simplify drops repeated points and the middle of collinear runs.
func simplify(pts []engine.Point) []engine.Point {
	out := pts[:0:0]
	for _, p := range pts {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		if len(out) >= 2 {
			a, b := out[len(out)-2], out[len(out)-1]
			if (a.X == b.X && b.X == p.X) || (a.Y == b.Y && b.Y == p.Y) {
				out[len(out)-1] = p
				continue
			}
		}
		out = append(out, p)
	}
	return out
}
