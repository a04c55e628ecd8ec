package engine_test

import (
	"context"
	"strings"
	"testing"

	"deskbot/engine"
)

// switchFlow routes status to one log per case and one for default; every
// branch sets took.
func switchFlow(t *testing.T, cases string, extraEdge string) *engine.Flow {
	return mustParse(t, `{"format":"deskbot.flow","version":1,"name":"switch",
 "variables":[{"name":"status","type":"any","default":"new"},{"name":"took","type":"string"}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"sw","type":"control.switch","params":{"value":"status","cases":`+cases+`}},
   {"id":"a","type":"control.set_variable","params":{"variable":"took","value":"\"new\""}},
   {"id":"b","type":"control.set_variable","params":{"variable":"took","value":"\"paid\""}},
   {"id":"c","type":"control.set_variable","params":{"variable":"took","value":"\"two\""}},
   {"id":"d","type":"control.set_variable","params":{"variable":"took","value":"\"default\""}}],
 "edges":[{"from":"start","port":"next","to":"sw"},{"from":"sw","port":"new","to":"a"},
   {"from":"sw","port":"paid","to":"b"},{"from":"sw","port":"2","to":"c"},{"from":"sw","port":"default","to":"d"}`+extraEdge+`]}`)
}

func TestSwitchRuns(t *testing.T) {
	f := switchFlow(t, `["new", "paid", "2"]`, "")
	if ps := engine.Lint(f, nil, ""); len(ps) != 0 {
		t.Fatalf("lint: %v", ps)
	}
	for _, tc := range []struct {
		status any
		want   string
	}{
		{"new", "new"}, {"paid", "paid"}, {2.0, "two"}, {"2", "two"}, {"shipped", "default"}, {"New", "default"},
	} {
		var port string
		obs := engine.ObserverFunc(func(e engine.Event) {
			if e.Kind == engine.EventStepFinished && e.NodeID == "sw" {
				port = e.Port
			}
		})
		res, err := engine.Run(context.Background(), f, engine.Options{Inputs: map[string]any{"status": tc.status}, Observer: obs})
		if err != nil {
			t.Fatal(err)
		}
		if res.Vars["took"] != tc.want {
			t.Errorf("status %v: took %v, want %v", tc.status, res.Vars["took"], tc.want)
		}
		if wantPort := map[string]string{"two": "2"}[tc.want]; wantPort == "" && port != tc.want || wantPort != "" && port != wantPort {
			t.Errorf("status %v: the step reports port %q", tc.status, port)
		}
	}
}

func TestSwitchLint(t *testing.T) {
	// The edge from port "paid" names no case any more: lint and the run
	// both refuse it, listing the node's ports.
	f := switchFlow(t, `["new", "2"]`, "")
	ps := engine.Lint(f, nil, "")
	want := `node "sw", field "edges": control.switch has no port "paid" (ports: new, 2, default, error)`
	if !engine.HasErrors(ps) || !strings.Contains(ps[0].String(), want) {
		t.Errorf("lint: %v, want %q", ps, want)
	}
	if _, err := engine.Run(context.Background(), f, engine.Options{}); err == nil || !strings.Contains(err.Error(), `control.switch has no port "paid"`) {
		t.Errorf("run: %v", err)
	}
	for _, tc := range []struct{ cases, want string }{
		{`["new", "new", "paid", "2"]`, `case 2: "new" appears twice`},
		{`["new", "paid", "2", "default"]`, `case 4: "default" is the name of a port every switch has`},
		{`["new", "paid", "2", ""]`, `case 4 is empty`},
		{`["new", "paid", "2", "{{ status }}"]`, `case 4: "{{ status }}": cases name ports, so they are plain text without {{ }}`},
		{`[]`, `name at least one case`},
	} {
		ps := engine.Lint(switchFlow(t, tc.cases, ""), nil, "")
		var all []string
		for _, p := range ps {
			all = append(all, p.String())
		}
		if !strings.Contains(strings.Join(all, "\n"), `node "sw", field "cases": `+tc.want) {
			t.Errorf("cases %s: lint %v, want %q", tc.cases, all, tc.want)
		}
	}
	// A switch with an unconnected case port is a way out of a hand-made
	// cycle, like an If's unconnected port.
	reg := engine.Default
	spec, _ := reg.Spec("control.switch")
	n := &engine.Node{ID: "sw", Type: "control.switch", Params: map[string]any{"cases": []any{"x", "y"}}}
	if got := strings.Join(spec.NodePorts(n), ","); got != "x,y,default" {
		t.Errorf("NodePorts: %s", got)
	}
	if !spec.NodeHasPort(n, "y") || !spec.NodeHasPort(n, "error") || spec.NodeHasPort(n, "next") {
		t.Error("NodeHasPort")
	}
}
