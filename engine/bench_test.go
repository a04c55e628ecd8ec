package engine_test

import (
	"context"
	"testing"
	"time"

	"deskbot/engine"
)

// LoopFlow is the benchmark flow: a 10000-iteration loop of set-variable
// plus if, 20001 steps in all with start and end.
const LoopFlow = `{"format":"deskbot.flow","version":1,"name":"bench loop",
 "variables":[{"name":"i","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"more","type":"control.if","params":{"condition":"i < 10000"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"inc"},{"from":"inc","port":"next","to":"more"},
   {"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"end"}]}`

// BenchmarkLoopNoLogging measures steps per second with no observer.
func BenchmarkLoopNoLogging(b *testing.B) {
	f := mustParse(b, LoopFlow)
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	steps := 0
	for b.Loop() {
		res, err := engine.Run(context.Background(), f, engine.Options{Prepared: prep})
		if err != nil {
			b.Fatal(err)
		}
		steps += res.Steps
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkLoopInMemoryObserver measures steps per second with an observer
// that only counts: the cost of producing events and snapshots.
func BenchmarkLoopInMemoryObserver(b *testing.B) {
	f := mustParse(b, LoopFlow)
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	obs := engine.ObserverFunc(func(engine.Event) { n++ })
	steps := 0
	for b.Loop() {
		res, err := engine.Run(context.Background(), f, engine.Options{Prepared: prep, Observer: obs})
		if err != nil {
			b.Fatal(err)
		}
		steps += res.Steps
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkCancelInsideLongWait measures the stop latency inside a wait:
// from cancel to Run's return (ns/op is the whole run; stop-ns/op is the
// latency). Compare with BenchmarkLoopNoLogging's ns per step, from the
// same run, as a baseline of the machine's speed.
func BenchmarkCancelInsideLongWait(b *testing.B) {
	f := mustParse(b, longWait)
	var total time.Duration
	for b.Loop() {
		_, took := stopInsideLongWait(b, f)
		total += took
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "stop-ns/op")
}
