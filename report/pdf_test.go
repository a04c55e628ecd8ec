package report

import (
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// withShots gives the sample's failures screenshots: the first a real PNG
// (magenta, a colour no chart uses), the second a file that is gone.
func withShots(t *testing.T, d *Data) *Data {
	img := image.NewRGBA(image.Rect(0, 0, 640, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 640; x++ {
			img.Set(x, y, color.RGBA{0xFF, 0x00, 0xFF, 0xFF})
		}
	}
	shot := filepath.Join(t.TempDir(), "failure.png")
	writePNG(t, shot, img)
	d.Failures[0].Screenshot = shot
	d.Failures[1].Screenshot = filepath.Join(t.TempDir(), "gone.png")
	return d
}

// pdfPages renders a PDF with pdftoppm (poppler-utils, in DEB_PKGS) and
// returns the pages as images.
func pdfPages(t *testing.T, pdf string, dpi int) []image.Image {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command("pdftoppm", "-r", Text(dpi), "-png", pdf, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	names, _ := filepath.Glob(prefix + "*.png")
	var pages []image.Image
	for _, n := range names {
		pages = append(pages, readPNG(t, n))
	}
	return pages
}

func pdfText(t *testing.T, pdf string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdf, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// The PDF report renders with poppler: A4 pages, not blank, the charts'
// colours and the failure's screenshot on them, and its text (Chinese flow
// name and labels included) extracts as written.
func TestPDF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePDF(f, withShots(t, sampleData())); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, path, 60)
	if len(pages) < 2 {
		t.Fatalf("%d pages, want the report over several", len(pages))
	}
	colours := map[string][3]uint8{"green": {0x00, 0x9E, 0x73}, "vermilion": {0xD5, 0x5E, 0x00}, "blue": {0x00, 0x72, 0xB2}, "screenshot magenta": {0xFF, 0x00, 0xFF}}
	found := map[string]bool{}
	for i, p := range pages {
		if sz := p.Bounds().Size(); sz.X < 490 || sz.X > 500 || sz.Y < 698 || sz.Y > 704 {
			t.Errorf("page %d is %v pixels at 60 dpi; want A4 (496x702)", i+1, sz)
		}
		if nw := nonWhite(p); nw < 0.01 {
			t.Errorf("page %d is blank (%.2f%% drawn)", i+1, nw*100)
		}
		for name, c := range colours {
			if colourShare(p, c, 24) > 0.001 {
				found[name] = true
			}
		}
	}
	for name := range colours {
		if !found[name] {
			t.Errorf("no page shows %s", name)
		}
	}
	text := pdfText(t, path)
	for _, want := range []string{sampleFlow, "填写表单 (n3)", "保存发票", `window "表单" not found`, "Success rate", "76.9%", "2026-11-23 to 2026-11-29",
		"Failed runs", "Screenshot not available", "gpt2-small", "page 1 of"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if dir := os.Getenv("DESKBOT_REPORT_SHOTS"); dir != "" {
		b, _ := os.ReadFile(path)
		os.WriteFile(filepath.Join(dir, "report.pdf"), b, 0o644)
	}
}

// An empty period still gives a PDF that says so.
func TestPDFEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePDF(f, emptyData()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	text := pdfText(t, path)
	for _, want := range []string{"all flows", "None in this period.", "No failed runs in this period."} {
		if !strings.Contains(text, want) {
			t.Errorf("empty PDF lacks %q", want)
		}
	}
}
