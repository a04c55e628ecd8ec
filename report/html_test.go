package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The HTML report is one file: Chinese names as text, the five charts as
// inline SVG, and nothing that loads from elsewhere.
func TestHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, sampleData()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<title>Deskbot report – " + sampleFlow, "填写表单", "保存发票", "window &#34;表单&#34; not found", "76.9%", "2026-11-23 to 2026-11-29"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != len(Charts) {
		t.Errorf("%d inline SVGs, want %d", n, len(Charts))
	}
	// The SVG namespace is a name, not a request; anything else with a URL
	// or a source attribute would be one.
	rest := strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
	rest = strings.ReplaceAll(rest, `xmlns:xlink="http://www.w3.org/1999/xlink"`, "")
	if m := regexp.MustCompile(`(?i)(https?:|src=|<link|<script|@import|url\()`).FindString(rest); m != "" {
		t.Errorf("page refers outside itself: %q", m)
	}
}

// Hostile text (a flow named like markup) is escaped, never run.
func TestHTMLEscapes(t *testing.T) {
	d := sampleData()
	d.Filter.Flow = `<script>alert(1)</script>`
	d.NodeFails[0].Label = `<img src=x onerror=alert(1)>`
	var buf bytes.Buffer
	if err := WriteHTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>alert") || strings.Contains(buf.String(), "<img src=x") {
		t.Error("markup from the data reached the page unescaped")
	}
}

// chromium runs Debian's headless Chromium (make deps installs it) and
// returns a screenshot of the page.
func chromium(t *testing.T, page string, w, h int) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (make deps installs it): %v", err)
	}
	dir := t.TempDir()
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot,
		"--window-size="+itoa(w)+","+itoa(h), "file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	return shot
}

func itoa(n int) string { return Text(n) }

// The HTML report opened in a real browser: the screenshot is not blank and
// shows the charts' status colours (green for succeeded, vermilion for
// failed runs) and the durations' blue.
func TestHTMLInChromium(t *testing.T) {
	page := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, sampleData()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	shot := chromium(t, page, 1200, 1400)
	img := readPNG(t, shot)
	if img.Bounds().Dx() != 1200 {
		t.Errorf("screenshot %v wide, want 1200", img.Bounds().Dx())
	}
	if nw := nonWhite(img); nw < 0.05 {
		t.Errorf("only %.1f%% of the page is drawn", nw*100)
	}
	for name, c := range map[string][3]uint8{"green": {0x00, 0x9E, 0x73}, "vermilion": {0xD5, 0x5E, 0x00}, "blue": {0x00, 0x72, 0xB2}} {
		if s := colourShare(img, c, 10); s < 0.001 {
			t.Errorf("%s covers %.3f%% of the page; want the charts drawn", name, s*100)
		}
	}
	if dir := os.Getenv("DESKBOT_REPORT_SHOTS"); dir != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, "html-report.png"), b, 0o644)
	}
}
