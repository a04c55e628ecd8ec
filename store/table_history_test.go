package store_test

import (
	"context"
	"reflect"
	"testing"

	"deskbot/engine"
	_ "deskbot/engine/activities"
	"deskbot/store"
)

// A table made by the table activities (a list of objects) is a variable
// like any other: the history holds it at the step that made it, row by row.
func TestHistory_TableVariables(t *testing.T) {
	f, err := engine.Parse([]byte(`{"format":"deskbot.flow","version":1,"name":"tables",
 "variables":[{"name":"orders","type":"table","default":[
   {"Customer":"Ann","Amount":120.5,"Country":"NL"},{"Customer":"Bob","Amount":30,"Country":"DE"},{"Customer":"Cleo","Amount":7,"Country":"NL"}]}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"nl","type":"table.filter","params":{"table":"orders","where":"row.Country == \"NL\"","output":"dutch"}},
   {"id":"sum","type":"table.aggregate","params":{"table":"orders","group_by":["Country"],"values":["sum(Amount) as total"],"output":"totals"}}],
 "edges":[{"from":"start","port":"next","to":"nl"},{"from":"nl","port":"next","to":"sum"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := MustOpenFile(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name})
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(ctx, f, engine.Options{Observer: rec, RunID: rec.RunID()})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(res); err != nil {
		t.Fatal(err)
	}
	steps, err := db.Steps(ctx, rec.RunID())
	if err != nil || len(steps) != 3 {
		t.Fatalf("steps %v, %v", steps, err)
	}
	after := func(node string) map[string]any {
		for _, s := range steps {
			if s.NodeID == node {
				vars, err := db.VarsAt(ctx, rec.RunID(), s.Seq)
				if err != nil {
					t.Fatal(err)
				}
				return vars
			}
		}
		t.Fatalf("no step of %s", node)
		return nil
	}
	wantDutch := []any{
		map[string]any{"Customer": "Ann", "Amount": 120.5, "Country": "NL"},
		map[string]any{"Customer": "Cleo", "Amount": 7.0, "Country": "NL"},
	}
	v := after("nl")
	if !reflect.DeepEqual(v["dutch"], wantDutch) || v["totals"] != nil {
		t.Errorf("after the filter: dutch %v, totals %v", v["dutch"], v["totals"])
	}
	v = after("sum")
	wantTotals := []any{map[string]any{"Country": "NL", "total": 127.5}, map[string]any{"Country": "DE", "total": 30.0}}
	if !reflect.DeepEqual(v["totals"], wantTotals) || !reflect.DeepEqual(v["dutch"], wantDutch) {
		t.Errorf("after the aggregate: totals %v, dutch %v", v["totals"], v["dutch"])
	}
}
