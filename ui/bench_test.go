package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"deskbot/engine"
)

// bigFlow returns a flow of n nodes in rows of 20, each linked to the next.
func bigFlow(n int) *engine.Flow {
	f := engine.NewFlow(fmt.Sprintf("Big flow %d", n))
	prev := "start"
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("n%d", i)
		typ, params := "control.log", map[string]any{"message": fmt.Sprintf("step {{ %d }}", i)}
		if i%5 == 0 {
			typ, params = "control.set_variable", map[string]any{"variable": "x", "value": fmt.Sprint(i)}
		}
		f.Nodes = append(f.Nodes, &engine.Node{ID: id, Type: typ, Label: fmt.Sprintf("Step %d", i), Params: params,
			Position: engine.Point{X: float32(40 + (i%20)*200), Y: float32(40 + (i/20)*110)}})
		f.Edges = append(f.Edges, engine.Edge{From: prev, Port: "next", To: id})
		prev = id
	}
	return f
}

// BenchmarkStudioFirstFrame: a new studio window with a flow, laid out and
// rendered once by the test driver (software painter).
func BenchmarkStudioFirstFrame(b *testing.B) {
	path := filepath.Join(b.TempDir(), "flow.json")
	if err := screenFlow().Save(path); err != nil {
		b.Fatal(err)
	}
	s, _ := newTestStudio(b)
	b.ResetTimer()
	for b.Loop() {
		st := NewStudio(s.App, Options{})
		st.Win.Resize(fyne.NewSize(1280, 800))
		if err := st.OpenFile(path); err != nil {
			b.Fatal(err)
		}
		st.Win.Canvas().Capture()
		st.Win.Close()
	}
}

// BenchmarkOpen500 opens a 500-node flow: load, lint, build the canvas.
func BenchmarkOpen500(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.json")
	if err := bigFlow(500).Save(path); err != nil {
		b.Fatal(err)
	}
	s, _ := newTestStudio(b)
	b.ResetTimer()
	for b.Loop() {
		if err := s.OpenFile(path); err != nil {
			b.Fatal(err)
		}
		s.Canvas.Refresh()
	}
}

// BenchmarkDrag500 measures one drag step (a Dragged event and the redraw
// of the canvas objects) while moving a node of a 500-node flow, at 100%
// zoom and with the whole flow fitted in view, plus a whole drag with its
// undo snapshot.
func BenchmarkDrag500(b *testing.B) {
	for _, view := range []string{"zoom100", "fit"} {
		b.Run(view, func(b *testing.B) {
			s, _ := newTestStudio(b)
			s.setDocument(NewDocument(bigFlow(500), ""))
			if view == "fit" {
				s.Canvas.Fit()
			} else {
				s.Canvas.ZoomAt(1, fyne.NewPos(0, 0))
			}
			c := s.Canvas
			start, _ := c.NodeCenter("n25")
			c.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: start}, Button: desktop.MouseButtonPrimary})
			c.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: start.Add(fyne.NewPos(1, 1))}, Dragged: fyne.NewDelta(1, 1)})
			b.ResetTimer()
			i := 0
			for b.Loop() {
				d := float32(1)
				if i%100 >= 50 {
					d = -1
				}
				i++
				p := start.Add(fyne.NewPos(float32(i%50), 0))
				c.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: p}, Dragged: fyne.NewDelta(d, 0)})
			}
			b.StopTimer()
			c.DragEnd()
			b.ReportMetric(float64(len(c.r.objects)), "objects")
		})
	}
	b.Run("whole-drag", func(b *testing.B) {
		s, _ := newTestStudio(b)
		s.setDocument(NewDocument(bigFlow(500), ""))
		s.Canvas.ZoomAt(1, fyne.NewPos(0, 0))
		start, _ := s.Canvas.NodeCenter("n25")
		for b.Loop() {
			dragCanvas(s.Canvas, start, start.Add(fyne.NewPos(40, 20)), 0)
			s.Undo()
		}
	})
}

// BenchmarkFirstFrameXvfb starts the real deskbot binary under Xvfb and
// measures the time until its window is on screen, for a small flow and a
// 500-node one.
func BenchmarkFirstFrameXvfb(b *testing.B) {
	x := startX(b)
	bin := buildDeskbot(b)
	dir := b.TempDir()
	for _, tc := range []struct {
		name string
		flow *engine.Flow
	}{{"letters", screenFlow()}, {"500-nodes", bigFlow(500)}} {
		path := filepath.Join(dir, tc.name+".json")
		if err := tc.flow.Save(path); err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			n := 0
			for b.Loop() {
				app := x.cmd(bin, path)
				app.Env = append(app.Env, "DESKBOT_DATA="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
				var logs strings.Builder
				app.Stderr = &logs
				start := time.Now()
				if err := app.Start(); err != nil {
					b.Fatal(err)
				}
				ok := waitFor(patience, func() bool { return x.findWindow(tc.flow.Name) != "" })
				el := time.Since(start)
				app.Process.Kill()
				app.Wait()
				if !ok {
					b.Fatalf("no window; output:\n%s", logs.String())
				}
				total += el
				n++
			}
			b.ReportMetric(float64(total.Microseconds())/float64(n)/1000, "ms-to-window")
		})
	}
}

// BenchmarkBusyRunHandOver runs busyFlow (a tight loop logging every
// iteration) in the studio for 200 hand-overs and stops it. It reports the
// mean and worst time that one hand-over held the UI goroutine, and how
// long Stop took until the studio showed no run. Compare with
// BenchmarkStudioFirstFrame from the same run as a baseline.
func BenchmarkBusyRunHandOver(b *testing.B) {
	var total, worst, stops time.Duration
	n := 0
	for b.Loop() {
		s, ui := newTestStudio(b)
		s.setDocument(NewDocument(busyFlow(), ""))
		s.Run(false)
		for i := 0; i < 200; i++ {
			fn := <-ui
			st := time.Now()
			fn()
			d := time.Since(st)
			total, worst, n = total+d, max(worst, d), n+1
		}
		done := s.RunDone()
		st := time.Now()
		s.Stop()
		for s.Running() {
			(<-ui)()
		}
		stops += time.Since(st)
		<-done
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(n), "handover-ns")
	b.ReportMetric(float64(worst.Nanoseconds()), "worst-handover-ns")
	b.ReportMetric(float64(stops.Nanoseconds())/float64(b.N), "stop-ns")
}
