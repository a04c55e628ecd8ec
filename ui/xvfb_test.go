package ui

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/engine/desktop/xvfbtest"
)

// xserver is an Xvfb display with the jwm window manager, started by a
// test. fyne's GLFW driver needs a window manager before the first window.
type xserver struct {
	display string
}

func startX(tb testing.TB) *xserver {
	tb.Helper()
	if testing.Short() {
		tb.Skip("real-window test skipped in -short mode")
	}
	s := xvfbtest.Start(tb, xvfbtest.Options{Screen: "1440x900x24", WM: true, Tools: []string{"xdotool", "import"}})
	return &xserver{display: s.Display}
}

func (x *xserver) env() []string {
	return append(os.Environ(), "DISPLAY="+x.display, "LANG=en_US.UTF-8")
}

func (x *xserver) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Env = x.env()
	return c
}

// findWindow returns the id of a window whose title contains "Deskbot" and
// name. (xdotool's regex search trips over the em dash in the title, so
// the search is by name and the full title is read back.)
func (x *xserver) findWindow(name string) string {
	out, err := x.cmd("xdotool", "search", "--name", name).Output()
	if err != nil {
		return ""
	}
	for _, id := range strings.Fields(string(out)) {
		t, err := x.cmd("xdotool", "getwindowname", id).Output()
		if err == nil && strings.Contains(string(t), "Deskbot") && strings.Contains(string(t), name) {
			return id
		}
	}
	return ""
}

func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// buildDeskbot builds the deskbot binary once per test binary
// (`go build ./app`), or takes $DESKBOT_BIN.
func buildDeskbot(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		if b := os.Getenv("DESKBOT_BIN"); b != "" {
			builtBin = b // a binary built beforehand
			return
		}
		dir, err := os.MkdirTemp("", "deskbot-bin")
		if err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(dir, "deskbot")
		c := exec.Command("go", "build", "-o", bin, "./app")
		c.Dir = ".."
		if out, err := c.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./app: %v\n%s", err, out)
			return
		}
		builtBin = bin
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtBin
}

// screenFlow is the flow the real-window test opens: a row of nodes with
// labelled ports, the CSV-to-letters shape.
func screenFlow() *engine.Flow {
	f := engine.NewFlow("Customer letters")
	f.Description = "Reads a CSV of customers and writes one letter per row."
	f.Variables = []engine.Variable{{Name: "out_dir", Type: "string", Default: "out"}}
	f.Nodes[0].Position = engine.Point{X: 40, Y: 160}
	add := func(id, typ, label string, x, y float32, params map[string]any) {
		f.Nodes = append(f.Nodes, &engine.Node{ID: id, Type: typ, Label: label, Position: engine.Point{X: x, Y: y}, Params: params})
	}
	add("read", "file.read_csv", "Read customers", 220, 160, map[string]any{"path": "customers.csv", "output": "customers"})
	add("each", "control.for_each", "Each customer", 420, 160, map[string]any{"items": "customers", "item": "row"})
	add("letter", "file.write_text", "Write letter", 620, 60, map[string]any{"path": "{{ out_dir }}/{{ row.name }}.txt", "text": "Dear {{ row.name }},"})
	add("check", "control.if", "Big customer?", 820, 60, map[string]any{"condition": "row.amount > 1000"})
	add("flag", "control.log", "Flag for review", 1020, 0, map[string]any{"message": "{{ row.name }} owes {{ row.amount }}"})
	add("done", "control.log", "Report", 620, 280, map[string]any{"message": "done"})
	add("end", "control.end", "End", 820, 280, nil)
	f.Edges = []engine.Edge{
		{From: "start", Port: "next", To: "read"}, {From: "read", Port: "next", To: "each"},
		{From: "each", Port: "each", To: "letter"}, {From: "letter", Port: "next", To: "check"},
		{From: "check", Port: "true", To: "flag"}, {From: "check", Port: "false", To: "each"},
		{From: "flag", Port: "next", To: "each"},
		{From: "each", Port: "done", To: "done"}, {From: "done", Port: "next", To: "end"},
	}
	return f
}

// countNear counts pixels within tol of c in each channel.
func countNear(img image.Image, r, g, b uint8, tol int) int {
	return countNearIn(img, img.Bounds(), r, g, b, tol)
}

// countNearIn is countNear within bd.
func countNearIn(img image.Image, bd image.Rectangle, r, g, b uint8, tol int) int {
	n := 0
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if absInt(int(pr>>8)-int(r)) <= tol && absInt(int(pg>>8)-int(g)) <= tol && absInt(int(pb>>8)-int(b)) <= tol {
				n++
			}
		}
	}
	return n
}

func absInt(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// openStudio starts the deskbot binary on a flow file in dir (its own data
// and config folders there) and waits for a window whose title has name.
// It returns the window id and the program's output so far.
func (x *xserver) openStudio(t *testing.T, flowPath, name string) (win string, logs *outputBuf) {
	t.Helper()
	bin := buildDeskbot(t)
	dir := filepath.Dir(flowPath)
	app := x.cmd(bin, flowPath)
	app.Env = append(app.Env, "DESKBOT_DATA="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "HOME="+dir)
	logs = &outputBuf{}
	app.Stdout, app.Stderr = logs, logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Process.Kill(); app.Wait() }) // before TempDir's removal
	if !waitFor(patience, func() bool { win = x.findWindow(name); return win != "" }) {
		t.Fatalf("no window titled %q; output:\n%s", name, logs.String())
	}
	return win, logs
}

// canvasArea is the middle of the studio window: right of the palette, left
// of the property panel, below the toolbar and above the bottom tabs.
func canvasArea(t *testing.T, x *xserver, win string) image.Rectangle {
	out, err := x.cmd("xdotool", "getwindowgeometry", "--shell", win).Output()
	if err != nil {
		t.Fatalf("window geometry: %v", err)
	}
	g := map[string]int{}
	for _, l := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(l, "=")
		g[k], _ = strconv.Atoi(v)
	}
	wx, wy, w, h := g["X"], g["Y"], g["WIDTH"], g["HEIGHT"]
	if w == 0 || h == 0 {
		t.Fatalf("window geometry: %s", out)
	}
	return image.Rect(wx+w*18/100, wy+h*13/100, wx+w*78/100, wy+h*70/100)
}

func TestRealWindowUnderXvfb(t *testing.T) {
	x := startX(t)
	dir := t.TempDir()
	flowPath := filepath.Join(dir, "letters.json")
	if err := screenFlow().Save(flowPath); err != nil {
		t.Fatal(err)
	}
	win, _ := x.openStudio(t, flowPath, "Customer letters")
	_ = x.cmd("xdotool", "windowsize", win, "1440", "870").Run()
	_ = x.cmd("xdotool", "windowmove", win, "0", "0").Run()
	time.Sleep(2 * time.Second) // let it lay out and paint
	shot := filepath.Join(dir, "studio.png")
	if out, err := x.cmd("import", "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	colours := map[uint32]bool{}
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 2 {
		for x := bd.Min.X; x < bd.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|b>>8] = true
		}
	}
	if len(colours) < 100 {
		t.Fatalf("screenshot looks blank: %d colours", len(colours))
	}
	// Every node carries its category's accent strip; ports are coloured.
	// Only the canvas counts (the palette has accent strips too): it lies
	// between the palette and the property panel, above the tabs.
	cv := canvasArea(t, x, win)
	control := countNearIn(img, cv, 0x5b, 0x6c, 0xf0, 12) // Control nodes
	files := countNearIn(img, cv, 0xe8, 0x9b, 0x1c, 12)   // Files nodes
	errPorts := countNearIn(img, cv, 0xd9, 0x3f, 0x3f, 16)
	t.Logf("%d colours; in the canvas %v: control accent %d px, files accent %d px, error ports %d px", len(colours), cv, control, files, errPorts)
	if control < 100 || files < 30 || errPorts < 50 { // measured: 202, 56, 128
		t.Errorf("nodes not visible: control %d, files %d, error ports %d pixels", control, files, errPorts)
	}
	if dst := os.Getenv("DESKBOT_SCREENSHOT"); dst != "" {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// TestRealMouseBuildsFlowUnderXvfb drives the real deskbot window with
// the X pointer and keyboard: it searches the palette, drags "Log message"
// onto the canvas, drags from the start node's port to the new node, saves
// with ctrl+s and reads the saved file.
func TestRealMouseBuildsFlowUnderXvfb(t *testing.T) {
	x := startX(t)
	dir := t.TempDir()
	flowPath := filepath.Join(dir, "mouse.json")
	if err := engine.NewFlow("Mouse test").Save(flowPath); err != nil {
		t.Fatal(err)
	}
	win, logs := x.openStudio(t, flowPath, "Mouse test")
	time.Sleep(1500 * time.Millisecond)
	xdo := func(args ...string) {
		t.Helper()
		if out, err := x.cmd("xdotool", args...).CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v\n%s", args, err, out)
		}
	}
	shot := func(name string) image.Image {
		t.Helper()
		p := filepath.Join(dir, name)
		if out, err := x.cmd("import", "-window", "root", p).CombinedOutput(); err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		img, err := png.Decode(fh)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	// the start node's "next" port: the only dot of that colour on screen
	img := shot("before.png")
	var sx, sy, n int
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if absInt(int(r>>8)-0x6b) <= 6 && absInt(int(g>>8)-0x7a) <= 6 && absInt(int(b>>8)-0x90) <= 6 {
				sx, sy, n = sx+x, sy+y, n+1
			}
		}
	}
	if n < 20 {
		t.Fatalf("start port not found on screen (%d pixels)", n)
	}
	port := image.Pt(sx/n, sy/n)
	target := port.Add(image.Pt(160, 140))
	t.Logf("start port at %v, dropping at %v", port, target)

	// search the palette and drag the first match onto the canvas
	xdo("mousemove", "--window", win, "110", "96", "click", "1")
	xdo("type", "--delay", "20", "log message")
	time.Sleep(300 * time.Millisecond)
	xdo("mousemove", "--window", win, "60", "175")
	drag := func(to image.Point) {
		xdo("mousedown", "1")
		for i := 0; i < 12; i++ {
			xdo("mousemove_relative", "--", "3", "2")
			time.Sleep(15 * time.Millisecond)
		}
		xdo("mousemove", fmt.Sprint(to.X), fmt.Sprint(to.Y))
		time.Sleep(100 * time.Millisecond)
		xdo("mousemove", fmt.Sprint(to.X+1), fmt.Sprint(to.Y))
		time.Sleep(100 * time.Millisecond)
		xdo("mouseup", "1")
		time.Sleep(300 * time.Millisecond)
	}
	drag(target)
	// from the start port to the new node
	xdo("mousemove", fmt.Sprint(port.X), fmt.Sprint(port.Y))
	time.Sleep(100 * time.Millisecond)
	drag(target)
	xdo("key", "ctrl+s")
	var f *engine.Flow
	if !waitFor(patience, func() bool {
		g, err := engine.LoadFile(flowPath)
		f = g
		return err == nil && len(g.Nodes) == 2
	}) {
		shot("after.png")
		t.Fatalf("saved flow has %d nodes; output:\n%s", len(f.Nodes), logs.String())
	}
	logNode := f.Nodes[1]
	if logNode.Type != "control.log" {
		t.Fatalf("dropped node is %s", logNode.Type)
	}
	if got := f.Next("start", "next"); got != logNode.ID {
		t.Fatalf("start.next leads to %q, want %q; edges %v", got, logNode.ID, f.Edges)
	}
}

// TestRealWindowMinimizesWhileRunning starts the real deskbot with "Minimize
// while running" on, presses F5 on a flow that waits 8 s (long enough to be seen iconic on a
// loaded machine), and reads the
// window's WM_STATE: iconic while the flow runs, normal again after it.
func TestRealWindowMinimizesWhileRunning(t *testing.T) {
	x := startX(t)
	dir := t.TempDir()
	f := engine.NewFlow("Minimize test")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "hold", Type: "control.wait", Params: map[string]any{"duration": "8s"}, Position: engine.Point{X: 250, Y: 0}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "hold"}}
	flowPath := filepath.Join(dir, "minimize.json")
	if err := f.Save(flowPath); err != nil {
		t.Fatal(err)
	}
	prefs := filepath.Join(dir, "config", "fyne", "io.deskbot.studio", "preferences.json")
	os.MkdirAll(filepath.Dir(prefs), 0o755)
	if err := os.WriteFile(prefs, []byte(`{"`+PrefMinimize+`": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	win, logs := x.openStudio(t, flowPath, "Minimize test")
	state := func() string {
		out, _ := x.cmd("xprop", "-id", win, "WM_STATE").Output()
		return string(out)
	}
	time.Sleep(1500 * time.Millisecond)
	// F5 until the window is iconic: a window still settling on a loaded
	// machine may miss the first key (a second F5 while running does nothing).
	iconic := false
	for end := time.Now().Add(patience); !iconic && time.Now().Before(end); {
		_ = x.cmd("xdotool", "windowactivate", "--sync", win).Run()
		if out, err := x.cmd("xdotool", "key", "--window", win, "F5").CombinedOutput(); err != nil {
			t.Fatalf("xdotool: %v %s", err, out)
		}
		iconic = waitFor(10*time.Second, func() bool { return strings.Contains(state(), "Iconic") })
	}
	if !iconic {
		t.Fatalf("the studio was not minimized during the run: %s\noutput:\n%s", state(), logs.String())
	}
	if !waitFor(patience, func() bool { return strings.Contains(state(), "Normal") }) {
		t.Fatalf("the studio did not come back after the run: %s\noutput:\n%s", state(), logs.String())
	}
}

// outputBuf collects a program's output while the test reads it.
type outputBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *outputBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *outputBuf) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
