package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// finished is a step_finished event carrying vars.
func finished(seq int, vars map[string]any) engine.Event {
	return engine.Event{Kind: engine.EventStepFinished, Time: time.Now(), Seq: seq, NodeID: "n", Type: "t", Attempt: 1, Status: engine.StatusOK, Port: "next", Vars: vars}
}

// roundTrip is v as VarsAt gives it back (JSON numbers are float64).
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Variables are stored as deltas with periodic full snapshots, and VarsAt
// gives the full state after every step: across checkpoints, with
// variables added, changed, unchanged and removed.
func TestRecorder_VarsDeltas(t *testing.T) {
	db, _ := MustOpenFile(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "deltas"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	const steps = 1000
	table := []any{map[string]any{"id": "1"}, map[string]any{"id": "2"}}
	cur := map[string]any{"table": table, "i": 0.0}
	want := make([]map[string]any, steps+1)
	want[0] = map[string]any{}
	for seq := 1; seq <= steps; seq++ {
		next := map[string]any{}
		for k, v := range cur {
			next[k] = v
		}
		switch rng.Intn(6) {
		case 0:
			next[fmt.Sprintf("v%d", rng.Intn(20))] = fmt.Sprintf("s%d", seq)
		case 1:
			delete(next, fmt.Sprintf("v%d", rng.Intn(20)))
		case 2:
			next["i"] = float64(seq)
		case 3:
			next["row"] = map[string]any{"id": fmt.Sprint(seq)}
		case 4:
			next["list"] = []any{float64(seq), "x"}
		}
		changed := !reflect.DeepEqual(next, cur) || seq == 1
		cur = next
		if changed {
			// The engine sends vars only when something changed.
			rec.Event(finished(seq, next))
		} else {
			rec.Event(finished(seq, nil))
		}
		want[seq] = next
	}
	if err := rec.Close(&engine.Result{Status: engine.StatusOK, Steps: steps}); err != nil {
		t.Fatal(err)
	}
	vr, err := db.ReadVars(ctx, rec.RunID())
	if err != nil {
		t.Fatal(err)
	}
	defer vr.Close()
	for seq := 0; seq <= steps; seq++ {
		got, err := db.VarsAt(ctx, rec.RunID(), seq)
		if err != nil {
			t.Fatal(err)
		}
		w := roundTrip(t, want[seq])
		if !reflect.DeepEqual(roundTrip(t, got), w) {
			t.Fatalf("vars at %d = %v, want %v", seq, got, w)
		}
		if seq%3 == 0 { // the reader may skip steps
			continue
		}
		read, err := vr.At(seq)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(roundTrip(t, read), w) {
			t.Fatalf("vars read at %d = %v, want %v", seq, read, w)
		}
	}
	var full, rows int
	if err := db.SQL().QueryRow(`SELECT COUNT(*), SUM(full) FROM vars`).Scan(&rows, &full); err != nil {
		t.Fatal(err)
	}
	if full > rows/50 || full < 2 {
		t.Fatalf("%d full snapshots of %d variable rows; want deltas with a few checkpoints", full, rows)
	}
}

// A large value is stored once per change as a bounded preview with its
// size and hash; an unchanged table is not stored again.
func TestRecorder_LargeValues(t *testing.T) {
	db, _ := MustOpenFile(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "large"})
	if err != nil {
		t.Fatal(err)
	}
	table := make([]any, 50_000)
	for i := range table {
		table[i] = map[string]any{"id": fmt.Sprint(i), "name": fmt.Sprintf("Customer %d", i)}
	}
	long := strings.Repeat("Lorem ipsum dolor sit amet. ", 10_000)
	for seq := 1; seq <= 300; seq++ {
		rec.Event(finished(seq, map[string]any{"table": table, "text": long, "i": float64(seq)}))
	}
	if err := rec.Close(&engine.Result{Status: engine.StatusOK, Steps: 300}); err != nil {
		t.Fatal(err)
	}
	var total, biggest int
	if err := db.SQL().QueryRow(`SELECT SUM(LENGTH(vars)), MAX(LENGTH(vars)) FROM vars`).Scan(&total, &biggest); err != nil {
		t.Fatal(err)
	}
	// Two checkpoints hold the previews; the other rows only "i".
	if biggest > 3*store.PreviewBytes || total > 10*store.PreviewBytes+300*64 {
		t.Fatalf("variable rows: %d bytes in all, the largest %d", total, biggest)
	}
	v, err := db.VarsAt(ctx, rec.RunID(), 250)
	if err != nil {
		t.Fatal(err)
	}
	tab, _ := v["table"].(map[string]any)
	if tab["$type"] != "table" || tab["$len"] != 50_000.0 || tab["$bytes"].(float64) < 1e6 || len(tab["$sha256"].(string)) != 64 {
		t.Fatalf("table preview = %.500v", tab)
	}
	if rows, _ := tab[store.PreviewKey].([]any); len(rows) == 0 || len(rows) > 200 {
		t.Fatalf("table preview rows = %d", len(rows))
	}
	txt, _ := v["text"].(map[string]any)
	if txt["$type"] != "text" || txt["$len"] != float64(len(long)) || !strings.HasPrefix(txt[store.PreviewKey].(string), "Lorem ipsum") {
		t.Fatalf("text preview = %.300v", txt)
	}
	if v["i"] != 250.0 {
		t.Fatalf("i = %v", v["i"])
	}
}

// A value that contains itself, or nests very deep, is stored with a
// marker instead of overflowing the recorder's stack.
func TestRecorder_SelfReference(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "self"})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]any{"name": "env"}
	env["env"] = env
	env["list"] = []any{env, env}
	deep := map[string]any{}
	d := deep
	for i := 0; i < 100_000; i++ {
		n := map[string]any{}
		d["next"] = n
		d = n
	}
	rec.Event(finished(1, map[string]any{"env": env, "deep": deep}))
	rec.Event(engine.Event{Kind: engine.EventStepFinished, Time: time.Now(), Seq: 2, NodeID: "n", Type: "t", Status: engine.StatusOK,
		Outputs: map[string]any{"env": env}})
	if err := rec.Close(&engine.Result{Status: engine.StatusOK, Steps: 2}); err != nil {
		t.Fatal(err)
	}
	v, err := db.VarsAt(ctx, rec.RunID(), 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if !strings.Contains(string(b), store.CycleMarker) || !strings.Contains(string(b), store.DeepMarker) {
		t.Fatalf("vars = %.1000s", b)
	}
	steps, err := db.Steps(ctx, rec.RunID())
	if err != nil || len(steps) != 2 || !strings.Contains(fmt.Sprint(steps[1].Outputs), store.CycleMarker) {
		t.Fatalf("steps = %+v, %v", steps, err)
	}
}

// The history's detail level: "steps" keeps every step and log line
// without variables or outputs; "errors" keeps the failed steps with the
// variables at that point, and warnings and errors from the log. The run's
// status and step count are kept at every level.
func TestRecorder_HistoryLevels(t *testing.T) {
	ctx := context.Background()
	for _, level := range []string{"", engine.HistoryFull, engine.HistorySteps, engine.HistoryErrors} {
		t.Run("level="+level, func(t *testing.T) {
			db := MustOpenDB(t)
			doc := strings.Replace(countFlow, `"name":"count",`, fmt.Sprintf(`"name":"count","settings":{"history":%q},`, level), 1)
			f := mustParse(t, doc)
			if f.Settings.History != level {
				t.Fatalf("settings.history = %q", f.Settings.History)
			}
			rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name, History: f.Settings.History})
			if err != nil {
				t.Fatal(err)
			}
			res, _ := engine.Run(ctx, f, engine.Options{Observer: rec, RunID: rec.RunID()})
			if err := rec.Close(res); err != nil {
				t.Fatal(err)
			}
			r, _ := db.Run(ctx, rec.RunID())
			if r.Status != engine.StatusOK || r.Steps != 12 {
				t.Fatalf("run = %+v", r)
			}
			steps, _ := db.Steps(ctx, rec.RunID())
			logs, _ := db.Logs(ctx, rec.RunID())
			var nvars int
			db.SQL().QueryRow(`SELECT COUNT(*) FROM vars`).Scan(&nvars)
			switch level {
			case "", engine.HistoryFull:
				if len(steps) != 12 || len(logs) != 3 || nvars == 0 || !steps[1].HasVars {
					t.Fatalf("%d steps, %d logs, %d variable rows, step 2 %+v", len(steps), len(logs), nvars, steps[1])
				}
				// Every step keeps its inputs: the value set, the message
				// logged, the condition seen, the failing step's message.
				if steps[1].Inputs["value"] != 1.0 || steps[2].Inputs["message"] != "i is 1" || steps[3].Inputs["condition"] != true ||
					steps[10].Inputs["message"] != "no more at 3" {
					t.Fatalf("inputs %v %v %v %v", steps[1].Inputs, steps[2].Inputs, steps[3].Inputs, steps[10].Inputs)
				}
			case engine.HistorySteps:
				if len(steps) != 12 || len(logs) != 3 || nvars != 0 || steps[1].HasVars {
					t.Fatalf("%d steps, %d logs, %d variable rows, step 2 %+v", len(steps), len(logs), nvars, steps[1])
				}
				for _, s := range steps {
					if s.Inputs != nil {
						t.Fatalf("step %d kept inputs %v at level steps", s.Seq, s.Inputs)
					}
				}
			case engine.HistoryErrors:
				if len(steps) != 1 || steps[0].NodeID != "boom" || steps[0].Status != engine.StatusCaught || len(logs) != 0 || nvars != 1 ||
					steps[0].Inputs["message"] != "no more at 3" {
					t.Fatalf("%d steps %+v, %d logs, %d variable rows", len(steps), steps, len(logs), nvars)
				}
				v, err := db.VarsAt(ctx, rec.RunID(), steps[0].Seq)
				if err != nil || v["i"] != 3.0 || !strings.Contains(fmt.Sprint(v["err"]), "no more at 3") {
					t.Fatalf("vars at the failed step = %v, %v", v, err)
				}
			}
		})
	}
	// A level that does not exist is an error naming the setting.
	bad := strings.Replace(countFlow, `"name":"count",`, `"name":"count","settings":{"history":"verbose"},`, 1)
	if _, err := engine.Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "settings.history") {
		t.Fatalf("parse with history verbose: %v", err)
	}
	db := MustOpenDB(t)
	if _, err := db.Recorder(ctx, store.RunInfo{Flow: "x", History: "verbose"}); err == nil || !strings.Contains(err.Error(), "settings.history") {
		t.Fatalf("recorder with history verbose: %v", err)
	}
}

// While another process holds the write lock, the recorder's backlog is
// bounded: Event waits once MaxPendingEvents events wait, and every event
// is written once the lock is released.
func TestRecorder_Backpressure(t *testing.T) {
	l := lockedRecorder(t, "backpressure")
	steps := 2 * store.MaxPendingEvents
	sent := l.send(steps)
	// The sender must come to wait: 4x the bound cannot all be pending.
	for l.rec.Stats().Blocked == 0 {
		select {
		case <-sent:
			t.Fatalf("all %d events were taken while the database was locked", 2*steps)
		case <-time.After(time.Millisecond):
		}
	}
	l.noStepsYet(t)
	l.release(t, sent, steps)
	if s := l.rec.Stats(); s.Errors != 0 {
		t.Fatalf("stats = %+v", s)
	}
}
