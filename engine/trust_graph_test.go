package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"deskbot/engine"
)

func loopFlow(extraNodes, edges string) string {
	return `{"format":"deskbot.flow","version":1,"variables":[{"name":"rows","type":"list","default":[1,2,3]},{"name":"n","type":"number"}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"each","type":"control.for_each","params":{"items":"rows"}},
   {"id":"body","type":"control.log","params":{"message":"{{ item }}"}},
   {"id":"more","type":"control.if","params":{"condition":"item < 3"}},
   {"id":"whl","type":"control.while","params":{"condition":"n < 3"}},
   {"id":"inc","type":"control.set_variable","params":{"variable":"n","value":"n + 1"}},
   {"id":"end","type":"control.end"}` + extraNodes + `],
 "edges":[{"from":"start","port":"next","to":"each"}` + edges + `]}`
}

// A for-each whose each branch never came back processed the first row
// only and said "ok".
func TestLoopBranchMustComeBack(t *testing.T) {
	const msg = "never comes back to this loop"
	cases := []struct {
		name, edges, want string
	}{
		{"dangling", `,{"from":"each","port":"each","to":"body"},{"from":"each","port":"done","to":"end"}`, `node "each", field "edges": the each branch ` + msg},
		{"to end", `,{"from":"each","port":"each","to":"body"},{"from":"body","port":"next","to":"end"},{"from":"each","port":"done","to":"end"}`, `node "each", field "edges": the each branch ` + msg},
		{"unconnected", `,{"from":"each","port":"done","to":"end"}`, `node "each", field "edges": the each port is not connected`},
		{"while", `,{"from":"each","port":"each","to":"body"},{"from":"body","port":"next","to":"each"},{"from":"each","port":"done","to":"whl"},{"from":"whl","port":"loop","to":"inc"},{"from":"inc","port":"next","to":"end"}`, `node "whl", field "edges": the loop branch ` + msg},
	}
	for _, c := range cases {
		ps := engine.Lint(mustParse(t, loopFlow("", c.edges)), nil, "")
		got := problems(ps)
		if !strings.Contains(got, "error: "+c.want) {
			t.Errorf("%s: want %q, got:\n%s", c.name, c.want, got)
		}
		if _, err := engine.Prepare(mustParse(t, loopFlow("", c.edges)), nil, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: prepare (so a run) does not refuse the flow: %v", c.name, err)
		}
	}
	// Good loops: back to the loop; a conditional break; leaving through the
	// error port; a nested loop whose done returns to the outer loop.
	for name, edges := range map[string]string{
		"back":   `,{"from":"each","port":"each","to":"body"},{"from":"body","port":"next","to":"each"},{"from":"each","port":"done","to":"end"}`,
		"break":  `,{"from":"each","port":"each","to":"more"},{"from":"more","port":"true","to":"each"},{"from":"more","port":"false","to":"end"},{"from":"each","port":"done","to":"end"}`,
		"error":  `,{"from":"each","port":"each","to":"body"},{"from":"body","port":"next","to":"each"},{"from":"body","port":"error","to":"end"},{"from":"each","port":"done","to":"end"}`,
		"nested": `,{"from":"each","port":"each","to":"whl"},{"from":"whl","port":"loop","to":"inc"},{"from":"inc","port":"next","to":"whl"},{"from":"whl","port":"done","to":"each"},{"from":"each","port":"done","to":"end"}`,
	} {
		for _, p := range engine.Lint(mustParse(t, loopFlow("", edges)), nil, "") {
			if p.NodeID == "each" || strings.Contains(p.Msg, "cycle") || strings.Contains(p.Msg, "comes back") && !strings.Contains(name, "nested") {
				t.Errorf("%s: unexpected problem %s", name, p)
			}
		}
	}
}

// A cycle with no loop node ran to the 10-million-step cap without a word.
func TestEndlessCycleIsWarning(t *testing.T) {
	edges := `,{"from":"each","port":"done","to":"body"},{"from":"each","port":"each","to":"each"},{"from":"body","port":"next","to":"inc"},{"from":"inc","port":"next","to":"body"}`
	got := problems(engine.Lint(mustParse(t, loopFlow("", edges)), nil, ""))
	want := `warning: node "body", field "edges": endless cycle: the nodes body, inc form a cycle`
	if !strings.Contains(got, want) {
		t.Errorf("want %q, got:\n%s", want, got)
	}
	self := `,{"from":"each","port":"each","to":"each"},{"from":"each","port":"done","to":"inc"},{"from":"inc","port":"next","to":"inc"}`
	if got := problems(engine.Lint(mustParse(t, loopFlow("", self)), nil, "")); !strings.Contains(got, `node "inc", field "edges": endless cycle: the nodes inc`) {
		t.Errorf("self loop: got:\n%s", got)
	}
	// An If that can leave the cycle makes it a loop (the benchmark's loop).
	if ps := engine.Lint(mustParse(t, LoopFlow), nil, ""); len(ps) != 0 {
		t.Errorf("LoopFlow: %s", problems(ps))
	}
	// An If whose both ports stay in the cycle cannot leave it.
	both := `,{"from":"each","port":"each","to":"each"},{"from":"each","port":"done","to":"more"},{"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"inc"},{"from":"inc","port":"next","to":"more"}`
	if got := problems(engine.Lint(mustParse(t, loopFlow("", both)), nil, "")); !strings.Contains(got, "endless cycle: the nodes more, inc") {
		t.Errorf("if inside: got:\n%s", got)
	}
}

// bigFlow is a chain of n nodes: start, then for-each loops of 3 nodes
// (loop, log with templates, set_variable back to the loop), then end. Each
// set_variable has its own expression, so the compile cache does not hide
// the cost of compiling.
func bigFlow(n int) *engine.Flow {
	f := engine.NewFlow("big")
	f.Variables = []engine.Variable{{Name: "rows", Type: "list"}, {Name: "total", Type: "number"}}
	prev, port := "start", "next"
	for i := 0; len(f.Nodes) < n-1; i++ {
		loop, body, inc := fmt.Sprintf("loop%d", i), fmt.Sprintf("log%d", i), fmt.Sprintf("inc%d", i)
		f.Nodes = append(f.Nodes,
			&engine.Node{ID: loop, Type: "control.for_each", Params: map[string]any{"items": "rows", "item": "row"}},
			&engine.Node{ID: body, Type: "control.log", Params: map[string]any{"message": "row {{ row }} of {{ len(rows) }}"}},
			&engine.Node{ID: inc, Type: "control.set_variable", Params: map[string]any{"variable": "total", "value": fmt.Sprintf("total + %d", i)}})
		f.Edges = append(f.Edges, engine.Edge{From: prev, Port: port, To: loop},
			engine.Edge{From: loop, Port: "each", To: body}, engine.Edge{From: body, Port: "next", To: inc},
			engine.Edge{From: inc, Port: "next", To: loop})
		prev, port = loop, "done"
	}
	f.Nodes = append(f.Nodes, &engine.Node{ID: "end", Type: "control.end"})
	f.Edges = append(f.Edges, engine.Edge{From: prev, Port: port, To: "end"})
	return f
}

// Lint and Prepare were quadratic in the number of nodes (100,000 nodes:
// 86 s). The work counter must grow like the flow, not its square.
func TestLintAndPrepareScaleLinearly(t *testing.T) {
	measure := func(n int) int64 {
		f := bigFlow(n)
		w0 := engine.Work()
		if ps := engine.Lint(f, nil, ""); len(ps) != 0 {
			t.Fatalf("big flow: %s", problems(ps[:1]))
		}
		if _, err := engine.Prepare(f, nil, ""); err != nil {
			t.Fatal(err)
		}
		for _, e := range f.Edges { // lookups as the studio does them
			if f.Node(e.From) == nil || f.Node(e.To) == nil {
				t.Fatal("lookup failed")
			}
		}
		return engine.Work() - w0
	}
	small, large := measure(2_000), measure(20_000)
	if ratio := float64(large) / float64(small); ratio > 12 {
		t.Errorf("10x the nodes took %.1fx the work (%d vs %d): not linear", ratio, large, small)
	}
}

// BenchmarkLintPrepare lints, and prepares, a flow of 10,000 and 100,000
// nodes with the compile cache emptied first (cold, as a fresh process);
// the ratio of the two sizes is the scaling (10 is linear).
func BenchmarkLintPrepare(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		f := bigFlow(n)
		b.Run(fmt.Sprintf("lint/nodes=%d", n), func(b *testing.B) {
			for b.Loop() {
				engine.ResetCompileCache()
				if ps := engine.Lint(f, nil, ""); len(ps) != 0 {
					b.Fatal(problems(ps[:1]))
				}
			}
		})
		b.Run(fmt.Sprintf("prepare/nodes=%d", n), func(b *testing.B) {
			for b.Loop() {
				engine.ResetCompileCache()
				if _, err := engine.Prepare(f, nil, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Lint may run in the studio while a run prepares the same flow: the node
// index and the compile cache are shared (run with -race).
func TestConcurrentLintAndPrepare(t *testing.T) {
	f := bigFlow(300)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- true }()
			for i := 0; i < 5; i++ {
				engine.ResetCompileCache()
				if ps := engine.Lint(f, nil, ""); len(ps) != 0 {
					t.Error(problems(ps))
				}
				if _, err := engine.Prepare(f, nil, ""); err != nil {
					t.Error(err)
				}
				if f.Node(fmt.Sprintf("log%d", i)) == nil || f.Node("nope") != nil {
					t.Error("lookup")
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
