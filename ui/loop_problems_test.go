package ui

import (
	"strings"
	"testing"

	"deskbot/engine"
)

// A for-each whose each branch never comes back is shown in Problems, on
// the loop node, as an error.
func TestProblemsShowLoopThatNeverComesBack(t *testing.T) {
	s, _ := newTestStudio(t)
	f := engine.NewFlow("loop")
	f.Variables = []engine.Variable{{Name: "rows", Type: "list"}}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "each", Type: "control.for_each", Params: map[string]any{"items": "rows"}},
		&engine.Node{ID: "say", Type: "control.log", Params: map[string]any{"message": "{{ item }}"}},
		&engine.Node{ID: "end", Type: "control.end"})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "each"}, {From: "each", Port: "each", To: "say"},
		{From: "say", Port: "next", To: "end"}, {From: "each", Port: "done", To: "end"}}
	s.setDocument(NewDocument(f, ""))
	found := false
	for _, p := range s.Problems {
		if p.NodeID == "each" && p.Severity == engine.SeverityError && strings.Contains(p.Msg, "never comes back") {
			found = true
		}
	}
	if !found {
		t.Errorf("Problems lack the loop error: %v", s.Problems)
	}
}
