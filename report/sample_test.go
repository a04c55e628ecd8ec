package report

import (
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleFlow is a Chinese flow name: every format must carry it intact.
const sampleFlow = "发票处理"

// sampleData is a report with known values: 7 days, 26 runs (20 ok, 5
// failed, 1 stopped), Chinese node labels, two models.
func sampleData() *Data {
	day0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	d := &Data{
		Title:     "Deskbot report",
		Filter:    Filter{Flow: sampleFlow, From: day0, To: day0.AddDate(0, 0, 7)},
		Generated: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Summary: Summary{Runs: 26, Succeeded: 20, Failed: 5, Stopped: 1, SuccessRate: 20.0 / 26,
			P50: 1500 * time.Millisecond, P90: 4 * time.Second, Max: 9 * time.Second,
			Items: 412, Steps: 1310, Generations: 9, Tokens: 2345},
	}
	ok := []int{2, 3, 0, 5, 4, 1, 5}
	failed := []int{1, 0, 0, 2, 1, 0, 1}
	for i := range ok {
		by := map[string]int{"ok": ok[i], "failed": failed[i]}
		if i == 4 {
			by["stopped"] = 1
		}
		d.Days = append(d.Days, Day{Day: day0.AddDate(0, 0, i), ByStatus: by})
	}
	counts := []int{3, 9, 7, 4, 1, 0, 1, 0, 0, 1}
	for i, n := range counts {
		d.Durations = append(d.Durations, Bucket{Lo: time.Duration(i) * time.Second, Hi: time.Duration(i+1) * time.Second, Count: n})
	}
	d.Activities = []ActivityTime{
		{Type: "desktop.type", Steps: 200, Total: 41 * time.Second, Mean: 205 * time.Millisecond},
		{Type: "file.read_csv", Steps: 26, Total: 13 * time.Second, Mean: 500 * time.Millisecond},
		{Type: "text.generate", Steps: 9, Total: 9 * time.Second, Mean: time.Second},
		{Type: "file.write_text", Steps: 400, Total: 2 * time.Second, Mean: 5 * time.Millisecond},
	}
	d.NodeFails = []NodeFailures{
		{Flow: sampleFlow, Node: "n3", Label: "填写表单", Type: "desktop.type", Count: 3, Error: "window \"表单\" not found"},
		{Flow: sampleFlow, Node: "n5", Label: "保存发票", Type: "file.write_text", Count: 2, Error: "permission denied"},
	}
	d.Failures = []Failure{
		{RunID: "20261129-101500-aaaaaa", Flow: sampleFlow, Node: "n3", Label: "填写表单", Start: day0.AddDate(0, 0, 6).Add(10 * time.Hour), Error: "window \"表单\" not found"},
		{RunID: "20261126-090000-bbbbbb", Flow: sampleFlow, Node: "n5", Label: "保存发票", Start: day0.AddDate(0, 0, 3).Add(9 * time.Hour), Error: "permission denied"},
	}
	d.Models = []ModelStats{
		{Provider: "gpt2", Model: "gpt2-small", Count: 6, Errors: 1, PromptTokens: 300, OutputTokens: 1200, TokensPerSecond: 21.5, FirstToken: 180 * time.Millisecond, MeanOutputTokens: 200, MeanOutputRunes: 830},
		{Provider: "api:work", Model: "qwen-mini", Count: 3, PromptTokens: 120, OutputTokens: 725, TokensPerSecond: 48, FirstToken: 420 * time.Millisecond, MeanOutputTokens: 241.7, MeanOutputRunes: 300},
	}
	for i := 0; i < 6; i++ {
		d.Speed = append(d.Speed, SpeedPoint{Time: day0.Add(time.Duration(12+i*20) * time.Hour), Model: "gpt2-small", TokensPerSecond: 18 + float64(i%3)*2.5})
	}
	for i := 0; i < 3; i++ {
		d.Speed = append(d.Speed, SpeedPoint{Time: day0.Add(time.Duration(30+i*40) * time.Hour), Model: "qwen-mini", TokensPerSecond: 44 + float64(i)*4})
	}
	d.Compare = []Comparison{{
		A:       Variant{Provider: "gpt2", Model: "gpt2-small", Params: `{"temperature":0.2}`, Count: 3, TokensPerSecond: 22, MeanOutputTokens: 190},
		B:       Variant{Provider: "gpt2", Model: "gpt2-small", Params: `{"temperature":0.9}`, Count: 3, Errors: 1, TokensPerSecond: 21, MeanOutputTokens: 210},
		Prompts: 3,
	}}
	return d
}

// emptyData is a report over a period with no runs at all.
func emptyData() *Data {
	day0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	d := &Data{Title: "Deskbot report", Filter: Filter{From: day0, To: day0.AddDate(0, 0, 2)}, Generated: day0}
	for i := 0; i < 2; i++ {
		d.Days = append(d.Days, Day{Day: day0.AddDate(0, 0, i), ByStatus: map[string]int{}})
	}
	return d
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// colourShare is the share of img's pixels within tol (per channel, 0-255)
// of c.
func colourShare(img image.Image, c [3]uint8, tol int) float64 {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if within(int(r>>8), int(c[0]), tol) && within(int(g>>8), int(c[1]), tol) && within(int(bl>>8), int(c[2]), tol) {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

func within(a, b, tol int) bool { return a-b <= tol && b-a <= tol }

// nonWhite is the share of pixels that are not (near) white.
func nonWhite(img image.Image) float64 { return 1 - colourShare(img, [3]uint8{255, 255, 255}, 8) }
