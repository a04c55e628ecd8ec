package engine

import (
	"fmt"
	"strings"
)

// The graph rules of Lint (docs: "Loops and cycles" in docs/activities.md):
//
//   - The each port of a For each and the loop port of a While must be
//     connected, and the branch must be able to come back to the loop node.
//     Otherwise only the first item is processed and the run ends "ok". A
//     branch may still leave the loop early where it has a choice (an If, an
//     error port, a nested loop's done port): that is a break. A branch from
//     which the loop node can never be reached again is an error.
//   - A cycle (a strongly connected set of nodes) with no For each or While
//     in it and no way out (no edge that leaves it, no unconnected port of a
//     node with a choice) is a warning: the run goes round until the step
//     cap.

// graph is a flow's edges over node positions.
type graph struct {
	pos map[string]int32 // node id -> index in f.Nodes (first of duplicates)
	adj [][]int32        // successors over all ports, error included
}

func checkGraph(f *Flow, reg *Registry, starts []string, add func(node, field, sev, format string, args ...any)) {
	g := graph{pos: make(map[string]int32, len(f.Nodes)), adj: make([][]int32, len(f.Nodes))}
	for i, n := range f.Nodes {
		if _, dup := g.pos[n.ID]; !dup {
			g.pos[n.ID] = int32(i)
		}
	}
	countWork(len(f.Nodes) + len(f.Edges))
	seen := make(map[[2]string]string, len(f.Edges))
	for _, e := range f.Edges {
		fi, ok := g.pos[e.From]
		if !ok {
			add(e.From, "edges", SeverityError, "edge from unknown node %q", e.From)
			continue
		}
		from := f.Nodes[fi]
		ti, toOK := g.pos[e.To]
		if !toOK {
			add(e.From, "edges", SeverityError, "port %q leads to unknown node %q", e.Port, e.To)
		}
		if spec, ok := reg.Spec(from.Type); ok && !spec.NodeHasPort(from, e.Port) {
			add(e.From, "edges", SeverityError, "%s has no port %q (ports: %s)", from.Type, e.Port, strings.Join(append(spec.NodePorts(from), PortError), ", "))
		}
		key := [2]string{e.From, e.Port}
		if prev, dup := seen[key]; dup {
			add(e.From, "edges", SeverityError, "port %q is connected twice (to %q and %q)", e.Port, prev, e.To)
		} else {
			seen[key] = e.To
		}
		if toOK {
			g.adj[fi] = append(g.adj[fi], ti)
		}
	}
	if len(starts) > 0 {
		reach := make([]bool, len(f.Nodes))
		var queue []int32
		for _, id := range starts {
			i := g.pos[id]
			if !reach[i] {
				reach[i] = true
				queue = append(queue, i)
			}
		}
		for len(queue) > 0 {
			i := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			for _, j := range g.adj[i] {
				if !reach[j] {
					reach[j] = true
					queue = append(queue, j)
				}
			}
		}
		for i, n := range f.Nodes {
			if !reach[i] && !n.Disabled {
				add(n.ID, "", SeverityWarning, "unreachable: no path from the start leads here")
			}
		}
	}
	comp, size := g.components()
	checkLoops(f, g, comp, seen, func(node, msg string) { add(node, "edges", SeverityError, "%s", msg) })
	// Cycles with no loop node and no way out.
	loop := make([]bool, len(size)) // component has a loop node or an exit
	for i, n := range f.Nodes {
		c := comp[i]
		if n.Type == "control.for_each" || n.Type == "control.while" {
			loop[c] = true
		}
		for _, j := range g.adj[i] {
			if comp[j] != c {
				loop[c] = true
			}
		}
		if spec, ok := reg.Spec(n.Type); ok && len(spec.NodePorts(n)) > 1 {
			for _, p := range spec.NodePorts(n) {
				if _, connected := seen[[2]string{n.ID, p}]; !connected {
					loop[c] = true // the run can end there
				}
			}
		}
	}
	cyclic := make([]bool, len(size))
	for c, s := range size {
		cyclic[c] = s > 1
	}
	for i := range f.Nodes {
		for _, j := range g.adj[i] {
			if int(j) == i {
				cyclic[comp[i]] = true // a node connected to itself
			}
		}
	}
	members := make([][]string, len(size))
	for i, n := range f.Nodes {
		c := comp[i]
		if cyclic[c] && !loop[c] && len(members[c]) <= 5 {
			members[c] = append(members[c], n.ID)
		}
	}
	for c, m := range members {
		if len(m) == 0 {
			continue
		}
		list := strings.Join(m, ", ")
		if size[c] > len(m) {
			list = fmt.Sprintf("%s and %d more", strings.Join(m[:5], ", "), size[c]-5)
		}
		add(m[0], "edges", SeverityWarning, "endless cycle: the nodes %s form a cycle with no For each or While node and no way out (no If or error port that leaves it); the run would go round until the step limit", list)
	}
}

// components returns the strongly connected component of every node
// (Tarjan's algorithm, iterative) and the size of each component.
func (g *graph) components() (comp []int32, size []int) {
	n := len(g.adj)
	countWork(n)
	const unvisited = -1
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	comp = make([]int32, n)
	for i := range index {
		index[i] = unvisited
	}
	var stack []int32
	type frame struct{ v, next int32 }
	var calls []frame
	next := int32(0)
	for root := range n {
		if index[root] != unvisited {
			continue
		}
		calls = append(calls, frame{v: int32(root)})
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(calls) > 0 {
			top := &calls[len(calls)-1]
			v := top.v
			if int(top.next) < len(g.adj[v]) {
				w := g.adj[v][top.next]
				top.next++
				countWork(1)
				if index[w] == unvisited {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					calls = append(calls, frame{v: w})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				if u := calls[len(calls)-1].v; low[v] < low[u] {
					low[u] = low[v]
				}
			}
			if low[v] == index[v] {
				c := int32(len(size))
				k := 0
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = c
					k++
					if w == v {
						break
					}
				}
				size = append(size, k)
			}
		}
	}
	return comp, size
}

// checkLoops reports For each and While nodes whose loop port is not
// connected or whose branch cannot come back (Lint and Prepare both refuse
// such a flow).
func checkLoops(f *Flow, g graph, comp []int32, seen map[[2]string]string, fail func(node, msg string)) {
	for i, n := range f.Nodes {
		port, what := "", ""
		switch n.Type {
		case "control.for_each":
			port, what = PortEach, "only the first item would be processed"
		case "control.while":
			port, what = PortLoop, "the loop would run once"
		default:
			continue
		}
		to, ok := seen[[2]string{n.ID, port}]
		if !ok {
			fail(n.ID, fmt.Sprintf("the %s port is not connected: %s and the run would end there as if all went well; connect the loop body to it", port, what))
			continue
		}
		if ti, known := g.pos[to]; known && comp[ti] != comp[i] {
			fail(n.ID, fmt.Sprintf("the %s branch never comes back to this loop: %s and the run would end \"ok\"; connect the last node of the branch back to %q", port, what, n.ID))
		}
	}
}

// loopErrors is checkLoops for Prepare, which has no graph of its own.
func loopErrors(f *Flow) []error {
	g := graph{pos: make(map[string]int32, len(f.Nodes)), adj: make([][]int32, len(f.Nodes))}
	for i, n := range f.Nodes {
		if _, dup := g.pos[n.ID]; !dup {
			g.pos[n.ID] = int32(i)
		}
	}
	seen := make(map[[2]string]string, len(f.Edges))
	for _, e := range f.Edges {
		fi, ok := g.pos[e.From]
		ti, ok2 := g.pos[e.To]
		if !ok || !ok2 {
			continue
		}
		if _, dup := seen[[2]string{e.From, e.Port}]; !dup {
			seen[[2]string{e.From, e.Port}] = e.To
		}
		g.adj[fi] = append(g.adj[fi], ti)
	}
	countWork(len(f.Nodes) + len(f.Edges))
	comp, _ := g.components()
	var errs []error
	checkLoops(f, g, comp, seen, func(node, msg string) {
		errs = append(errs, &FieldError{Node: node, Field: "edges", Msg: msg})
	})
	return errs
}
