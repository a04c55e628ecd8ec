package ui

import (
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"deskbot/report"
	"deskbot/store"
)

// okGreen counts the pixels of the succeeded-runs colour (Okabe-Ito
// bluish green) in a chart.
func okGreen(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 8 && g>>8 > 0x96 && g>>8 < 0xA6 && bl>>8 > 0x6C && bl>>8 < 0x7A {
				n++
			}
		}
	}
	return n
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// sampleFlowDir copies the CSV-to-letters sample and its data into a
// temporary folder, so its letters are written there.
func sampleFlowDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../assets/flows/csv-to-letters.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "csv-to-letters.json"), b, 0o644)
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	b, err = os.ReadFile("../assets/flows/data/customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data", "customers.csv"), b, 0o644)
	return filepath.Join(dir, "csv-to-letters.json")
}

// A run of the sample flow shows up in the Insights tab: the counts and
// the runs-per-day chart change when the run ends (at once when the tab is
// open, when it is next shown otherwise), and the tab exports the report.
func TestInsightsShowRuns(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenDir(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := test.NewApp()
	defer a.Quit()
	opts := Options{DataDir: filepath.Join(dir, "data")}
	WireStore(&opts, db)
	s := NewStudio(a, opts)
	ui := make(chan func(), 4096)
	s.bridge.do = func(f func()) { ui <- f }
	s.Win.Resize(fyne.NewSize(1400, 900))
	if err := s.OpenFile(sampleFlowDir(t)); err != nil {
		t.Fatal(err)
	}
	s.ShowEditor()
	ins := s.insights
	if ins == nil {
		t.Fatal("no Insights tab with a store")
	}
	tab := -1
	for i, it := range s.Tabs.Items {
		if it.Content == ins.Object() {
			tab = i
		}
	}
	s.Tabs.SelectIndex(tab)
	if ins.Data == nil || ins.Data.Summary.Runs != 0 {
		t.Fatalf("before any run: %+v", ins.Data)
	}
	chart := func() image.Image { return ins.charts[report.ChartRunsPerDay].Image }
	if okGreen(chart()) != 0 {
		t.Fatal("the runs-per-day chart shows succeeded runs before any run")
	}
	if !strings.Contains(ins.summary.Text, "Runs: 0") {
		t.Errorf("summary %q", ins.summary.Text)
	}

	// First run: the run selects the Output tab; Insights catches up when
	// shown again.
	s.Run(false)
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	if ins.Data.Summary.Runs != 0 || !ins.stale {
		t.Fatalf("a hidden tab redrew (runs %d) or was not marked stale", ins.Data.Summary.Runs)
	}
	s.Tabs.SelectIndex(tab)
	if ins.Data.Summary.Runs != 1 || ins.Data.Summary.Succeeded != 1 {
		t.Fatalf("after a run: summary %+v", ins.Data.Summary)
	}
	chart1 := chart()
	if okGreen(chart1) == 0 {
		t.Fatal("the runs-per-day chart shows no succeeded run after one")
	}
	if !strings.Contains(ins.summary.Text, "Runs: 1") {
		t.Errorf("summary %q", ins.summary.Text)
	}
	if ins.flow.Options[1] != "CSV to letters" {
		t.Errorf("flow choices %q", ins.flow.Options)
	}

	// Second run, the tab open when it ends: it redraws by itself.
	s.Run(false)
	s.Tabs.SelectIndex(tab)
	if !pump(t, ui, patience, func() bool { return !s.Running() }) {
		t.Fatal("run did not finish")
	}
	if ins.Data.Summary.Runs != 2 {
		t.Fatalf("the open tab did not redraw: %+v", ins.Data.Summary)
	}
	if n := ins.Data.Days[len(ins.Data.Days)-1].ByStatus["ok"]; n != 2 {
		t.Errorf("today has %d succeeded runs, want 2", n)
	}
	if sameImage(chart(), chart1) {
		t.Error("the runs-per-day chart did not change after the second run")
	}
	var acts []string
	for _, a := range ins.Data.Activities {
		acts = append(acts, a.Type)
	}
	if !strings.Contains(strings.Join(acts, " "), "file.write_text") {
		t.Errorf("time per activity lacks the letters: %q", acts)
	}

	// Filters: another flow's name shows nothing; bad dates say why.
	ins.flow.Options = append(ins.flow.Options, "不存在的流程")
	ins.flow.SetSelected("不存在的流程")
	if ins.Data.Summary.Runs != 0 {
		t.Errorf("flow filter: %d runs", ins.Data.Summary.Runs)
	}
	ins.flow.SetSelectedIndex(0)
	ins.since.SetSelectedIndex(len(periods) - 1) // Dates
	test.Type(ins.from, "2026-13-01")
	ins.Reload()
	if !ins.errLabel.Visible() || !strings.Contains(ins.errLabel.Text, "from: want a date") {
		t.Errorf("bad date: error label %v %q", ins.errLabel.Visible(), ins.errLabel.Text)
	}
	ins.from.SetText(time.Now().Format("2006-01-02"))
	ins.Reload()
	if ins.errLabel.Visible() || ins.Data.Summary.Runs != 2 {
		t.Errorf("today's dates: %d runs, error %q", ins.Data.Summary.Runs, ins.errLabel.Text)
	}

	// Export, as the Export button does after its dialogs.
	ins.flow.SetSelected("CSV to letters")
	out := filepath.Join(dir, "insights.pdf")
	files, err := ins.ExportTo(report.PDF, out)
	if err != nil || len(files) != 1 {
		t.Fatalf("export: %v %v", files, err)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", out, "-").CombinedOutput()
	if err != nil || !strings.Contains(string(text), "Flow: CSV to letters") {
		t.Errorf("exported PDF: %v\n%s", err, text)
	}
	if _, err := ins.ExportTo(report.PDF, filepath.Join(dir, "missing", "x.pdf")); err == nil {
		t.Error("export into a missing folder succeeded")
	}
}
