package engine_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
)

func TestLoadErrorsNamePlace(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"syntax", "{\n  \"format\": \"deskbot.flow\",\n  \"version\": 1,\n  \"nodes\": [\n    {\"id\": \"a\" \"type\": \"x\"}\n  ]\n}", []string{"syntax.json", "line 5, column 16"}},
		{"truncated", "{\n  \"format\": \"deskbot.flow\",\n  \"nodes\": [", []string{"truncated.json", "line 3", "unexpected end"}},
		{"wrongtype", "{\"format\": \"deskbot.flow\", \"version\": 1, \"nodes\": [{\"id\": \"n1\", \"type\": \"control.log\", \"position\": {\"x\": \"left\", \"y\": 0}}]}", []string{"line 1", "position.x"}},
		{"dupid", `{"format":"deskbot.flow","version":1,"nodes":[{"id":"a","type":"control.start"},{"id":"a","type":"control.end"}]}`, []string{`node "a"`, `field "id"`, "duplicate"}},
		{"notype", `{"format":"deskbot.flow","version":1,"nodes":[{"id":"a"}]}`, []string{`node "a"`, `field "type"`}},
		{"badretry", `{"format":"deskbot.flow","version":1,"nodes":[{"id":"a","type":"control.log","retry":{"count":-1}}]}`, []string{`node "a"`, `retry.count`}},
		{"badtimeout", `{"format":"deskbot.flow","version":1,"nodes":[{"id":"a","type":"control.log","timeout":"soon"}]}`, []string{"soon"}},
		{"future", `{"format":"deskbot.flow","version":99}`, []string{`field "version"`, "newer"}},
		{"notflow", `{"format":"other","version":1}`, []string{`field "format"`}},
		{"badvar", `{"format":"deskbot.flow","version":1,"variables":[{"name":"1x","type":"string"}]}`, []string{"variables[0].name", "1x"}},
		{"badvartype", `{"format":"deskbot.flow","version":1,"variables":[{"name":"x","type":"text"}]}`, []string{"variables[0].type"}},
		{"baddefault", `{"format":"deskbot.flow","version":1,"variables":[{"name":"x","type":"number","default":"ten"}]}`, []string{"variables[0].default", "ten"}},
		{"unknownkey", `{"format":"deskbot.flow","version":1,"nodez":[]}`, []string{"nodez"}},
		{"trailing", `{"format":"deskbot.flow","version":1} {}`, []string{"trailing.json", "line 1, column 39"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".json")
			os.WriteFile(p, []byte(c.doc), 0o644)
			_, err := engine.LoadFile(p)
			if err == nil {
				t.Fatal("loaded a bad flow")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSaveIsStableAndRoundTrips(t *testing.T) {
	f, err := engine.LoadFile("testdata/golden/csv_letters/flow.json")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "f.json")
	if err := f.Save(p); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(p)
	for i := 0; i < 5; i++ {
		g, err := engine.LoadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := os.ReadFile(p)
	if !bytes.Equal(first, again) {
		t.Fatalf("save is not stable:\n%s\n---\n%s", first, again)
	}
	// Keys come in the documented order.
	s := string(first)
	order := []string{`"format"`, `"version"`, `"name"`, `"settings"`, `"variables"`, `"nodes"`, `"edges"`}
	last := -1
	for _, k := range order {
		i := strings.Index(s, k)
		if i < last {
			t.Errorf("key %s out of order", k)
		}
		last = i
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestSaveFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	f := engine.NewFlow("keep me")
	if err := f.Save(p); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	// A value JSON cannot encode makes the save fail before anything is
	// written; the old file must stay as it was.
	f.Nodes[0].Params = map[string]any{"bad": make(chan int)}
	if err := f.Save(p); err == nil {
		t.Fatal("save of an unencodable flow succeeded")
	}
	// A read-only folder makes the temp file fail.
	f.Nodes[0].Params = nil
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	if os.Geteuid() != 0 { // root ignores permissions
		if err := f.Save(p); err == nil {
			t.Fatal("save into a read-only folder succeeded")
		}
	}
	after, _ := os.ReadFile(p)
	if !bytes.Equal(before, after) {
		t.Fatal("a failed save changed the file")
	}
	if _, err := engine.LoadFile(p); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateV0(t *testing.T) {
	v0 := `{"name": "old", "variables": [{"name": "n", "type": "number", "default": 2}],
	"steps": [{"id": "s", "type": "control.start", "x": 1, "y": 2},
	          {"id": "l", "type": "control.log", "params": {"message": "n={{ n }}"}, "timeout_ms": 1500}],
	"links": [{"from": "s", "to": "l"}]}`
	f, err := engine.Parse([]byte(v0))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != engine.FormatVersion || f.Format != engine.FormatName {
		t.Errorf("not migrated: %+v", f)
	}
	if len(f.Edges) != 1 || f.Edges[0].Port != "next" {
		t.Errorf("edges: %+v", f.Edges)
	}
	if n := f.Node("l"); n == nil || n.Timeout.String() != "1.5s" || n.Position != (engine.Point{}) {
		t.Errorf("node l: %+v", n)
	}
	if n := f.Node("s"); n.Position != (engine.Point{X: 1, Y: 2}) {
		t.Errorf("position: %+v", n.Position)
	}
	if ps := engine.Lint(f, nil, ""); engine.HasErrors(ps) {
		t.Errorf("migrated flow has problems: %v", ps)
	}
	if _, err := engine.Parse([]byte(`{"steps": [], "links": [{"from": "a"}]}`)); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("bad v0 link: %v", err)
	}
}

func TestFieldErrorIs(t *testing.T) {
	_, err := engine.Parse([]byte(`{"format":"deskbot.flow","version":1,"nodes":[{"id":"a"}]}`))
	var fe *engine.FieldError
	if !errors.As(err, &fe) || fe.Node != "a" || fe.Field != "type" {
		t.Fatalf("got %#v", err)
	}
}
