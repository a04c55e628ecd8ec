package ui

import (
	"math"
	"slices"
	"sort"

	"deskbot/engine"
)

// Arrange layout spacing in document units.
const (
	arrangeColGap = 110 // between columns: room for port labels and lanes
	arrangeRowGap = 50  // between nodes of one column
	arrangeX0     = 40
	// arrangeBandGap separates the bands of a wrapped layout.
	arrangeBandGap = 90
	// arrangeAspect is the width:height the wrapping aims at (a studio's
	// canvas is about this shape).
	arrangeAspect = 1.8
	arrangeY0     = 40
)

// arrangeFlow lays f out left to right in layers (Sugiyama style):
//   - edges that close a loop (back edges, found by a depth-first walk from
//     the start node) are left out of the ranking;
//   - each node's column is its longest path from a source;
//   - nodes in a column are ordered by the barycentre of their neighbours
//     in the columns before and after (a few sweeps each way);
//   - each node is placed at the mean height of its predecessors where
//     there is room, then pushed down to keep the column's nodes apart;
//   - a long row of columns is wrapped into bands (see wrapColumns).
//
// height gives a node's box height; aspect is the width:height of the
// view the flow is to fit (0 for a default). Groups are fitted round their members
// again afterwards.
func arrangeFlow(f *engine.Flow, height func(*engine.Node) float32, aspect float64) {
	n := len(f.Nodes)
	if n == 0 {
		return
	}
	idx := make(map[string]int, n)
	for i, nd := range f.Nodes {
		idx[nd.ID] = i
	}
	succ := make([][]int, n)
	for _, e := range f.Edges {
		a, okA := idx[e.From]
		b, okB := idx[e.To]
		if okA && okB && a != b {
			succ[a] = append(succ[a], b)
		}
	}
	// back edges: a DFS from the start node first, then from the others
	state := make([]int8, n) // 0 new, 1 on stack, 2 done
	back := map[[2]int]bool{}
	var dfs func(int)
	dfs = func(u int) {
		state[u] = 1
		for _, v := range succ[u] {
			switch state[v] {
			case 0:
				dfs(v)
			case 1:
				back[[2]int{u, v}] = true
			}
		}
		state[u] = 2
	}
	order := make([]int, 0, n)
	for i, nd := range f.Nodes {
		if nd.Type == "control.start" {
			order = append(order, i)
		}
	}
	for i := range f.Nodes {
		order = append(order, i)
	}
	for _, i := range order {
		if state[i] == 0 {
			dfs(i)
		}
	}
	// forward graph
	fsucc := make([][]int, n)
	fpred := make([][]int, n)
	indeg := make([]int, n)
	for u := range succ {
		for _, v := range succ[u] {
			if back[[2]int{u, v}] || slices.Contains(fsucc[u], v) {
				continue
			}
			fsucc[u] = append(fsucc[u], v)
			fpred[v] = append(fpred[v], u)
			indeg[v]++
		}
	}
	// longest-path ranks in topological order
	rank := make([]int, n)
	var queue []int
	for i := range indeg {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, v := range fsucc[u] {
			rank[v] = max(rank[v], rank[u]+1)
			if indeg[v]--; indeg[v] == 0 {
				queue = append(queue, v)
			}
		}
	}
	maxRank := slices.Max(rank)
	layers := make([][]int, maxRank+1)
	for i := range f.Nodes { // document order is the first ordering
		layers[rank[i]] = append(layers[rank[i]], i)
	}
	pos := make([]float64, n) // index within its layer
	setPos := func() {
		for _, l := range layers {
			for k, i := range l {
				pos[i] = float64(k)
			}
		}
	}
	setPos()
	bary := func(l []int, nb [][]int) {
		key := make(map[int]float64, len(l))
		for _, i := range l {
			if len(nb[i]) == 0 {
				key[i] = pos[i]
				continue
			}
			s := 0.0
			for _, j := range nb[i] {
				s += pos[j]
			}
			key[i] = s / float64(len(nb[i]))
		}
		sort.SliceStable(l, func(a, b int) bool { return key[l[a]] < key[l[b]] })
		for k, i := range l {
			pos[i] = float64(k)
		}
	}
	for sweep := 0; sweep < 4; sweep++ {
		for r := 1; r <= maxRank; r++ {
			bary(layers[r], fpred)
		}
		for r := maxRank - 1; r >= 0; r-- {
			bary(layers[r], fsucc)
		}
	}
	// coordinates
	ys := make([]float32, n)
	hs := make([]float32, n)
	for i, nd := range f.Nodes {
		hs[i] = height(nd)
	}
	for r, l := range layers {
		next := float32(arrangeY0)
		for _, i := range l {
			want := next
			if r > 0 && len(fpred[i]) > 0 {
				var s float32
				for _, j := range fpred[i] {
					s += ys[j] + hs[j]/2
				}
				want = max(next, snap(s/float32(len(fpred[i]))-hs[i]/2))
			}
			ys[i] = want
			next = want + hs[i] + arrangeRowGap
		}
	}
	// A long chain of columns is wrapped into bands stacked top to bottom
	// (like ELK's graph wrapping), so that the flow keeps a screen's shape
	// instead of one row too long to read when fitted into the view.
	var bottom float32
	for i := range f.Nodes {
		bottom = max(bottom, ys[i]+hs[i])
	}
	bandH := bottom - arrangeY0 + arrangeBandGap
	cols := wrapColumns(maxRank+1, bandH, aspect)
	for i, nd := range f.Nodes {
		band, col := rank[i]/cols, rank[i]%cols
		nd.Position = engine.Point{X: float32(arrangeX0 + col*(nodeW+arrangeColGap)), Y: ys[i] + float32(band)*bandH}
	}
	fitGroups(f, height)
}

// fitGroups sizes every group with members round its member nodes.
func fitGroups(f *engine.Flow, height func(*engine.Node) float32) {
	for gi := range f.Groups {
		g := &f.Groups[gi]
		first := true
		var x0, y0, x1, y1 float32
		for _, id := range g.Nodes {
			nd := f.Node(id)
			if nd == nil {
				continue
			}
			a, b := nd.Position, engine.Point{X: nd.Position.X + nodeW, Y: nd.Position.Y + height(nd)}
			if first {
				x0, y0, x1, y1, first = a.X, a.Y, b.X, b.Y, false
				continue
			}
			x0, y0, x1, y1 = min(x0, a.X), min(y0, a.Y), max(x1, b.X), max(y1, b.Y)
		}
		if first {
			continue
		}
		g.Position = engine.Point{X: x0 - groupPad, Y: y0 - groupPad - groupTitleH}
		g.Size = engine.Size{W: x1 - x0 + 2*groupPad, H: y1 - y0 + 2*groupPad + groupTitleH}
	}
}

// Arrange lays the flow out left to right (see arrangeFlow) in the shape
// of the view, as one undoable step, and fits the view to it.
func (c *FlowCanvas) Arrange() {
	if len(c.doc.Flow.Nodes) == 0 {
		return
	}
	aspect := 0.0
	if s := c.Size(); s.Width >= 50 && s.Height >= 50 {
		aspect = float64(s.Width / s.Height)
	}
	c.doc.Edit(func(f *engine.Flow) {
		arrangeFlow(f, func(n *engine.Node) float32 { return nodeHeight(len(c.ports(n))) }, aspect)
	})
	c.Fit()
}

// wrapColumns picks how many columns a band of a wrapped layout holds for
// ranks columns in all, each band bandH tall: the count whose overall shape
// comes closest to aspect (width:height; 0 means arrangeAspect), at least 4
// (a short flow stays one row).
func wrapColumns(ranks int, bandH float32, aspect float64) int {
	if aspect <= 0 {
		aspect = arrangeAspect
	}
	if ranks <= 4 {
		return max(ranks, 1)
	}
	best, bestErr := ranks, math.Inf(1)
	for cols := 4; cols <= ranks; cols++ {
		bands := (ranks + cols - 1) / cols
		w := float64(cols*(nodeW+arrangeColGap) - arrangeColGap)
		h := float64(bands) * float64(bandH)
		if e := math.Abs(math.Log(w / h / aspect)); e < bestErr-1e-9 {
			best, bestErr = cols, e
		}
	}
	return best
}
