package ui

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
	"deskbot/store"
)

// TestBuildCSVToLettersFromEmptyCanvas builds the CSV-to-letters flow the
// way a person does — palette drags, port drags, typing into the forms —
// saves it, runs it, and finds the run in History (a real SQLite store).
func TestBuildCSVToLettersFromEmptyCanvas(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenDir(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := test.NewApp()
	defer a.Quit()
	opts := Options{DataDir: filepath.Join(dir, "data")}
	WireStore(&opts, db)
	s := NewStudio(a, opts)
	ui := make(chan func(), 4096)
	s.bridge.do = func(f func()) { ui <- f }
	s.Win.Resize(fyne.NewSize(1400, 900))
	s.New()
	s.Win.Resize(fyne.NewSize(1400, 900))
	if err := os.WriteFile(filepath.Join(dir, "customers.csv"), []byte("name,amount\nAda,120\nGrace,75\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	typeInto := func(field, text string) {
		t.Helper()
		o := s.Props.Fields[field]
		if b, ok := o.(*fyne.Container); ok { // path field: entry + browse button
			for _, c := range b.Objects {
				if e, ok := c.(*widget.Entry); ok {
					o = e
				}
			}
		}
		e, ok := o.(*widget.Entry)
		if !ok {
			t.Fatalf("field %q is %T", field, o)
		}
		e.SetText("") // the person selects all and types over
		test.Type(e, text)
	}
	drop := func(typ string, x, y float32) string {
		t.Helper()
		dragPalette(t, s, typ, fyne.NewPos(x, y))
		sel := s.Canvas.Selection()
		if len(sel) != 1 {
			t.Fatalf("drop of %s selected %v", typ, sel)
		}
		return sel[0]
	}
	connect := func(from, port, to string) {
		t.Helper()
		p, ok := s.Canvas.PortPosition(from, port)
		if !ok {
			t.Fatalf("no port %s.%s", from, port)
		}
		c, _ := s.Canvas.NodeCenter(to)
		dragCanvas(s.Canvas, p, c, 0)
		if s.Doc.Flow.Next(from, port) != to {
			t.Fatalf("%s.%s not connected to %s", from, port, to)
		}
	}

	s.Canvas.ZoomAt(0.8, fyne.NewPos(0, 0))
	read := drop("file.read_csv", 320, 120)
	typeInto("path", "customers.csv")
	typeInto("output", "customers")
	each := drop("control.for_each", 320, 300)
	typeInto("items", "customers")
	typeInto("item", "row")
	letter := drop("file.write_text", 600, 300)
	typeInto("label", "Write letter")
	typeInto("path", "letters/{{ row.name }}.txt")
	typeInto("text", "Dear {{ row.name }},\nyou owe us {{ row.amount }} EUR.")
	end := drop("control.end", 600, 480)
	connect("start", "next", read)
	connect(read, "next", each)
	connect(each, "each", letter)
	connect(letter, "next", each)
	connect(each, "done", end)
	for _, p := range s.Problems {
		if p.Severity == engine.SeverityError {
			t.Errorf("lint: %s", p)
		}
	}
	flowPath := filepath.Join(dir, "letters.json")
	if err := s.SaveTo(flowPath); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.LoadFile(flowPath); err != nil {
		t.Fatal(err)
	}

	s.Run(false)
	if !pump(t, ui, 20*time.Second, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	out := strings.Join(s.OutputLines(), "\n")
	if !strings.Contains(out, engine.StatusOK) {
		t.Fatalf("run output:\n%s", out)
	}
	for _, name := range []string{"Ada", "Grace"} {
		b, err := os.ReadFile(filepath.Join(dir, "letters", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "Dear "+name+",") {
			t.Errorf("letter for %s: %q", name, b)
		}
	}
	// History: the run, its steps, a step's variables.
	if s.history == nil {
		t.Fatal("no History tab")
	}
	s.history.Reload()
	if len(s.history.runs) != 1 || s.history.runs[0].Status != engine.StatusOK {
		t.Fatalf("history runs: %+v", s.history.runs)
	}
	s.history.runList.Select(0)
	if len(s.history.steps) < 8 {
		t.Fatalf("history steps: %d", len(s.history.steps))
	}
	s.history.stepList.Select(2)
	if d := s.history.detail.Text; !strings.Contains(d, "customers") {
		t.Errorf("step detail lacks the variables:\n%s", d)
	}
	// The first letter step shows its inputs: the text as written to the
	// file and the path it went to, next to its outputs.
	letterStep := -1
	for i, st := range s.history.steps {
		if st.Type == "file.write_text" {
			letterStep = i
			break
		}
	}
	if letterStep < 0 {
		t.Fatalf("no letter step in %+v", s.history.steps)
	}
	s.history.stepList.Select(letterStep)
	d := s.history.detail.Text
	for _, want := range []string{"Inputs:", `text = "Dear Ada,\nyou owe us 120 EUR."`, "path = ", filepath.Join("letters", "Ada.txt"), "Outputs:"} {
		if !strings.Contains(d, want) {
			t.Errorf("letter step detail lacks %q:\n%s", want, d)
		}
	}
}

// TestHistoryShowsFailureScreenshot runs a flow whose step saves a
// screenshot into the run's artifact folder and fails, then finds the
// error and the picture in the History tab.
func TestHistoryShowsFailureScreenshot(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenDir(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := engine.NewRegistry()
	start, _ := engine.Default.Spec("control.start")
	reg.MustRegister(*start)
	reg.MustRegister(engine.Spec{Type: "test.snap_and_fail", Title: "Snap and fail", Category: "Test",
		New: func(p *engine.Params) (engine.Activity, error) {
			return engine.ActivityFunc(func(ctx context.Context, c *engine.Call) (string, error) {
				d, err := c.ArtifactDir()
				if err != nil {
					return "", err
				}
				p := filepath.Join(d, "failure-snap-1.png")
				img := image.NewRGBA(image.Rect(0, 0, 8, 8))
				fh, err := os.Create(p)
				if err != nil {
					return "", err
				}
				png.Encode(fh, img)
				fh.Close()
				c.Output("screenshot", p)
				return "", errors.New("the button was not found")
			}), nil
		}})
	a := test.NewApp()
	defer a.Quit()
	opts := Options{Registry: reg}
	WireStore(&opts, db)
	s := NewStudio(a, opts)
	ui := make(chan func(), 4096)
	s.bridge.do = func(f func()) { ui <- f }
	f := engine.NewFlow("snap")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "snap", Type: "test.snap_and_fail", Label: "Click Save", Position: engine.Point{X: 200}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "snap"}}
	s.setDocument(NewDocument(f, ""))
	s.ShowEditor()
	s.Run(false)
	if !pump(t, ui, 10*time.Second, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	if sel := s.Canvas.Selection(); len(sel) != 1 || sel[0] != "snap" {
		t.Errorf("the failed node is not selected: %v", sel)
	}
	s.history.Reload()
	if len(s.history.runs) != 1 || s.history.runs[0].Status != engine.StatusFailed {
		t.Fatalf("runs: %+v", s.history.runs)
	}
	s.history.runList.Select(0)
	idx := -1
	for i, st := range s.history.steps {
		if st.Node == "snap" {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("no step for the failing node: %+v", s.history.steps)
	}
	s.history.stepList.Select(idx)
	if !strings.Contains(s.history.detail.Text, "the button was not found") {
		t.Errorf("detail lacks the error:\n%s", s.history.detail.Text)
	}
	if !s.history.shot.Visible() || !strings.HasSuffix(s.history.shot.File, "failure-snap-1.png") {
		t.Errorf("screenshot not shown: visible %v file %q", s.history.shot.Visible(), s.history.shot.File)
	}
	// labels and human times; the screenshot fills the pane and opens at
	// full size
	h := s.history
	if l := test.WidgetRenderer(h.stepList); l == nil {
		t.Fatal("no step list")
	}
	if d := h.detail.Text; !strings.Contains(d, "Click Save (snap)") || !strings.Contains(d, "failed") {
		t.Errorf("detail does not name the step by label:\n%s", d)
	}
	if got := stepName(h.steps[idx]); got != "Click Save (snap)" {
		t.Errorf("step name %q", got)
	}
	for i, tab := range s.Tabs.Items {
		if tab.Content == h.Object() {
			s.Tabs.SelectIndex(i)
		}
	}
	s.Win.Resize(fyne.NewSize(1400, 900))
	if h.pane.Objects[0] != h.split || h.split.Leading != h.shotBox {
		t.Fatal("the screenshot is not in the detail pane's top part")
	}
	if sz, pane := h.shotBox.Size(), h.pane.Size(); sz.Width < pane.Width-1 || sz.Height < pane.Height/2 || sz.Width < 300 {
		t.Errorf("screenshot is %v in a pane of %v: a thumbnail, not a picture that fills the pane", sz, pane)
	}
	test.Tap(h.shotBox)
	if h.full == nil || !strings.Contains(h.full.Title(), "failure-snap-1.png") {
		t.Fatalf("tapping the screenshot opened no window: %v", h.full)
	}
	img := h.full.Content().(*container.Scroll).Content.(*canvas.Image)
	if img.FillMode != canvas.ImageFillOriginal || img.File != h.shot.File {
		t.Errorf("full-size window shows %q in mode %v", img.File, img.FillMode)
	}
	// a run without a screenshot shows the text alone
	h.selectRun(0)
	if h.pane.Objects[0] != h.text || h.shot.Visible() {
		t.Error("the run's summary still shows the screenshot")
	}
}
