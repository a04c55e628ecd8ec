package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// A step's inputs round-trip through a real database file (reopened), and
// a large input is stored as a bounded preview with its size and hash.
func TestRecorder_InputsRoundTrip(t *testing.T) {
	db, path := MustOpenFile(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "letters"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Dear Ada, thank you for your order. ", 20_000)
	for seq := 1; seq <= 50; seq++ {
		e := finished(seq, nil)
		e.Inputs = map[string]any{"path": "/letters/Ada.txt", "text": long, "n": float64(seq)}
		if seq == 50 {
			e.Status, e.Err = engine.StatusFailed, "disk full"
		}
		rec.Event(e)
	}
	if err := rec.Close(&engine.Result{Status: engine.StatusFailed, Steps: 50}); err != nil {
		t.Fatal(err)
	}
	var total, biggest int
	if err := db.SQL().QueryRow(`SELECT SUM(LENGTH(inputs)), MAX(LENGTH(inputs)) FROM steps`).Scan(&total, &biggest); err != nil {
		t.Fatal(err)
	}
	if biggest > 2*store.PreviewBytes || total > 50*2*store.PreviewBytes {
		t.Fatalf("inputs: %d bytes in all, the largest %d (the text is %d)", total, biggest, len(long))
	}
	db.Close()
	db2, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	steps, err := db2.Steps(ctx, rec.RunID())
	if err != nil || len(steps) != 50 {
		t.Fatalf("%d steps, %v", len(steps), err)
	}
	last := steps[49]
	if last.Status != engine.StatusFailed || last.Inputs["path"] != "/letters/Ada.txt" || last.Inputs["n"] != 50.0 {
		t.Fatalf("failed step's inputs = %.300v", last.Inputs)
	}
	txt, _ := last.Inputs["text"].(map[string]any)
	if txt["$type"] != "text" || txt["$len"] != float64(len(long)) || len(txt["$sha256"].(string)) != 64 ||
		!strings.HasPrefix(txt[store.PreviewKey].(string), "Dear Ada") {
		t.Fatalf("large input preview = %.300v", txt)
	}
}

// A database made before the inputs column is migrated on open: its old
// steps have no inputs, and new runs record them.
func TestOpen_MigratesStepInputs(t *testing.T) {
	db, path := MustOpenFile(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "old"})
	if err != nil {
		t.Fatal(err)
	}
	rec.Event(finished(1, map[string]any{"i": 1.0}))
	if err := rec.Close(&engine.Result{Status: engine.StatusOK, Steps: 1}); err != nil {
		t.Fatal(err)
	}
	// Make it the database an older Deskbot left: no inputs column, 004
	// not applied.
	for _, q := range []string{`ALTER TABLE steps DROP COLUMN inputs`, `DELETE FROM schema_migrations WHERE name = '004_step_inputs.sql'`} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	db2, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	names, _ := db2.Migrations(ctx)
	if !slices.Contains(names, "004_step_inputs.sql") {
		t.Fatalf("migrations %v", names)
	}
	old, err := db2.Steps(ctx, rec.RunID())
	if err != nil || len(old) != 1 || old[0].Inputs != nil {
		t.Fatalf("old steps %+v, %v", old, err)
	}
	rec2, err := db2.Recorder(ctx, store.RunInfo{Flow: "new"})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.Event{Kind: engine.EventStepFinished, Time: time.Now(), Seq: 1, NodeID: "n", Type: "t", Attempt: 1, Status: engine.StatusOK,
		Inputs: map[string]any{"condition": true}}
	rec2.Event(e)
	if err := rec2.Close(&engine.Result{Status: engine.StatusOK, Steps: 1}); err != nil {
		t.Fatal(err)
	}
	steps, err := db2.Steps(ctx, rec2.RunID())
	if err != nil || len(steps) != 1 || steps[0].Inputs["condition"] != true {
		t.Fatalf("new steps %+v, %v", steps, err)
	}
}

// A field that gives the same large table on every step is encoded and
// hashed once, not once a step; a new value is encoded again.
func TestRecorder_LargeInputOncePerChange(t *testing.T) {
	db, _ := MustOpenFile(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "table"})
	if err != nil {
		t.Fatal(err)
	}
	table := make([]any, 20_000)
	for i := range table {
		table[i] = map[string]any{"id": float64(i), "name": "Customer"}
	}
	for seq := 1; seq <= 200; seq++ {
		e := finished(seq, nil)
		rows := table
		if seq > 100 {
			rows = table[:10_000] // a new value from step 101 on
		}
		e.Inputs = map[string]any{"rows": rows, "n": float64(seq)}
		rec.Event(e)
	}
	if err := rec.Close(&engine.Result{Status: engine.StatusOK, Steps: 200}); err != nil {
		t.Fatal(err)
	}
	if n := rec.Stats().InputPreviews; n != 2 {
		t.Errorf("%d large inputs encoded, want 2 (one per change)", n)
	}
	steps, err := db.Steps(ctx, rec.RunID())
	if err != nil || len(steps) != 200 {
		t.Fatalf("%d steps, %v", len(steps), err)
	}
	for _, i := range []int{0, 99, 100, 199} {
		p, _ := steps[i].Inputs["rows"].(map[string]any)
		want := 20_000.0
		if i >= 100 {
			want = 10_000
		}
		if p["$len"] != want || len(p["$sha256"].(string)) != 64 || steps[i].Inputs["n"] != float64(i+1) {
			t.Errorf("step %d inputs: %.200v", i+1, steps[i].Inputs)
		}
	}
}
