package store_test

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

// seedKnown opens a database file holding storetest.KnownHistory (days in
// UTC) and returns it with the history's first day and the screenshot.
func seedKnown(t *testing.T) (*store.DB, time.Time, string) {
	t.Helper()
	db, _ := MustOpenFile(t)
	shot := filepath.Join(t.TempDir(), "failure-click.png")
	f, err := os.Create(shot)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	f.Close()
	day1, runs, gens := storetest.KnownHistory(time.UTC, shot)
	if err := storetest.Seed(context.Background(), db, storetest.Slice(runs), gens); err != nil {
		t.Fatal(err)
	}
	return db, day1, shot
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRunStats_Known(t *testing.T) {
	db, day1, _ := seedKnown(t)
	ctx := context.Background()
	s := time.Second
	got, err := db.RunStats(ctx, store.StatsFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := store.RunSummary{Runs: 8, Succeeded: 3, Failed: 3, Stopped: 1, Running: 1, SuccessRate: 3.0 / 7,
		P50: 40 * s, P90: 100 * s, Max: 100 * s, First: day1.Add(9 * time.Hour), Last: day1.AddDate(0, 0, 3).Add(9 * time.Hour)}
	if !near(got.SuccessRate, want.SuccessRate) || got.First.UnixNano() != want.First.UnixNano() || got.Last.UnixNano() != want.Last.UnixNano() {
		t.Fatalf("all flows: %+v, want %+v", got, want)
	}
	got.SuccessRate, got.First, got.Last = want.SuccessRate, want.First, want.Last
	if got != want {
		t.Fatalf("all flows: %+v, want %+v", got, want)
	}

	inv, err := db.RunStats(ctx, store.StatsFilter{Flow: storetest.FlowInvoices})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Runs != 6 || inv.Succeeded != 3 || inv.Failed != 1 || inv.Stopped != 1 || inv.Running != 1 || !near(inv.SuccessRate, 0.6) ||
		inv.P50 != 30*s || inv.P90 != 100*s || inv.Max != 100*s {
		t.Fatalf("invoices: %+v", inv)
	}
	zh, err := db.RunStats(ctx, store.StatsFilter{Flow: storetest.FlowChinese})
	if err != nil {
		t.Fatal(err)
	}
	// 50 s and 60 s: nearest rank 1 of 2 is p50, rank 2 is p90.
	if zh.Runs != 2 || zh.Failed != 2 || zh.SuccessRate != 0 || zh.P50 != 50*s || zh.P90 != 60*s || zh.Max != 60*s {
		t.Fatalf("%s: %+v", storetest.FlowChinese, zh)
	}
	// Day 2 only: r3 (30 s, failed) and r4 (40 s, stopped).
	d2, err := db.RunStats(ctx, store.StatsFilter{From: day1.AddDate(0, 0, 1), To: day1.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if d2.Runs != 2 || d2.Failed != 1 || d2.Stopped != 1 || d2.Succeeded != 0 || d2.P50 != 30*s || d2.P90 != 40*s {
		t.Fatalf("day 2: %+v", d2)
	}
	// From is inclusive, To exclusive: r1 starts exactly at day1 10:00.
	edge, _ := db.RunStats(ctx, store.StatsFilter{Flow: storetest.FlowInvoices, From: day1.Add(10 * time.Hour), To: day1.Add(11 * time.Hour)})
	if edge.Runs != 1 || edge.P50 != 10*s {
		t.Fatalf("edges: %+v", edge)
	}
	empty, err := db.RunStats(ctx, store.StatsFilter{From: day1.AddDate(0, 0, 10)})
	if err != nil || empty != (store.RunSummary{}) {
		t.Fatalf("empty range: %+v, %v", empty, err)
	}
	none, err := db.RunStats(ctx, store.StatsFilter{Flow: "no such flow"})
	if err != nil || none != (store.RunSummary{}) {
		t.Fatalf("unknown flow: %+v, %v", none, err)
	}
}

func TestRunsPerDay_Known(t *testing.T) {
	db, day1, _ := seedKnown(t)
	ctx := context.Background()
	got, err := db.RunsPerDay(ctx, store.StatsFilter{}, day1, day1.AddDate(0, 0, 4), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]int{{"ok": 2, "failed": 1}, {"failed": 1, "stopped": 1}, {"ok": 1, "running": 1}, {"interrupted": 1}, {}}
	if len(got) != len(want) {
		t.Fatalf("%d days, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Day.Equal(day1.AddDate(0, 0, i)) || !reflect.DeepEqual(got[i].ByStatus, want[i]) {
			t.Fatalf("day %d: %v %v, want %v", i+1, got[i].Day, got[i].ByStatus, want[i])
		}
	}
	zh, err := db.RunsPerDay(ctx, store.StatsFilter{Flow: storetest.FlowChinese}, day1, day1.AddDate(0, 0, 3), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(zh) != 4 || !reflect.DeepEqual(zh[0].ByStatus, map[string]int{"failed": 1}) || len(zh[1].ByStatus)+len(zh[2].ByStatus) != 0 ||
		!reflect.DeepEqual(zh[3].ByStatus, map[string]int{"interrupted": 1}) {
		t.Fatalf("%s: %+v", storetest.FlowChinese, zh)
	}
	// In UTC+14 the runs of day 1 at 10:00 and 11:00 UTC fall on day 2.
	east := time.FixedZone("UTC+14", 14*3600)
	e, err := db.RunsPerDay(ctx, store.StatsFilter{Flow: storetest.FlowInvoices}, day1, day1.Add(24*time.Hour), east)
	if err != nil {
		t.Fatal(err)
	}
	if len(e) != 2 || !e[0].Day.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, east)) || len(e[0].ByStatus) != 0 ||
		!reflect.DeepEqual(e[1].ByStatus, map[string]int{"ok": 2}) {
		t.Fatalf("UTC+14: %+v", e)
	}
	if _, err := db.RunsPerDay(ctx, store.StatsFilter{}, day1.AddDate(-20, 0, 0), day1, time.UTC); err == nil {
		t.Fatal("20 years of days: no error")
	}
	if d, err := db.RunsPerDay(ctx, store.StatsFilter{}, time.Time{}, day1, time.UTC); err != nil || d != nil {
		t.Fatalf("no range: %v %v", d, err)
	}
}

func TestDurationHistogram_Known(t *testing.T) {
	db, _, _ := seedKnown(t)
	ctx := context.Background()
	s, _ := db.RunStats(ctx, store.StatsFilter{})
	got, err := db.DurationHistogram(ctx, store.StatsFilter{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 11 {
		t.Fatalf("%d buckets: %+v", len(got), got)
	}
	counts := map[int]int{1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 10: 1}
	for i, b := range got {
		if b.Lo != time.Duration(i)*10*time.Second || b.Hi != b.Lo+10*time.Second || b.Count != counts[i] {
			t.Fatalf("bucket %d: %+v, want count %d", i, b, counts[i])
		}
	}
	// A long tail: 5 s buckets up to twice p90 (40 s), and the last one
	// takes the rest: 50, 60 and 100 s.
	tail, err := db.DurationHistogram(ctx, store.StatsFilter{}, store.RunSummary{P90: 20 * time.Second, Max: 100 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	last := tail[len(tail)-1]
	if tail[0].Hi != 5*time.Second || last.Lo != 45*time.Second || last.Hi != 100*time.Second+1 || last.Count != 3 {
		t.Fatalf("tail: first %+v last %+v of %d", tail[0], last, len(tail))
	}
	if h, err := db.DurationHistogram(ctx, store.StatsFilter{}, store.RunSummary{}); err != nil || h != nil {
		t.Fatalf("no runs: %v %v", h, err)
	}
}

func TestActivityStats_Known(t *testing.T) {
	db, day1, _ := seedKnown(t)
	ctx := context.Background()
	ms := time.Millisecond
	got, tot, err := db.ActivityStats(ctx, store.StatsFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ActivityStat{
		{Type: "desktop.click", Steps: 4, Total: 1100 * ms, Mean: 275 * ms},
		{Type: "files.write_text", Steps: 7, Total: 67 * ms, Mean: 67 * ms / 7},
		{Type: "control.for_each", Steps: 12, Total: 21 * ms, Mean: 21 * ms / 12},
		{Type: "control.start", Steps: 8, Total: 8 * ms, Mean: ms},
		{Type: "files.read_text", Steps: 1, Total: 5 * ms, Mean: 5 * ms},
	}
	if !reflect.DeepEqual(got, want) || tot != (store.StepTotals{Steps: 32, Items: 9}) {
		t.Fatalf("got %+v %+v\nwant %+v", got, tot, want)
	}
	zh, tot, err := db.ActivityStats(ctx, store.StatsFilter{Flow: storetest.FlowChinese})
	if err != nil {
		t.Fatal(err)
	}
	if len(zh) != 4 || tot != (store.StepTotals{Steps: 5, Items: 1}) {
		t.Fatalf("%s: %+v %+v", storetest.FlowChinese, zh, tot)
	}
	empty, tot, err := db.ActivityStats(ctx, store.StatsFilter{To: day1})
	if err != nil || empty != nil || tot != (store.StepTotals{}) {
		t.Fatalf("empty: %+v %+v %v", empty, tot, err)
	}
}

func TestNodeFailures_Known(t *testing.T) {
	db, _, _ := seedKnown(t)
	ctx := context.Background()
	got, err := db.NodeFailures(ctx, store.StatsFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.NodeFailure{
		{Flow: storetest.FlowInvoices, Node: "click", Label: "Click Save", Type: "desktop.click", Count: 3, Error: "image not found", ErrorCount: 2},
		{Flow: storetest.FlowChinese, Node: "read", Label: "读取发票", Type: "files.read_text", Count: 1, Error: "文件不存在", ErrorCount: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	one, _ := db.NodeFailures(ctx, store.StatsFilter{Flow: storetest.FlowChinese}, 1)
	if len(one) != 1 || one[0].Node != "read" {
		t.Fatalf("%+v", one)
	}
}

func TestFailedRuns_Known(t *testing.T) {
	db, day1, shot := seedKnown(t)
	ctx := context.Background()
	got, err := db.FailedRuns(ctx, store.StatsFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d failed runs: %+v", len(got), got)
	}
	c2, r3, c1 := got[0], got[1], got[2]
	if c2.RunID != "c2" || c2.Status != "interrupted" || c2.Node != "write" || c2.Seq != 3 || c2.Screenshot != "" ||
		!c2.Start.Equal(day1.AddDate(0, 0, 3).Add(9*time.Hour)) {
		t.Fatalf("c2: %+v", c2)
	}
	if r3.RunID != "r3" || r3.Flow != storetest.FlowInvoices || r3.Node != "click" || r3.Label != "Click Save" || r3.StepType != "desktop.click" ||
		r3.StepError != "image not found" || r3.Error != "click: image not found" || r3.Screenshot != shot || r3.ScreenshotGone != "" {
		t.Fatalf("r3: %+v", r3)
	}
	if c1.RunID != "c1" || c1.Flow != storetest.FlowChinese || c1.Label != "读取发票" || c1.StepError != "文件不存在" || c1.Screenshot != "" ||
		c1.ScreenshotGone != "/nonexistent/deskbot-failure.png" {
		t.Fatalf("c1: %+v", c1)
	}
	inv, _ := db.FailedRuns(ctx, store.StatsFilter{Flow: storetest.FlowInvoices}, 0)
	lim, _ := db.FailedRuns(ctx, store.StatsFilter{}, 1)
	if len(inv) != 1 || inv[0].RunID != "r3" || len(lim) != 1 || lim[0].RunID != "c2" {
		t.Fatalf("flow filter %+v, limit %+v", inv, lim)
	}
}
