package activities_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"deskbot/engine"
	"deskbot/engine/activities"
)

// ordersBook writes orders.xlsx: sheet Orders with a header, numbers, a
// bool, a date and a SUM formula under the amounts; and a Summary sheet.
func ordersBook(t testing.TB, dir string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Summary"); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"Customer", "Amount", "Paid", "Date"},
		{"Ann", 120.5, true, 46000},
		{"Bob", 30, false, 46001},
		{"Cleo", 7, true, 46002},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Orders", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // a built-in date format
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle("Orders", "D2", "D4", style); err != nil {
		t.Fatal(err)
	}
	// G2: a date with a time; G3: a time of day (custom formats).
	f.SetCellValue("Orders", "G2", 46000.75)
	f.SetCellValue("Orders", "G3", 0.5)
	dt, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm")})
	tm, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("[h]:mm \"h\"")})
	f.SetCellStyle("Orders", "G2", "G2", dt)
	f.SetCellStyle("Orders", "G3", "G3", tm)
	if err := f.SetCellFormula("Orders", "F1", "SUM(B2:B4)"); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "orders.xlsx")
	if err := f.SaveAs(name); err != nil {
		t.Fatal(err)
	}
	return name
}

func ptr[T any](v T) *T { return &v }

// withCachedValue rewrites a sheet's XML inside an .xlsx so that the
// formula cell ref carries the cached value v, as Excel saves it.
func withCachedValue(t *testing.T, name, ref, v string) {
	t.Helper()
	zr, err := zip.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	patched := false
	for _, e := range zr.File {
		r, _ := e.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		if e.Name == "xl/worksheets/sheet1.xml" {
			s := string(b)
			i := strings.Index(s, `<c r="`+ref+`"`)
			j := strings.Index(s[i:], "</f>")
			if i < 0 || j < 0 {
				t.Fatalf("no formula cell %s in %s", ref, s)
			}
			// Excel saves a number result with no t="str" (that marks text).
			s = s[:i+j+4] + "<v>" + v + "</v>" + s[i+j+4:]
			s = s[:i] + strings.Replace(s[i:], `<c r="`+ref+`" t="str">`, `<c r="`+ref+`">`, 1)
			b, patched = []byte(s), true
		}
		w, _ := zw.Create(e.Name)
		w.Write(b)
	}
	zr.Close()
	zw.Close()
	if !patched {
		t.Fatal("sheet1.xml not found")
	}
	if err := os.WriteFile(name, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExcelRead(t *testing.T) {
	dir := t.TempDir()
	ordersBook(t, dir)
	res, err := runNode(t, dir, "excel.read", map[string]any{"path": "orders.xlsx", "sheet": "Orders", "range": "A1:D4", "output": "rows", "columns": "cols"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"Customer": "Ann", "Amount": 120.5, "Paid": true, "Date": "2025-12-09"},
		map[string]any{"Customer": "Bob", "Amount": 30.0, "Paid": false, "Date": "2025-12-10"},
		map[string]any{"Customer": "Cleo", "Amount": 7.0, "Paid": true, "Date": "2025-12-11"},
	}
	if !reflect.DeepEqual(res.Vars["rows"], want) {
		t.Errorf("rows:\n got %#v\nwant %#v", res.Vars["rows"], want)
	}
	if !reflect.DeepEqual(res.Vars["cols"], []any{"Customer", "Amount", "Paid", "Date"}) {
		t.Errorf("columns: %v", res.Vars["cols"])
	}

	for _, tc := range []struct {
		name   string
		params map[string]any
		want   any
	}{
		{"no header, a range", map[string]any{"range": "A2:B3", "header": false}, []any{[]any{"Ann", 120.5}, []any{"Bob", 30.0}}},
		{"whole columns", map[string]any{"range": "A:B", "header": false}, []any{[]any{"Customer", "Amount"}, []any{"Ann", 120.5}, []any{"Bob", 30.0}, []any{"Cleo", 7.0}}},
		{"a formula without a saved value is calculated", map[string]any{"range": "F1", "header": false}, []any{[]any{157.5}}},
		{"first sheet by default, whole sheet", map[string]any{"header": false, "range": "E1:F2"}, []any{[]any{"", 157.5}}},
		{"date and time, time of day", map[string]any{"header": false, "range": "G2:G3"}, []any{[]any{"2025-12-09 18:00:00"}, []any{"12:00:00"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := map[string]any{"path": "orders.xlsx", "output": "rows"}
			for k, v := range tc.params {
				p[k] = v
			}
			res, err := runNode(t, dir, "excel.read", p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Vars["rows"], tc.want) {
				t.Errorf("got %#v, want %#v", res.Vars["rows"], tc.want)
			}
		})
	}
}

func TestExcelReadErrors(t *testing.T) {
	dir := t.TempDir()
	ordersBook(t, dir)
	f, _ := excelize.OpenFile(filepath.Join(dir, "orders.xlsx"))
	f.SetCellValue("Summary", "A1", "Total")
	f.SetCellValue("Summary", "C1", "Count") // B1 empty
	f.SetCellValue("Summary", "D1", "Count")
	f.SaveAs(filepath.Join(dir, "bad-header.xlsx"))
	f.Close()
	os.WriteFile(filepath.Join(dir, "not.xlsx"), []byte("this is no workbook"), 0o644)
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"missing sheet", map[string]any{"sheet": "Orderz"}, []string{`orders.xlsx: sheet "Orderz" not found (sheets: Orders, Summary) (did you mean "Orders"?)`, `node "n"`}},
		{"empty header cell", map[string]any{"path": "bad-header.xlsx", "sheet": "Summary", "range": "A1:C5"}, []string{`bad-header.xlsx: sheet "Summary": header cell B1 is empty`}},
		{"header twice", map[string]any{"path": "bad-header.xlsx", "sheet": "Summary", "range": "C1:D5"}, []string{`header "Count"`}},
		{"empty cell before a duplicate", map[string]any{"path": "bad-header.xlsx", "sheet": "Summary", "range": "A1:D1"}, []string{`header cell B1 is empty`}},
		{"header past the sheet", map[string]any{"range": "A10:B12"}, []string{`orders.xlsx: sheet "Orders": no header row at A10`}},
		{"bad range", map[string]any{"range": "{{ \"A1:\" + \"1B\" }}"}, []string{`range "A1:1B"`}},
		{"missing file", map[string]any{"path": "nope.xlsx"}, []string{"nope.xlsx", "no such file"}},
		{"not a workbook", map[string]any{"path": "not.xlsx"}, []string{"not.xlsx: not a readable Excel workbook"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := map[string]any{"path": "orders.xlsx", "output": "rows"}
			for k, v := range tc.params {
				p[k] = v
			}
			_, err := runNode(t, dir, "excel.read", p, nil)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v; want it to contain %q", err, w)
				}
			}
		})
	}
	// A constant bad range is found by lint, naming the field.
	_, err := runNode(t, dir, "excel.read", map[string]any{"path": "orders.xlsx", "range": "A1:ZZZZ", "output": "rows"}, nil)
	if err == nil || !strings.Contains(err.Error(), "range") {
		t.Errorf("lint of a bad range: %v", err)
	}
}

func TestExcelCachedFormulaValue(t *testing.T) {
	dir := t.TempDir()
	name := ordersBook(t, dir)
	// Excel saved 999 as the formula's value: a read takes the saved value
	// (calculating would give 157.5).
	withCachedValue(t, name, "F1", "999")
	res, err := runNode(t, dir, "excel.read", map[string]any{"path": "orders.xlsx", "range": "F1", "header": false, "output": "v"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Vars["v"]; !reflect.DeepEqual(got, []any{[]any{999.0}}) {
		t.Errorf("cached value: got %#v, want 999", got)
	}
}

func TestExcelWriteKeepsFormulas(t *testing.T) {
	dir := t.TempDir()
	name := ordersBook(t, dir)
	withCachedValue(t, name, "F1", "157.5")
	if _, err := runNode(t, dir, "excel.write", map[string]any{"path": "orders.xlsx", "sheet": "Orders", "cell": "B3", "value": "100"}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(name)
	if err != nil {
		t.Fatal(err)
	}
	formula, _ := f.GetCellFormula("Orders", "F1")
	b3, _ := f.GetCellValue("Orders", "B3")
	f.Close()
	if formula != "SUM(B2:B4)" || b3 != "100" {
		t.Fatalf("after the write: F1 formula %q, B3 %q", formula, b3)
	}
	// The stale saved 157.5 is gone: the read calculates 120.5+100+7.
	res, err := runNode(t, dir, "excel.read", map[string]any{"path": "orders.xlsx", "range": "F1", "header": false, "output": "v"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Vars["v"]; !reflect.DeepEqual(got, []any{[]any{227.5}}) {
		t.Errorf("formula after the write: got %#v, want 227.5", got)
	}

	// A table into a new workbook, a formula, and a list of rows.
	steps := []map[string]any{
		{"path": "out/summary.xlsx", "sheet": "Summary", "cell": "A1", "value": "table", "columns": []any{"Customer", "Total"}},
		{"path": "out/summary.xlsx", "sheet": "Summary", "cell": "B4", "value": `"=SUM(B2:B3)"`},
		{"path": "out/summary.xlsx", "sheet": "Summary", "cell": "D1", "value": `[["x", 1], ["y", true]]`},
	}
	in := map[string]any{"table": []any{map[string]any{"Customer": "Ann", "Total": 3.0, "Extra": "no"}, map[string]any{"Customer": "Bob", "Total": 4.5}}}
	for _, p := range steps {
		if _, err := runNode(t, dir, "excel.write", p, in); err != nil {
			t.Fatal(err)
		}
	}
	res, err = runNode(t, dir, "excel.read", map[string]any{"path": "out/summary.xlsx", "header": false, "output": "v"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		[]any{"Customer", "Total", "", "x", 1.0},
		[]any{"Ann", 3.0, "", "y", true},
		[]any{"Bob", 4.5, "", "", ""},
		[]any{"", 7.5, "", "", ""},
	}
	if !reflect.DeepEqual(res.Vars["v"], want) {
		t.Errorf("summary:\n got %#v\nwant %#v", res.Vars["v"], want)
	}

	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"sheet": "Nope", "cell": "A1", "value": "1"}, `orders.xlsx: sheet "Nope" not found (sheets: Orders, Summary)`},
		{map[string]any{"sheet": "Orders", "cell": "{{ \"A0\" }}", "value": "1"}, `cell: "A0" is not a cell`},
		{map[string]any{"sheet": "Orders", "cell": "A1", "value": `{"a": 1}`}, `orders.xlsx: sheet "Orders" cell A1: a cell cannot hold an object`},
		{map[string]any{"sheet": "Orders", "cell": "ZZ", "value": "1"}, `"ZZ" is not a cell`},
	} {
		tc.params["path"] = "orders.xlsx"
		if _, err := runNode(t, dir, "excel.write", tc.params, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.params, err, tc.want)
		}
	}
}

func TestExcelAppendAddSheetSaveAs(t *testing.T) {
	dir := t.TempDir()
	ordersBook(t, dir)
	in := map[string]any{
		"more": []any{map[string]any{"Amount": 5.0, "Customer": "Dan"}, map[string]any{"Customer": "Eve"}},
		"bad":  []any{map[string]any{"Custmer": "Fay"}},
	}
	if _, err := runNode(t, dir, "excel.append", map[string]any{"path": "orders.xlsx", "sheet": "Orders", "rows": "more"}, in); err != nil {
		t.Fatal(err)
	}
	res, err := runNode(t, dir, "excel.read", map[string]any{"path": "orders.xlsx", "range": "A1:D10", "output": "rows"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Vars["rows"].([]any)
	if len(rows) != 5 || !reflect.DeepEqual(rows[3], map[string]any{"Customer": "Dan", "Amount": 5.0, "Paid": "", "Date": ""}) ||
		rows[4].(map[string]any)["Customer"] != "Eve" {
		t.Errorf("after append: %#v", rows)
	}
	_, err = runNode(t, dir, "excel.append", map[string]any{"path": "orders.xlsx", "sheet": "Orders", "rows": "bad"}, in)
	if err == nil || !strings.Contains(err.Error(), `orders.xlsx: sheet "Orders": row 1 has a field "Custmer", but header row 1 has no such column (columns: Customer, Amount, Paid, Date) (did you mean "Customer"?)`) {
		t.Errorf("unknown column: %v", err)
	}
	// Lists go from column A; a table into an empty sheet brings its header.
	if _, err := runNode(t, dir, "excel.append", map[string]any{"path": "orders.xlsx", "sheet": "Summary", "rows": "more"}, in); err != nil {
		t.Fatal(err)
	}
	if _, err := runNode(t, dir, "excel.append", map[string]any{"path": "orders.xlsx", "sheet": "Summary", "rows": `[[9, "z"]]`}, in); err != nil {
		t.Fatal(err)
	}
	res, _ = runNode(t, dir, "excel.read", map[string]any{"path": "orders.xlsx", "sheet": "Summary", "header": false, "output": "rows"}, nil)
	if want := []any{[]any{"Amount", "Customer"}, []any{5.0, "Dan"}, []any{"", "Eve"}, []any{9.0, "z"}}; !reflect.DeepEqual(res.Vars["rows"], want) {
		t.Errorf("summary: %#v", res.Vars["rows"])
	}

	if _, err := runNode(t, dir, "excel.add_sheet", map[string]any{"path": "orders.xlsx", "sheet": "Totals"}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = runNode(t, dir, "excel.add_sheet", map[string]any{"path": "orders.xlsx", "sheet": "Totals"}, nil)
	if err == nil || !strings.Contains(err.Error(), `orders.xlsx: sheet "Totals" already exists (sheets: Orders, Summary, Totals)`) {
		t.Errorf("second add: %v", err)
	}
	if _, err := runNode(t, dir, "excel.add_sheet", map[string]any{"path": "orders.xlsx", "sheet": "Totals", "exists_ok": true}, nil); err != nil {
		t.Errorf("exists_ok: %v", err)
	}
	if _, err := runNode(t, dir, "excel.add_sheet", map[string]any{"path": "new/book.xlsx", "sheet": "First"}, nil); err != nil {
		t.Fatal(err)
	}

	if _, err := runNode(t, dir, "excel.save_as", map[string]any{"path": "orders.xlsx", "to": "copy/orders-2.xlsx"}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = runNode(t, dir, "excel.save_as", map[string]any{"path": "orders.xlsx", "to": "copy/orders-2.xlsx"}, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("save over: %v", err)
	}
	_, err = runNode(t, dir, "excel.save_as", map[string]any{"path": "orders.xlsx", "to": "copy/orders.xls"}, nil)
	if err == nil || !strings.Contains(err.Error(), "want a name ending in .xlsx") {
		t.Errorf("save as .xls: %v", err)
	}
	for _, c := range []struct{ path string }{{"copy/orders-2.xlsx"}, {"new/book.xlsx"}} {
		f, err := excelize.OpenFile(filepath.Join(dir, c.path))
		if err != nil {
			t.Fatal(err)
		}
		list := f.GetSheetList()
		formula, _ := f.GetCellFormula("Orders", "F1")
		f.Close()
		switch c.path {
		case "new/book.xlsx":
			if !reflect.DeepEqual(list, []string{"First"}) {
				t.Errorf("new book sheets: %v", list)
			}
		default:
			if !reflect.DeepEqual(list, []string{"Orders", "Summary", "Totals"}) || formula != "SUM(B2:B4)" {
				t.Errorf("copy: sheets %v, formula %q", list, formula)
			}
		}
	}
}

// TestForEachOverExcelRows: control.for_each over an Excel table gives each
// row as an object with its columns by header name (row.Customer).
func TestForEachOverExcelRows(t *testing.T) {
	dir := t.TempDir()
	ordersBook(t, dir)
	f := engine.NewFlow("loop")
	f.Variables = []engine.Variable{{Name: "names", Type: engine.TypeString}, {Name: "total", Type: engine.TypeNumber}}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "read", Type: "excel.read", Params: map[string]any{"path": "orders.xlsx", "range": "A1:D4", "output": "orders"}},
		&engine.Node{ID: "each", Type: "control.for_each", Params: map[string]any{"items": "orders", "item": "row"}},
		&engine.Node{ID: "name", Type: "control.set_variable", Params: map[string]any{"variable": "names", "value": `names + row.Customer + ";"`}},
		&engine.Node{ID: "sum", Type: "control.set_variable", Params: map[string]any{"variable": "total", "value": "total + row.Amount"}},
	)
	f.Edges = []engine.Edge{
		{From: "start", Port: "next", To: "read"}, {From: "read", Port: "next", To: "each"},
		{From: "each", Port: "each", To: "name"}, {From: "name", Port: "next", To: "sum"}, {From: "sum", Port: "next", To: "each"},
	}
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		t.Fatal(ps)
	}
	res, err := engine.Run(context.Background(), f, engine.Options{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["names"] != "Ann;Bob;Cleo;" || res.Vars["total"] != 157.5 {
		t.Errorf("names %q, total %v", res.Vars["names"], res.Vars["total"])
	}
}

// FuzzReadWorkbook: any bytes give rows or an error, never a panic.
func FuzzReadWorkbook(f *testing.F) {
	dir := f.TempDir()
	b, err := os.ReadFile(ordersBook(f, dir))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "", "", true)
	f.Add(b, "Orders", "A1:D3", false)
	f.Add([]byte("PK\x03\x04"), "", "", true)
	f.Fuzz(func(t *testing.T, b []byte, sheet, rng string, header bool) {
		wb, err := activities.OpenWorkbookBytes("fuzz.xlsx", b)
		if err != nil {
			return
		}
		defer wb.Close()
		activities.ReadSheet(wb, "fuzz.xlsx", sheet, rng, header, nil)
	})
}

// A dry run describes the Excel writes and changes no file.
func TestExcelDryRun(t *testing.T) {
	dir := t.TempDir()
	name := ordersBook(t, dir)
	before, _ := os.ReadFile(name)
	for _, n := range []struct {
		typ    string
		params map[string]any
	}{
		{"excel.write", map[string]any{"path": "orders.xlsx", "cell": "A1", "value": "1"}},
		{"excel.append", map[string]any{"path": "orders.xlsx", "rows": "[[1]]"}},
		{"excel.add_sheet", map[string]any{"path": "orders.xlsx", "sheet": "New"}},
		{"excel.save_as", map[string]any{"path": "orders.xlsx", "to": "copy.xlsx"}},
		{"excel.write", map[string]any{"path": "new.xlsx", "cell": "A1", "value": "1"}},
	} {
		f := engine.NewFlow("dry")
		f.Nodes = append(f.Nodes, &engine.Node{ID: "n", Type: n.typ, Params: n.params})
		f.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
		var logged string
		obs := engine.ObserverFunc(func(e engine.Event) {
			if e.Kind == engine.EventLog {
				logged += e.Message
			}
		})
		if _, err := engine.Run(context.Background(), f, engine.Options{BaseDir: dir, DryRun: true, Observer: obs}); err != nil {
			t.Fatalf("%s: %v", n.typ, err)
		}
		if !strings.Contains(logged, "dry run: would") {
			t.Errorf("%s: logged %q", n.typ, logged)
		}
	}
	after, _ := os.ReadFile(name)
	if !bytes.Equal(before, after) || fileExists(filepath.Join(dir, "copy.xlsx")) || fileExists(filepath.Join(dir, "new.xlsx")) {
		t.Error("a dry run changed the files")
	}
}

// A range far past the used cells (whole rows, in effect) reads only what
// is there.
func TestExcelReadHugeRange(t *testing.T) {
	dir := t.TempDir()
	ordersBook(t, dir)
	res, err := runNode(t, dir, "excel.read", map[string]any{"path": "orders.xlsx", "range": "A3:XFD1048576", "header": false, "output": "rows"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]any{"Bob", 30.0, false, "2025-12-10", "", "", "12:00:00"}, []any{"Cleo", 7.0, true, "2025-12-11", "", "", ""}}
	if !reflect.DeepEqual(res.Vars["rows"], want) {
		t.Errorf("got %#v", res.Vars["rows"])
	}
}

// A formula that cannot be calculated here and has no saved value reads as
// Excel's error text, with a warning in the log that names the cell.
func TestExcelFormulaNotCalculable(t *testing.T) {
	dir := t.TempDir()
	f := excelize.NewFile()
	f.SetCellFormula("Sheet1", "A1", "NOSUCHFUNCTION(1)")
	f.SaveAs(filepath.Join(dir, "odd.xlsx"))
	f.Close()
	fl := engine.NewFlow("odd")
	fl.Nodes = append(fl.Nodes, &engine.Node{ID: "n", Type: "excel.read", Params: map[string]any{"path": "odd.xlsx", "header": false, "output": "rows"}})
	fl.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
	var warned string
	obs := engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.EventLog && e.Level == "warn" {
			warned += e.Message
		}
	})
	res, err := engine.Run(context.Background(), fl, engine.Options{BaseDir: dir, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Vars["rows"].([]any)
	if got, _ := rows[0].([]any)[0].(string); len(rows) != 1 || !strings.HasPrefix(got, "#") { // #VALUE! or #NAME?
		t.Errorf("rows %#v", rows)
	}
	if !strings.Contains(warned, `odd.xlsx: sheet "Sheet1" cell A1: formula =NOSUCHFUNCTION(1) cannot be calculated here`) {
		t.Errorf("warning %q", warned)
	}
}
