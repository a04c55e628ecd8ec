package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"deskbot/engine"
)

// TestNotesAndGroupsRoundTrip saves a flow with sticky notes and a group
// box and reads them back unchanged; lint and the runner ignore them.
func TestNotesAndGroupsRoundTrip(t *testing.T) {
	f := engine.NewFlow("Notes")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "log", Type: "control.log", Position: engine.Point{X: 250, Y: 40}, Params: map[string]any{"message": "hi"}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "log"}}
	f.Notes = []engine.Note{{Text: "Ask Anna before\nchanging this", Position: engine.Point{X: 10, Y: 200}, Size: engine.Size{W: 180, H: 90}, Color: "#ffe680"}}
	f.Groups = []engine.Group{{Title: "Greeting", Position: engine.Point{X: 230, Y: 10}, Size: engine.Size{W: 200, H: 110}, Nodes: []string{"log"}}}
	p := filepath.Join(t.TempDir(), "notes.json")
	if err := f.Save(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	for _, k := range []string{`"notes"`, `"groups"`, `"Ask Anna before\nchanging this"`, `"Greeting"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("saved file lacks %s:\n%s", k, b)
		}
	}
	g, err := engine.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Notes, f.Notes) || !reflect.DeepEqual(g.Groups, f.Groups) {
		t.Fatalf("round trip changed notes or groups:\n%+v %+v\n%+v %+v", f.Notes, f.Groups, g.Notes, g.Groups)
	}
	if ps := engine.Lint(g, nil, ""); engine.HasErrors(ps) || len(ps) != 0 {
		t.Errorf("lint sees notes or groups: %v", ps)
	}
	res, err := engine.Run(context.Background(), g, engine.Options{})
	if err != nil || res.Steps != 2 {
		t.Fatalf("run with notes: %v, %+v", err, res)
	}
}

// TestFlowWithoutNotesLoadsAndSavesWithout checks that files written before
// notes and groups existed still load, and that a flow without them is
// saved without the keys.
func TestFlowWithoutNotesLoadsAndSavesWithout(t *testing.T) {
	f, err := engine.Parse([]byte(`{"format":"deskbot.flow","version":1,"name":"old","nodes":[{"id":"start","type":"control.start","position":{"x":0,"y":0}}],"edges":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Notes != nil || f.Groups != nil {
		t.Fatalf("old file got notes %v, groups %v", f.Notes, f.Groups)
	}
	p := filepath.Join(t.TempDir(), "old.json")
	if err := f.Save(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if strings.Contains(string(b), "notes") || strings.Contains(string(b), "groups") {
		t.Errorf("a flow without notes was saved with the keys:\n%s", b)
	}
	// A misspelt key is still an error (the decoder is strict).
	if _, err := engine.Parse([]byte(`{"format":"deskbot.flow","version":1,"note":[]}`)); err == nil {
		t.Error(`"note" (not "notes") was accepted`)
	}
}
