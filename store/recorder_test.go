package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

func mustParse(tb testing.TB, doc string) *engine.Flow {
	tb.Helper()
	f, err := engine.Parse([]byte(doc))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// countFlow counts to 3, logging each number, then fails; the failure is
// caught by the error port.
const countFlow = `{"format":"deskbot.flow","version":1,"name":"count",
 "variables":[{"name":"i","type":"number","default":0},{"name":"err","type":"string"}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"say","type":"control.log","params":{"message":"i is {{ i }}"}},
   {"id":"more","type":"control.if","params":{"condition":"i < 3"}},
   {"id":"boom","type":"control.fail","params":{"message":"no more at {{ i }}"},"error_var":"err"},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"inc"},{"from":"inc","port":"next","to":"say"},
   {"from":"say","port":"next","to":"more"},
   {"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"boom"},
   {"from":"boom","port":"error","to":"end"}]}`

func runRecorded(t *testing.T, db *store.DB, doc string, ctx context.Context, dry bool) (*engine.Result, string) {
	t.Helper()
	f := mustParse(t, doc)
	v, err := db.SaveFlow(ctx, f.Name, "/flows/"+f.Name+".json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	id := store.NewRunID()
	rec, err := db.Recorder(context.Background(), store.RunInfo{ID: id, Flow: f.Name, FlowVersion: v, Path: "/flows/x.json", DryRun: dry})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := engine.Run(ctx, f, engine.Options{Observer: rec, RunID: id, DryRun: dry, ArtifactDir: db.ArtifactDir(id)})
	if err := rec.Close(res); err != nil {
		t.Fatal(err)
	}
	return res, id
}

func TestRecorder_EngineRun(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	res, id := runRecorded(t, db, countFlow, ctx, false)
	if res.Status != engine.StatusOK {
		t.Fatalf("run status %s: %v", res.Status, res.Err)
	}
	r, err := db.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusOK || r.Flow != "count" || r.FlowVersion != 1 || r.Steps != res.Steps || r.End.Before(r.Start) || r.End.IsZero() || r.PID != os.Getpid() || r.DryRun {
		t.Fatalf("run = %+v (result steps %d)", r, res.Steps)
	}
	steps, err := db.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// start, 3 x (inc, say, more), boom, end
	var nodes []string
	for i, s := range steps {
		if s.Seq != i+1 {
			t.Fatalf("step %d has seq %d", i, s.Seq)
		}
		nodes = append(nodes, s.NodeID+":"+s.Status)
	}
	want := "start:ok inc:ok say:ok more:ok inc:ok say:ok more:ok inc:ok say:ok more:ok boom:caught end:ok"
	if strings.Join(nodes, " ") != want {
		t.Fatalf("steps:\n got %s\nwant %s", strings.Join(nodes, " "), want)
	}
	page, err := db.StepsAfter(ctx, id, 4, 3)
	if err != nil || len(page) != 3 || page[0].Seq != 5 || page[2].Seq != 7 {
		t.Fatalf("StepsAfter(4, 3) = %+v, %v", page, err)
	}
	boom := steps[10]
	if boom.Type != "control.fail" || boom.Port != "error" || boom.Error != "no more at 3" || boom.Attempt != 1 {
		t.Fatalf("boom step = %+v", boom)
	}
	if steps[3].Port != "true" || steps[9].Port != "false" {
		t.Fatalf("if ports = %q %q", steps[3].Port, steps[9].Port)
	}
	for _, s := range steps {
		if s.Start.Before(r.Start.Add(-time.Second)) || s.Duration < 0 {
			t.Fatalf("step timing %+v", s)
		}
	}
	// Variables step by step: i after each inc, err after boom.
	for seq, wantI := range map[int]float64{1: 0, 2: 1, 3: 1, 4: 1, 5: 2, 8: 3, 12: 3} {
		v, err := db.VarsAt(ctx, id, seq)
		if err != nil {
			t.Fatal(err)
		}
		if seq == 1 {
			// start changes nothing; the first snapshot may be there or not.
			if len(v) > 0 && v["i"] != 0.0 {
				t.Fatalf("vars at 1 = %v", v)
			}
			continue
		}
		if v["i"] != wantI {
			t.Fatalf("i at step %d = %v, want %v (vars %v)", seq, v["i"], wantI, v)
		}
	}
	if v, _ := db.VarsAt(ctx, id, 11); v["err"] != "no more at 3" {
		t.Fatalf("err var after boom = %v", v["err"])
	}
	if !steps[1].HasVars || steps[2].HasVars {
		t.Fatalf("HasVars: inc %v, say %v", steps[1].HasVars, steps[2].HasVars)
	}
	logs, err := db.Logs(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 3 || logs[0].Message != "i is 1" || logs[2].Message != "i is 3" || logs[0].Seq != 3 || logs[0].NodeID != "say" || logs[0].Level != "info" || logs[0].Time.IsZero() {
		t.Fatalf("logs = %+v", logs)
	}
}

const failFlow = `{"format":"deskbot.flow","version":1,"name":"failing",
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"check","type":"control.assert","params":{"condition":"1 > 2","message":"numbers broke"}}],
 "edges":[{"from":"start","port":"next","to":"check"}]}`

func TestRecorder_FailedRun(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	res, id := runRecorded(t, db, failFlow, ctx, true)
	if res.Status != engine.StatusFailed {
		t.Fatalf("status %s", res.Status)
	}
	r, err := db.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusFailed || !strings.Contains(r.Error, "check") || !strings.Contains(r.Error, "numbers broke") || !r.DryRun {
		t.Fatalf("run = %+v", r)
	}
	steps, _ := db.Steps(ctx, id)
	if len(steps) != 2 || steps[1].Status != engine.StatusFailed || !strings.Contains(steps[1].Error, "numbers broke") {
		t.Fatalf("steps = %+v", steps)
	}
}

const waitFlow = `{"format":"deskbot.flow","version":1,"name":"waiting",
 "nodes":[{"id":"start","type":"control.start"},{"id":"wait","type":"control.wait","params":{"duration":"1h"}}],
 "edges":[{"from":"start","port":"next","to":"wait"}]}`

// A stopped run is still recorded: the recorder ignores the run's context.
func TestRecorder_StoppedRun(t *testing.T) {
	db := MustOpenDB(t)
	ctx, stop := context.WithCancelCause(context.Background())
	f := mustParse(t, waitFlow)
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name})
	if err != nil {
		t.Fatal(err)
	}
	obs := engine.Observers{rec, engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.EventStepStarted && e.NodeID == "wait" {
			// While the wait runs, the history shows it running.
			go func() {
				if err := rec.Flush(); err != nil {
					t.Error(err)
				}
				steps, _ := db.Steps(context.Background(), rec.RunID())
				if len(steps) != 2 || steps[1].Status != store.StatusRunning {
					t.Errorf("steps during the wait = %+v", steps)
				}
				stop(engine.ErrStoppedByUser)
			}()
		}
	})}
	res, _ := engine.Run(ctx, f, engine.Options{Observer: obs, RunID: rec.RunID()})
	if err := rec.Close(res); err != nil {
		t.Fatal(err)
	}
	r, err := db.Run(context.Background(), rec.RunID())
	if err != nil {
		t.Fatal(err)
	}
	steps, _ := db.Steps(context.Background(), rec.RunID())
	if r.Status != engine.StatusStopped || len(steps) != 2 || steps[1].Status != engine.StatusStopped || steps[1].Duration <= 0 {
		t.Fatalf("run %+v steps %+v", r, steps)
	}
}

// Events fed directly: a step spanning batches, outputs, odd values, logs.
func TestRecorder_Events(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "direct"})
	if err != nil {
		t.Fatal(err)
	}
	var commits []int
	var mu sync.Mutex
	rec.OnCommit(func(seq int) { mu.Lock(); commits = append(commits, seq); mu.Unlock() })
	t0 := time.Now()
	shot := db.ArtifactDir(rec.RunID()) + "/failure.png"
	rec.Event(engine.Event{Kind: engine.EventRunStarted, Time: t0})
	rec.Event(engine.Event{Kind: engine.EventStepStarted, Time: t0, Seq: 1, NodeID: "click", Type: "desktop.click", Label: "Click OK", Attempt: 1})
	rec.Event(engine.Event{Kind: engine.EventLog, Time: t0, Seq: 1, NodeID: "click", Level: "warn", Message: "no window yet"})
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	steps, _ := db.Steps(ctx, rec.RunID())
	if len(steps) != 1 || steps[0].Status != store.StatusRunning || steps[0].Label != "Click OK" {
		t.Fatalf("half-done step = %+v", steps)
	}
	rec.Event(engine.Event{Kind: engine.EventStepFinished, Time: t0.Add(2 * time.Second), Seq: 1, NodeID: "click", Type: "desktop.click", Label: "Click OK",
		Attempt: 1, Status: engine.StatusRetrying, Duration: 2 * time.Second, Err: "no window \"OK\"",
		Outputs: map[string]any{"screenshot": shot}, Vars: map[string]any{"x": math.NaN(), "name": "Ann", "list": []any{1, "a"}}})
	rec.Event(engine.Event{Kind: engine.EventVars, Time: t0, Seq: 1, Vars: map[string]any{"name": "Bob"}})
	rec.Event(engine.Event{Kind: engine.EventStepStarted, Time: t0.Add(3 * time.Second), Seq: 2, NodeID: "click", Type: "desktop.click", Attempt: 2})
	rec.Event(engine.Event{Kind: engine.EventStepFinished, Time: t0.Add(4 * time.Second), Seq: 2, NodeID: "click", Type: "desktop.click", Attempt: 2, Status: engine.StatusOK, Duration: time.Second, Port: "next"})
	rec.Event(engine.Event{Kind: engine.EventStepStarted, Time: t0.Add(4 * time.Second), Seq: 3, NodeID: "never", Type: "t"})
	rec.Event(engine.Event{Kind: engine.EventRunFinished, Time: t0.Add(4 * time.Second), Seq: 2, Status: engine.StatusOK})
	if err := rec.Close(nil); err != nil { // no result: the run_finished event decides
		t.Fatal(err)
	}
	rec.Event(engine.Event{Kind: engine.EventStepStarted, Seq: 4}) // after Close: ignored
	if err := rec.Close(nil); err != nil {
		t.Fatal(err)
	}
	steps, err = db.Steps(ctx, rec.RunID())
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[2].Status != engine.StatusInterrupted {
		t.Fatalf("steps = %+v", steps)
	}
	s := steps[0]
	if s.Status != engine.StatusRetrying || s.Duration != 2*time.Second || !s.Start.Equal(t0) || s.Error != `no window "OK"` || s.Outputs["screenshot"] != shot || !s.HasVars {
		t.Fatalf("step 1 = %+v", s)
	}
	if steps[1].Attempt != 2 || steps[1].Port != "next" || steps[1].HasVars || steps[1].Outputs != nil {
		t.Fatalf("step 2 = %+v", steps[1])
	}
	v, err := db.VarsAt(ctx, rec.RunID(), 2)
	if err != nil || v["name"] != "Bob" {
		t.Fatalf("vars at 2 = %v, %v (a vars event replaces the snapshot)", v, err)
	}
	if v, err := db.VarsAt(ctx, rec.RunID(), 0); err != nil || len(v) != 0 {
		t.Fatalf("vars before any step = %v, %v", v, err)
	}
	r, _ := db.Run(ctx, rec.RunID())
	if r.Status != engine.StatusOK || r.Steps != 2 {
		t.Fatalf("run = %+v", r)
	}
	logs, _ := db.Logs(ctx, rec.RunID())
	if len(logs) != 1 || logs[0].Level != "warn" || logs[0].Seq != 1 {
		t.Fatalf("logs = %+v", logs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(commits) == 0 || commits[len(commits)-1] != 2 {
		t.Fatalf("commit callbacks = %v", commits)
	}
}

// Vars snapshot with a NaN keeps the other values.
func TestRecorder_NaNVars(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "nan"})
	if err != nil {
		t.Fatal(err)
	}
	rec.Event(engine.Event{Kind: engine.EventStepFinished, Time: time.Now(), Seq: 1, NodeID: "a", Type: "t", Status: "ok", Vars: map[string]any{"x": math.NaN(), "name": "Ann",
		"groups": map[any]any{"a": []any{map[any]any{1: "one"}}, 2: math.Inf(1)}, "f": func() {}}})
	rec.Close(&engine.Result{Status: engine.StatusOK, Steps: 1})
	v, err := db.VarsAt(ctx, rec.RunID(), 1)
	if err != nil || v["name"] != "Ann" || v["x"] != "NaN" {
		t.Fatalf("vars = %v, %v", v, err)
	}
	g, _ := v["groups"].(map[string]any)
	if fmt.Sprint(g["a"]) != "[map[1:one]]" || g["2"] != "+Inf" || v["f"] == nil {
		t.Fatalf("groups = %#v, vars %v", v["groups"], v)
	}
}

func TestRuns(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	var ids []string
	for i, flow := range []string{"a", "b", "a", "a"} {
		id := base.Add(time.Duration(i)*time.Minute).Format("20060102-150405-") + "00000" + string(rune('0'+i))
		ids = append(ids, id)
		rec, err := db.Recorder(ctx, store.RunInfo{ID: id, Flow: flow, Start: base.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Close(&engine.Result{Status: engine.StatusOK}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Runs(ctx, store.RunFilter{})
	if err != nil || len(all) != 4 || all[0].ID != ids[3] || all[3].ID != ids[0] {
		t.Fatalf("runs = %+v, %v", all, err)
	}
	a, _ := db.Runs(ctx, store.RunFilter{Flow: "a", Limit: 2})
	if len(a) != 2 || a[0].ID != ids[3] || a[1].ID != ids[2] {
		t.Fatalf("runs of a = %+v", a)
	}
	if _, err := db.Recorder(ctx, store.RunInfo{ID: ids[0], Flow: "a"}); err == nil {
		t.Fatal("a second run with the same id was recorded")
	}
	// Unique prefixes find runs; ambiguous and unknown ones fail clearly.
	if r, err := db.Run(ctx, ids[1][:len(ids[1])-1]+"1"); err != nil || r.Flow != "b" {
		t.Fatalf("Run = %+v, %v", r, err)
	}
	if r, err := db.Run(ctx, "20261129-0301"); err != nil || r.ID != ids[1] {
		t.Fatalf("Run(prefix) = %+v, %v", r, err)
	}
	if _, err := db.Run(ctx, "20261129"); err == nil || !strings.Contains(err.Error(), "several") {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	if _, err := db.Run(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown run: %v", err)
	}
	if _, err := db.Steps(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("steps of unknown run: %v", err)
	}
	if err := db.DeleteRun(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.Runs(ctx, store.RunFilter{}); len(all) != 3 {
		t.Fatalf("after delete: %d runs", len(all))
	}
}

// Runs left "running" by dead processes, or by an earlier process with our
// pid, become interrupted; our own live runs do not.
func TestMarkInterrupted(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	// A pid that surely is dead: a child that has exited and been reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	deadPID := cmd.Process.Pid

	live, err := db.Recorder(ctx, store.RunInfo{ID: "live", Flow: "f"})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close(nil)
	insert := func(id string, pid int, proc string) {
		_, err := db.SQL().Exec(`INSERT INTO runs (run_id, flow, start, status, pid, proc) VALUES (?, 'f', ?, 'running', ?, ?)`, id, time.Now().UnixNano(), pid, proc)
		if err != nil {
			t.Fatal(err)
		}
	}
	insert("dead", deadPID, "")
	insert("reused", os.Getpid(), "token:someone-else")
	insert("nopid", 0, "")
	key := 0
	db.SQL().QueryRow(`SELECT id FROM runs WHERE run_id = 'dead'`).Scan(&key)
	if _, err := db.SQL().Exec(`INSERT INTO steps (run, seq, node, type, start, duration, status) VALUES (?, 1, 'n', 't', ?, 5, 'ok')`, key, time.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	n, err := db.MarkInterrupted(ctx)
	if err != nil || n != 3 {
		t.Fatalf("MarkInterrupted = %d, %v; want 3", n, err)
	}
	for id, want := range map[string]string{"live": store.StatusRunning, "dead": engine.StatusInterrupted, "reused": engine.StatusInterrupted, "nopid": engine.StatusInterrupted} {
		r, err := db.Run(ctx, id)
		if err != nil || r.Status != want {
			t.Fatalf("run %s = %+v, %v; want %s", id, r, err, want)
		}
		if want == engine.StatusInterrupted && (r.End.IsZero() || r.Error == "") {
			t.Fatalf("interrupted run %s = %+v", id, r)
		}
	}
	if r, _ := db.Run(ctx, "dead"); r.Steps != 1 {
		t.Fatalf("dead run steps = %d", r.Steps)
	}
	if n, _ := db.MarkInterrupted(ctx); n != 0 {
		t.Fatalf("second MarkInterrupted = %d", n)
	}
}
