//go:build cgo && !windows

package ocr_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otiai10/gosseract/v2"

	"deskbot/engine"
	"deskbot/engine/desktop"
	"deskbot/engine/ocr"
	"deskbot/engine/ocr/ocrtest"
)

func render(t testing.TB, w, h int, lines ...ocrtest.Line) *image.RGBA {
	t.Helper()
	img, err := ocrtest.Render(w, h, lines...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func writePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// runOCR runs start -> ocr.read with params, with d as the desktop.
func runOCR(t testing.TB, dir string, params map[string]any, d desktop.Desktop) (*engine.Result, error) {
	t.Helper()
	f := engine.NewFlow("ocr")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "ocr", Type: "ocr.read", Params: params})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "ocr"}}
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		var s []string
		for _, p := range ps {
			s = append(s, p.String())
		}
		return nil, &lintError{strings.Join(s, "; ")}
	}
	opts := engine.Options{BaseDir: dir}
	if d != nil {
		desktop.Use(&opts, d)
	}
	return engine.Run(context.Background(), f, opts)
}

type lintError struct{ s string }

func (e *lintError) Error() string { return e.s }

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// An English and a Chinese line drawn with real fonts are read back, each
// language alone and both together.
func TestOCRReadsRenderedImage(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "en.png"), render(t, 640, 160,
		ocrtest.Line{Text: "Invoice 4711", At: image.Pt(20, 20)},
		ocrtest.Line{Text: "Total 99.50 EUR", At: image.Pt(20, 90)}))
	writePNG(t, filepath.Join(dir, "zh.png"), render(t, 520, 100,
		ocrtest.Line{Text: "合计金额已付款", At: image.Pt(20, 20), Size: 40, Chinese: true}))
	writePNG(t, filepath.Join(dir, "both.png"), render(t, 640, 170,
		ocrtest.Line{Text: "Order 1234", At: image.Pt(20, 20)},
		ocrtest.Line{Text: "订单已发货", At: image.Pt(20, 90), Size: 40, Chinese: true}))

	res, err := runOCR(t, dir, map[string]any{"image": "en.png", "words": "words"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(res.Vars["text"].(string)); strings.Join(got, " ") != "Invoice 4711 Total 99.50 EUR" {
		t.Errorf("English: %q", res.Vars["text"])
	}
	words := res.Vars["words"].([]any)
	if len(words) != 5 {
		t.Fatalf("words %v", words)
	}
	// "Total" starts at x 20 of the second line, which is 90 to about 125.
	w := words[2].(map[string]any)
	if w["text"] != "Total" || w["left"].(float64) < 15 || w["left"].(float64) > 30 || w["top"].(float64) < 85 || w["top"].(float64) > 115 || w["confidence"].(float64) < 50 {
		t.Errorf("word %v", w)
	}

	res, err = runOCR(t, dir, map[string]any{"image": "zh.png", "language": "chi_sim"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := squash(res.Vars["text"].(string)); got != "合计金额已付款" {
		t.Errorf("Chinese: %q", res.Vars["text"])
	}
	// English data alone cannot read Chinese: the language option matters.
	res, err = runOCR(t, dir, map[string]any{"image": "zh.png", "language": "eng"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := squash(res.Vars["text"].(string)); strings.Contains(got, "合计") {
		t.Errorf("eng read Chinese: %q", got)
	}

	res, err = runOCR(t, dir, map[string]any{"image": "both.png", "language": "eng+chi_sim"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(res.Vars["text"].(string)), "\n")
	if len(lines) < 2 || squash(lines[0]) != "Order1234" || squash(lines[len(lines)-1]) != "订单已发货" {
		t.Errorf("both: %q", res.Vars["text"])
	}
}

// A screen region is captured through the run's desktop (a fake one, whose
// screen is a rendered picture), read at scale 2, and the words' boxes are
// in screen coordinates.
func TestOCRReadsScreenRegion(t *testing.T) {
	screen := render(t, 1280, 800,
		ocrtest.Line{Text: "Not this line", At: image.Pt(300, 100), Size: 20},
		ocrtest.Line{Text: "Customer ACME", At: image.Pt(300, 400), Size: 20})
	d := desktop.NewFake()
	d.SetScreen(screen)
	res, err := runOCR(t, t.TempDir(), map[string]any{"region": "280,380,400,60", "scale": 2, "words": "words", "output": "seen"}, d)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(res.Vars["seen"].(string)); got != "Customer ACME" {
		t.Fatalf("region: %q", got)
	}
	acme := res.Vars["words"].([]any)[1].(map[string]any)
	cw, _ := ocrtest.Width("Customer ", 20)
	if acme["text"] != "ACME" || abs(acme["left"].(float64)-float64(300+cw)) > 8 || acme["y"].(float64) < 400 || acme["y"].(float64) > 425 {
		t.Errorf("ACME at %v (want left near %d, y in 400-425)", acme, 300+cw)
	}
	// The whole screen, without a region.
	res, err = runOCR(t, t.TempDir(), map[string]any{}, d)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Vars["text"].(string); !strings.Contains(got, "Not this line") || !strings.Contains(got, "Customer ACME") {
		t.Errorf("screen: %q", got)
	}
	if _, err := runOCR(t, t.TempDir(), map[string]any{}, nil); err == nil || !strings.Contains(err.Error(), "this run has no desktop") {
		t.Errorf("no desktop: %v", err)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestOCRErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("just text"), 0o644)
	// A PNG header that claims 100000 x 100000 pixels.
	ihdr := []byte("IHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00")
	huge := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\r"), ihdr...)
	huge = binary.BigEndian.AppendUint32(huge, crc32.ChecksumIEEE(ihdr))
	os.WriteFile(filepath.Join(dir, "huge.png"), huge, 0o644)
	good := render(t, 200, 60, ocrtest.Line{Text: "ok", At: image.Pt(10, 10)})
	writePNG(t, filepath.Join(dir, "cut.png"), good)
	b, _ := os.ReadFile(filepath.Join(dir, "cut.png"))
	os.WriteFile(filepath.Join(dir, "cut.png"), b[:len(b)/2], 0o644)
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"image": "notes.txt"}, `image "` + filepath.Join(dir, "notes.txt") + `": not an image Deskbot reads`},
		{map[string]any{"image": "huge.png"}, "the png image is 100000x100000 pixels"},
		{map[string]any{"image": "cut.png"}, "cut.png"},
		{map[string]any{"image": "gone.png"}, "gone.png"},
		{map[string]any{"image": "x.png", "region": "0,0,10,10"}, `field "region": a region is read from the screen`},
		{map[string]any{"region": "1,2,3"}, `field "region"`},
		{map[string]any{"image": "x.png", "scale": 9}, `field "scale": want 1 to 4`},
		{map[string]any{"image": "x.png", "language": "deu"}, `field "language"`},
	} {
		_, err := runOCR(t, dir, c.params, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.params, err, c.want)
		}
	}
}

// A build without cgo (and the Windows build) registers ocr.read too, and
// it fails with a clear error. The check builds this package's tests that
// way and runs them.
func TestOCRFallbackBuild(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "test", "-count=1", "-run", "^TestOCRNotBuilt$", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("the build without cgo: %v\n%s", err, out)
	}
	if !ocr.Built {
		t.Fatal("this cgo build has no Tesseract")
	}
}

func FuzzLoadImage(f *testing.F) {
	img := render(f, 60, 30, ocrtest.Line{Text: "ab", At: image.Pt(2, 2), Size: 16})
	dir := f.TempDir()
	writePNG(f, filepath.Join(dir, "a.png"), img)
	b, _ := os.ReadFile(filepath.Join(dir, "a.png"))
	f.Add(b)
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Add([]byte("BM"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := ocr.LoadImage(b)
		if err == nil && (img.Bounds().Empty() || img.Bounds().Dx()*img.Bounds().Dy() > 16384*16384/2) {
			t.Fatalf("accepted %v", img.Bounds())
		}
	})
}

// BenchmarkOCRRead reads a two-line English picture. The cases: Read,
// which keeps its Tesseract client for the next read, with English,
// Chinese, both, and the picture enlarged; and, as the same-run baseline,
// new_client, which makes, initialises and closes a client per read, as a
// plain gosseract program does.
func BenchmarkOCRRead(b *testing.B) {
	img := render(b, 640, 160,
		ocrtest.Line{Text: "Invoice 4711", At: image.Pt(20, 20)},
		ocrtest.Line{Text: "Total 99.50 EUR", At: image.Pt(20, 90)})
	for _, c := range []struct {
		name, lang string
		scale      int
	}{{"eng", "eng", 1}, {"chi_sim", "chi_sim", 1}, {"eng+chi_sim", "eng+chi_sim", 1}, {"eng_scale2", "eng", 2}} {
		b.Run(c.name, func(b *testing.B) {
			req := ocr.Request{Image: ocr.Scale(img, c.scale), Language: c.lang, Layout: "auto"}
			if _, err := ocr.Read(context.Background(), req); err != nil { // the client, kept
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := ocr.Read(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	b.Run("new_client", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c := gosseract.NewClient()
			c.SetLanguage("eng")
			c.SetImageFromBytes(buf.Bytes())
			if _, err := c.Text(); err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}

// The layout holds from a new client's first read on: in word mode
// Tesseract reads one word, not the picture's two lines.
func TestOCRLayoutOnNewClient(t *testing.T) {
	img := render(t, 640, 160,
		ocrtest.Line{Text: "Invoice 4711", At: image.Pt(20, 20)},
		ocrtest.Line{Text: "Total 99.50 EUR", At: image.Pt(20, 90)})
	for i := 0; i < 2; i++ { // new, then kept
		ocr.ResetClients()
		if i == 1 {
			if _, err := ocr.Read(context.Background(), ocr.Request{Image: img, Language: "eng", Layout: "auto"}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := ocr.Read(context.Background(), ocr.Request{Image: img, Language: "eng", Layout: "word"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.TrimSpace(res.Text), "\n") || strings.Contains(res.Text, "Total 99.50") {
			t.Errorf("read %d in word mode: %q", i, res.Text)
		}
		res, err = ocr.Read(context.Background(), ocr.Request{Image: img, Language: "eng", Layout: "block"})
		if err != nil || strings.Join(strings.Fields(res.Text), " ") != "Invoice 4711 Total 99.50 EUR" {
			t.Errorf("read %d in block mode: %q %v", i, res.Text, err)
		}
	}
}
