package store_test

import (
	"context"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// BenchmarkRecorder measures events per second recorded into a database
// file on disk, Close (the final flush) included. The events mimic a
// set-variable/if loop: each step is a started and a finished event, and
// every other finished event carries a variable snapshot.
func BenchmarkRecorder(b *testing.B) {
	db, _ := MustOpenFile(b)
	ctx := context.Background()
	const steps = 10000
	events := make([]engine.Event, 0, 2*steps)
	now := time.Now()
	for seq := 1; seq <= steps; seq++ {
		node, typ, port := "inc", "control.set_variable", "next"
		var vars map[string]any
		if seq%2 == 0 {
			node, typ, port = "more", "control.if", "true"
		} else {
			vars = map[string]any{"i": float64(seq / 2), "run_id": "bench", "flow_dir": "/home/user/flows"}
		}
		events = append(events,
			engine.Event{Kind: engine.EventStepStarted, Time: now, RunID: "bench", Flow: "bench loop", Seq: seq, NodeID: node, Type: typ, Attempt: 1},
			engine.Event{Kind: engine.EventStepFinished, Time: now, RunID: "bench", Flow: "bench loop", Seq: seq, NodeID: node, Type: typ, Attempt: 1,
				Status: engine.StatusOK, Port: port, Duration: 300 * time.Nanosecond, Vars: vars})
	}
	b.ReportAllocs()
	n := 0
	var stats store.RecorderStats
	for b.Loop() {
		rec, err := db.Recorder(ctx, store.RunInfo{Flow: "bench loop"})
		if err != nil {
			b.Fatal(err)
		}
		for i := range events {
			rec.Event(events[i])
		}
		if err := rec.Close(&engine.Result{Status: engine.StatusOK, Steps: steps}); err != nil {
			b.Fatal(err)
		}
		n += len(events)
		s := rec.Stats()
		stats.Events += s.Events
		stats.Batches += s.Batches
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n/2)/b.Elapsed().Seconds(), "steps/s")
	if stats.Batches > 0 {
		b.ReportMetric(float64(stats.Events)/float64(stats.Batches), "events/batch")
	}
}

// benchLoop is engine/bench_test.go's LoopFlow: 10000 iterations of
// set-variable plus if, 20001 steps.
const benchLoop = `{"format":"deskbot.flow","version":1,"name":"bench loop",
 "variables":[{"name":"i","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"more","type":"control.if","params":{"condition":"i < 10000"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"inc"},{"from":"inc","port":"next","to":"more"},
   {"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"end"}]}`

// BenchmarkRecordedLoop measures steps per second of the engine's loop
// benchmark flow recorded into a file, from the recorder's creation to its
// Close (everything committed).
func BenchmarkRecordedLoop(b *testing.B) {
	db, _ := MustOpenFile(b)
	ctx := context.Background()
	f := mustParse(b, benchLoop)
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	steps := 0
	for b.Loop() {
		rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name})
		if err != nil {
			b.Fatal(err)
		}
		res, err := engine.Run(ctx, f, engine.Options{Prepared: prep, Observer: rec, RunID: rec.RunID()})
		if err != nil {
			b.Fatal(err)
		}
		if err := rec.Close(res); err != nil {
			b.Fatal(err)
		}
		steps += res.Steps
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
}
