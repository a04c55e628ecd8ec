//go:build !windows && !darwin

package robot_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	_ "deskbot/engine/activities"
	"deskbot/engine/desktop"
	"deskbot/engine/desktop/robot"
)

func parseFlow(t *testing.T, src string) *engine.Flow {
	t.Helper()
	f, err := engine.Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse flow: %v\n%s", err, src)
	}
	return f
}

func formDir(t *testing.T) string {
	d, err := filepath.Abs("../../../assets/formapp")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// typingFlow activates the form titled title, clicks into its name field
// (found by its picture anchor, searched in region; "" is the screen),
// goes to the end of the field and types text with a pause of charDelay after each character.
func typingFlow(t *testing.T, title, text, charDelay, region string) *engine.Flow {
	t.Helper()
	return typeFlow(title, text, charDelay, region)
}

func typeFlow(title, text, charDelay, region string) *engine.Flow {
	anchor := map[string]any{"image": "name-anchor.png", "output": "anchor"}
	if region != "" {
		anchor["region"] = region
	}
	f := engine.NewFlow("long typing")
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "activate", Type: "window.activate", Params: map[string]any{"title": title, "match": "exact"}},
		&engine.Node{ID: "anchor", Type: "screen.find_image", Params: anchor},
		&engine.Node{ID: "click", Type: "mouse.click", Params: map[string]any{"x": "anchor.x + 120", "y": "anchor.y"}},
		&engine.Node{ID: "end", Type: "keyboard.press", Params: map[string]any{"keys": "end"}},
		&engine.Node{ID: "type", Type: "keyboard.type", Params: map[string]any{"text": text, "char_delay": charDelay}},
	)
	f.Edges = []engine.Edge{
		{From: "start", Port: "next", To: "activate"}, {From: "activate", Port: "next", To: "anchor"},
		{From: "anchor", Port: "next", To: "click"}, {From: "click", Port: "next", To: "end"},
		{From: "end", Port: "next", To: "type"},
	}
	return f
}

// runGuarded runs flow on the X desktop with the failsafe watcher, its
// relative paths against baseDir.
func runGuarded(t *testing.T, r desktop.Desktop, flow *engine.Flow, baseDir string) (*engine.Result, error) {
	t.Helper()
	opts := engine.Options{Observer: logObserver(t), BaseDir: baseDir, ArtifactDir: t.TempDir()}
	desktop.Use(&opts, r)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := desktop.Guard(ctx, r, cancel)
	defer stop()
	return engine.Run(ctx, flow, opts)
}

// logObserver logs a run's events to the test log.
func logObserver(t *testing.T) engine.Observer {
	return engine.ObserverFunc(func(e engine.Event) {
		switch e.Kind {
		case engine.EventStepFinished:
			t.Logf("step %d %s %s %s %s %v", e.Seq, e.NodeID, e.Status, e.Duration.Round(time.Millisecond), e.Err, e.Outputs)
		case engine.EventLog:
			t.Logf("  %s: %s", e.NodeID, e.Message)
		}
	})
}

const unicodeText = "Zoë Ørsted – café ✓ 日本"

// TestFlowDrivesForm runs a flow against a real fyne window under Xvfb:
// it activates the window by title (another window has the focus), finds
// an anchor image and clicks into the name field, types Unicode text,
// selects it with ctrl+a, copies it with ctrl+c and reads the clipboard,
// tabs to the email field, finds the Save picture and clicks it. The test
// then reads the program's state file.
func TestFlowDrivesForm(t *testing.T) {
	r := xserver(t)
	target := startForm(t, r, "Deskbot Test Form")
	other := startForm(t, r, "Scratch Window")
	if a, err := r.ActiveWindow(); err != nil || a.Title != other.title {
		t.Logf("active window before the flow: %v %v", a, err)
	}
	flow := parseFlow(t, `{
  "format": "deskbot.flow", "version": 1, "name": "drive the form",
  "settings": {"action_delay": "150ms"},
  "variables": [{"name": "text", "type": "string", "default": "`+unicodeText+`"}],
  "nodes": [
    {"id": "start", "type": "control.start", "position": {"x": 0, "y": 0}},
    {"id": "activate", "type": "window.activate", "position": {"x": 0, "y": 0}, "params": {"title": "deskbot test FORM"}},
    {"id": "title", "type": "window.active_title", "position": {"x": 0, "y": 0}, "params": {"output": "title"}},
    {"id": "anchor", "type": "screen.find_image", "position": {"x": 0, "y": 0}, "params": {"image": "name-anchor.png", "output": "anchor", "tolerance": 0.05, "region": "window"}},
    {"id": "click_name", "type": "mouse.click", "position": {"x": 0, "y": 0}, "params": {"x": "anchor.x + 120", "y": "anchor.y"}},
    {"id": "type", "type": "keyboard.type", "position": {"x": 0, "y": 0}, "params": {"text": "{{ text }}"}},
    {"id": "select", "type": "keyboard.press", "position": {"x": 0, "y": 0}, "params": {"keys": "ctrl+a"}},
    {"id": "copy", "type": "keyboard.press", "position": {"x": 0, "y": 0}, "params": {"keys": "ctrl+c"}},
    {"id": "clip", "type": "clipboard.get", "position": {"x": 0, "y": 0}, "params": {"output": "copied"}},
    {"id": "same", "type": "control.assert", "position": {"x": 0, "y": 0}, "params": {"condition": "copied == text", "message": "clipboard has {{ copied }}"}},
    {"id": "tab", "type": "keyboard.press", "position": {"x": 0, "y": 0}, "params": {"keys": "tab"}},
    {"id": "email", "type": "keyboard.type", "position": {"x": 0, "y": 0}, "params": {"text": "zoe@example.org", "char_delay": "5ms"}},
    {"id": "save", "type": "mouse.click", "position": {"x": 0, "y": 0}, "params": {"image": "save-button.png", "timeout": "5s", "region": "window"}},
    {"id": "shot", "type": "screen.screenshot", "position": {"x": 0, "y": 0}, "params": {"area": "active_window", "output": "shot"}},
    {"id": "size", "type": "screen.size", "position": {"x": 0, "y": 0}, "params": {"output": "screen"}}
  ],
  "edges": [
    {"from": "start", "port": "next", "to": "activate"},
    {"from": "activate", "port": "next", "to": "title"},
    {"from": "title", "port": "next", "to": "anchor"},
    {"from": "anchor", "port": "next", "to": "click_name"},
    {"from": "click_name", "port": "next", "to": "type"},
    {"from": "type", "port": "next", "to": "select"},
    {"from": "select", "port": "next", "to": "copy"},
    {"from": "copy", "port": "next", "to": "clip"},
    {"from": "clip", "port": "next", "to": "same"},
    {"from": "same", "port": "next", "to": "tab"},
    {"from": "tab", "port": "next", "to": "email"},
    {"from": "email", "port": "next", "to": "save"},
    {"from": "save", "port": "next", "to": "shot"},
    {"from": "shot", "port": "next", "to": "size"}
  ]
}`)
	res, err := runGuarded(t, r, flow, formDir(t))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := res.Vars["title"]; got != target.title {
		t.Errorf("active title %q, want %q", got, target.title)
	}
	if got := res.Vars["copied"]; got != unicodeText {
		t.Errorf("clipboard %q, want %q", got, unicodeText)
	}
	var st formState
	if !waitFor(time.Minute, func() bool { st = target.read(t); return st.SaveClicks == 1 }) {
		t.Fatalf("the Save picture was not clicked: %+v", st)
	}
	if len(st.Saved) != 1 || st.Saved[0].Name != unicodeText || st.Saved[0].Email != "zoe@example.org" {
		t.Errorf("saved %+v, want name %q and email zoe@example.org", st.Saved, unicodeText)
	}
	if st := other.read(t); st.Name != "" || st.SaveClicks != 0 {
		t.Errorf("the other window got input: %+v", st)
	}
	shot, _ := res.Vars["shot"].(string)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Errorf("screenshot %q: %v", shot, err)
	}
	if sz, _ := res.Vars["screen"].(map[string]any); sz["width"] != 1280 || sz["height"] != 800 {
		t.Errorf("screen size %v, want 1280x800", res.Vars["screen"])
	}
	if held, _ := r.HeldKeys(); len(held) > 0 {
		t.Errorf("keys still held after the run: %v", held)
	}
}

// TestFailsafeStopsTyping types a long text and moves the pointer into the
// top-left corner from outside the run (xdotool): the run must end as
// stopped by the user, typing must stop and no key may stay held. The stop
// latency is logged, not asserted (no test asserts a wall-clock time); the
// waits are bounded at 60 s only so that a broken build fails, not hangs.
func TestFailsafeStopsTyping(t *testing.T) {
	r := xserver(t)
	target := startForm(t, r, "Failsafe Form")
	long := strings.Repeat("abcdefghij", 300)
	flow := typingFlow(t, "Failsafe Form", long, "3ms", "")
	opts := engine.Options{Observer: logObserver(t), BaseDir: formDir(t), ArtifactDir: t.TempDir()}
	desktop.Use(&opts, r)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := desktop.Guard(ctx, r, cancel)
	defer stop()
	type out struct {
		res *engine.Result
		err error
		at  time.Time
	}
	done := make(chan out, 1)
	go func() {
		res, err := engine.Run(ctx, flow, opts)
		done <- out{res, err, time.Now()}
	}()
	// Wait until typing is under way.
	if !waitFor(60*time.Second, func() bool { return len(target.read(t).Name) >= 20 }) {
		t.Fatalf("typing did not start: %+v", target.read(t))
	}
	moved := time.Now()
	xdotool(t, "mousemove", "0", "0")
	var o out
	select {
	case o = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not stop within 60s of the failsafe corner")
	}
	latency := o.at.Sub(moved)
	t.Logf("failsafe stop latency: %s (from the xdotool mousemove call to engine.Run returning)", latency)
	if o.res.Status != engine.StatusStopped || !errors.Is(o.err, engine.ErrStoppedByUser) || !errors.Is(o.err, desktop.ErrFailsafe) {
		t.Fatalf("run ended %s: %v; want stopped by the failsafe", o.res.Status, o.err)
	}
	// Typing has stopped: once the program has handled the key events sent
	// before the stop, the field does not grow any more.
	n1, n2 := -1, -2
	waitFor(5*time.Second, func() bool {
		n1 = len(target.read(t).Name)
		time.Sleep(300 * time.Millisecond)
		n2 = len(target.read(t).Name)
		return n1 == n2
	})
	time.Sleep(time.Second)
	n3 := len(target.read(t).Name)
	if n1 != n2 || n3 != n2 || n3 >= len(long) {
		t.Errorf("typing went on after the stop: %d, %d, then %d characters (of %d)", n1, n2, n3, len(long))
	}
	if held, err := r.HeldKeys(); err != nil || len(held) > 0 {
		t.Errorf("keys still held after the stop (XQueryKeymap): %v %v", held, err)
	}
	// xdotool agrees that no modifier is down.
	if out := strings.TrimSpace(xdotool(t, "getmouselocation")); !strings.HasPrefix(out, "x:0 y:0") {
		t.Errorf("pointer at %q, want the corner", out)
	}
	xdotool(t, "mousemove", "640", "400")
}

// TestHotkeyStopsRun stops a long typing flow with the global stop hotkey
// (an X key grab on the root window), pressed through XTest by xdotool
// while the form window has the focus.
func TestHotkeyStopsRun(t *testing.T) {
	r := xserver(t)
	target := startForm(t, r, "Hotkey Form")
	flow := typingFlow(t, "Hotkey Form", strings.Repeat("hotkey ", 400), "5ms", "window")
	opts := engine.Options{Observer: logObserver(t), BaseDir: formDir(t), ArtifactDir: t.TempDir()}
	desktop.Use(&opts, r)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop, err := desktop.GuardWith(ctx, r, cancel, desktop.GuardOptions{Hotkey: desktop.DefaultStopHotkey})
	if err != nil {
		t.Fatalf("guard with hotkey: %v", err)
	}
	defer stop()
	done := make(chan error, 1)
	go func() { _, err := engine.Run(ctx, flow, opts); done <- err }()
	if !waitFor(60*time.Second, func() bool { return len(target.read(t).Name) >= 14 }) {
		t.Fatalf("typing did not start: %+v", target.read(t))
	}
	pressed := time.Now()
	xdotool(t, "key", "ctrl+alt+q")
	select {
	case err := <-done:
		t.Logf("hotkey stop latency: %s", time.Since(pressed))
		if !errors.Is(err, desktop.ErrHotkey) {
			t.Fatalf("run ended with %v, want the stop hotkey", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the hotkey did not stop the run within 60s")
	}
	if held, err := r.HeldKeys(); err != nil || len(held) > 0 {
		t.Errorf("keys still held after the stop: %v %v", held, err)
	}
	// While the guard holds the combo, another grab of it fails clearly.
	other, err := r.WatchHotkey("ctrl+alt+q", func() {})
	if err == nil {
		other()
		t.Error("the hotkey could be grabbed twice")
	} else if !strings.Contains(err.Error(), "already taken") {
		t.Errorf("second grab: %v", err)
	}
}

var updateScreenshot = flag.Bool("update-screenshot", false, "copy the sample flow's result screenshot to assets/screenshots/desktop-form.png")

// TestSampleFillFormFromCSV runs assets/flows/fill-form-from-csv.json
// against the form program and checks every contact of the CSV arrived.
func TestSampleFillFormFromCSV(t *testing.T) {
	r := xserver(t)
	// The sample's pictures are the form program's.
	for sample, app := range map[string]string{"fill-form-save.png": "save-button.png", "fill-form-name.png": "name-anchor.png", "fill-form-email.png": "email-anchor.png"} {
		a, err1 := os.ReadFile(filepath.Join("../../../assets/flows", sample))
		b, err2 := os.ReadFile(filepath.Join("../../../assets/formapp", app))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("assets/flows/%s differs from assets/formapp/%s (%v %v)", sample, app, err1, err2)
		}
	}
	target := startForm(t, r, "Deskbot Test Form")
	other := startForm(t, r, "Some Other Window")
	path, _ := filepath.Abs("../../../assets/flows/fill-form-from-csv.json")
	flow, err := engine.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if probs := engine.Lint(flow, engine.Default, filepath.Dir(path)); len(probs) > 0 {
		t.Fatalf("lint: %v", probs)
	}
	res, err := runGuarded(t, r, flow, filepath.Dir(path))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []struct{ Name, Email, Notes string }{
		{"Anna Kowalska", "anna.kowalska@example.org", "Prefers email"},
		{"José Núñez", "jose.nunez@example.com", "Call after 14:00"},
		{"Zoë Ørsted", "zoe@example.net", "Invoice in EUR ✓"},
		{"李小龍", "lee@example.cn", ""},
	}
	var st formState
	waitFor(time.Minute, func() bool { st = target.read(t); return len(st.Saved) == len(want) })
	if len(st.Saved) != len(want) {
		t.Fatalf("saved %d contacts, want %d: %+v\nform now: %+v\nthe other window: %+v", len(st.Saved), len(want), st.Saved, st, other.read(t))
	}
	for i, w := range want {
		if st.Saved[i] != w {
			t.Errorf("contact %d: got %+v, want %+v", i+1, st.Saved[i], w)
		}
	}
	if res.Vars["saved"] != 4.0 {
		t.Errorf("saved = %v, want 4", res.Vars["saved"])
	}
	shot, _ := res.Vars["result_shot"].(string)
	if _, err := os.Stat(shot); err != nil {
		t.Fatalf("result screenshot: %v", err)
	}
	if *updateScreenshot {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile("../../../assets/screenshots/desktop-form.png", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailedStepLeavesScreenshot: a desktop step that fails on the real
// screen leaves a full-screen PNG as the step output "screenshot".
func TestFailedStepLeavesScreenshot(t *testing.T) {
	r := xserver(t)
	flow := parseFlow(t, `{
  "format": "deskbot.flow", "version": 1, "name": "failing", "settings": {}, "variables": [],
  "nodes": [
    {"id": "start", "type": "control.start", "position": {"x": 0, "y": 0}},
    {"id": "activate", "type": "window.activate", "position": {"x": 0, "y": 0}, "params": {"title": "No Such Window", "timeout": "200ms"}}
  ],
  "edges": [{"from": "start", "port": "next", "to": "activate"}]
}`)
	rec := &engine.Recorder{}
	opts := engine.Options{Observer: rec, ArtifactDir: t.TempDir()}
	desktop.Use(&opts, r)
	_, err := engine.Run(context.Background(), flow, opts)
	if err == nil || !errors.Is(err, desktop.ErrNotFound) {
		t.Fatalf("run: %v, want not found", err)
	}
	var shot string
	for _, e := range rec.Events() {
		if e.Kind == engine.EventStepFinished && e.NodeID == "activate" {
			shot, _ = e.Outputs["screenshot"].(string)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("failure screenshot %q: %v", shot, err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 1280 || cfg.Height != 800 {
		t.Errorf("failure screenshot: %+v %v", cfg, err)
	}
	opaque(t, "failure screenshot", shot)
}

// opaque fails the test unless every pixel of the PNG at path has alpha 255
// (X's padding byte once became alpha: screenshots were mostly transparent).
func opaque(t *testing.T, what, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%s %q: %v", what, path, err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s %q: %v", what, path, err)
	}
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				n++
			}
		}
	}
	if n > 0 {
		t.Errorf("%s: %d of %d pixels are not opaque", what, n, b.Dx()*b.Dy())
	}
	return img
}

// TestScreenshotTemplateFoundWhereCut takes a screenshot with
// screen.screenshot, checks that it is opaque, cuts a template out of it
// around the form's name field, and looks for that template with
// screen.find_image at tolerance 0: it must be found exactly where it was
// cut.
func TestScreenshotTemplateFoundWhereCut(t *testing.T) {
	r := xserver(t)
	f := startForm(t, r, "Opaque Form")
	if err := r.ActivateWindow(f.win.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	dir := t.TempDir()
	shotFlow := parseFlow(t, `{
  "format": "deskbot.flow", "version": 1, "name": "shoot", "settings": {"action_delay": "0s"}, "variables": [],
  "nodes": [
    {"id": "start", "type": "control.start", "position": {"x": 0, "y": 0}},
    {"id": "shot", "type": "screen.screenshot", "position": {"x": 0, "y": 0}, "params": {"output": "shot"}}
  ],
  "edges": [{"from": "start", "port": "next", "to": "shot"}]
}`)
	res, err := runGuarded(t, r, shotFlow, dir)
	if err != nil {
		t.Fatalf("screenshot run: %v", err)
	}
	shot := opaque(t, "screen.screenshot", res.Vars["shot"].(string))
	// The template: the name anchor of the form and the field beside it,
	// located with the asset picture, cut from Deskbot's own screenshot.
	m := findNameAnchor(t, shot)
	cut := image.Rect(m.Rect.Min.X-4, m.Rect.Min.Y-4, m.Rect.Min.X+150, m.Rect.Max.Y+4).Intersect(shot.Bounds())
	tmpl := image.NewRGBA(image.Rect(0, 0, cut.Dx(), cut.Dy()))
	draw.Draw(tmpl, tmpl.Bounds(), shot, cut.Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, tmpl); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cut.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	findFlow := parseFlow(t, `{
  "format": "deskbot.flow", "version": 1, "name": "find the cut", "settings": {"action_delay": "0s"}, "variables": [],
  "nodes": [
    {"id": "start", "type": "control.start", "position": {"x": 0, "y": 0}},
    {"id": "find", "type": "screen.find_image", "position": {"x": 0, "y": 0}, "params": {"image": "cut.png", "tolerance": 0, "timeout": "2s", "output": "found"}}
  ],
  "edges": [{"from": "start", "port": "next", "to": "find"}]
}`)
	res, err = runGuarded(t, r, findFlow, dir)
	if err != nil {
		t.Fatalf("find run: %v", err)
	}
	found, _ := res.Vars["found"].(map[string]any)
	if found["left"] != cut.Min.X || found["top"] != cut.Min.Y || found["width"] != cut.Dx() || found["height"] != cut.Dy() {
		t.Errorf("template cut at %v found at %v", cut, found)
	}
	// A capture through the Desktop is opaque too (what image search sees).
	img, err := r.Capture(image.Rectangle{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 255 {
			t.Fatalf("Capture: pixel %d has alpha %d", i/4, img.Pix[i])
		}
	}
}

// TestAppOpenRelativeProgram starts a program given relative to the flow's
// folder (tools/mark.sh), from a test whose working folder is elsewhere,
// and a bare program name from PATH (sh).
func TestAppOpenRelativeProgram(t *testing.T) {
	r := xserver(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tools"), 0o755); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(dir, "marked")
	script := "#!/bin/sh\necho \"$1\" > '" + mark + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "tools", "mark.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	flow := parseFlow(t, `{
  "format": "deskbot.flow", "version": 1, "name": "open relative", "settings": {"action_delay": "0s"}, "variables": [],
  "nodes": [
    {"id": "start", "type": "control.start", "position": {"x": 0, "y": 0}},
    {"id": "open", "type": "app.open", "position": {"x": 0, "y": 0}, "params": {"target": "tools/mark.sh", "args": ["relative ok"]}},
    {"id": "bare", "type": "app.open", "position": {"x": 0, "y": 0}, "params": {"target": "sh", "args": ["-c", "echo bare ok > '`+mark+`.bare'"]}}
  ],
  "edges": [{"from": "start", "port": "next", "to": "open"}, {"from": "open", "port": "next", "to": "bare"}]
}`)
	if _, err := runGuarded(t, r, flow, dir); err != nil {
		t.Fatalf("run: %v", err)
	}
	for file, want := range map[string]string{mark: "relative ok\n", mark + ".bare": "bare ok\n"} {
		var got []byte
		waitFor(5*time.Second, func() bool { got, _ = os.ReadFile(file); return string(got) == want })
		if string(got) != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
}

// typeRunChild is a run in a process of its own, as `deskbot run` does
// it: it types text into the form titled title on $DISPLAY and exits.
func typeRunChild(title, text string) int {
	r, err := robot.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	base, _ := filepath.Abs("../../../assets/formapp")
	opts := engine.Options{BaseDir: base, ArtifactDir: os.TempDir()}
	desktop.Use(&opts, r)
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := desktop.Guard(ctx, r, cancel)
	_, err = engine.Run(ctx, typeFlow(title, text, "0s", ""), opts)
	stop()
	cancel(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child run:", err)
		return 1
	}
	return 0
}

// TestTwoRunsKeepCapitals runs two typing runs in a row, each in a process
// of its own, on one X server: the first types 24 distinct non-ASCII
// characters (more than Xvfb's 19 spare keycodes), the second capital
// umlauts. The keycodes the first run mapped used to stay mapped, so the
// second found no spare keycode and typed "Äpfel" as "äpfel".
func TestTwoRunsKeepCapitals(t *testing.T) {
	r := xserver(t)
	// What earlier tests of this process typed is mapped still (they call
	// TypeText, not a run): start from the server's own keymap.
	if err := r.RestoreKeymap(); err != nil {
		t.Fatal(err)
	}
	f := startForm(t, r, "Capitals Form")
	first := "àáâãäåæçèéêëìíîïðñòóôõöø "
	second := "Äpfel Öl Über Æble"
	for i, text := range []string{first, second} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "DISPLAY="+xs.display, "DESKBOT_TEST_TYPE_RUN="+f.title, "DESKBOT_TEST_TYPE_TEXT="+text)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}
	want := first + second
	var got string
	waitFor(time.Minute, func() bool { got = f.read(t).Name; return got == want })
	if got != want {
		t.Errorf("two runs typed\n%q\ngot\n%q", want, got)
	}
}
