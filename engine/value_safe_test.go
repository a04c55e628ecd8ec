package engine_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"deskbot/engine"
)

// set_variable with value $env stored the variables in themselves; the text
// conversion (ToString → json.Marshal → fmt.Sprint) then overflowed the stack.
func TestSelfReferencingValue(t *testing.T) {
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"env",
 "variables":[{"name":"a","type":"number","default":1}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"show","type":"control.log","params":{"message":"vars: {{ $env }}"}},
  {"id":"keep","type":"control.set_variable","label":"Keep env","params":{"variable":"x","value":"$env"}},
  {"id":"log","type":"control.log","params":{"message":"{{ x }}"}}],
 "edges":[{"from":"start","port":"next","to":"show"},{"from":"show","port":"next","to":"keep"},{"from":"keep","port":"next","to":"log"}]}`)
	var rec engine.Recorder
	res, err := engine.Run(context.Background(), f, engine.Options{Observer: &rec})
	if err == nil || res.Status != engine.StatusFailed {
		t.Fatalf("want a failed run, got %v", err)
	}
	for _, want := range []string{`"keep"`, `variable "x"`, "contain itself", "$env"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, ok := res.Vars["x"]; ok {
		t.Error("x was set")
	}
}

// Values that contain themselves, however they were made, convert to text.
func TestToStringCycles(t *testing.T) {
	m := map[string]any{"n": 1.0}
	m["self"] = m
	l := []any{"a", nil}
	l[1] = l
	m["list"] = l
	s := engine.ToString(m)
	if !strings.Contains(s, `"self":"<cycle>"`) || !strings.Contains(s, `"list":["a","<cycle>"]`) {
		t.Errorf("ToString of a cycle: %s", s)
	}
	if s := engine.ToString([]any{1.0, math.NaN(), math.Inf(-1)}); s != "[1,NaN,-Inf]" {
		t.Errorf("ToString with NaN: %s", s)
	}
	if err := engine.CheckSize(m); err == nil || !strings.Contains(err.Error(), "contain itself") {
		t.Errorf("CheckSize of a cycle: %v", err)
	}
	// A value nested past MaxDepth is refused and written with "…".
	var deep any = "leaf"
	for i := 0; i < engine.MaxDepth+5; i++ {
		deep = []any{deep}
	}
	if err := engine.CheckSize(deep); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("CheckSize of a deep value: %v", err)
	}
	j := engine.JSONSafe(map[string]any{"m": m, "nan": math.NaN(), "inf": math.Inf(1), "ok": 2.0})
	if toJSON(t, j) != `{"inf":"+Inf","m":{"list":["a","<cycle>"],"n":1,"self":"<cycle>"},"nan":"NaN","ok":2}` {
		t.Errorf("JSONSafe: %s", toJSON(t, j))
	}
}

// A text that doubles in a loop ran the process out of memory; it fails at
// MaxTextBytes, naming the node and the variable.
func TestDoublingTextHitsLimit(t *testing.T) {
	f := mustParse(t, `{"format":"deskbot.flow","version":1,"name":"double",
 "variables":[{"name":"s","type":"string","default":"0123456789abcdef"}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"loop","type":"control.while","params":{"condition":"true","max_iterations":200}},
  {"id":"grow","type":"control.set_variable","params":{"variable":"s","value":"s + s"}}],
 "edges":[{"from":"start","port":"next","to":"loop"},{"from":"loop","port":"loop","to":"grow"},{"from":"grow","port":"next","to":"loop"}]}`)
	res, err := engine.Run(context.Background(), f, engine.Options{})
	if err == nil {
		t.Fatal("the doubling ran to its end")
	}
	for _, want := range []string{`"grow"`, `variable "s"`, "too large", "64 MB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if n := len(res.Vars["s"].(string)); n > engine.MaxTextBytes {
		t.Errorf("s grew to %d bytes", n)
	}
}

// A list that grows past MaxItems (here through shared parts, as l = [l, l]
// makes it) is refused.
func TestItemLimit(t *testing.T) {
	leaf := make([]any, 1000)
	for i := range leaf {
		leaf[i] = "x"
	}
	mid := make([]any, 1000)
	for i := range mid {
		mid[i] = leaf
	}
	top := make([]any, engine.MaxItems/1_000_000+1)
	for i := range top {
		top[i] = mid
	}
	if err := engine.CheckSize(top); err == nil || !strings.Contains(err.Error(), "items") {
		t.Errorf("CheckSize of %d items: %v", len(top)*1_000_000, err)
	}
	if err := engine.CheckSize(top[:len(top)-2]); err != nil {
		t.Errorf("CheckSize under the limit: %v", err)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(b.String())
}

func benchTable() []any {
	rows := make([]any, 100_000)
	for i := range rows {
		row := map[string]any{}
		for c := 0; c < 10; c++ {
			row[string(rune('a'+c))] = "some cell text"
		}
		rows[i] = row
	}
	return rows
}

// BenchmarkCheckSizeTable is the size check Call.Set makes on a 100,000-row
// table of ten columns; BenchmarkMarshalTable, converting the same table to
// JSON once, is the baseline.
func BenchmarkCheckSizeTable(b *testing.B) {
	rows := benchTable()
	for b.Loop() {
		if err := engine.CheckSize(rows); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalTable(b *testing.B) {
	rows := benchTable()
	for b.Loop() {
		if _, err := json.Marshal(rows); err != nil {
			b.Fatal(err)
		}
	}
}
