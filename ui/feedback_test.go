package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

func TestHumanDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		300 * time.Microsecond:                    "under 1 ms",
		850 * time.Millisecond:                    "850 ms",
		2400 * time.Millisecond:                   "2.4 s",
		2 * time.Second:                           "2 s",
		59970 * time.Millisecond:                  "1 min 0 s",
		63 * time.Second:                          "1 min 3 s",
		2*time.Hour + 5*time.Minute + time.Second: "2 h 5 min",
	} {
		if got := humanDur(d); got != want {
			t.Errorf("humanDur(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStepSummary(t *testing.T) {
	for _, c := range []struct {
		typ, port string
		out       map[string]any
		want      string
	}{
		{"file.write_csv", "next", map[string]any{"path": "/tmp/x/out.csv", "rows": 3, "bytes": 1300}, "Wrote 3 rows, Wrote 1 file (out.csv, 1.3 KB)"},
		{"file.read_csv", "next", map[string]any{"rows": 120}, "Read 120 rows"},
		{"http.request", "next", map[string]any{"status": 200.0, "bytes": 512}, "HTTP 200, 512 bytes"},
		{"control.if", "false", nil, "→ false"},
		{"file.copy", "next", map[string]any{"path": "b/a.txt"}, "Copied to a.txt"},
		{"desktop.find_image", "next", map[string]any{"found": false}, "Not found"},
		{"control.log", "next", nil, ""},
	} {
		if got := stepSummary(c.typ, c.port, c.out); got != c.want {
			t.Errorf("stepSummary(%s, %v) = %q, want %q", c.typ, c.out, got, c.want)
		}
	}
}

// A run shows a line per step with the node's label, what it did and its
// time in human units; levels are kept for the colours; the failed node
// turns red with its error on hover and the status bar names it by label.
func TestRunFeedbackInPlainWords(t *testing.T) {
	s, ui := newTestStudio(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("name,amount\nAda,3\nBob,4\nCy,5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a long warning that wraps ", 20)
	f := engine.NewFlow("feedback")
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "r", Type: "file.read_csv", Label: "Read customers", Params: map[string]any{"path": in, "output": "rows"}, Position: engine.Point{X: 200, Y: 40}},
		&engine.Node{ID: "w", Type: "file.write_csv", Label: "Write copy", Params: map[string]any{"path": filepath.Join(dir, "out.csv"), "rows": "rows"}, Position: engine.Point{X: 400, Y: 40}},
		&engine.Node{ID: "l", Type: "control.log", Params: map[string]any{"message": long, "level": "warn"}, Position: engine.Point{X: 600, Y: 40}},
		&engine.Node{ID: "boom", Type: "control.fail", Label: "Stop here", Params: map[string]any{"message": "no customers left"}, Position: engine.Point{X: 800, Y: 40}},
	)
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "r"}, {From: "r", Port: "next", To: "w"}, {From: "w", Port: "next", To: "l"}, {From: "l", Port: "next", To: "boom"}}
	s.setDocument(NewDocument(f, ""))
	s.Run(false)
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	lines, levels := s.OutputLines(), s.OutputLevels()
	find := func(sub string) int {
		for i, l := range lines {
			if strings.Contains(l, sub) {
				return i
			}
		}
		t.Errorf("no output line has %q:\n%s", sub, strings.Join(lines, "\n"))
		return -1
	}
	if i := find("Read customers (r) — Read 3 rows · "); i >= 0 && !strings.HasSuffix(lines[i], " ms") && !strings.HasSuffix(lines[i], " s") {
		t.Errorf("no human time: %q", lines[i])
	}
	find("Write copy (w) — 4 records, Wrote 1 file (out.csv) · ")
	find("✓ Log message (l) — done · ")
	if i := find("WARN [Log message (l)] "); i >= 0 {
		if levels[i] != "warn" {
			t.Errorf("warn line has level %q", levels[i])
		}
		if s.Output.Size().Width == 0 || s.outHeight(lines[i]) <= s.outHeight("short") {
			t.Errorf("a long line does not wrap to more height: %v vs %v", s.outHeight(lines[i]), s.outHeight("short"))
		}
	}
	if i := find("✗ Stop here (boom) — failed: no customers left · "); i >= 0 && levels[i] != "error" {
		t.Errorf("failed step has level %q", levels[i])
	}
	if last := levels[len(levels)-1]; last != "error" {
		t.Errorf("run finished line has level %q", last)
	}
	if st := s.status.Text; !strings.Contains(st, "Failed at Stop here (boom): no customers left") {
		t.Errorf("status bar: %q", st)
	}
	if out := strings.Join(lines, "\n"); !strings.Contains(out, `"Stop here" (node "boom", control.fail)`) {
		t.Errorf("run error does not name the label first:\n%s", out)
	}
	st, tip := s.Canvas.NodeState("boom")
	if st != NodeStateFailed || !strings.Contains(tip, "Stop here (boom): no customers left") {
		t.Fatalf("node boom: state %q tip %q", st, tip)
	}
	if st, _ := s.Canvas.NodeState("w"); st != "" {
		t.Errorf("node w has state %q", st)
	}
	// hover shows the error; moving away hides it
	over := s.Canvas.ToScreen(engine.Point{X: 810, Y: 50})
	s.Canvas.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: over}})
	if got := s.Canvas.TipText(); !strings.Contains(got, "no customers left") {
		t.Errorf("tooltip over the failed node: %q", got)
	}
	s.Canvas.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: s.Canvas.ToScreen(engine.Point{X: 610, Y: 50})}})
	if got := s.Canvas.TipText(); got != "" {
		t.Errorf("tooltip over another node: %q", got)
	}
	// the next run starts clean
	s.setDocument(NewDocument(quickFlow(), ""))
	s.Run(false)
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("second run did not finish")
	}
	if st, _ := s.Canvas.NodeState("boom"); st != "" {
		t.Errorf("failed state survives the next run: %q", st)
	}
}

// The Problems tab names a node by its label first, then its id.
func TestProblemsNameNodeByLabel(t *testing.T) {
	s, _ := newTestStudio(t)
	f := quickFlow()
	f.Node("a").Label = "Greet the customer"
	f.Node("a").Params = map[string]any{} // no message: a lint error
	s.setDocument(NewDocument(f, ""))
	s.lint()
	idx := -1
	for i, p := range s.Problems {
		if p.NodeID == "a" {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("no problem for node a: %+v", s.Problems)
	}
	o := s.ProbList.CreateItem()
	s.ProbList.UpdateItem(idx, o)
	txt := o.(*fyne.Container).Objects[1].(*widget.Label).Text
	if !strings.HasPrefix(txt, "Greet the customer (a)") {
		t.Errorf("problem reads %q", txt)
	}
}

// A step whose outputs say nothing names the variable it set.
func TestStepLineNamesVariableSet(t *testing.T) {
	s, ui := newTestStudio(t)
	s.setDocument(NewDocument(quickFlow(), ""))
	s.Run(false)
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	out := strings.Join(s.OutputLines(), "\n")
	if !strings.Contains(out, "✓ Set variable (b) — Set x · ") {
		t.Errorf("output:\n%s", out)
	}
}
