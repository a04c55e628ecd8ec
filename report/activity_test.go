package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
	"deskbot/store"
	"deskbot/store/storetest"
)

// runExport runs start -> report.export in dir, with the history db (or
// none).
func runExport(t *testing.T, dir string, db *store.DB, params map[string]any) (*engine.Result, error) {
	t.Helper()
	f := engine.NewFlow("report")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "rep", Type: "report.export", Label: "写报告", Params: params})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "rep"}}
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		var s []string
		for _, p := range ps {
			s = append(s, p.String())
		}
		return nil, &lintError{strings.Join(s, "; ")}
	}
	opts := engine.Options{BaseDir: dir}
	if db != nil {
		WithStore(&opts, db)
	}
	return engine.Run(context.Background(), f, opts)
}

type lintError struct{ s string }

func (e *lintError) Error() string { return e.s }

// report.export writes the report of the run's history: a PDF of one flow
// over dates, with the path in a variable and as the step's output; a CSV
// pair.
func TestExportActivity(t *testing.T) {
	db, day1, _ := knownDB(t)
	dir := t.TempDir()
	res, err := runExport(t, dir, db, map[string]any{
		"path": "out/{{ 'invoices' }}.pdf", "format": "pdf", "flow": storetest.FlowChinese,
		"from": day1.Format("2006-01-02"), "to": day1.AddDate(0, 0, 3).Format("2006-01-02"), "output": "report",
	})
	if err == nil || !strings.Contains(err.Error(), "out") {
		// out/ does not exist: the error names the file, and the runner adds the node.
		t.Fatalf("missing folder: err %v", err)
	}
	if !strings.Contains(err.Error(), `"rep"`) {
		t.Errorf("error lacks the node: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	res, err = runExport(t, dir, db, map[string]any{
		"path": "out/{{ 'invoices' }}.pdf", "format": "pdf", "flow": storetest.FlowChinese,
		"from": day1.Format("2006-01-02"), "to": day1.AddDate(0, 0, 3).Format("2006-01-02"), "output": "report",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "out", "invoices.pdf")
	if res.Vars["report"] != want {
		t.Errorf("report variable %v, want %s", res.Vars["report"], want)
	}
	text := pdfText(t, want)
	if !strings.Contains(text, "Flow: "+storetest.FlowChinese) || !strings.Contains(text, "读取发票") {
		t.Errorf("the PDF is not the Chinese flow's report:\n%s", text)
	}
	if strings.Contains(text, "invoices") {
		t.Error("the report of one flow shows another")
	}

	if _, err := runExport(t, dir, db, map[string]any{"path": "all.csv", "format": "csv", "since": "all"}); err != nil {
		t.Fatal(err)
	}
	if rows := readCSV(t, filepath.Join(dir, "all-steps.csv")); len(rows) != 34 {
		t.Errorf("%d step rows, want 33 and a header", len(rows))
	}
}

// Bad periods are caught before the run and name their field; a run with
// no history says why it cannot report.
func TestExportActivityErrors(t *testing.T) {
	dir := t.TempDir()
	for params, want := range map[string]map[string]any{
		"since":  {"path": "r.pdf", "since": "7 days"},
		"from":   {"path": "r.pdf", "from": "30.11.2026"},
		"format": {"path": "r.pdf", "format": "docx"},
	} {
		_, err := runExport(t, dir, nil, want)
		if err == nil || !strings.Contains(err.Error(), params) {
			t.Errorf("%v: err %v, want one naming %q", want, err, params)
		}
	}
	_, err := runExport(t, dir, nil, map[string]any{"path": "r.pdf"})
	if err == nil || !strings.Contains(err.Error(), "not recorded") {
		t.Errorf("no history: err %v", err)
	}
}
