package store_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"deskbot/store"
	"deskbot/store/storetest"
)

func openExportDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// EachRun and EachStep list the runs a report covers (flow and range
// filtered, dry runs left out), oldest first, steps in order with their
// run's id and flow; an error from the callback stops them.
func TestExportIterators(t *testing.T) {
	ctx := context.Background()
	db := openExportDB(t)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	step := func(node string) storetest.Step {
		return storetest.Step{Node: node, Type: "file.write_text", Label: "写 " + node, Dur: time.Second, Status: "ok", Port: "next", Outputs: `{"n":1}`}
	}
	runs := []storetest.Run{
		{ID: "r2", Flow: "发票", Start: t0.Add(2 * time.Hour), Dur: 2 * time.Second, Status: "failed", Error: "boom", Steps: []storetest.Step{step("a"), step("b")}},
		{ID: "r1", Flow: "发票", Start: t0, Dur: time.Second, Status: "ok", Steps: []storetest.Step{step("a")}},
		{ID: "r3", Flow: "other", Start: t0.Add(time.Hour), Dur: time.Second, Status: "ok", Steps: []storetest.Step{step("x")}},
		{ID: "dry", Flow: "发票", Start: t0.Add(3 * time.Hour), Dur: time.Second, Status: "ok", Dry: true, Steps: []storetest.Step{step("a")}},
		{ID: "r4", Flow: "发票", Start: t0.AddDate(0, 0, 2), Dur: time.Second, Status: "ok", Steps: []storetest.Step{step("c")}},
	}
	if err := storetest.Seed(ctx, db, storetest.Slice(runs), nil); err != nil {
		t.Fatal(err)
	}
	f := store.StatsFilter{Flow: "发票", From: t0, To: t0.AddDate(0, 0, 1)}
	var ids []string
	if err := db.EachRun(ctx, f, func(r store.Run) error { ids = append(ids, r.ID+":"+r.Status); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"r1:ok", "r2:failed"}; !slices.Equal(ids, want) {
		t.Errorf("runs %q, want %q", ids, want)
	}
	var steps []string
	if err := db.EachStep(ctx, f, func(s store.ExportStep) error {
		steps = append(steps, fmt.Sprintf("%s/%s/%d/%s/%s/%s/%s", s.RunID, s.Flow, s.Seq, s.NodeID, s.Label, s.Duration, s.Outputs))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{`r1/发票/1/a/写 a/1s/{"n":1}`, `r2/发票/1/a/写 a/1s/{"n":1}`, `r2/发票/2/b/写 b/1s/{"n":1}`}
	if !slices.Equal(steps, want) {
		t.Errorf("steps\n%q\nwant\n%q", steps, want)
	}
	stop := errors.New("stop")
	n := 0
	err := db.EachStep(ctx, store.StatsFilter{}, func(store.ExportStep) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("callback error: got %v after %d calls, want stop after 1", err, n)
	}
}

// manySteps seeds runs of 100 steps each.
func manySteps(runs int, t0 time.Time) iter.Seq[storetest.Run] {
	return func(yield func(storetest.Run) bool) {
		steps := make([]storetest.Step, 100)
		for i := range steps {
			steps[i] = storetest.Step{Node: fmt.Sprintf("n%d", i), Type: "file.write_text", Label: "写文件", Dur: time.Millisecond, Status: "ok", Port: "next", Outputs: `{"path":"/tmp/out/letter-0001.txt","bytes":1234}`}
		}
		for i := 0; i < runs; i++ {
			if !yield(storetest.Run{ID: fmt.Sprintf("run-%06d", i), Flow: "发票", Start: t0.Add(time.Duration(i) * time.Second), Dur: time.Second, Status: "ok", Steps: steps}) {
				return
			}
		}
	}
}

// EachStep streams: over 200,000 steps the heap grows by far less than
// the steps would take if they were loaded (about 50 MB here).
func TestEachStepStreams(t *testing.T) {
	ctx := context.Background()
	db := openExportDB(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := storetest.Seed(ctx, db, manySteps(2000, t0), nil); err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	n := 0
	var peak uint64
	err := db.EachStep(ctx, store.StatsFilter{}, func(store.ExportStep) error {
		n++
		if n%50000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 200000 {
		t.Fatalf("%d steps, want 200000", n)
	}
	grow := int64(peak) - int64(before)
	t.Logf("heap grew by %.1f MB while streaming 200,000 steps", float64(grow)/1e6)
	if grow > 16<<20 {
		t.Errorf("heap grew by %.1f MB while streaming; the steps are being held", float64(grow)/1e6)
	}
}
