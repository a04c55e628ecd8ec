package store_test

import (
	"context"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// BenchmarkRecorderStatsIndexes measures what migration 005's step
// indexes (steps_type_stats, steps_failed) cost the recorder: the same
// 10,000-step runs recorded into a database file with them and, the
// same-run baseline, into one where they were dropped.
func BenchmarkRecorderStatsIndexes(b *testing.B) {
	const steps = 10000
	now := time.Now()
	events := make([]engine.Event, 0, 2*steps)
	for seq := 1; seq <= steps; seq++ {
		typ, port := "files.write_text", "next"
		if seq%2 == 0 {
			typ, port = "control.for_each", "each"
		}
		events = append(events,
			engine.Event{Kind: engine.EventStepStarted, Time: now, Seq: seq, NodeID: "n", Type: typ, Attempt: 1},
			engine.Event{Kind: engine.EventStepFinished, Time: now, Seq: seq, NodeID: "n", Type: typ, Attempt: 1,
				Status: engine.StatusOK, Port: port, Duration: time.Millisecond})
	}
	for _, c := range []struct {
		name string
		drop bool
	}{{"with-005-indexes", false}, {"without", true}} {
		b.Run(c.name, func(b *testing.B) {
			db, _ := MustOpenFile(b)
			if c.drop {
				for _, q := range []string{`DROP INDEX steps_type_stats`, `DROP INDEX steps_failed`} {
					if _, err := db.SQL().Exec(q); err != nil {
						b.Fatal(err)
					}
				}
			}
			ctx := context.Background()
			n := 0
			for b.Loop() {
				rec, err := db.Recorder(ctx, store.RunInfo{Flow: "bench", History: engine.HistorySteps})
				if err != nil {
					b.Fatal(err)
				}
				for i := range events {
					rec.Event(events[i])
				}
				if err := rec.Close(&engine.Result{Status: engine.StatusOK, Steps: steps}); err != nil {
					b.Fatal(err)
				}
				n += steps
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
