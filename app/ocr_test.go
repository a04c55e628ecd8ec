//go:build cgo && !windows

package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine/ocr/ocrtest"
)

// The deskbot binary, built as `make build` builds it (plain go build),
// reads text with Tesseract: OCR is part of the Linux build.
func TestCLIOCRIsBuiltIn(t *testing.T) {
	dir := t.TempDir()
	img, err := ocrtest.Render(560, 90, ocrtest.Line{Text: "Paid in full 2026", At: image.Pt(20, 20)})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "note.png"))
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, img)
	f.Close()
	flow := `{"format":"deskbot.flow","version":1,"name":"ocr",
	 "nodes":[{"id":"start","type":"control.start"},
	  {"id":"read","type":"ocr.read","params":{"image":"note.png","output":"seen"}},
	  {"id":"save","type":"file.write_text","params":{"path":"seen.txt","text":"{{ seen }}"}}],
	 "edges":[{"from":"start","port":"next","to":"read"},{"from":"read","port":"next","to":"save"}]}`
	os.WriteFile(filepath.Join(dir, "ocr.json"), []byte(flow), 0o644)
	r := run(t, t.TempDir(), "run", filepath.Join(dir, "ocr.json"))
	if r.code != 0 {
		t.Fatalf("%d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "seen.txt")); strings.TrimSpace(string(b)) != "Paid in full 2026" {
		t.Fatalf("read %q", b)
	}
}
