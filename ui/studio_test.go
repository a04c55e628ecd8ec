package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
	_ "deskbot/engine/activities"
)

// newTestStudio opens a studio on the fyne test driver with the editor shown
// and a UI loop the test pumps itself.
func newTestStudio(t testing.TB) (*Studio, chan func()) {
	t.Helper()
	a := test.NewApp()
	t.Cleanup(a.Quit)
	s := NewStudio(a, Options{DataDir: t.TempDir()})
	ui := make(chan func(), 4096)
	s.bridge.do = func(f func()) { ui <- f }
	s.Win.Resize(fyne.NewSize(1280, 800))
	s.ShowEditor()
	s.Win.Resize(fyne.NewSize(1280, 800))
	return s, ui
}

// patience bounds how long a test waits for something that should happen
// soon, only so that a broken build fails instead of hanging. It is no
// speed check (speed is in benchmarks): a loaded CI machine running the
// race detector must never reach it.
const patience = 60 * time.Second

// pump runs queued UI work until cond holds or the timeout passes.
func pump(t testing.TB, ui chan func(), timeout time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case f := <-ui:
			f()
		case <-deadline:
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

// canvasAbs returns the absolute position of a point on the flow canvas.
func canvasAbs(s *Studio, p fyne.Position) fyne.Position {
	return s.App.Driver().AbsolutePositionForObject(s.Canvas).Add(p)
}

// dragPalette drags a palette item to widget position p on the canvas the
// way the desktop driver reports it: a series of Dragged events with
// absolute positions, then DragEnd.
func dragPalette(t testing.TB, s *Studio, typ string, p fyne.Position) {
	t.Helper()
	it := s.Palette.Item(typ)
	if it == nil {
		t.Fatalf("palette has no %s", typ)
	}
	start := s.App.Driver().AbsolutePositionForObject(it).Add(fyne.NewPos(20, 10))
	end := canvasAbs(s, p)
	const steps = 5
	prev := start
	for i := 1; i <= steps; i++ {
		f := float32(i) / steps
		cur := fyne.NewPos(start.X+(end.X-start.X)*f, start.Y+(end.Y-start.Y)*f)
		it.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{AbsolutePosition: cur}, Dragged: fyne.NewDelta(cur.X-prev.X, cur.Y-prev.Y)})
		prev = cur
	}
	it.DragEnd()
}

// dragCanvas drags on the flow canvas from a to b (widget positions) the
// way the desktop driver does: MouseDown, Dragged with the current position
// and the delta since the last event, DragEnd.
func dragCanvas(c *FlowCanvas, a, b fyne.Position, mods fyne.KeyModifier) {
	c.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: a}, Button: desktop.MouseButtonPrimary, Modifier: mods})
	const steps = 4
	prev := a
	for i := 1; i <= steps; i++ {
		f := float32(i) / steps
		cur := fyne.NewPos(a.X+(b.X-a.X)*f, a.Y+(b.Y-a.Y)*f)
		c.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: cur}, Dragged: fyne.NewDelta(cur.X-prev.X, cur.Y-prev.Y)})
		prev = cur
	}
	c.DragEnd()
	c.MouseUp(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: b}})
}

func nodesOfType(f *engine.Flow, typ string) []*engine.Node {
	var out []*engine.Node
	for _, n := range f.Nodes {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out
}

func TestPaletteDragAddsNodeAtDropSpot(t *testing.T) {
	s, _ := newTestStudio(t)
	before := len(s.Doc.Flow.Nodes)
	drop := fyne.NewPos(400, 250)
	dragPalette(t, s, "control.log", drop)
	if got := len(s.Doc.Flow.Nodes); got != before+1 {
		t.Fatalf("nodes = %d, want %d", got, before+1)
	}
	logs := nodesOfType(s.Doc.Flow, "control.log")
	if len(logs) != 1 {
		t.Fatalf("log nodes = %d", len(logs))
	}
	centre, _ := s.Canvas.NodeCenter(logs[0].ID)
	if d := centre.Subtract(drop); abs32(d.X) > gridSnap || abs32(d.Y) > gridSnap {
		t.Errorf("node centre %v, dropped at %v", centre, drop)
	}
	if sel := s.Canvas.Selection(); len(sel) != 1 || sel[0] != logs[0].ID {
		t.Errorf("selection = %v, want the new node", sel)
	}
	if s.Props.NodeID() != logs[0].ID {
		t.Errorf("property form shows %q", s.Props.NodeID())
	}
	// a drop outside the canvas adds nothing
	dragPalette(t, s, "control.log", fyne.NewPos(-300, 20))
	if got := len(s.Doc.Flow.Nodes); got != before+1 {
		t.Errorf("drop outside the canvas added a node")
	}
}

func TestPortDragAddsEdge(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.if", fyne.NewPos(350, 150))
	dragPalette(t, s, "control.log", fyne.NewPos(650, 300))
	ifn := nodesOfType(s.Doc.Flow, "control.if")[0]
	logn := nodesOfType(s.Doc.Flow, "control.log")[0]
	from, ok := s.Canvas.PortPosition(ifn.ID, "false")
	if !ok {
		t.Fatal("no false port")
	}
	to, _ := s.Canvas.NodeCenter(logn.ID)
	dragCanvas(s.Canvas, from, to, 0)
	if got := s.Doc.Flow.Next(ifn.ID, "false"); got != logn.ID {
		t.Fatalf("if.false leads to %q, want %q; edges %v", got, logn.ID, s.Doc.Flow.Edges)
	}
	if s.Doc.Flow.Next(ifn.ID, "true") != "" {
		t.Error("the true port was connected too")
	}
	// connecting the start node's port to the if node, and undo of it
	startPort, _ := s.Canvas.PortPosition("start", "next")
	ifc, _ := s.Canvas.NodeCenter(ifn.ID)
	dragCanvas(s.Canvas, startPort, ifc, 0)
	if s.Doc.Flow.Next("start", "next") != ifn.ID {
		t.Fatalf("start.next not connected: %v", s.Doc.Flow.Edges)
	}
	s.Undo()
	if s.Doc.Flow.Next("start", "next") != "" {
		t.Error("undo kept the edge")
	}
	// a drag from a port into empty space connects nothing
	n := len(s.Doc.Flow.Edges)
	dragCanvas(s.Canvas, startPort, fyne.NewPos(5, 700), 0)
	if len(s.Doc.Flow.Edges) != n {
		t.Error("drag into empty space added an edge")
	}
}

func TestMoveSelectDeleteCopyPaste(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.log", fyne.NewPos(400, 200))
	dragPalette(t, s, "control.wait", fyne.NewPos(700, 200))
	logn := nodesOfType(s.Doc.Flow, "control.log")[0]
	pos := logn.Position
	c, _ := s.Canvas.NodeCenter(logn.ID)
	dragCanvas(s.Canvas, c, c.Add(fyne.NewPos(100, 60)), 0)
	moved := s.Doc.Flow.Node(logn.ID).Position
	if moved.X-pos.X < 50 || moved.Y-pos.Y < 30 {
		t.Fatalf("node moved from %v to %v", pos, moved)
	}
	s.Undo()
	if got := s.Doc.Flow.Node(logn.ID).Position; got != pos {
		t.Fatalf("undo of move: %v, want %v", got, pos)
	}
	s.Redo()
	if got := s.Doc.Flow.Node(logn.ID).Position; got != moved {
		t.Fatalf("redo of move: %v, want %v", got, moved)
	}
	// rubber band over everything selects all three nodes
	sz := s.Canvas.Size()
	dragCanvas(s.Canvas, fyne.NewPos(1, 1), fyne.NewPos(sz.Width-2, sz.Height-2), 0)
	if got := len(s.Canvas.Selection()); got != 3 {
		t.Fatalf("rubber band selected %d nodes, want 3", got)
	}
	// shift-click removes one from the selection
	wc, _ := s.Canvas.NodeCenter(nodesOfType(s.Doc.Flow, "control.wait")[0].ID)
	s.Canvas.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: wc}, Button: desktop.MouseButtonPrimary, Modifier: fyne.KeyModifierShift})
	s.Canvas.Tapped(&fyne.PointEvent{Position: wc})
	if got := len(s.Canvas.Selection()); got != 2 {
		t.Fatalf("after shift-click %d selected, want 2", got)
	}
	// copy, paste: two new nodes
	s.Copy()
	s.Paste()
	if got := len(s.Doc.Flow.Nodes); got != 4 {
		// the start node is not pasted twice
		t.Fatalf("after paste %d nodes, want 4", got)
	}
	// Delete key removes the pasted selection
	s.Canvas.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	if got := len(s.Doc.Flow.Nodes); got != 3 {
		t.Fatalf("after delete %d nodes, want 3", got)
	}
}

func TestEditFieldChangesDocumentAndUndoRestores(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.log", fyne.NewPos(400, 200))
	id := nodesOfType(s.Doc.Flow, "control.log")[0].ID
	before := string(s.Doc.Snapshot())
	e, ok := s.Props.Fields["message"].(*widget.Entry)
	if !ok {
		t.Fatalf("message field is %T", s.Props.Fields["message"])
	}
	test.Type(e, "Hello {{ name }}")
	if got := s.Doc.Flow.Node(id).Params["message"]; got != "Hello {{ name }}" {
		t.Fatalf("message param = %v", got)
	}
	if !s.Doc.Dirty() || !strings.HasSuffix(s.Win.Title(), "•") {
		t.Errorf("document not marked dirty; title %q", s.Win.Title())
	}
	sel := s.Props.Fields["level"].(*widget.Select)
	sel.SetSelected("warn")
	if got := s.Doc.Flow.Node(id).Params["level"]; got != "warn" {
		t.Fatalf("level = %v", got)
	}
	// typing was one undo step, the select another
	s.Undo()
	if _, has := s.Doc.Flow.Node(id).Params["level"]; has {
		t.Fatal("undo did not remove level")
	}
	s.Undo()
	if got := string(s.Doc.Snapshot()); got != before {
		t.Fatalf("undo did not restore the document:\n got %s\nwant %s", got, before)
	}
	// the form was rebuilt from the restored document
	if e := s.Props.Fields["message"].(*widget.Entry); e.Text != "" {
		t.Errorf("form still shows %q", e.Text)
	}
	s.Redo()
	if got := s.Doc.Flow.Node(id).Params["message"]; got != "Hello {{ name }}" {
		t.Fatalf("redo: message = %v", got)
	}
}

func TestInlineValidationAndProblems(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.if", fyne.NewPos(400, 200))
	id := nodesOfType(s.Doc.Flow, "control.if")[0].ID
	found := false
	for i, p := range s.Problems {
		if p.NodeID == id && p.Field == "condition" {
			found = true
			s.Canvas.Select()
			s.SelectProblem(i)
		}
	}
	if !found {
		t.Fatalf("no problem for the empty condition: %v", s.Problems)
	}
	if sel := s.Canvas.Selection(); len(sel) != 1 || sel[0] != id {
		t.Fatalf("clicking the problem selected %v", sel)
	}
	if l := s.Props.errs["condition"]; l == nil || !l.Visible() {
		t.Fatal("no inline message under the condition field")
	}
	test.Type(s.Props.Fields["condition"].(*widget.Entry), "1 +")
	if l := s.Props.errs["condition"]; !l.Visible() {
		t.Error("a broken expression shows no message")
	}
	e := s.Props.Fields["condition"].(*widget.Entry)
	e.SetText("1 > 0")
	if l := s.Props.errs["condition"]; l.Visible() {
		t.Errorf("valid expression still flagged: %s", l.Text)
	}
}

func quickFlow() *engine.Flow {
	f := engine.NewFlow("quick")
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "a", Type: "control.log", Params: map[string]any{"message": "one"}, Position: engine.Point{X: 200, Y: 40}},
		&engine.Node{ID: "w", Type: "control.wait", Params: map[string]any{"duration": "30ms"}, Position: engine.Point{X: 400, Y: 40}},
		&engine.Node{ID: "b", Type: "control.set_variable", Params: map[string]any{"variable": "x", "value": "41 + 1"}, Position: engine.Point{X: 600, Y: 40}},
		&engine.Node{ID: "end", Type: "control.end", Position: engine.Point{X: 800, Y: 40}},
	)
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "a"}, {From: "a", Port: "next", To: "w"}, {From: "w", Port: "next", To: "b"}, {From: "b", Port: "next", To: "end"}}
	return f
}

func TestRunHighlightsNodesInOrder(t *testing.T) {
	s, ui := newTestStudio(t)
	s.setDocument(NewDocument(quickFlow(), ""))
	s.Run(false)
	if !s.Running() {
		t.Fatal("run did not start")
	}
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	want := []string{"start", "a", "w", "b", "end"}
	if strings.Join(s.Canvas.Highlights, ",") != strings.Join(want, ",") {
		t.Fatalf("highlights %v, want %v", s.Canvas.Highlights, want)
	}
	if s.Canvas.Running() != "" {
		t.Error("a node stays highlighted after the run")
	}
	if got := s.Variables()["x"]; got != 42 && got != 42.0 {
		t.Errorf("variables x = %v", got)
	}
	out := strings.Join(s.OutputLines(), "\n")
	if !strings.Contains(out, "one") || !strings.Contains(out, "ok") {
		t.Errorf("output:\n%s", out)
	}
}

// startWaitingRun runs quickFlow with a one-minute wait and returns once
// the wait node is highlighted.
func startWaitingRun(t *testing.T) (*Studio, chan func()) {
	t.Helper()
	s, ui := newTestStudio(t)
	f := quickFlow()
	f.Node("w").Params["duration"] = "1m"
	s.setDocument(NewDocument(f, ""))
	s.Run(false)
	if !pump(t, ui, patience, func() bool { return s.Canvas.Running() == "w" }) {
		t.Fatalf("wait node never highlighted: %v", s.Canvas.Highlights)
	}
	return s, ui
}

func TestStopCancelsRun(t *testing.T) {
	s, ui := startWaitingRun(t)
	done := s.RunDone()
	start := time.Now()
	s.Stop()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatalf("run still going %v after Stop", patience)
	}
	t.Logf("run goroutine ended %v after Stop", time.Since(start))
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("studio still shows a run")
	}
	out := strings.Join(s.OutputLines(), "\n")
	if !strings.Contains(out, engine.StatusStopped) {
		t.Errorf("output does not say stopped:\n%s", out)
	}
	for _, h := range s.Canvas.Highlights {
		if h == "b" {
			t.Error("node after the wait ran")
		}
	}
}

func TestDebugBreakpointAndStep(t *testing.T) {
	s, ui := newTestStudio(t)
	s.setDocument(NewDocument(quickFlow(), ""))
	s.SetBreakpoint("w", true)
	s.Run(true)
	if !pump(t, ui, patience, func() bool { return s.run != nil && s.run.paused == "w" }) {
		t.Fatal("debug run did not pause at the breakpoint")
	}
	s.Step()
	if !pump(t, ui, patience, func() bool { return s.run != nil && s.run.paused == "b" }) {
		t.Fatal("step did not pause before the next node")
	}
	s.Run(false) // resume
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("resumed run did not finish")
	}
}

func TestSaveAndAutosaveRecovery(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.log", fyne.NewPos(400, 200))
	s.autosave()
	recs := s.Recoveries()
	if len(recs) != 1 {
		t.Fatalf("recoveries = %d, want 1", len(recs))
	}
	path := filepath.Join(t.TempDir(), "x.json")
	if err := s.SaveTo(path); err != nil {
		t.Fatal(err)
	}
	if s.Doc.Dirty() || len(s.Recoveries()) != 0 {
		t.Error("after save the flow is dirty or an autosave is left")
	}
	f, err := engine.LoadFile(path)
	if err != nil || len(nodesOfType(f, "control.log")) != 1 {
		t.Fatalf("saved file: %v %v", f, err)
	}
	// a crashed session: an autosave with a path
	dragPalette(t, s, "control.wait", fyne.NewPos(600, 200))
	s.autosave()
	s2, _ := newTestStudio(t)
	s2.opts.DataDir = s.opts.DataDir
	recs = s2.Recoveries()
	if len(recs) != 1 || recs[0].Path != path {
		t.Fatalf("recoveries %+v", recs)
	}
	if err := s2.Recover(recs[0]); err != nil {
		t.Fatal(err)
	}
	if !s2.Doc.Dirty() || s2.Doc.Path != path || len(nodesOfType(s2.Doc.Flow, "control.wait")) != 1 {
		t.Errorf("recovered doc: dirty %v path %q", s2.Doc.Dirty(), s2.Doc.Path)
	}
	_ = os.Remove(path)
}

// TestBusyRunKeepsUIResponsive runs a tight loop that logs every
// iteration: the UI keeps getting hand-overs while it runs, each bounded in
// what it carries (so the window never freezes however fast the flow), and
// Stop ends the run. How long a hand-over and a stop take is measured by
// BenchmarkBusyRunHandOver, not asserted here.
func TestBusyRunKeepsUIResponsive(t *testing.T) {
	s, ui := newTestStudio(t)
	var mu sync.Mutex
	applied, maxLogs, maxSteps := 0, 0, 0 // hand-overs, and the most that one carried
	apply := s.bridge.apply
	s.bridge.apply = func(b *runBatch) {
		mu.Lock()
		applied++
		maxLogs, maxSteps = max(maxLogs, len(b.logs)), max(maxSteps, len(b.started))
		mu.Unlock()
		apply(b)
	}
	s.setDocument(NewDocument(busyFlow(), ""))
	s.Run(false)
	handOvers := func() int { mu.Lock(); defer mu.Unlock(); return applied }
	if !pump(t, ui, patience, func() bool { return handOvers() >= 20 }) {
		t.Fatalf("only %d hand-overs reached the UI in %v", handOvers(), patience)
	}
	done := s.RunDone()
	s.Stop()
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatalf("busy run did not stop within %v", patience)
	}
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatalf("the run's goroutine did not end within %v of Stop", patience)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("largest hand-over: %d log lines, %d steps; %d output lines, i = %v", maxLogs, maxSteps, len(s.OutputLines()), s.Variables()["i"])
	if maxLogs > maxBatchLogs || maxSteps > maxBatchSteps {
		t.Errorf("a hand-over carried %d log lines and %d steps, want at most %d and %d", maxLogs, maxSteps, maxBatchLogs, maxBatchSteps)
	}
	if out := strings.Join(s.OutputLines(), "\n"); !strings.Contains(out, "tick") || !strings.Contains(out, engine.StatusStopped) {
		t.Errorf("output has no ticks or no stop:\n%.2000s", out)
	}
}

// busyFlow loops forever, logging every iteration.
func busyFlow() *engine.Flow {
	f := engine.NewFlow("busy")
	f.Variables = []engine.Variable{{Name: "i", Type: "number", Default: 0.0}}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "loop", Type: "control.while", Params: map[string]any{"condition": "true", "max_iterations": 1e9}, Position: engine.Point{X: 200}},
		&engine.Node{ID: "inc", Type: "control.set_variable", Params: map[string]any{"variable": "i", "value": "i + 1"}, Position: engine.Point{X: 400}},
		&engine.Node{ID: "say", Type: "control.log", Params: map[string]any{"message": "tick {{ i }}"}, Position: engine.Point{X: 600}},
	)
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "loop"}, {From: "loop", Port: "loop", To: "inc"}, {From: "inc", Port: "next", To: "say"}, {From: "say", Port: "next", To: "loop"}}
	return f
}

func TestCloseWithUnsavedChangesAsks(t *testing.T) {
	s, _ := newTestStudio(t)
	s.closeRequested()
	if s.Win.Canvas().Overlays().Top() != nil {
		t.Fatal("a clean document asked before closing")
	}
	s2, _ := newTestStudio(t)
	dragPalette(t, s2, "control.log", fyne.NewPos(400, 200))
	s2.closeRequested()
	if s2.Win.Canvas().Overlays().Top() == nil {
		t.Fatal("closing with unsaved changes did not ask")
	}
}

// TestLoadProgressInStatusBar: model loading progress reported from another
// goroutine during a run shows in the status bar, and "Running…" once done.
func TestLoadProgressInStatusBar(t *testing.T) {
	s, ui := startWaitingRun(t)
	go s.ShowLoadProgress("gpt2", 45, 100)
	if !pump(t, ui, patience, func() bool { return s.statusText == "Loading gpt2: 45%" }) {
		t.Errorf("status %q", s.statusText)
	}
	go s.ShowLoadProgress("gpt2", 100, 100)
	if !pump(t, ui, patience, func() bool { return s.statusText == "Running…" }) {
		t.Errorf("status after loading %q", s.statusText)
	}
	s.Stop()
	pump(t, ui, patience, func() bool { return !s.Running() })
}

// TestMinimizeWhileRunning: with the setting on, Run minimizes the studio
// (through Options.Minimize, given the window's title) before the flow
// starts and brings it back when the run has ended; Debug leaves it alone.
func TestMinimizeWhileRunning(t *testing.T) {
	a := test.NewApp()
	t.Cleanup(a.Quit)
	var mu sync.Mutex
	var calls []string
	s := NewStudio(a, Options{DataDir: t.TempDir(), Minimize: func(title string) (func(), error) {
		mu.Lock()
		calls = append(calls, "minimize "+title)
		mu.Unlock()
		return func() {
			mu.Lock()
			calls = append(calls, "restore")
			mu.Unlock()
		}, nil
	}})
	ui := make(chan func(), 4096)
	s.bridge.do = func(f func()) { ui <- f }
	s.ShowEditor()
	s.setDocument(NewDocument(quickFlow(), ""))
	got := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(calls) }
	run := func(debug bool) {
		t.Helper()
		s.Run(debug)
		done := s.RunDone()
		if !pump(t, ui, patience, func() bool { return !s.Running() }) {
			t.Fatal("run did not finish")
		}
		<-done // the restore runs as the run goroutine ends
	}

	run(false) // setting off
	if c := got(); len(c) != 0 {
		t.Fatalf("minimized with the setting off: %v", c)
	}
	a.Preferences().SetBool(PrefMinimize, true)
	run(false)
	if c := got(); !slices.Equal(c, []string{"minimize " + s.Win.Title(), "restore"}) {
		t.Fatalf("calls %v", c)
	}
	run(true) // Debug: the person wants to watch the studio
	if c := got(); len(c) != 2 {
		t.Fatalf("Debug minimized: %v", c)
	}
}

// A switch node shows one port per case plus default, and follows edits of
// its cases; a drag from a case port connects that case.
func TestSwitchShowsCasePorts(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.switch", fyne.NewPos(350, 150))
	dragPalette(t, s, "control.log", fyne.NewPos(650, 300))
	sw := nodesOfType(s.Doc.Flow, "control.switch")[0]
	logn := nodesOfType(s.Doc.Flow, "control.log")[0]
	s.Doc.SetParam(sw.ID, "cases", []any{"new", "paid"})
	for _, p := range []string{"new", "paid", "default", "error"} {
		if _, ok := s.Canvas.PortPosition(sw.ID, p); !ok {
			t.Errorf("no %q port on the switch", p)
		}
	}
	if _, ok := s.Canvas.PortPosition(sw.ID, "next"); ok {
		t.Error("a switch has no next port")
	}
	from, _ := s.Canvas.PortPosition(sw.ID, "paid")
	to, _ := s.Canvas.NodeCenter(logn.ID)
	dragCanvas(s.Canvas, from, to, 0)
	if got := s.Doc.Flow.Next(sw.ID, "paid"); got != logn.ID {
		t.Fatalf("switch.paid leads to %q, want %q; edges %v", got, logn.ID, s.Doc.Flow.Edges)
	}
	s.Doc.SetParam(sw.ID, "cases", []any{"new", "paid", "shipped"})
	if _, ok := s.Canvas.PortPosition(sw.ID, "shipped"); !ok {
		t.Error("an added case shows no port")
	}
}
