package ui

import (
	"os"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"deskbot/engine"
)

// TestArrangeDesktopSample arranges the 17-node desktop sample: afterwards
// nodes do not overlap, every edge except the loop's way back runs left to
// right, no edge crosses a node (checkRoutes), and undo puts every node
// back. DESKBOT_ARRANGED=path saves the arranged flow (for the screenshot).
func TestArrangeDesktopSample(t *testing.T) {
	f := loadSample(t, desktopSample)
	if len(f.Nodes) != 17 {
		t.Fatalf("the desktop sample has %d nodes, want 17", len(f.Nodes))
	}
	before := map[string]engine.Point{}
	for _, n := range f.Nodes {
		before[n.ID] = n.Position
	}
	test.NewTempApp(t)
	doc := NewDocument(f, "")
	c := NewFlowCanvas(doc, nil)
	c.Resize(fyne.NewSize(850, 540)) // the canvas of a 1600x1000 studio window
	c.Arrange()
	ns := doc.Flow.Nodes
	for i, a := range ns {
		ax, ay, aw, ah := c.nodeRect(a)
		for _, b := range ns[i+1:] {
			bx, by, bw, bh := c.nodeRect(b)
			if ax < bx+bw && bx < ax+aw && ay < by+bh && by < ay+ah {
				t.Errorf("nodes %s %v and %s %v overlap", a.ID, a.Position, b.ID, b.Position)
			}
		}
	}
	// Edges run left to right, or on to the next band below when the
	// layout wraps; only the loop's way back (count -> each) goes back.
	backward := 0
	for _, e := range doc.Flow.Edges {
		a, b := doc.Flow.Node(e.From).Position, doc.Flow.Node(e.To).Position
		if b.X <= a.X && b.Y <= a.Y {
			backward++
			if e.From != "count" || e.To != "each" {
				t.Errorf("edge %v runs backwards", e)
			}
		}
	}
	if backward != 1 {
		t.Errorf("%d edges run backwards after Arrange, want 1 (the loop's way back)", backward)
	}
	// The layout keeps a screen's shape: not one long row.
	var w, h float32
	for _, n := range ns {
		x, y, nw, nh := c.nodeRect(n)
		w, h = max(w, x+nw), max(h, y+nh)
	}
	if w/h > 2.5 || h/w > 1 {
		t.Errorf("arranged flow is %vx%v, for a view of 850x540", w, h)
	}
	checkRoutes(t, c)
	if p := os.Getenv("DESKBOT_ARRANGED"); p != "" {
		if err := doc.Flow.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	if !doc.Undo() {
		t.Fatal("Arrange left nothing to undo")
	}
	for _, n := range doc.Flow.Nodes {
		if n.Position != before[n.ID] {
			t.Errorf("undo: %s at %v, was %v", n.ID, n.Position, before[n.ID])
		}
	}
}

// TestArrangeEveryFlowShape arranges the other samples and flows with
// loops, several starts and unknown activity types without overlaps.
func TestArrangeEveryFlowShape(t *testing.T) {
	for _, p := range []string{"ai-thank-you-notes.json", "csv-to-letters.json", "invoice-summary.json", "tidy-inbox.json"} {
		t.Run(p, func(t *testing.T) {
			doc := NewDocument(loadSample(t, "../assets/flows/"+p), "")
			c := NewFlowCanvas(doc, nil)
			c.Arrange()
			checkRoutes(t, c)
		})
	}
	f := screenFlow()
	f.Nodes = append(f.Nodes, &engine.Node{ID: "lone", Type: "no.such"}, &engine.Node{ID: "self", Type: "control.log"})
	f.Edges = append(f.Edges, engine.Edge{From: "self", Port: "next", To: "self"})
	doc := NewDocument(f, "")
	NewFlowCanvas(doc, nil).Arrange()
	seen := map[engine.Point]string{}
	for _, n := range doc.Flow.Nodes {
		if o, dup := seen[n.Position]; dup {
			t.Errorf("%s and %s at the same place %v", n.ID, o, n.Position)
		}
		seen[n.Position] = n.ID
	}
}
