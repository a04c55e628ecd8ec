package engine

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkRedactedForEach runs a for-each over a 10,000-row table (three
// text columns) with an observer that counts events, with the events'
// secrets masked (on) and not (off, the baseline), alternating within each
// iteration; it reports both times and their ratio.
func BenchmarkRedactedForEach(b *testing.B) {
	f, err := Parse([]byte(`{"format":"deskbot.flow","version":1,"name":"rows",
	 "variables":[{"name":"rows","type":"table","input":true},{"name":"n","type":"number","default":0}],
	 "nodes":[{"id":"start","type":"control.start"},
	  {"id":"each","type":"control.for_each","params":{"items":"rows","item":"row"}},
	  {"id":"count","type":"control.set_variable","params":{"variable":"n","value":"n + 1"}}],
	 "edges":[{"from":"start","port":"next","to":"each"},{"from":"each","port":"each","to":"count"},{"from":"count","port":"next","to":"each"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]any, 10000)
	for i := range rows {
		rows[i] = map[string]any{"id": fmt.Sprint(i), "name": fmt.Sprintf("Customer %d", i), "note": "ordered the blue key ring, token 7"}
	}
	prep, err := Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	events := 0
	obs := ObserverFunc(func(Event) { events++ })
	defer func() { redactEvents = true }()
	var took [2]time.Duration
	n := 0
	for b.Loop() {
		for _, on := range [][2]bool{{false, true}, {true, false}}[n%2] {
			redactEvents = on
			t0 := time.Now()
			res, err := Run(context.Background(), f, Options{Prepared: prep, Observer: obs, Inputs: map[string]any{"rows": rows}})
			if err != nil || res.Steps < 20000 {
				b.Fatal(err, res.Steps)
			}
			i := 0
			if on {
				i = 1
			}
			took[i] += time.Since(t0)
		}
		n++
	}
	b.ReportMetric(float64(took[0].Microseconds())/float64(n)/1000, "ms/run-plain")
	b.ReportMetric(float64(took[1].Microseconds())/float64(n)/1000, "ms/run-redacted")
	b.ReportMetric(float64(took[1])/float64(took[0]), "redacted/plain")
}
