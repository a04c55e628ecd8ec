package engine_test

import (
	"strings"
	"testing"

	"deskbot/engine"
)

func TestLintFindsEachProblem(t *testing.T) {
	doc := `{"format":"deskbot.flow","version":1,"name":"bad",
 "variables":[{"name":"n","type":"number"}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"start2","type":"control.start"},
   {"id":"typo","type":"control.lgo"},
   {"id":"nomsg","type":"control.log"},
   {"id":"badexpr","type":"control.if","params":{"condition":"n >"}},
   {"id":"unknownvar","type":"control.if","params":{"condition":"m > 1"}},
   {"id":"badtpl","type":"control.log","params":{"message":"{{ n "}},
   {"id":"badint","type":"control.while","params":{"condition":"true","max_iterations":"lots"}},
   {"id":"badsel","type":"control.log","params":{"message":"x","level":"loud"}},
   {"id":"island","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"typo"},{"from":"typo","port":"next","to":"nomsg"},
   {"from":"nomsg","port":"next","to":"badexpr"},{"from":"badexpr","port":"true","to":"ghost"},
   {"from":"badexpr","port":"maybe","to":"unknownvar"},{"from":"unknownvar","port":"true","to":"badtpl"},
   {"from":"badtpl","port":"next","to":"badint"},{"from":"badint","port":"loop","to":"badsel"},
   {"from":"nobody","port":"next","to":"start"}]}`
	ps := engine.Lint(mustParse(t, doc), nil, "")
	var all []string
	for _, p := range ps {
		all = append(all, p.String())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		`node "start2": a second start node`,
		`node "typo", field "type": unknown activity type "control.lgo" (did you mean "control.log"?)`,
		`node "nomsg", field "message": required field is missing`,
		`node "badexpr", field "condition"`,
		`node "unknownvar", field "condition": expression "m > 1": unknown variable "m"`,
		`node "badtpl", field "message"`,
		`node "badint", field "max_iterations": want a number`,
		`node "badsel", field "level": "loud" is not one of`,
		`node "badexpr", field "edges": port "true" leads to unknown node "ghost"`,
		`node "badexpr", field "edges": control.if has no port "maybe"`,
		`node "nobody", field "edges": edge from unknown node`,
		`warning: node "island": unreachable`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("lint missed %q; got:\n%s", want, text)
		}
	}
	if !engine.HasErrors(ps) {
		t.Error("HasErrors false")
	}
	noStart := `{"format":"deskbot.flow","version":1,"nodes":[{"id":"a","type":"control.end"}]}`
	if ps := engine.Lint(mustParse(t, noStart), nil, ""); len(ps) == 0 || !strings.Contains(ps[0].Msg, "no start node") {
		t.Errorf("missing start not found: %v", ps)
	}
}

func TestLintCleanFlows(t *testing.T) {
	for _, c := range []string{"if_else", "for_each", "csv_letters", "call_flow", "process_run"} {
		f, err := engine.LoadFile("testdata/golden/" + c + "/flow.json")
		if err != nil {
			t.Fatal(err)
		}
		if ps := engine.Lint(f, nil, "testdata/golden/"+c); len(ps) != 0 {
			t.Errorf("%s: unexpected problems %v", c, ps)
		}
	}
}
