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

// The end-to-end loop benchmark with logging to a file is
// BenchmarkLoopLoggingToFile in loop_bench_test.go.
