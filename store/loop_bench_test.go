package store_test

import (
	"context"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// benchLoopFlow is the engine's benchmark flow: a 10000-iteration loop of
// set-variable plus if (20001 steps with start and end).
const benchLoopFlow = `{"format":"deskbot.flow","version":1,"name":"bench loop",
 "variables":[{"name":"i","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"more","type":"control.if","params":{"condition":"i < 10000"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"inc"},{"from":"inc","port":"next","to":"more"},
   {"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"end"}]}`

// BenchmarkLoopLoggingToFile measures whole runs of the loop flow recorded
// into a SQLite file on disk: every step event, log and variable snapshot
// committed (Close waits for the last batch). Compare with the engine's
// BenchmarkLoopNoLogging.
func BenchmarkLoopLoggingToFile(b *testing.B) {
	db, _ := MustOpenFile(b)
	f, err := engine.Parse([]byte(benchLoopFlow))
	if err != nil {
		b.Fatal(err)
	}
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
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

// BenchmarkLoopRecordedRatio runs the loop flow unrecorded and recorded
// into a database file in the same run and reports both speeds and the
// recorded/unrecorded time ratio: the recorder's whole per-step cost on
// the cheapest steps there are.
func BenchmarkLoopRecordedRatio(b *testing.B) {
	db, _ := MustOpenFile(b)
	f, err := engine.Parse([]byte(benchLoopFlow))
	if err != nil {
		b.Fatal(err)
	}
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var plain, recorded time.Duration
	steps := 0
	for b.Loop() {
		t0 := time.Now()
		res, err := engine.Run(ctx, f, engine.Options{Prepared: prep})
		if err != nil {
			b.Fatal(err)
		}
		plain += time.Since(t0)
		t0 = time.Now()
		rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := engine.Run(ctx, f, engine.Options{Prepared: prep, Observer: rec, RunID: rec.RunID()}); err != nil {
			b.Fatal(err)
		}
		if err := rec.Close(res); err != nil {
			b.Fatal(err)
		}
		recorded += time.Since(t0)
		steps += res.Steps
	}
	b.ReportMetric(float64(steps)/plain.Seconds(), "unrecorded-steps/s")
	b.ReportMetric(float64(steps)/recorded.Seconds(), "recorded-steps/s")
	b.ReportMetric(recorded.Seconds()/plain.Seconds(), "recorded/unrecorded")
}
