package report

import (
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"deskbot/store"
	"deskbot/store/storetest"
)

// knownDB is a database file holding storetest.KnownHistory in local time
// (its comment works out the answers), with "now" on its fourth day.
func knownDB(t *testing.T) (*store.DB, time.Time, string) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	shot := filepath.Join(t.TempDir(), "failure-click.png")
	f, err := os.Create(shot)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	f.Close()
	day1, runs, gens := storetest.KnownHistory(time.Local, shot)
	if err := storetest.Seed(context.Background(), db, storetest.Slice(runs), gens); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return day1.AddDate(0, 0, 3).Add(20 * time.Hour) }
	return db, day1, shot
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestCollect_Known(t *testing.T) {
	db, day1, shot := knownDB(t)
	d, err := Collect(context.Background(), db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	ms := time.Millisecond
	if !near(d.Summary.SuccessRate, 3.0/7) {
		t.Fatalf("success rate %v", d.Summary.SuccessRate)
	}
	d.Summary.SuccessRate = 0
	want := Summary{Runs: 8, Succeeded: 3, Failed: 3, Stopped: 1, P50: 40 * s, P90: 100 * s, Max: 100 * s,
		Items: 9, Steps: 32, Generations: 5, Tokens: 17 + 19}
	if d.Summary != want {
		t.Fatalf("summary %+v\nwant    %+v", d.Summary, want)
	}
	if !d.Generated.Equal(db.Now()) || d.Filter != (Filter{}) {
		t.Fatalf("generated %v filter %+v", d.Generated, d.Filter)
	}
	days := []map[string]int{{"ok": 2, "failed": 1}, {"failed": 1, "stopped": 1}, {"ok": 1, "running": 1}, {"interrupted": 1}}
	if len(d.Days) != len(days) {
		t.Fatalf("%d days: %+v", len(d.Days), d.Days)
	}
	for i, want := range days {
		if !d.Days[i].Day.Equal(day1.AddDate(0, 0, i)) || !reflect.DeepEqual(d.Days[i].ByStatus, want) {
			t.Fatalf("day %d: %+v, want %v", i+1, d.Days[i], want)
		}
	}
	if len(d.Durations) != 11 || d.Durations[10] != (Bucket{Lo: 100 * s, Hi: 110 * s, Count: 1}) || d.Durations[0].Count != 0 || d.Durations[4].Count != 1 {
		t.Fatalf("durations %+v", d.Durations)
	}
	acts := []ActivityTime{
		{Type: "desktop.click", Steps: 4, Total: 1100 * ms, Mean: 275 * ms},
		{Type: "files.write_text", Steps: 7, Total: 67 * ms, Mean: 67 * ms / 7},
		{Type: "control.for_each", Steps: 12, Total: 21 * ms, Mean: 21 * ms / 12},
		{Type: "control.start", Steps: 8, Total: 8 * ms, Mean: ms},
		{Type: "files.read_text", Steps: 1, Total: 5 * ms, Mean: 5 * ms},
	}
	if !reflect.DeepEqual(d.Activities, acts) {
		t.Fatalf("activities %+v", d.Activities)
	}
	nf := []NodeFailures{
		{Flow: "invoices", Node: "click", Label: "Click Save", Type: "desktop.click", Count: 3, Error: "image not found"},
		{Flow: "发票处理", Node: "read", Label: "读取发票", Type: "files.read_text", Count: 1, Error: "文件不存在"},
	}
	if !reflect.DeepEqual(d.NodeFails, nf) {
		t.Fatalf("node failures %+v", d.NodeFails)
	}
	if len(d.Failures) != 3 {
		t.Fatalf("failures %+v", d.Failures)
	}
	f0, f1, f2 := d.Failures[0], d.Failures[1], d.Failures[2]
	if f0.RunID != "c2" || f0.Node != "write" || f0.Screenshot != "" || f0.Error != "the process ended" ||
		f1 != (Failure{RunID: "r3", Flow: "invoices", Node: "click", Label: "Click Save", Start: f1.Start, Error: "image not found", Screenshot: shot}) ||
		!f1.Start.Equal(day1.AddDate(0, 0, 1).Add(10*time.Hour)) ||
		f2.RunID != "c1" || f2.Flow != "发票处理" || f2.Label != "读取发票" || f2.Error != "文件不存在" || f2.Screenshot != "" {
		t.Fatalf("failures %+v", d.Failures)
	}
	if len(d.Models) != 2 {
		t.Fatalf("models %+v", d.Models)
	}
	g, a := d.Models[0], d.Models[1]
	if g.Provider != "gpt2" || g.Model != "gpt2 (local)" || g.Count != 3 || g.Errors != 0 || g.PromptTokens != 11 || g.OutputTokens != 16 ||
		!near(g.TokensPerSecond, 70.0/3) || g.FirstToken != 200*ms || !near(g.MeanOutputTokens, 16.0/3) || !near(g.MeanOutputRunes, 5) ||
		a.Provider != "api:work" || a.Count != 2 || a.Errors != 1 || a.TokensPerSecond != 100 || a.FirstToken != 50*ms {
		t.Fatalf("models %+v", d.Models)
	}
	if len(d.Speed) != 4 || d.Speed[0].Model != "gpt2 (local)" || d.Speed[0].TokensPerSecond != 20 || d.Speed[3].TokensPerSecond != 100 ||
		!d.Speed[3].Time.Equal(day1.Add(10*time.Hour+5*time.Minute)) {
		t.Fatalf("speed %+v", d.Speed)
	}
	if len(d.Compare) != 2 {
		t.Fatalf("compare %+v", d.Compare)
	}
	c0, c1 := d.Compare[0], d.Compare[1]
	if c0.Prompts != 1 || c0.A.Model != "gpt-4o-mini" || c0.A.Params != "" || c0.A.Count != 1 || c0.A.Errors != 1 ||
		c0.B.Model != "gpt2 (local)" || c0.B.Count != 2 || !near(c0.B.TokensPerSecond, 15) || !near(c0.B.MeanOutputTokens, 6) {
		t.Fatalf("models compared %+v", c0)
	}
	if c1.Prompts != 1 || c1.A.Params != `{"temperature":0.8}` || c1.B.Params != `{"temperature":0}` || c1.A.TokensPerSecond != 10 ||
		c1.B.TokensPerSecond != 20 || c1.A.MeanOutputTokens != 2 || c1.B.MeanOutputTokens != 10 {
		t.Fatalf("temperatures compared %+v", c1)
	}
}

func TestCollect_FlowAndRange(t *testing.T) {
	db, day1, _ := knownDB(t)
	ctx := context.Background()
	// The Chinese flow: c1 and c2, both failed; no generations.
	zh, err := Collect(ctx, db, Filter{Flow: "发票处理"})
	if err != nil {
		t.Fatal(err)
	}
	if zh.Summary != (Summary{Runs: 2, Failed: 2, P50: 50 * time.Second, P90: 60 * time.Second, Max: 60 * time.Second, Items: 1, Steps: 5}) ||
		len(zh.Days) != 4 || zh.Days[0].ByStatus["failed"] != 1 || zh.Days[3].ByStatus["interrupted"] != 1 ||
		len(zh.NodeFails) != 1 || zh.NodeFails[0].Label != "读取发票" || len(zh.Failures) != 2 || zh.Models != nil || zh.Compare != nil || zh.Speed != nil {
		t.Fatalf("%+v", zh)
	}
	// Day 2 and 3 of invoices: r3 r4 r5 r6; generations none (they are on day 1).
	f := Filter{Flow: "invoices", From: day1.AddDate(0, 0, 1), To: day1.AddDate(0, 0, 3)}
	inv, err := Collect(ctx, db, f)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Summary.Runs != 4 || inv.Summary.Succeeded != 1 || inv.Summary.Failed != 1 || inv.Summary.Stopped != 1 || !near(inv.Summary.SuccessRate, 1.0/3) ||
		inv.Summary.P50 != 40*time.Second || inv.Summary.Items != 4 || len(inv.Days) != 2 || !inv.Days[0].Day.Equal(day1.AddDate(0, 0, 1)) ||
		inv.Days[1].ByStatus["running"] != 1 || inv.Summary.Generations != 0 || inv.Filter != f {
		t.Fatalf("%+v", inv)
	}
	// An empty range still has its days, all empty; everything else is empty.
	e := Filter{From: day1.AddDate(0, 0, 10), To: day1.AddDate(0, 0, 13)}
	empty, err := Collect(ctx, db, e)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Summary != (Summary{}) || len(empty.Days) != 3 || len(empty.Days[2].ByStatus) != 0 || empty.Durations != nil || empty.Activities != nil ||
		empty.NodeFails != nil || empty.Failures != nil || empty.Models != nil || empty.Speed != nil || empty.Compare != nil {
		t.Fatalf("%+v", empty)
	}
	// A flow with no runs and an open range: no days at all.
	none, err := Collect(ctx, db, Filter{Flow: "nobody"})
	if err != nil || none.Days != nil || none.Summary.Runs != 0 {
		t.Fatalf("%+v %v", none, err)
	}
	if _, err := Collect(ctx, db, Filter{From: day1, To: day1}); err == nil {
		t.Fatal("an empty range was accepted")
	}
}

// An in-memory database has one connection: Collect's parallel parts
// take turns on it.
func TestCollect_InMemory(t *testing.T) {
	db, err := store.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, runs, gens := storetest.KnownHistory(time.Local, "/nonexistent.png")
	if err := storetest.Seed(context.Background(), db, storetest.Slice(runs), gens); err != nil {
		t.Fatal(err)
	}
	d, err := Collect(context.Background(), db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Summary.Runs != 8 || d.Summary.Steps != 32 || d.Summary.Generations != 5 || len(d.Compare) != 2 || len(d.Failures) != 3 {
		t.Fatalf("%+v", d.Summary)
	}
}
