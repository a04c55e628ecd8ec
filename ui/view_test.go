package ui

import (
	"testing"

	"fyne.io/fyne/v2"

	"deskbot/engine"
)

func TestPanZoomFit(t *testing.T) {
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(bigFlow(120), ""))
	c := s.Canvas
	c.Fit()
	sz := c.Size()
	for _, n := range s.Doc.Flow.Nodes {
		x, y, w, h := c.nodeRect(n)
		a, b := c.ToScreen(engine.Point{X: x, Y: y}), c.ToScreen(engine.Point{X: x + w, Y: y + h})
		if a.X < 0 || a.Y < 0 || b.X > sz.Width || b.Y > sz.Height {
			t.Fatalf("after Fit node %s is at %v-%v, outside %v", n.ID, a, b, sz)
		}
	}
	// zoom keeps the point under the pointer in place
	at := fyne.NewPos(300, 200)
	before := c.ToDoc(at)
	c.ZoomAt(c.Zoom()*2, at)
	after := c.ToDoc(at)
	if abs32(before.X-after.X) > 0.01 || abs32(before.Y-after.Y) > 0.01 {
		t.Errorf("zoom moved the point under the pointer: %v -> %v", before, after)
	}
	// the wheel pans
	p0 := c.ToScreen(engine.Point{})
	c.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: at}, Scrolled: fyne.NewDelta(0, -50)})
	if p1 := c.ToScreen(engine.Point{}); p1.Y != p0.Y-50 {
		t.Errorf("scroll moved the view from %v to %v", p0, p1)
	}
	// zoom is clamped
	c.ZoomAt(1000, at)
	if c.Zoom() != maxZoom {
		t.Errorf("zoom %v, want the maximum %v", c.Zoom(), maxZoom)
	}
}

func TestDocumentConnectReplacesPortEdge(t *testing.T) {
	f := quickFlow()
	d := NewDocument(f, "")
	if !d.Connect("a", "next", "b") {
		t.Fatal("connect reported no change")
	}
	n := 0
	for _, e := range d.Flow.Edges {
		if e.From == "a" && e.Port == "next" {
			n++
		}
	}
	if n != 1 || d.Flow.Next("a", "next") != "b" {
		t.Fatalf("a.next edges: %d, leads to %q", n, d.Flow.Next("a", "next"))
	}
	if d.Connect("a", "a", "a") || d.Connect("a", "next", "nowhere") {
		t.Error("a self-loop or an edge to nowhere was added")
	}
	d.Undo()
	if d.Flow.Next("a", "next") != "w" {
		t.Errorf("undo: a.next leads to %q", d.Flow.Next("a", "next"))
	}
}
