package store_test

import (
	"context"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// BenchmarkRecorderStatsIndexes measures why migration 005 gives the
// steps no index: the same 10,000-step runs recorded into a database file
// as it is (the baseline) and into one with an index on the steps, such
// as the statistics could use (by type, covering the sums; or a partial
// one of the failed steps).
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
		name  string
		index string
	}{{"no-step-index", ""},
		{"steps-by-type", `CREATE INDEX steps_type_stats ON steps(type, run, status, port, duration)`},
		{"failed-steps-partial", `CREATE INDEX steps_failed ON steps(run, seq) WHERE status NOT IN ('ok', 'dry', 'running')`}} {
		b.Run(c.name, func(b *testing.B) {
			db, _ := MustOpenFile(b)
			if c.index != "" {
				if _, err := db.SQL().Exec(c.index); err != nil {
					b.Fatal(err)
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
