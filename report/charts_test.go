package report

import (
	"bytes"
	"image"
	"path/filepath"
	"strings"
	"testing"
)

// diffShare compares two images pixel by pixel: the share of pixels whose
// channels differ by more than tol. Font hinting and anti-aliasing move a
// few edge pixels by small amounts; a changed chart moves many.
func diffShare(a, b image.Image, tol int) float64 {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 1
	}
	ab, bb := a.Bounds(), b.Bounds()
	n := 0
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			if !within(int(r1>>8), int(r2>>8), tol) || !within(int(g1>>8), int(g2>>8), tol) || !within(int(b1>>8), int(b2>>8), tol) {
				n++
			}
		}
	}
	return float64(n) / float64(ab.Dx()*ab.Dy())
}

// Each chart is drawn at 2x (a HiDPI screen): the image has twice the dp
// size in pixels, is not blank, shows its series colours, and matches its
// golden image in testdata within a tolerance. go test -run TestCharts
// -update rewrites the goldens (look at them before committing).
func TestCharts(t *testing.T) {
	d := sampleData()
	want := map[Chart][][3]uint8{
		ChartRunsPerDay: {{0x00, 0x9E, 0x73}, {0xD5, 0x5E, 0x00}, {0xE6, 0x9F, 0x00}}, // ok, failed, stopped
		ChartDurations:  {{0x00, 0x72, 0xB2}},
		ChartActivities: {{0x56, 0xB4, 0xE9}},
		ChartNodeFails:  {{0xD5, 0x5E, 0x00}},
		ChartSpeed:      {{0x00, 0x72, 0xB2}, {0xE6, 0x9F, 0x00}},
	}
	for _, c := range Charts {
		t.Run(string(c), func(t *testing.T) {
			img, err := ChartImage(d, c, 480, 300, 2)
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds().Size(); got != (image.Point{960, 600}) {
				t.Fatalf("size %v, want 960x600 (480x300 dp at scale 2)", got)
			}
			if nw := nonWhite(img); nw < 0.03 {
				t.Errorf("only %.1f%% of the chart is drawn", nw*100)
			}
			for _, col := range want[c] {
				if s := colourShare(img, col, 6); s < 0.001 {
					t.Errorf("colour %x covers %.3f%% of the chart; want its series drawn", col, s*100)
				}
			}
			golden := filepath.Join("testdata", "chart-"+string(c)+".png")
			if *update {
				writePNG(t, golden, img)
				return
			}
			g := readPNG(t, golden)
			if s := diffShare(img, g, 40); s > 0.01 {
				out := filepath.Join(t.TempDir(), "got.png")
				writePNG(t, out, img)
				t.Errorf("%.2f%% of the pixels differ from %s (tolerance 1%%); got %s", s*100, golden, out)
			}
		})
	}
}

// The scale factor sets the pixel size, not the layout: a 1x image is half
// the size of a 2x one.
func TestChartScale(t *testing.T) {
	for _, sc := range []float64{1, 1.5, 3} {
		img, err := ChartImage(sampleData(), ChartRunsPerDay, 400, 250, sc)
		if err != nil {
			t.Fatal(err)
		}
		want := image.Point{int(400*sc + 0.5), int(250*sc + 0.5)}
		if img.Bounds().Size() != want {
			t.Errorf("scale %g: size %v, want %v", sc, img.Bounds().Size(), want)
		}
	}
	if _, err := ChartImage(sampleData(), ChartRunsPerDay, 400, 250, 0); err == nil {
		t.Error("scale 0 accepted")
	}
	if _, err := ChartImage(sampleData(), Chart("pie"), 400, 250, 1); err == nil || !strings.Contains(err.Error(), "pie") {
		t.Errorf("unknown chart: err %v", err)
	}
}

// A period with no data draws every chart with a note instead of failing.
func TestChartsEmpty(t *testing.T) {
	for _, c := range Charts {
		img, err := ChartImage(emptyData(), c, 400, 250, 1)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if nw := nonWhite(img); nw == 0 {
			t.Errorf("%s: blank; want a note", c)
		}
		if s := colourShare(img, [3]uint8{0x00, 0x72, 0xB2}, 6) + colourShare(img, [3]uint8{0x00, 0x9E, 0x73}, 6); s > 0 {
			t.Errorf("%s: series colours drawn with no data", c)
		}
	}
}

// The SVG export names the CJK font and carries the Chinese labels as text.
func TestChartSVG(t *testing.T) {
	svg, err := ChartSVG(sampleData(), ChartNodeFails, 480, 300)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "填写表单 (n3)", "WenQuanYi Micro Hei", "#d55e00"} {
		if !bytes.Contains(bytes.ToLower(svg), bytes.ToLower([]byte(want))) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

// A TrueType collection's first face comes out as a standalone font that
// parses; a plain TTF passes through; junk is an error, not a panic.
func TestFirstFace(t *testing.T) {
	f, err := cjkFont()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(f.path, ".ttc") {
		t.Logf("font %s is not a collection", f.path)
	}
	again, err := FirstFace(f.ttf)
	if err != nil || !bytes.Equal(again, f.ttf) {
		t.Errorf("a single face did not pass through: %v", err)
	}
	for _, junk := range [][]byte{nil, []byte("ttcf"), []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff"), []byte("<html>not a font</html>")} {
		if _, err := FirstFace(junk); err == nil {
			t.Errorf("FirstFace(%q) accepted junk", junk)
		}
	}
}

func FuzzFirstFace(f *testing.F) {
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10\x00\x01\x00\x00\x00\x01"))
	f.Add([]byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		FirstFace(b)
	})
}

// Count axes label whole numbers plainly: "5", not "5.00".
func TestWholeTicks(t *testing.T) {
	for _, r := range [][2]float64{{0, 7.5}, {0, 1}, {0, 120}} {
		for _, tk := range (wholeTicks{}).Ticks(r[0], r[1]) {
			if tk.Label != "" && (strings.Contains(tk.Label, ".") || tk.Value != float64(int(tk.Value))) {
				t.Errorf("range %v: tick %v labelled %q", r, tk.Value, tk.Label)
			}
		}
	}
}
