package winetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"deskbot/engine/desktop/xvfbtest"
)

// The stage's shared parts, set up once by TestMain.
var (
	exe    string   // bin/deskbot.exe
	env    []string // DISPLAY, WINEPREFIX...
	root   string   // the repository
	setup  error    // why the stage could not start
	notSet = "DESKBOT_WINE_EXE is not set: `make test-windows` (part of `make test`) builds bin/deskbot.exe and runs this stage under Wine"
)

func TestMain(m *testing.M) {
	exe = os.Getenv("DESKBOT_WINE_EXE")
	if exe == "" {
		fmt.Println("winetest:", notSet)
		os.Exit(m.Run())
	}
	_, file, _, _ := runtime.Caller(0)
	root = filepath.Dir(filepath.Dir(file))
	var stop func()
	stop, setup = start()
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// start brings up Xvfb with jwm and a fresh Wine prefix holding the
// bcryptprimitives.dll stand-in.
func start() (stop func(), err error) {
	srv, err := xvfbtest.New(xvfbtest.Options{Screen: "1280x800x24", WM: true, Tools: []string{"wine", "wineboot", "wineserver", "x86_64-w64-mingw32-gcc", "xdotool", "import", "xwininfo"}})
	if err != nil {
		return nil, err
	}
	prefix, err := os.MkdirTemp("", "deskbot-wine-")
	if err != nil {
		srv.Stop()
		return nil, err
	}
	env = append(srv.Env(), "WINEPREFIX="+prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=",
		"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "DESKBOT_STOP_HOTKEY=off")
	stop = func() {
		c := exec.Command("wineserver", "-k")
		c.Env = env
		c.Run()
		srv.Stop()
		os.RemoveAll(prefix)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	boot := exec.CommandContext(ctx, "wineboot", "-i")
	boot.Env = env
	if out, err := boot.CombinedOutput(); err != nil {
		stop()
		return nil, fmt.Errorf("wineboot -i (making the Wine prefix): %v\n%s", err, out)
	}
	sys32 := filepath.Join(prefix, "drive_c", "windows", "system32")
	gcc := exec.Command("x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", filepath.Join(sys32, "bcryptprimitives.dll"),
		filepath.Join(root, "winetest", "testdata", "bcryptprimitives.c"),
		filepath.Join(root, "winetest", "testdata", "bcryptprimitives.def"), "-ladvapi32")
	if out, err := gcc.CombinedOutput(); err != nil {
		stop()
		return nil, fmt.Errorf("build the bcryptprimitives.dll stand-in: %v\n%s", err, out)
	}
	return stop, nil
}

func need(t *testing.T) {
	t.Helper()
	if exe == "" {
		t.Skip(notSet)
	}
	if setup != nil {
		t.Fatalf("the Wine stage could not start: %v", setup)
	}
}

// winPath is a Linux path as Windows programs under Wine see it (drive Z:
// is /), with backslashes.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

type result struct {
	code           int
	stdout, stderr string
}

// wine runs deskbot.exe with args and extra environment.
func wine(t *testing.T, extra []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "wine", append([]string{exe}, args...)...)
	c.Env = append(append([]string{}, env...), extra...)
	// Files, not pipes: programs the exe starts (notepad) inherit its
	// output handles under Wine and would hold a pipe open after it ends.
	outF, errF := tempFile(t), tempFile(t)
	c.Stdout, c.Stderr = outF, errF
	err := c.Run()
	out, _ := os.ReadFile(outF.Name())
	errOut, _ := os.ReadFile(errF.Name())
	r := result{code: -1, stdout: string(out), stderr: string(errOut)}
	if c.ProcessState != nil {
		r.code = c.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		t.Fatalf("deskbot.exe %s: still running after 4 minutes\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	}
	if err != nil && r.code == -1 {
		t.Fatalf("wine deskbot.exe %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			if rel == "out" {
				return filepath.SkipDir
			}
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The command line under Wine: lint and run the file and CSV samples from a
// folder with non-ASCII characters, given as Windows paths with
// backslashes; the run history in a real SQLite file under another such
// folder; runs and show-run read it back.
func TestCLI(t *testing.T) {
	need(t)
	base := t.TempDir()
	flows := filepath.Join(base, "Prüfung Ärger 数据")
	copyTree(t, filepath.Join(root, "assets", "flows"), flows)
	data := filepath.Join(base, "Verlauf Grüße 历史")
	denv := []string{"DESKBOT_DATA=" + winPath(data)}
	samples := []string{"csv-to-letters.json", "invoice-summary.json"}
	for _, s := range samples {
		if r := wine(t, denv, "lint", winPath(filepath.Join(flows, s))); r.code != 0 {
			t.Fatalf("lint %s: exit %d\n%s%s", s, r.code, r.stdout, r.stderr)
		}
	}
	r := wine(t, denv, "lint", winPath(filepath.Join(flows, "no such flow.json")))
	if r.code == 0 || !strings.Contains(r.stderr+r.stdout, "no such flow.json") {
		t.Errorf("lint of a missing file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range samples {
		if r := wine(t, denv, "run", winPath(filepath.Join(flows, s))); r.code != 0 {
			t.Fatalf("run %s: exit %d\n%s%s", s, r.code, r.stdout, r.stderr)
		}
	}
	letters, _ := filepath.Glob(filepath.Join(flows, "out", "letters", "*"))
	if len(letters) == 0 {
		t.Errorf("csv-to-letters wrote no letters under %s", flows)
	}
	dbs, _ := filepath.Glob(filepath.Join(data, "*.db"))
	if len(dbs) == 0 {
		all, _ := filepath.Glob(filepath.Join(data, "*"))
		t.Fatalf("no SQLite file in %s (there: %v)", data, all)
	}
	if b, err := os.ReadFile(dbs[0]); err != nil || !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		t.Fatalf("%s is not an SQLite file: %v", dbs[0], err)
	}
	r = wine(t, denv, "runs")
	if r.code != 0 || !strings.Contains(r.stdout, "CSV to letters") {
		t.Fatalf("runs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var id string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "CSV to letters") {
			id = strings.Fields(line)[0]
		}
	}
	r = wine(t, denv, "show-run", id)
	if r.code != 0 || !strings.Contains(r.stdout, "file.read_csv") {
		t.Fatalf("show-run %s: exit %d\n%s%s", id, r.code, r.stdout, r.stderr)
	}
	t.Logf("runs under Wine:\n%s", r.stdout)
}

// The text typed into notepad: German, Chinese, symbols.
const typed = "Hallo Grüße aus Köln, 中文测试 ÄÖÜ ß €"

// Wine's notepad driven by deskbot.exe: open it, type Unicode text, press
// keys, save through its Save As dialog, activate it, take an opaque
// screenshot of it; then, in a second run, find a piece of that screenshot
// on the screen and close notepad. The saved file is read back.
func TestNotepad(t *testing.T) {
	need(t)
	dir := t.TempDir()
	saved := filepath.Join(dir, "saved.txt")
	clip := filepath.Join(dir, "clipboard.txt")
	shot := filepath.Join(dir, "notepad.png")
	flow1 := fmt.Sprintf(`{
  "format": "deskbot.flow", "version": 1, "name": "notepad under Wine",
  "nodes": [
    {"id": "start", "type": "control.start"},
    {"id": "open", "type": "app.open", "params": {"target": "notepad", "wait_window": "Notepad", "timeout": "90s"}},
    {"id": "act", "type": "window.activate", "params": {"title": "Notepad", "timeout": "10s"}},
    {"id": "type", "type": "keyboard.type", "params": {"text": %q}},
    {"id": "enter", "type": "keyboard.press", "params": {"keys": "enter"}},
    {"id": "type2", "type": "keyboard.type", "params": {"text": "Zeile zwei"}},
    {"id": "all", "type": "keyboard.press", "params": {"keys": "ctrl+a"}},
    {"id": "copy", "type": "keyboard.press", "params": {"keys": "ctrl+c"}},
    {"id": "clip", "type": "clipboard.get", "params": {"output": "clip"}},
    {"id": "keep", "type": "file.write_text", "params": {"path": %q, "text": "{{ clip }}"}},
    {"id": "save", "type": "keyboard.press", "params": {"keys": "ctrl+s"}},
    {"id": "dialog", "type": "window.wait", "params": {"title": "Save", "timeout": "30s"}},
    {"id": "name", "type": "keyboard.type", "params": {"text": %q}},
    {"id": "ok", "type": "keyboard.press", "params": {"keys": "enter"}},
    {"id": "saved0", "type": "window.wait", "params": {"title": "saved.txt", "timeout": "8s"}},
    {"id": "ansi", "type": "keyboard.press", "params": {"keys": "enter"}},
    {"id": "saved", "type": "window.wait", "params": {"title": "saved.txt", "timeout": "30s"}},
    {"id": "act2", "type": "window.activate", "params": {"title": "saved.txt"}},
    {"id": "shot", "type": "screen.screenshot", "params": {"area": "active_window", "file": %q}}
  ],
  "edges": [
    {"from": "start", "port": "next", "to": "open"}, {"from": "open", "port": "next", "to": "act"},
    {"from": "act", "port": "next", "to": "type"}, {"from": "type", "port": "next", "to": "enter"},
    {"from": "enter", "port": "next", "to": "type2"}, {"from": "type2", "port": "next", "to": "all"},
    {"from": "all", "port": "next", "to": "copy"}, {"from": "copy", "port": "next", "to": "clip"},
    {"from": "clip", "port": "next", "to": "keep"}, {"from": "keep", "port": "next", "to": "save"},
    {"from": "save", "port": "next", "to": "dialog"}, {"from": "dialog", "port": "next", "to": "name"},
    {"from": "name", "port": "next", "to": "ok"}, {"from": "ok", "port": "next", "to": "saved0"},
    {"from": "saved0", "port": "next", "to": "act2"}, {"from": "saved0", "port": "timeout", "to": "ansi"},
    {"from": "ansi", "port": "next", "to": "saved"},
    {"from": "saved", "port": "next", "to": "act2"}, {"from": "act2", "port": "next", "to": "shot"}
  ]
}`, typed, winPath(clip), winPath(saved), winPath(shot))
	f1 := filepath.Join(dir, "notepad.json")
	os.WriteFile(f1, []byte(flow1), 0o644)
	r := wine(t, nil, "run", winPath(f1))
	if r.code != 0 {
		t.Fatalf("run the notepad flow: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// What notepad holds, copied to the clipboard by the flow: every
	// character typed arrived as itself.
	want := typed + "\r\nZeile zwei"
	if b, err := os.ReadFile(clip); err != nil || norm(string(b)) != norm(want) {
		t.Errorf("notepad holds %q, want %q (%v)", b, want, err)
	}
	// Wine's notepad saves a new file in the ANSI code page (Windows-1252
	// here) and warns that characters outside it are lost; the flow accepts
	// that when the warning shows. The file read back is that text.
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatalf("notepad saved nothing: %v", err)
	}
	text := decode(b)
	if norm(text) != norm(want) && norm(text) != norm(ansi(want)) {
		t.Errorf("saved text %q, want %q or in ANSI %q (file bytes % x)", text, want, ansi(want), b[:min(len(b), 64)])
	}
	img := readPNG(t, shot)
	if n := opaqueColours(t, img); n < 8 {
		t.Errorf("the screenshot has %d colours: blank?", n)
	}
	// A piece of the screenshot with the most colours: the typed text.
	tmpl := bestPiece(img, 90, 24)
	tp := filepath.Join(dir, "piece.png")
	writePNG(t, tp, tmpl)
	flow2 := fmt.Sprintf(`{
  "format": "deskbot.flow", "version": 1, "name": "find and close under Wine",
  "nodes": [
    {"id": "start", "type": "control.start"},
    {"id": "act", "type": "window.activate", "params": {"title": "saved.txt"}},
    {"id": "find", "type": "screen.find_image", "params": {"image": %q, "timeout": "10s", "output": "found"}},
    {"id": "log", "type": "control.log", "params": {"message": "found at {{ found.x }},{{ found.y }}"}},
    {"id": "close", "type": "window.close", "params": {"title": "saved.txt"}},
    {"id": "gone", "type": "window.wait", "params": {"title": "saved.txt", "until": "closes", "timeout": "20s"}}
  ],
  "edges": [
    {"from": "start", "port": "next", "to": "act"}, {"from": "act", "port": "next", "to": "find"},
    {"from": "find", "port": "next", "to": "log"}, {"from": "log", "port": "next", "to": "close"},
    {"from": "close", "port": "next", "to": "gone"}
  ]
}`, winPath(tp))
	f2 := filepath.Join(dir, "close.json")
	os.WriteFile(f2, []byte(flow2), 0o644)
	r = wine(t, nil, "run", winPath(f2))
	if r.code != 0 {
		t.Fatalf("run the find-and-close flow: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`found at \d+,\d+`).MatchString(r.stdout + r.stderr) {
		t.Errorf("no position logged:\n%s%s", r.stdout, r.stderr)
	}
	if out, _ := xdotool("search", "--name", "saved.txt"); strings.TrimSpace(out) != "" {
		t.Errorf("notepad's window is still there: %s", out)
	}
}

// norm drops trailing line ends and makes line ends \n.
func norm(s string) string { return strings.ReplaceAll(strings.TrimRight(s, "\r\n"), "\r\n", "\n") }

// ansi is s as Windows-1252 keeps it: characters outside it become "?".
func ansi(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x100 || r == '€' {
			b.WriteRune(r)
		} else {
			b.WriteRune('?')
		}
	}
	return b.String()
}

// decode reads notepad's file: UTF-16 with a BOM, or UTF-8 (BOM or not).
func decode(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		u := make([]uint16, (len(b)-2)/2)
		binary.Read(bytes.NewReader(b[2:]), binary.LittleEndian, u)
		return string(utf16.Decode(u))
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return string(b[3:])
	case utf8.Valid(b):
		return string(b)
	}
	// Windows-1252.
	var sb strings.Builder
	for _, c := range b {
		if c == 0x80 {
			sb.WriteRune('€')
		} else {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

func xdotool(args ...string) (string, error) {
	c := exec.Command("xdotool", args...)
	c.Env = env
	out, err := c.Output()
	return string(out), err
}

func readPNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", p, err)
	}
	return img
}

func writePNG(t *testing.T, p string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// opaqueColours fails the test on a pixel that is not opaque and returns
// how many colours the image has.
func opaqueColours(t *testing.T, img image.Image) int {
	t.Helper()
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			if a != 0xffff {
				t.Fatalf("pixel %d,%d has alpha %d: the screenshot is not opaque", x, y, a>>8)
			}
			seen[[3]uint32{r, g, bl}] = true
		}
	}
	return len(seen)
}

// bestPiece is the w x h piece of img with the most distinct colours.
func bestPiece(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	best, bestN := image.Rect(b.Min.X, b.Min.Y, b.Min.X+w, b.Min.Y+h), -1
	for y := b.Min.Y; y+h <= b.Max.Y; y += h / 2 {
		for x := b.Min.X; x+w <= b.Max.X; x += w / 3 {
			seen := map[uint32]bool{}
			for yy := y; yy < y+h; yy += 2 {
				for xx := x; xx < x+w; xx += 2 {
					r, g, bl, _ := img.At(xx, yy).RGBA()
					seen[r>>8<<16|g>>8<<8|bl>>8] = true
				}
			}
			if len(seen) > bestN {
				best, bestN = image.Rect(x, y, x+w, y+h), len(seen)
			}
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Set(x, y, img.At(best.Min.X+x, best.Min.Y+y))
		}
	}
	return out
}

// The studio exe opens its window under Wine: the window shows, and a
// screenshot of it is not blank. DESKBOT_WINE_SHOTS keeps the screenshot.
func TestStudio(t *testing.T) {
	need(t)
	c := exec.Command("wine", exe)
	c.Env = append(append([]string{}, env...), "DESKBOT_DATA="+winPath(t.TempDir()),
		"DESKBOT_SAMPLES="+winPath(filepath.Join(root, "assets", "flows")))
	outF := tempFile(t)
	c.Stdout, c.Stderr = outF, outF
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Process.Kill()
		c.Wait()
	}()
	var id string
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(time.Second) {
		o, _ := xdotool("search", "--onlyvisible", "--name", "^Deskbot")
		if f := strings.Fields(o); len(f) > 0 {
			id = f[0]
			break
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(outF.Name())
			t.Fatalf("no Deskbot window after 3 minutes; output:\n%s", out)
		}
	}
	time.Sleep(5 * time.Second) // let it draw
	dir := os.Getenv("DESKBOT_WINE_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, "studio-under-wine.png")
	imp := exec.Command("import", "-window", id, p)
	imp.Env = env
	if o, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("screenshot of the studio: %v\n%s", err, o)
	}
	img := readPNG(t, p)
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("the studio window is %dx%d", b.Dx(), b.Dy())
	}
	if n := opaqueColours(t, img); n < 20 {
		t.Errorf("the studio window has %d colours: blank?", n)
	}
	t.Logf("studio screenshot: %s", p)
}

// Programs and window bounds under Wine: a program started in the
// background with its output kept, waited for; notepad moved and resized
// (SetWindowPos), its bounds read back, and stopped by its pid (its Job
// object) so that its window goes away.
func TestProcessesAndBounds(t *testing.T) {
	need(t)
	dir := t.TempDir()
	flow := `{
  "format": "deskbot.flow", "version": 1, "name": "programs under Wine",
  "nodes": [
    {"id": "start", "type": "control.start"},
    {"id": "bg", "type": "process.start", "params": {"program": "cmd", "args": ["/c", "echo hallo-aus-cmd"], "pid": "cmdpid"}},
    {"id": "wait", "type": "process.wait", "params": {"pid": "{{ cmdpid }}", "timeout": "60s"}},
    {"id": "log1", "type": "control.log", "params": {"message": "cmd said [{{ stdout }}] exit {{ exit_code }}"}},
    {"id": "np", "type": "process.start", "params": {"program": "notepad", "pid": "nppid"}},
    {"id": "win", "type": "window.wait", "params": {"title": "Notepad", "timeout": "60s"}},
    {"id": "set", "type": "window.set_bounds", "params": {"title": "Notepad", "x": 140, "y": 110, "width": 530, "height": 320}},
    {"id": "get", "type": "window.get_bounds", "params": {"title": "Notepad", "output": "b"}},
    {"id": "log2", "type": "control.log", "params": {"message": "bounds {{ b.x }},{{ b.y }} {{ b.width }}x{{ b.height }}"}},
    {"id": "stop", "type": "process.stop", "params": {"pid": "{{ nppid }}"}},
    {"id": "gone", "type": "window.wait", "params": {"title": "Notepad", "until": "closes", "timeout": "20s"}}
  ],
  "edges": [
    {"from": "start", "port": "next", "to": "bg"}, {"from": "bg", "port": "next", "to": "wait"},
    {"from": "wait", "port": "next", "to": "log1"}, {"from": "log1", "port": "next", "to": "np"},
    {"from": "np", "port": "next", "to": "win"}, {"from": "win", "port": "next", "to": "set"},
    {"from": "set", "port": "next", "to": "get"}, {"from": "get", "port": "next", "to": "log2"},
    {"from": "log2", "port": "next", "to": "stop"}, {"from": "stop", "port": "next", "to": "gone"}
  ]
}`
	f := filepath.Join(dir, "programs.json")
	os.WriteFile(f, []byte(flow), 0o644)
	r := wine(t, nil, "run", winPath(f))
	out := r.stdout + r.stderr
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, out)
	}
	if !strings.Contains(out, "cmd said [hallo-aus-cmd") || !strings.Contains(out, "exit 0") {
		t.Errorf("the background program's output or exit code is missing:\n%s", out)
	}
	if !strings.Contains(out, "bounds 140,110 530x320") {
		t.Errorf("bounds not read back as set:\n%s", out)
	}
}

// A run whose process is killed shows as interrupted under Windows too:
// store/proc_windows.go tells a live process from a gone one (before it,
// Windows kept such a run "running" for ever).
func TestInterruptedRun(t *testing.T) {
	need(t)
	base := t.TempDir()
	flow := filepath.Join(base, "hold.json")
	if err := os.WriteFile(flow, []byte(`{"format":"deskbot.flow","version":1,"name":"Hold on",
 "nodes":[{"id":"start","type":"control.start"},{"id":"hold","type":"control.wait","label":"Hold","params":{"duration":"5m"}}],
 "edges":[{"from":"start","port":"next","to":"hold"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	denv := []string{"DESKBOT_DATA=" + winPath(filepath.Join(base, "data"))}
	c := exec.Command("wine", exe, "run", winPath(flow))
	c.Env = append(append([]string{}, env...), denv...)
	out := tempFile(t)
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Process.Kill()
	status := func() string {
		r := wine(t, denv, "runs")
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Contains(line, "Hold on") {
				return line
			}
		}
		return ""
	}
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(status(), "running"); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("the run does not show as running: %q\n%s", status(), b)
		}
	}
	// End deskbot.exe the way Task Manager does: no chance to record.
	kill := exec.Command("wine", "taskkill", "/F", "/IM", "deskbot.exe")
	kill.Env = env
	if b, err := kill.CombinedOutput(); err != nil {
		t.Fatalf("taskkill: %v\n%s", err, b)
	}
	c.Wait()
	if line := status(); !strings.Contains(line, "interrupted") {
		t.Errorf("after the kill: %q, want interrupted", line)
	}
}
