package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
)

// --json with a NaN or Inf variable dropped the final run_finished event and
// still exited 0.
func TestCLIJSONNaNAndInf(t *testing.T) {
	data := t.TempDir()
	flow := filepath.Join(t.TempDir(), "nan.json")
	f := engine.NewFlow("nan")
	f.Variables = []engine.Variable{{Name: "x", Type: engine.TypeNumber, Input: true}}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "inf", Type: "control.set_variable", Params: map[string]any{"variable": "big", "value": "1e308 * 10"}},
		&engine.Node{ID: "list", Type: "control.set_variable", Params: map[string]any{"variable": "l", "value": "[x, big, -big]"}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "inf"}, {From: "inf", Port: "next", To: "list"}}
	if err := f.Save(flow); err != nil {
		t.Fatal(err)
	}
	r := run(t, data, "run", "--json", "--var", "x=NaN", flow)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("%v: %s", err, lines[len(lines)-1])
	}
	if last["event"] != "run_finished" || last["status"] != "ok" {
		t.Fatalf("last event %v\nstderr: %s", last, r.stderr)
	}
	vars, _ := last["vars"].(map[string]any)
	if vars["x"] != "NaN" || vars["big"] != "+Inf" {
		t.Errorf("vars %v", vars)
	}
	if l, _ := vars["l"].([]any); len(l) != 3 || l[2] != "-Inf" {
		t.Errorf("l = %v", vars["l"])
	}
}

// A timeout of 1e13 ms overflowed into a negative duration: lint accepted it
// and fmt wrote a file that no longer loaded.
func TestCLIDurationOutOfRange(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	doc := func(timeout string) string {
		return `{"format":"deskbot.flow","version":1,"name":"d","nodes":[{"id":"start","type":"control.start"},
 {"id":"w","type":"control.wait","params":{"duration":"1ms"},"timeout":` + timeout + `}],
 "edges":[{"from":"start","port":"next","to":"w"}]}`
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(doc("1e13")), 0o644)
	for _, cmd := range []string{"lint", "fmt", "run"} {
		r := run(t, data, cmd, bad)
		if r.code != 1 || !strings.Contains(r.stderr, `node "w", field "timeout"`) || !strings.Contains(r.stderr, "out of range") {
			t.Errorf("%s: exit %d\n%s%s", cmd, r.code, r.stdout, r.stderr)
		}
	}
	if b, _ := os.ReadFile(bad); string(b) != doc("1e13") {
		t.Errorf("fmt rewrote a file that does not load")
	}
	for _, timeout := range []string{"-5", `"-1s"`, `"3000000h"`} {
		os.WriteFile(bad, []byte(doc(timeout)), 0o644)
		if r := run(t, data, "lint", bad); r.code != 1 || !strings.Contains(r.stderr, `node "w", field "timeout"`) {
			t.Errorf("timeout %s: lint exit %d\n%s%s", timeout, r.code, r.stdout, r.stderr)
		}
	}
	// The largest timeouts in range survive the round trip.
	for _, timeout := range []string{"1e12", "9223372036854", `"2562047h47m16.854775807s"`} {
		good := filepath.Join(dir, "good.json")
		os.WriteFile(good, []byte(doc(timeout)), 0o644)
		if r := run(t, data, "fmt", good); r.code != 0 {
			t.Fatalf("fmt %s: %d %s", timeout, r.code, r.stderr)
		}
		if r := run(t, data, "lint", good); r.code != 0 {
			t.Errorf("timeout %s after fmt: lint exit %d\n%s%s", timeout, r.code, r.stdout, r.stderr)
		}
	}
}
