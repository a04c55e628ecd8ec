package activities_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"deskbot/engine"
)

func orders() []any {
	return []any{
		map[string]any{"id": "1", "Customer": "Ann", "Amount": 120.5, "Country": "NL"},
		map[string]any{"id": "2", "Customer": "bob", "Amount": "30", "Country": "DE"},
		map[string]any{"id": "3", "Customer": "Cleo", "Amount": 7.0, "Country": "NL"},
		map[string]any{"id": "4", "Customer": "Dan", "Amount": "", "Country": "DE"},
		map[string]any{"id": "5", "Customer": "Ann", "Amount": "9", "Country": "NL"},
	}
}

func col(v any, name string) []any {
	var out []any
	for _, r := range v.([]any) {
		out = append(out, r.(map[string]any)[name])
	}
	return out
}

func TestTableFilter(t *testing.T) {
	in := map[string]any{"orders": orders(), "row": "a variable the filter hides"}
	for _, tc := range []struct {
		where string
		want  []any
	}{
		{`row.Country == "NL"`, []any{"1", "3", "5"}},
		{`row.Country == "NL" && float(row.Amount) > 8`, []any{"1", "5"}},
		{`row.Customer startsWith "X"`, nil},
	} {
		res, err := runNode(t, t.TempDir(), "table.filter", map[string]any{"table": "orders", "where": tc.where, "output": "out"}, in)
		if err != nil {
			t.Fatalf("%s: %v", tc.where, err)
		}
		if got := col(res.Vars["out"], "id"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ids %v, want %v", tc.where, got, tc.want)
		}
		if res.Vars["row"] != "a variable the filter hides" {
			t.Errorf("the filter changed the variable row: %v", res.Vars["row"])
		}
	}
	_, err := runNode(t, t.TempDir(), "table.filter", map[string]any{"table": "orders", "where": `row.Countr == "NL"`, "output": "out"}, in)
	if err == nil || !strings.Contains(err.Error(), `row 1`) || !strings.Contains(err.Error(), `did you mean "Country"?`) {
		t.Errorf("misspelt column: %v", err)
	}
	_, err = runNode(t, t.TempDir(), "table.filter", map[string]any{"table": "orders", "where": `rows.Country == "NL"`, "output": "out"}, map[string]any{"orders": orders()})
	if err == nil || !strings.Contains(err.Error(), `unknown variable "rows" (did you mean "row"?)`) {
		t.Errorf("unknown name at lint: %v", err)
	}
	_, err = runNode(t, t.TempDir(), "table.filter", map[string]any{"table": "orders", "where": `row.Amount`, "output": "out"}, in)
	if err == nil || !strings.Contains(err.Error(), "want true or false") {
		t.Errorf("not a condition: %v", err)
	}
	_, err = runNode(t, t.TempDir(), "table.filter", map[string]any{"table": `[1, 2]`, "where": `true`, "output": "out"}, nil)
	if err == nil || !strings.Contains(err.Error(), "table: row 1 is a number, want an object") {
		t.Errorf("not a table: %v", err)
	}
}

func TestTableSort(t *testing.T) {
	in := map[string]any{"orders": orders()}
	for _, tc := range []struct {
		by   []any
		want []any
	}{
		{[]any{"Amount"}, []any{"3", "5", "2", "1", "4"}},                  // numbers, also as text; empty last
		{[]any{"Amount desc"}, []any{"1", "2", "5", "3", "4"}},             // empty still last
		{[]any{"Customer asc", "id desc"}, []any{"5", "1", "2", "3", "4"}}, // text ignoring case
		{[]any{"Country", "Amount desc"}, []any{"2", "4", "1", "5", "3"}},
	} {
		res, err := runNode(t, t.TempDir(), "table.sort", map[string]any{"table": "orders", "by": tc.by, "output": "out"}, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := col(res.Vars["out"], "id"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("by %v: ids %v, want %v", tc.by, got, tc.want)
		}
	}
	// Numbers as text sort by value: "9" before "10".
	res, _ := runNode(t, t.TempDir(), "table.sort", map[string]any{"table": `[{"n": "10"}, {"n": "9"}, {"n": "x"}, {"n": 1}]`, "by": []any{"n"}, "output": "out"}, nil)
	if got := col(res.Vars["out"], "n"); !reflect.DeepEqual(got, []any{1, "9", "10", "x"}) {
		t.Errorf("mixed: %v", got)
	}
	_, err := runNode(t, t.TempDir(), "table.sort", map[string]any{"table": "orders", "by": []any{"Amout desc"}, "output": "out"}, in)
	if err == nil || !strings.Contains(err.Error(), `by: row 1 has no column "Amout" (columns: Amount, Country, Customer, id) (did you mean "Amount"?)`) {
		t.Errorf("missing column: %v", err)
	}
}

func TestTableLookup(t *testing.T) {
	f := newFlowWith(t, map[string]any{"orders": orders(), "want": 3.0})
	addNode(f, "look", "table.lookup", map[string]any{"table": "orders", "column": "id", "value": "want", "output": "hit"})
	addNode(f, "yes", "control.set_variable", map[string]any{"variable": "path", "value": `"found " + hit.Customer`})
	addNode(f, "no", "control.set_variable", map[string]any{"variable": "path", "value": `"not found"`})
	connect(f, "start", "next", "look")
	connect(f, "look", "next", "yes")
	connect(f, "look", "not_found", "no")
	res := runFlow(t, f, nil)
	if res.Vars["path"] != "found Cleo" {
		t.Errorf("3 (a number) against \"3\": %v", res.Vars["path"])
	}
	res = runFlow(t, f, map[string]any{"want": "99"})
	if res.Vars["path"] != "not found" || res.Vars["hit"] != nil {
		t.Errorf("99: %v, hit %v", res.Vars["path"], res.Vars["hit"])
	}
	_, err := runNode(t, t.TempDir(), "table.lookup", map[string]any{"table": "orders", "column": "Id", "value": "1", "output": "hit"}, map[string]any{"orders": orders()})
	if err == nil || !strings.Contains(err.Error(), `column: row 1 has no column "Id"`) || !strings.Contains(err.Error(), `did you mean "id"?`) {
		t.Errorf("missing column: %v", err)
	}
}

func TestTableJoin(t *testing.T) {
	customers := []any{
		map[string]any{"cid": "Ann", "City": "Delft", "Country": "NL"},
		map[string]any{"cid": "Cleo", "City": "Gent", "Country": "BE"},
	}
	in := map[string]any{"orders": orders(), "customers": customers}
	res, err := runNode(t, t.TempDir(), "table.join", map[string]any{"left": "orders", "right": "customers", "on": []any{"Customer=cid"}, "output": "out"}, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"id": "1", "Customer": "Ann", "Amount": 120.5, "Country": "NL", "City": "Delft", "Country_right": "NL"},
		map[string]any{"id": "3", "Customer": "Cleo", "Amount": 7.0, "Country": "NL", "City": "Gent", "Country_right": "BE"},
		map[string]any{"id": "5", "Customer": "Ann", "Amount": "9", "Country": "NL", "City": "Delft", "Country_right": "NL"},
	}
	if !reflect.DeepEqual(res.Vars["out"], want) {
		t.Errorf("inner:\n got %v\nwant %v", res.Vars["out"], want)
	}
	res, err = runNode(t, t.TempDir(), "table.join", map[string]any{"left": "orders", "right": "customers", "on": []any{"Customer=cid"}, "kind": "left", "output": "out"}, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := col(res.Vars["out"], "City"); !reflect.DeepEqual(got, []any{"Delft", "", "Gent", "", "Delft"}) {
		t.Errorf("left: cities %v", got)
	}
	_, err = runNode(t, t.TempDir(), "table.join", map[string]any{"left": "orders", "right": "customers", "on": []any{"Customer=cidd"}, "output": "out"}, in)
	if err == nil || !strings.Contains(err.Error(), `right: row 1 has no column "cidd"`) || !strings.Contains(err.Error(), `did you mean "cid"?`) {
		t.Errorf("missing key: %v", err)
	}
}

func TestTableAggregate(t *testing.T) {
	in := map[string]any{"orders": orders()}
	res, err := runNode(t, t.TempDir(), "table.aggregate", map[string]any{"table": "orders", "group_by": []any{"Country"},
		"values": []any{"sum(Amount) as total", "count()", "count(Amount)", "avg(Amount)", "min(Amount)", "MAX(Customer) as last"}, "output": "out"}, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"Country": "NL", "total": 136.5, "count": 3.0, "count_Amount": 3.0, "avg_Amount": 45.5, "min_Amount": 7.0, "last": "Cleo"},
		map[string]any{"Country": "DE", "total": 30.0, "count": 2.0, "count_Amount": 1.0, "avg_Amount": 30.0, "min_Amount": 30.0, "last": "Dan"},
	}
	if !reflect.DeepEqual(res.Vars["out"], want) {
		t.Errorf("by country:\n got %v\nwant %v", res.Vars["out"], want)
	}
	res, err = runNode(t, t.TempDir(), "table.aggregate", map[string]any{"table": "[]", "values": []any{"count()", "sum(x)"}, "output": "out"}, nil)
	if err != nil || !reflect.DeepEqual(res.Vars["out"], []any{map[string]any{"count": 0.0, "sum_x": 0.0}}) {
		t.Errorf("empty table: %v %v", res.Vars["out"], err)
	}
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"values": []any{"sum(Customer)"}}, `values: sum(Customer): row 1 holds "Ann", which is not a number`},
		{map[string]any{"values": []any{"sum(Amont)"}}, `values: row 1 has no column "Amont" (columns: Amount, Country, Customer, id) (did you mean "Amount"?)`},
		{map[string]any{"values": []any{"count()"}, "group_by": []any{"Contry"}}, `group_by: row 1 has no column "Contry"`},
		{map[string]any{"values": []any{"median(Amount)"}}, `want function(Column) [as name]`},
		{map[string]any{"values": []any{"count()", "sum(Amount) as count"}}, `"count" is named twice`},
	} {
		tc.params["table"], tc.params["output"] = "orders", "out"
		if _, err := runNode(t, t.TempDir(), "table.aggregate", tc.params, in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.params, err, tc.want)
		}
	}
}

// newFlowWith starts a flow whose variables have the given defaults.
func newFlowWith(t *testing.T, vars map[string]any) *engine.Flow {
	t.Helper()
	f := engine.NewFlow("t")
	for k, v := range vars {
		f.Variables = append(f.Variables, engine.Variable{Name: k, Type: engine.TypeAny, Default: v})
	}
	return f
}

func addNode(f *engine.Flow, id, typ string, params map[string]any) {
	f.Nodes = append(f.Nodes, &engine.Node{ID: id, Type: typ, Params: params})
}

func connect(f *engine.Flow, from, port, to string) {
	f.Edges = append(f.Edges, engine.Edge{From: from, Port: port, To: to})
}

// runFlow lints and runs f with inputs; both must succeed.
func runFlow(t *testing.T, f *engine.Flow, inputs map[string]any) *engine.Result {
	t.Helper()
	if ps := engine.Lint(f, nil, ""); engine.HasErrors(ps) {
		t.Fatal(ps)
	}
	res, err := engine.Run(context.Background(), f, engine.Options{Inputs: inputs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
