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

// BenchmarkTemplateField measures a letter template over a table row.
// "checked" is today's a.b, which fails on a missing field; "plain" is the
// same template written a?.b, which compiles to expr's own fetch (what a.b
// compiled to before fields were checked): the same-run baseline.
func BenchmarkTemplateField(b *testing.B) {
	vars := map[string]any{"customer": map[string]any{"first_name": "Ann", "last_name": "Lee", "company": "ACME", "balance": "12.50"}}
	for _, c := range []struct{ name, src string }{
		{"checked", "{{ customer.company }}\nDear {{ customer.first_name }} {{ customer.last_name }}, you owe {{ customer.balance }}."},
		{"plain", "{{ customer?.company }}\nDear {{ customer?.first_name }} {{ customer?.last_name }}, you owe {{ customer?.balance }}."},
	} {
		b.Run(c.name, func(b *testing.B) {
			t, err := engine.CompileTemplate(c.src, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.String(vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoopWithTimeout is the loop with a flow-wide default timeout:
// every step runs on its own goroutine with a detachable Call.
func BenchmarkLoopWithTimeout(b *testing.B) {
	f := mustParse(b, LoopFlow)
	f.Settings.DefaultTimeout = engine.Duration(time.Minute)
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
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

// BenchmarkAppendRows builds a 5,000-row table by appending one row per
// iteration (rows = concat(rows, [row])), the way a flow collects results. Each
// Set checks the value's size (see CheckSize).
func BenchmarkAppendRows(b *testing.B) {
	f := mustParse(b, `{"format":"deskbot.flow","version":1,"name":"append",
 "variables":[{"name":"i","type":"number","default":0},{"name":"rows","type":"list"}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"add","type":"control.set_variable","params":{"variable":"rows","value":"concat(rows, [{name: \"customer\", city: \"Utrecht\", n: i, a: 1, b: 2, c: 3, d: 4, e: 5}])"}},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"more","type":"control.if","params":{"condition":"i < 5000"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"add"},{"from":"add","port":"next","to":"inc"},{"from":"inc","port":"next","to":"more"},
   {"from":"more","port":"true","to":"add"},{"from":"more","port":"false","to":"end"}]}`)
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := engine.Run(context.Background(), f, engine.Options{Prepared: prep})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(res.Vars["rows"].([]any)); n != 5000 {
			b.Fatalf("%d rows", n)
		}
	}
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
