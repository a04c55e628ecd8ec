package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine/textgen"
	"deskbot/store"
	"deskbot/store/storetest"
)

// genStudio opens a studio wired to a database file holding generations of
// two flows (one with a Chinese name) and one made outside a run, and
// shows its Generations tab.
func genStudio(t *testing.T) (*Studio, *generationsPanel, *store.DB) {
	t.Helper()
	db, err := store.OpenDir(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.Local)
	runs := []storetest.Run{
		{ID: "run-inv", Flow: "invoices", Start: base, Dur: time.Minute, Status: "ok"},
		{ID: "run-zh", Flow: "发票处理", Start: base, Dur: time.Minute, Status: "ok"},
	}
	if err := storetest.Seed(ctx, db, storetest.Slice(runs), nil); err != nil {
		t.Fatal(err)
	}
	for i, g := range []textgen.Generation{
		{RunID: "run-inv", Provider: "gpt2", Model: "gpt2 (local)", Prompt: "Reply to the invoice from Anna", Output: "Dear Anna, thank you for the invoice."},
		{RunID: "run-inv", Provider: "gpt2", Model: "gpt2 (local)", Prompt: "Write an e-mail to Bram", Output: "Hello Bram, about your e-mail."},
		{RunID: "run-zh", Provider: "api:work", Model: "qwen2.5", Prompt: "请处理发票", Output: "好的，发票号是 12345。"},
		{Provider: "api:work", Model: "gpt-4o-mini", Prompt: "Summarise the INVOICE list", Output: "Three invoices are due."},
	} {
		g.Created = base.AddDate(0, 0, i) // one a day: 20, 21, 22, 23 November
		if err := db.SaveGeneration(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	a := test.NewApp()
	t.Cleanup(a.Quit)
	opts := Options{DataDir: t.TempDir()}
	WireStore(&opts, db)
	s := NewStudio(a, opts)
	s.Win.Resize(fyne.NewSize(1280, 800))
	s.ShowEditor()
	if s.gens == nil {
		t.Fatal("no Generations tab")
	}
	var tab *container.TabItem
	for _, it := range s.Tabs.Items {
		if it.Text == "Generations" {
			tab = it
		}
	}
	if tab == nil {
		t.Fatal("no tab titled Generations")
	}
	s.Tabs.Select(tab)
	return s, s.gens, db
}

// button finds the button with this text in the panel.
func button(t *testing.T, p *generationsPanel, text string) *widget.Button {
	t.Helper()
	for _, o := range test.LaidOutObjects(p.Object()) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

func listed(p *generationsPanel) []string {
	var out []string
	for _, it := range p.items {
		out = append(out, it.Prompt)
	}
	return out
}

func searchFor(p *generationsPanel, text string) {
	p.search.SetText("")
	test.Type(p.search, text)
	p.search.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
}

func TestGenerationsTab_SearchAndFilters(t *testing.T) {
	_, p, db := genStudio(t)
	if got := strings.Join(listed(p), "|"); got != "Summarise the INVOICE list|请处理发票|Write an e-mail to Bram|Reply to the invoice from Anna" {
		t.Fatalf("the tab lists %q", got)
	}
	if !strings.Contains(p.status.Text, "4 texts") {
		t.Errorf("status %q", p.status.Text)
	}
	searchFor(p, "invoice")
	if got := strings.Join(listed(p), "|"); got != "Summarise the INVOICE list|Reply to the invoice from Anna" {
		t.Fatalf("search invoice: %q", got)
	}
	searchFor(p, "发票")
	if got := strings.Join(listed(p), "|"); got != "请处理发票" {
		t.Fatalf("search 发票: %q", got)
	}
	// A text FTS5 cannot read is a clear message, not a crash; without
	// FTS5 it is a plain search, and the status says so.
	searchFor(p, "e-mail")
	if db.FullTextSearch() {
		if p.status.Importance != widget.DangerImportance || !strings.Contains(p.status.Text, "double quotes") {
			t.Fatalf("status %q (%v)", p.status.Text, p.status.Importance)
		}
		searchFor(p, `"e-mail"`)
	} else if !strings.Contains(p.status.Text, "no full-text index") {
		t.Fatalf("status %q", p.status.Text)
	}
	if got := strings.Join(listed(p), "|"); got != "Write an e-mail to Bram" {
		t.Fatalf("search e-mail: %q", got)
	}
	searchFor(p, "")

	if got := strings.Join(p.flow.Options, "|"); got != "All flows|invoices|发票处理" {
		t.Fatalf("flow choices %q", got)
	}
	p.flow.SetSelected("发票处理")
	if got := strings.Join(listed(p), "|"); got != "请处理发票" {
		t.Fatalf("flow 发票处理: %q", got)
	}
	p.flow.SetSelected("All flows")
	p.model.SetSelected("gpt2 (local)")
	if len(p.items) != 2 {
		t.Fatalf("model gpt2: %q", listed(p))
	}
	p.model.SetSelected("All models")
	test.Type(p.from, "2026-11-21")
	p.from.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	test.Type(p.to, "2026-11-22")
	p.to.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := strings.Join(listed(p), "|"); got != "请处理发票|Write an e-mail to Bram" {
		t.Fatalf("21 to 22 November: %q", got)
	}
	p.from.SetText("2026-13-01")
	p.from.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if p.status.Importance != widget.DangerImportance || !strings.Contains(p.status.Text, `From: "2026-13-01" is not a date`) {
		t.Fatalf("status %q", p.status.Text)
	}

	// Reading one whole.
	p.from.SetText("")
	p.to.SetText("")
	p.Reload()
	p.list.Select(1)
	if d := p.detail.Text; !strings.Contains(d, "请处理发票") || !strings.Contains(d, "好的，发票号是 12345。") || !strings.Contains(d, "发票处理") {
		t.Fatalf("detail %q", d)
	}
}

func TestGenerationsTab_TagArchiveExport(t *testing.T) {
	_, p, _ := genStudio(t)
	// Nothing ticked: the actions say so.
	test.Tap(button(t, p, "Archive"))
	if !strings.Contains(p.status.Text, "Tick the texts first") {
		t.Fatalf("status %q", p.status.Text)
	}
	// Tick the two invoice texts through their boxes in the list.
	searchFor(p, "invoice")
	var checks []*widget.Check
	for _, o := range test.LaidOutObjects(p.list) {
		if c, ok := o.(*widget.Check); ok && c.Visible() {
			checks = append(checks, c)
		}
	}
	if len(checks) < 2 {
		t.Fatalf("%d check boxes in the list", len(checks))
	}
	for _, c := range checks[:2] {
		test.TapAt(c, fyne.NewPos(c.Size().Width/2, c.Size().Height/2)) // the box is centred
	}
	if len(p.checkedIDs()) != 2 {
		t.Fatalf("ticked %v", p.checkedIDs())
	}
	test.Type(p.tagEntry, "待检查")
	test.Tap(button(t, p, "Add tag"))
	if p.status.Importance == widget.DangerImportance {
		t.Fatalf("tagging: %s", p.status.Text)
	}
	if got := strings.Join(p.tag.Options, "|"); got != "All tags|待检查" {
		t.Fatalf("tag choices %q", got)
	}
	searchFor(p, "")
	p.tag.SetSelected("待检查")
	if got := strings.Join(listed(p), "|"); got != "Summarise the INVOICE list|Reply to the invoice from Anna" || p.items[0].Tags[0] != "待检查" {
		t.Fatalf("tag filter: %q", got)
	}

	// Export the ticked texts (what the save dialog's callback does).
	test.Tap(button(t, p, "Select all"))
	dir := t.TempDir()
	csvPath, jsonPath := filepath.Join(dir, "texts.csv"), filepath.Join(dir, "texts.json")
	if err := p.exportFile(csvPath); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.status.Text, "2 texts exported") {
		t.Errorf("status %q", p.status.Text)
	}
	b, _ := os.ReadFile(csvPath)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][8] != "Summarise the INVOICE list" || recs[2][17] != "待检查" {
		t.Fatalf("CSV %q %v", recs, err)
	}
	if err := p.exportFile(jsonPath); err != nil {
		t.Fatal(err)
	}
	var js []map[string]any
	b, _ = os.ReadFile(jsonPath)
	if err := json.Unmarshal(b, &js); err != nil || len(js) != 2 || js[1]["prompt"] != "Reply to the invoice from Anna" {
		t.Fatalf("JSON %s %v", b, err)
	}
	if err := p.exportFile(filepath.Join(dir, "texts.doc")); err == nil {
		t.Fatal("exported as .doc")
	}
	if _, err := os.Stat(filepath.Join(dir, "texts.doc")); !os.IsNotExist(err) {
		t.Fatal("a failed export left its file")
	}

	// Archive them: they leave the list, and the archive shows them.
	test.Tap(button(t, p, "Archive"))
	if len(p.items) != 0 {
		t.Fatalf("archived texts still listed: %q", listed(p))
	}
	p.tag.SetSelected("All tags")
	if got := strings.Join(listed(p), "|"); got != "请处理发票|Write an e-mail to Bram" {
		t.Fatalf("after archiving: %q", got)
	}
	p.archive.SetSelectedIndex(1)
	if got := strings.Join(listed(p), "|"); got != "Summarise the INVOICE list|Reply to the invoice from Anna" || !p.items[0].Archived {
		t.Fatalf("the archive: %q", got)
	}
	test.Tap(button(t, p, "Select all"))
	test.Tap(button(t, p, "Unarchive"))
	p.archive.SetSelectedIndex(0)
	if len(p.items) != 4 {
		t.Fatalf("after unarchiving: %q", listed(p))
	}
}
