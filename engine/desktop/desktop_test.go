package desktop_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/engine/desktop"
)

// step is one node of a chain flow built by chain.
type step struct {
	id, typ string
	params  map[string]any
}

// chain builds a flow start -> steps in order (each "next" to the next).
// extra edges can be added by the caller.
func chain(steps ...step) *engine.Flow {
	f := engine.NewFlow("test")
	zero := engine.Duration(0)
	f.Settings.ActionDelay = &zero
	prev := "start"
	for _, s := range steps {
		f.Nodes = append(f.Nodes, &engine.Node{ID: s.id, Type: s.typ, Params: s.params})
		f.Edges = append(f.Edges, engine.Edge{From: prev, Port: "next", To: s.id})
		prev = s.id
	}
	return f
}

type run struct {
	res  *engine.Result
	err  error
	rec  *engine.Recorder
	fake *desktop.Fake
}

func (r run) finished(id string) engine.Event {
	for _, e := range r.rec.Events() {
		if e.Kind == engine.EventStepFinished && e.NodeID == id {
			return e
		}
	}
	return engine.Event{}
}

func (r run) logs() string {
	var b strings.Builder
	for _, e := range r.rec.Events() {
		if e.Kind == engine.EventLog {
			b.WriteString(e.Message + "\n")
		}
	}
	return b.String()
}

func runFlow(t *testing.T, f *engine.Flow, fake *desktop.Fake, mod func(*engine.Options)) run {
	t.Helper()
	rec := &engine.Recorder{}
	opts := engine.Options{Observer: rec, BaseDir: t.TempDir(), ArtifactDir: t.TempDir()}
	if fake != nil {
		desktop.Use(&opts, fake)
	}
	if mod != nil {
		mod(&opts)
	}
	res, err := engine.Run(context.Background(), f, opts)
	return run{res, err, rec, fake}
}

func TestParseKey(t *testing.T) {
	for in, want := range map[string]string{
		"ctrl+s": "ctrl+s", "Control+Shift+S": "ctrl+shift+s", "alt+F4": "alt+f4", "enter": "enter",
		"Return": "enter", "esc": "escape", "A": "shift+a", "ctrl++": "ctrl++", "win+e": "cmd+e",
		"shift+tab": "shift+tab", "pgdn": "pagedown", "shift": "shift", "f12": "f12",
	} {
		k, err := desktop.ParseKey(in)
		if err != nil || k.String() != want {
			t.Errorf("ParseKey(%q) = %q, %v; want %q", in, k, err, want)
		}
	}
	for _, bad := range []string{"", "ctrl+", "foo+s", "ctrl+banana", "é", "ctrl+ü"} {
		if k, err := desktop.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) = %q, want an error", bad, k)
		}
	}
}

// pattern draws a recognisable block pattern.
func pattern(w, h, seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8((x*7 + y*13 + seed*31 + (x/5)*(y/3)*17) % 256)
			img.SetRGBA(x, y, color.RGBA{v, 255 - v, uint8((x*y + seed) % 256), 255})
		}
	}
	return img
}

func screenWith(tmpl image.Image, at image.Point) *image.RGBA {
	s := image.NewRGBA(image.Rect(0, 0, 1280, 800))
	draw.Draw(s, s.Bounds(), &image.Uniform{color.RGBA{0x30, 0x30, 0x38, 255}}, image.Point{}, draw.Src)
	// Some clutter that resembles the template a little.
	draw.Draw(s, image.Rect(100, 100, 400, 300), pattern(300, 200, 9), image.Point{}, draw.Src)
	draw.Draw(s, tmpl.Bounds().Add(at), tmpl, image.Point{}, draw.Src)
	return s
}

func TestFindImage(t *testing.T) {
	tmpl := pattern(48, 30, 1)
	for _, at := range []image.Point{{0, 0}, {617, 403}, {1232, 770}, {101, 99}} {
		m, ok := desktop.FindImage(screenWith(tmpl, at), tmpl, 0)
		if !ok || m.Rect.Min != at || m.Score != 0 {
			t.Errorf("at %v: got %v %v", at, m, ok)
		}
	}
	// Noise within tolerance is still found; a different image is not.
	s := screenWith(tmpl, image.Pt(333, 222))
	for y := 222; y < 252; y++ {
		for x := 333; x < 381; x += 2 {
			c := s.RGBAAt(x, y)
			c.R ^= 0x0f
			s.SetRGBA(x, y, c)
		}
	}
	if _, ok := desktop.FindImage(s, tmpl, 0); ok {
		t.Error("found a noisy copy with tolerance 0")
	}
	if m, ok := desktop.FindImage(s, tmpl, 0.05); !ok || m.Rect.Min != image.Pt(333, 222) {
		t.Errorf("noisy copy: %v %v", m, ok)
	}
	if m, ok := desktop.FindImage(s, pattern(48, 30, 2), 0.1); ok {
		t.Errorf("found an image that is not there: %v", m)
	}
	// Transparent template pixels are ignored.
	masked := pattern(40, 40, 3)
	s = screenWith(masked, image.Pt(700, 500))
	for y := 10; y < 30; y++ {
		for x := 10; x < 30; x++ {
			masked.SetRGBA(x, y, color.RGBA{})
		}
	}
	if m, ok := desktop.FindImage(s, masked, 0); !ok || m.Rect.Min != image.Pt(700, 500) {
		t.Errorf("masked template: %v %v", m, ok)
	}
	// A small template (exhaustive search) and one bigger than the screen.
	small := pattern(5, 4, 4)
	if m, ok := desktop.FindImage(screenWith(small, image.Pt(900, 10)), small, 0); !ok || m.Rect.Min != image.Pt(900, 10) {
		t.Errorf("small template: %v %v", m, ok)
	}
	if _, ok := desktop.FindImage(small, tmpl, 1); ok {
		t.Error("found a template bigger than the image")
	}
}

func BenchmarkFindImage(b *testing.B) {
	tmpl := pattern(72, 32, 1)
	s := screenWith(tmpl, image.Pt(1001, 655))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := desktop.FindImage(s, tmpl, 0.1); !ok {
			b.Fatal("not found")
		}
	}
}

func writePNG(t *testing.T, dir, name string, img image.Image) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestActivitiesOnFake(t *testing.T) {
	dir := t.TempDir()
	tmpl := pattern(40, 20, 5)
	img := writePNG(t, dir, "button.png", tmpl)
	fake := desktop.NewFake()
	fake.SetScreen(screenWith(tmpl, image.Pt(500, 300)))
	f := chain(
		step{"move", "mouse.move", map[string]any{"x": "10 + 5", "y": 20.0}},
		step{"click", "mouse.click", map[string]any{"x": 30.0, "y": 40.0, "button": "right"}},
		step{"dbl", "mouse.click", map[string]any{"clicks": "double"}},
		step{"find", "screen.find_image", map[string]any{"image": img, "output": "btn"}},
		step{"clickimg", "mouse.click", map[string]any{"image": img}},
		step{"drag", "mouse.drag", map[string]any{"from_x": 1.0, "from_y": 100.0, "to_x": "btn.x", "to_y": "btn.y"}},
		step{"scroll", "mouse.scroll", map[string]any{"direction": "up", "amount": 2.0}},
		step{"type", "keyboard.type", map[string]any{"text": "Hé {{ btn.x }}"}},
		step{"keys", "keyboard.press", map[string]any{"keys": "ctrl+s", "times": 2.0}},
		step{"set", "clipboard.set", map[string]any{"text": "copied ✓"}},
		step{"get", "clipboard.get", map[string]any{"output": "clip"}},
		step{"px", "screen.pixel_color", map[string]any{"x": 0.0, "y": 799.0, "output": "px"}},
		step{"size", "screen.size", map[string]any{}},
		step{"shot", "screen.screenshot", map[string]any{"area": "region", "region": "500,300,40,20", "output": "shot"}},
	)
	r := runFlow(t, f, fake, nil)
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	want := []string{
		"move mouse to (15, 20)",
		"move mouse to (30, 40)", "click right at (30, 40)",
		"double-click left at (30, 40)",
		"capture the screen", // find
		"capture the screen", "move mouse to (520, 310)", "click left at (520, 310)",
		"move mouse to (1, 100)", "press left mouse button at (1, 100)", "move mouse smoothly to (520, 310)", "release left mouse button at (520, 310)",
		"scroll by (0, -2) at (520, 310)",
		`type "Hé 520"`,
		"press ctrl+s", "press ctrl+s",
		`set the clipboard to "copied ✓"`, "read the clipboard",
		"capture (500,300)-(540,320)",
	}
	if got := r.fake.Lines(); !slices.Equal(got, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	v := r.res.Vars
	if btn, _ := v["btn"].(map[string]any); btn["x"] != 520 || btn["y"] != 310 || btn["left"] != 500 || btn["width"] != 40 {
		t.Errorf("btn = %v", v["btn"])
	}
	if v["clip"] != "copied ✓" || v["px"] != "#303038" {
		t.Errorf("clip %v px %v", v["clip"], v["px"])
	}
	if sz, _ := v["screen"].(map[string]any); sz["width"] != 1280 || sz["height"] != 800 {
		t.Errorf("screen %v", v["screen"])
	}
	b, err := os.ReadFile(v["shot"].(string))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := png.Decode(strings.NewReader(string(b)))
	if err != nil || shot.Bounds().Dx() != 40 {
		t.Fatalf("screenshot: %v %v", shot.Bounds(), err)
	}
	if m, ok := desktop.FindImage(shot, tmpl, 0); !ok || m.Rect.Min != (image.Point{}) {
		t.Errorf("the screenshot does not show the region")
	}
}

func TestNotFoundPortAndEvidence(t *testing.T) {
	dir := t.TempDir()
	img := writePNG(t, dir, "missing.png", pattern(30, 30, 7))
	fake := desktop.NewFake()
	// Connected not_found port: followed.
	f := chain(step{"find", "screen.find_image", map[string]any{"image": img, "timeout": "0s"}},
		step{"after", "control.log", map[string]any{"message": "found it"}})
	f.Nodes = append(f.Nodes, &engine.Node{ID: "nope", Type: "control.log", Params: map[string]any{"message": "not there"}})
	f.Edges = append(f.Edges, engine.Edge{From: "find", Port: "not_found", To: "nope"})
	r := runFlow(t, f, fake, nil)
	if r.err != nil || r.finished("find").Port != "not_found" || !strings.Contains(r.logs(), "not there") {
		t.Fatalf("not_found: %v %+v\n%s", r.err, r.finished("find"), r.logs())
	}
	// Unconnected: the step fails, names the image, and leaves a screenshot.
	f = chain(step{"click", "mouse.click", map[string]any{"image": img, "timeout": "50ms", "interval": "10ms"}})
	r = runFlow(t, f, fake, nil)
	if r.err == nil || !errors.Is(r.err, desktop.ErrNotFound) || !strings.Contains(r.err.Error(), "missing.png") {
		t.Fatalf("want a not-found error naming the image, got %v", r.err)
	}
	shot, _ := r.finished("click").Outputs["screenshot"].(string)
	if _, err := os.Stat(shot); err != nil || !strings.Contains(shot, "failure-click") {
		t.Errorf("failure screenshot %q: %v", shot, err)
	}
	// A desktop that fails: error with evidence attempt, no crash.
	bad := desktop.NewFake()
	bad.Err = errors.New("X connection lost")
	r = runFlow(t, chain(step{"k", "keyboard.press", map[string]any{"keys": "enter"}}), bad, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "X connection lost") || !strings.Contains(r.err.Error(), `"k"`) {
		t.Errorf("failing desktop: %v", r.err)
	}
	// No desktop service at all.
	r = runFlow(t, chain(step{"k", "keyboard.press", map[string]any{"keys": "enter"}}), nil, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "no desktop") {
		t.Errorf("no desktop: %v", r.err)
	}
}

func TestBadParamsNameTheField(t *testing.T) {
	for _, c := range []struct {
		s     step
		field string
	}{
		{step{"k", "keyboard.press", map[string]any{"keys": "ctrl+banana"}}, "keys"},
		{step{"c", "mouse.click", map[string]any{"x": 1.0}}, "x"},
		{step{"c", "mouse.click", map[string]any{"x": 1.0, "y": 2.0, "image": "a.png"}}, "image"},
		{step{"f", "screen.find_image", map[string]any{"image": "a.png", "tolerance": 2.0}}, "tolerance"},
		{step{"f", "screen.find_image", map[string]any{"image": "a.png", "region": "1,2,3"}}, "region"},
		{step{"w", "window.activate", map[string]any{"title": "([", "match": "regex"}}, "title"},
		{step{"w", "screen.wait_color", map[string]any{"x": 1.0, "y": 1.0, "color": "red"}}, "color"},
		{step{"s", "screen.screenshot", map[string]any{"area": "region"}}, "region"},
	} {
		_, err := engine.Prepare(chain(c.s), engine.Default, "")
		var fe *engine.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Node != c.s.id {
			t.Errorf("%s %v: got %v, want an error on field %q", c.s.typ, c.s.params, err, c.field)
		}
	}
}

func TestWindows(t *testing.T) {
	fake := desktop.NewFake()
	fake.SetWindows([]desktop.Window{
		{ID: 1, Title: "Invoices - LibreOffice Calc", Bounds: image.Rect(0, 0, 600, 400)},
		{ID: 2, Title: "Untitled - Notepad", Bounds: image.Rect(100, 100, 700, 500)},
	}, 0)
	fake.OnOpen = func(target string, args []string) {
		ws, _ := fake.Windows()
		fake.SetWindows(append(ws, desktop.Window{ID: 3, Title: "Report.pdf - Viewer"}), 2)
	}
	f := chain(
		step{"act", "window.activate", map[string]any{"title": `(?i)^untitled.*notepad$`, "match": "regex"}},
		step{"title", "window.active_title", map[string]any{"output": "t1"}},
		step{"act2", "window.activate", map[string]any{"title": "calc"}},
		step{"title2", "window.active_title", map[string]any{"output": "t2"}},
		step{"open", "app.open", map[string]any{"target": "evince", "args": []any{"Report.pdf"}, "wait_window": "Report.pdf", "pid": "pid"}},
		step{"wait", "window.wait", map[string]any{"title": "Report.pdf - Viewer", "match": "exact"}},
		step{"close", "window.close", map[string]any{"title": "notepad"}},
		step{"gone", "window.wait", map[string]any{"title": "notepad", "until": "closes", "timeout": "1s"}},
		step{"act3", "window.activate", map[string]any{"title": "Report.pdf"}},
		step{"min", "window.minimize", map[string]any{}},
	)
	r := runFlow(t, f, fake, nil)
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	if r.res.Vars["t1"] != "Untitled - Notepad" || r.res.Vars["t2"] != "Invoices - LibreOffice Calc" || r.res.Vars["pid"] == nil {
		t.Errorf("vars %v", r.res.Vars)
	}
	if ws, _ := fake.Windows(); len(ws) != 2 || ws[1].ID != 3 {
		t.Errorf("windows after close: %v", ws)
	}
	if l := fake.Lines(); len(l) == 0 || l[len(l)-1] != `minimize window "Report.pdf - Viewer" (0x3)` {
		t.Errorf("last action %q, want the minimize", l)
	}
	if _, err := fake.ActiveWindow(); err == nil {
		t.Error("a minimized window kept the focus")
	}
	// A missing window: not_found port unconnected fails with the titles.
	r = runFlow(t, chain(step{"act", "window.activate", map[string]any{"title": "Excel", "timeout": "0s"}}), fake, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "Invoices - LibreOffice Calc") {
		t.Errorf("missing window: %v", r.err)
	}
}

// TestFailsafeBeforeAction: with the pointer in the corner, the first
// desktop step stops the run as stopped by the user and does not act.
func TestFailsafeBeforeAction(t *testing.T) {
	fake := desktop.NewFake()
	fake.SetMouse(1, 0)
	f := chain(step{"type", "keyboard.type", map[string]any{"text": "hello"}})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := desktop.Guard(ctx, fake, cancel)
	defer stop()
	rec := &engine.Recorder{}
	opts := engine.Options{Observer: rec}
	desktop.Use(&opts, fake)
	res, err := engine.Run(ctx, f, opts)
	if !errors.Is(err, engine.ErrStoppedByUser) || res.Status != engine.StatusStopped {
		t.Fatalf("run: %v (%s), want stopped by the user", err, res.Status)
	}
	if lines := fake.Lines(); len(lines) != 0 {
		t.Errorf("acted in the failsafe corner: %v", lines)
	}
}

// TestGuardWatcherStopsWaitAndReleases: a run holding a key waits for an
// image; moving the pointer into the corner stops it (the watcher polls
// every 50 ms) and the held key is released.
func TestGuardWatcherStopsWaitAndReleases(t *testing.T) {
	dir := t.TempDir()
	img := writePNG(t, dir, "never.png", pattern(30, 30, 8))
	fake := desktop.NewFake()
	f := chain(
		step{"hold", "keyboard.press", map[string]any{"keys": "shift", "action": "down"}},
		step{"wait", "screen.wait_image", map[string]any{"image": img, "timeout": "30s", "interval": "1s"}},
	)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	causes := make(chan error, 1)
	stop, err := desktop.GuardWith(ctx, fake, cancel, desktop.GuardOptions{OnStop: func(c error) { causes <- c }})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	opts := engine.Options{}
	desktop.Use(&opts, fake)
	done := make(chan error, 1)
	go func() { _, err := engine.Run(ctx, f, opts); done <- err }()
	time.Sleep(200 * time.Millisecond)
	if held := fake.Held(); !slices.Equal(held, []string{"key:shift"}) {
		t.Fatalf("held %v, want shift", held)
	}
	fake.SetMouse(0, 0)
	select {
	case err := <-done:
		if !errors.Is(err, desktop.ErrFailsafe) {
			t.Errorf("run ended with %v, want the failsafe", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the watcher did not stop the run")
	}
	// OnStop comes after the release of held keys.
	if cause := <-causes; cause != desktop.ErrFailsafe {
		t.Errorf("OnStop got %v", cause)
	}
	if held := fake.Held(); len(held) != 0 {
		t.Errorf("still held after the stop: %v", held)
	}
	// A hotkey needs a desktop that can watch one.
	if _, err := desktop.GuardWith(context.Background(), desktop.NewFake(), func(error) {}, desktop.GuardOptions{Hotkey: "ctrl+alt+q"}); err == nil {
		t.Error("the fake claimed to watch a hotkey")
	}
}

func TestPace(t *testing.T) {
	d := engine.Duration(250 * time.Millisecond)
	for _, c := range []struct {
		s    engine.Settings
		want time.Duration
	}{
		{engine.Settings{}, 100 * time.Millisecond},
		{engine.Settings{ActionDelay: &d}, 250 * time.Millisecond},
		{engine.Settings{SlowMotion: true}, desktop.SlowMotionDelay},
		{engine.Settings{ActionDelay: &d, SlowMotion: true}, desktop.SlowMotionDelay},
	} {
		if got := desktop.Pace(c.s); got != c.want {
			t.Errorf("Pace(%+v) = %s, want %s", c.s, got, c.want)
		}
	}
	// Slow motion animates mouse moves.
	fake := desktop.NewFake()
	f := chain(step{"m", "mouse.move", map[string]any{"x": 5.0, "y": 6.0}})
	f.Settings.ActionDelay = nil
	f.Settings.SlowMotion = true
	start := time.Now()
	r := runFlow(t, f, fake, nil)
	if r.err != nil || !slices.Equal(fake.Lines(), []string{"move mouse smoothly to (5, 6)"}) {
		t.Errorf("slow motion: %v %v", r.err, fake.Lines())
	}
	if time.Since(start) < desktop.SlowMotionDelay {
		t.Errorf("slow motion did not pause after the action")
	}
}

// TestDryRun: the steps say what they would do, on the run's Fake or a
// fresh one, without waiting.
func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	img := writePNG(t, dir, "ok.png", pattern(20, 20, 1))
	f := chain(
		step{"activate", "window.activate", map[string]any{"title": "Form"}},
		step{"click", "mouse.click", map[string]any{"image": img, "timeout": "1h"}},
		step{"type", "keyboard.type", map[string]any{"text": "Zoë"}},
		step{"keys", "keyboard.press", map[string]any{"keys": "ctrl+s"}},
		step{"open", "app.open", map[string]any{"target": "gedit", "wait_window": "gedit"}},
	)
	for _, fake := range []*desktop.Fake{desktop.NewFake(), nil} {
		start := time.Now()
		r := runFlow(t, f, fake, func(o *engine.Options) { o.DryRun = true })
		if r.err != nil {
			t.Fatalf("dry run: %v", r.err)
		}
		// a click that waited would take its hour: a minute tells them
		// apart however loaded the machine is
		if d := time.Since(start); d > time.Minute {
			t.Errorf("the dry run waited (%v)", d)
		}
		logs := r.logs()
		for _, want := range []string{
			`would activate the window with "Form" in its title`,
			"would look for image " + img + " on the screen",
			"would click left at (640, 400)",
			`would type "Zoë"`,
			"would press ctrl+s",
			`would open "gedit"`,
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("dry-run log lacks %q:\n%s", want, logs)
			}
		}
		if r.finished("keys").Status != engine.StatusDry {
			t.Errorf("status %q, want dry", r.finished("keys").Status)
		}
	}
}

func TestSpecs(t *testing.T) {
	cats := map[string]bool{"Mouse": true, "Keyboard": true, "Screen": true, "Clipboard": true, "Windows": true, "Apps": true}
	n := 0
	for _, s := range engine.Default.Specs() {
		if !cats[s.Category] {
			continue
		}
		n++
		if s.Summary == "" || s.Title == "" || !s.SideEffects {
			t.Errorf("%s: needs a title, a summary and SideEffects", s.Type)
		}
	}
	if n < 17 {
		t.Errorf("%d desktop activities, want at least 17", n)
	}
}

// TestLazy: a flow without desktop steps never opens the desktop (so it
// runs without a display); the first desktop step does, and its error
// names the node.
func TestLazy(t *testing.T) {
	opens := 0
	lazy := desktop.Lazy(func() (desktop.Desktop, error) {
		opens++
		return nil, errors.New("desktop: no X display (DISPLAY is not set)")
	})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := desktop.Guard(ctx, lazy, cancel)
	opts := engine.Options{}
	desktop.Use(&opts, lazy)
	res, err := engine.Run(ctx, chain(step{"w", "control.wait", map[string]any{"duration": "120ms"}}), opts)
	if err != nil || res.Status != engine.StatusOK || opens != 0 {
		t.Fatalf("plain flow: %v %s, opened %d times", err, res.Status, opens)
	}
	_, err = engine.Run(ctx, chain(step{"k", "keyboard.press", map[string]any{"keys": "enter"}}), opts)
	if err == nil || !strings.Contains(err.Error(), `"k"`) || !strings.Contains(err.Error(), "no X display") || opens != 1 {
		t.Fatalf("desktop step: %v, opened %d times", err, opens)
	}
	stop()
	// Once opened, it acts on the real (here: fake) desktop.
	fake := desktop.NewFake()
	ok := desktop.Lazy(func() (desktop.Desktop, error) { return fake, nil })
	opts = engine.Options{}
	desktop.Use(&opts, ok)
	if _, err := engine.Run(context.Background(), chain(step{"k", "keyboard.press", map[string]any{"keys": "enter"}}), opts); err != nil || !ok.Connected() {
		t.Fatalf("lazy fake: %v", err)
	}
	if lines := fake.Lines(); !slices.Equal(lines, []string{"press enter"}) {
		t.Errorf("lines %v", lines)
	}
}

// TestWaits: wait for a colour and for an image to vanish while the screen
// changes; timeouts follow the timeout port.
func TestWaits(t *testing.T) {
	dir := t.TempDir()
	tmpl := pattern(30, 30, 6)
	img := writePNG(t, dir, "spinner.png", tmpl)
	fake := desktop.NewFake()
	fake.SetScreen(screenWith(tmpl, image.Pt(50, 60)))
	go func() {
		time.Sleep(150 * time.Millisecond)
		s := image.NewRGBA(image.Rect(0, 0, 1280, 800))
		draw.Draw(s, s.Bounds(), &image.Uniform{color.RGBA{0x3a, 0x7b, 0xd5, 255}}, image.Point{}, draw.Src)
		fake.SetScreen(s)
	}()
	f := chain(
		step{"gone", "screen.wait_image", map[string]any{"image": img, "until": "vanishes", "timeout": "5s", "interval": "20ms"}},
		step{"blue", "screen.wait_color", map[string]any{"x": 10.0, "y": 10.0, "color": "#3b7cd4", "tolerance": 2.0, "timeout": "5s", "interval": "20ms"}},
		step{"never", "screen.wait_color", map[string]any{"x": 10.0, "y": 10.0, "color": "#ff0000", "timeout": "60ms", "interval": "20ms"}},
	)
	f.Nodes = append(f.Nodes, &engine.Node{ID: "late", Type: "control.log", Params: map[string]any{"message": "timed out"}})
	f.Edges = append(f.Edges, engine.Edge{From: "never", Port: "timeout", To: "late"})
	r := runFlow(t, f, fake, nil)
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	if r.finished("never").Port != "timeout" || r.finished("never").Outputs["color"] != "#3a7bd5" {
		t.Errorf("never: %+v", r.finished("never"))
	}
}

// TestAppOpenResolvesRelativeTargets: app.open resolves a relative target
// against the flow's folder, as the file activities do, when it has a path
// separator or names a file there; a bare program name on PATH, an absolute
// path and a URL are left alone.
func TestAppOpenResolvesRelativeTargets(t *testing.T) {
	base := t.TempDir()
	for _, p := range []string{"letter.txt", "docs/report.pdf", "tools/run.sh"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(base, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, p), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home, _ := os.UserHomeDir()
	cases := []struct{ target, want string }{
		{"docs/report.pdf", filepath.Join(base, "docs", "report.pdf")},
		{"letter.txt", filepath.Join(base, "letter.txt")},
		{"./tools/run.sh", filepath.Join(base, "tools", "run.sh")},
		{"missing/thing.pdf", filepath.Join(base, "missing", "thing.pdf")},
		{"sh", "sh"},
		{"no-such-program-here", "no-such-program-here"},
		{"/bin/true", "/bin/true"},
		{"https://example.com/a/b", "https://example.com/a/b"},
		{"~/x.pdf", filepath.Join(home, "x.pdf")},
	}
	for _, c := range cases {
		fake := desktop.NewFake()
		var got string
		fake.OnOpen = func(target string, args []string) { got = target }
		f := chain(step{"open", "app.open", map[string]any{"target": c.target}})
		r := runFlow(t, f, fake, func(o *engine.Options) { o.BaseDir = base })
		if r.err != nil {
			t.Errorf("%s: run: %v", c.target, r.err)
			continue
		}
		if got != c.want {
			t.Errorf("app.open %q opened %q, want %q", c.target, got, c.want)
		}
	}
}

// restoring is a Fake that counts RestoreKeymap calls.
type restoring struct {
	*desktop.Fake
	restores int
}

func (r *restoring) RestoreKeymap() error { r.restores++; return nil }

// TestTypeRestoresKeymapAtRunEnd: a run that types restores the keyboard
// mapping once when it ends, however many texts it typed and however it
// ends; a dry run does not touch it.
func TestTypeRestoresKeymapAtRunEnd(t *testing.T) {
	for _, failing := range []bool{false, true} {
		d := &restoring{Fake: desktop.NewFake()}
		steps := []step{
			{"t1", "keyboard.type", map[string]any{"text": "Äpfel"}},
			{"t2", "keyboard.type", map[string]any{"text": "Öl"}},
			{"t3", "keyboard.type", map[string]any{"text": "日本"}},
		}
		if failing {
			steps = append(steps, step{"boom", "control.fail", map[string]any{"message": "boom"}})
		}
		f := chain(steps...)
		opts := engine.Options{ArtifactDir: t.TempDir()}
		desktop.Use(&opts, d)
		_, err := engine.Run(context.Background(), f, opts)
		if (err != nil) != failing {
			t.Fatalf("failing=%v: run: %v", failing, err)
		}
		if d.restores != 1 {
			t.Errorf("failing=%v: RestoreKeymap called %d times, want once at the run's end", failing, d.restores)
		}
	}
	d := &restoring{Fake: desktop.NewFake()}
	opts := engine.Options{ArtifactDir: t.TempDir(), DryRun: true}
	desktop.Use(&opts, d)
	if _, err := engine.Run(context.Background(), chain(step{"t", "keyboard.type", map[string]any{"text": "Ä"}}), opts); err != nil {
		t.Fatal(err)
	}
	if d.restores != 0 {
		t.Errorf("a dry run restored the keymap %d times", d.restores)
	}
}

// TestClickOffsetFromImage clicks beside an anchor image: at its centre
// plus the offset (the studio stores a picked point this way).
func TestClickOffsetFromImage(t *testing.T) {
	dir := t.TempDir()
	tmpl := pattern(40, 20, 5)
	img := writePNG(t, dir, "label.png", tmpl)
	fake := desktop.NewFake()
	fake.SetScreen(screenWith(tmpl, image.Pt(500, 300)))
	r := runFlow(t, chain(step{"c", "mouse.click", map[string]any{"image": img, "offset_x": 120.0, "offset_y": -4.0}}), fake, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := []string{"capture the screen", "move mouse to (640, 306)", "click left at (640, 306)"}
	if got := r.fake.Lines(); !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	for _, params := range []map[string]any{{"offset_x": 3.0}, {"offset_y": 3.0}, {"x": 1.0, "y": 1.0, "offset_y": 3.0}} {
		_, err := engine.Prepare(chain(step{"c", "mouse.click", params}), engine.Default, "")
		var fe *engine.FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "offset_") || !strings.Contains(err.Error(), "image") {
			t.Errorf("%v: got %v, want an error on the offset naming the image", params, err)
		}
	}
}

// TestPickMarkers checks the fields the studio lets the user pick on the
// screen: every position and picture of the desktop activities.
func TestPickMarkers(t *testing.T) {
	want := map[string]string{
		"mouse.move":         "x:point/y",
		"mouse.click":        "x:point/y image:image offset_x:point/offset_y@image region:region",
		"mouse.drag":         "from_x:point/from_y to_x:point/to_y",
		"mouse.scroll":       "x:point/y",
		"screen.find_image":  "image:image region:region",
		"screen.wait_image":  "image:image region:region",
		"screen.pixel_color": "x:point/y",
		"screen.wait_color":  "x:point/y",
		"screen.screenshot":  "region:region",
	}
	for typ, w := range want {
		sp, ok := engine.Default.Spec(typ)
		if !ok {
			t.Fatalf("no %s", typ)
		}
		var got []string
		for _, f := range sp.Fields {
			if f.Pick == engine.PickNone {
				continue
			}
			s := f.Name + ":" + string(f.Pick)
			if f.PickY != "" {
				s += "/" + f.PickY
			}
			if f.PickAnchor != "" {
				s += "@" + f.PickAnchor
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%s picks %q, want %q", typ, strings.Join(got, " "), w)
		}
	}
}
