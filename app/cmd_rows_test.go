package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"deskbot/model/openai/openaitest"
)

// rowsFlowFile writes customers.csv (n rows) and a flow that gives each
// customer a note with text.generate_rows and writes the table to out.
func rowsFlowFile(t *testing.T, n int, provider, prompt string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Customer,City\n")
	for i := range n {
		fmt.Fprintf(&b, "Customer %d,City %d\n", i+1, i%4)
	}
	os.WriteFile(filepath.Join(dir, "customers.csv"), []byte(b.String()), 0o644)
	gen, _ := json.Marshal(map[string]any{"table": "customers", "prompt": prompt, "column": "Note", "provider": provider,
		"max_tokens": 20, "temperature": 0, "batch_size": 5})
	flow := `{"format":"deskbot.flow","version":1,"name":"Notes","variables":[{"name":"out","type":"string","input":true}],
	"nodes":[{"id":"start","type":"control.start"},
	 {"id":"read","type":"file.read_csv","params":{"path":"customers.csv","output":"customers"}},
	 {"id":"notes","type":"text.generate_rows","params":` + string(gen) + `},
	 {"id":"save","type":"file.write_csv","params":{"path":"{{ out }}","rows":"customers","columns":["Customer","City","Note"]}}],
	"edges":[{"from":"start","port":"next","to":"read"},{"from":"read","port":"next","to":"notes"},{"from":"notes","port":"next","to":"save"}]}`
	path := filepath.Join(dir, "notes.json")
	os.WriteFile(path, []byte(flow), 0o644)
	return path
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// deskbot run on a flow with text.generate_rows over an API profile whose
// concurrency was set on the command line.
func TestCLIGenerateRowsAPI(t *testing.T) {
	const key = "sk-rows-cli"
	srv := openaitest.New(key)
	defer srv.Close()
	srv.BusyDelay = 5 * time.Millisecond
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_API_KEY_FAKE=" + key}
	if r := runEnv(t, env, "", "model", "provider", "add", "fake", "--url", srv.APIURL(), "--model", "busy", "--concurrency", "2"); r.code != 0 {
		t.Fatalf("provider add: %s", r.stderr)
	}
	r := runEnv(t, env, "", "model", "provider", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "CONCURRENCY") || !regexp.MustCompile(`api:fake\s+\S+\s+busy\s+2\s`).MatchString(r.stdout) {
		t.Fatalf("list: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "providers.json")); !strings.Contains(string(b), `"concurrency": 2`) {
		t.Fatalf("providers.json:\n%s", b)
	}
	if r := runEnv(t, env, "", "model", "provider", "set", "fake", "--concurrency", "-3"); r.code != 1 || !strings.Contains(r.stderr, "concurrency -3") {
		t.Fatalf("negative concurrency: %d %s", r.code, r.stderr)
	}

	path := rowsFlowFile(t, 20, "api:fake", "Note for {{ row.Customer }} in {{ row.City }}")
	out := filepath.Join(t.TempDir(), "notes.csv")
	r = runEnv(t, env, "", "run", path, "--var", "out="+out)
	if r.code != 0 {
		t.Fatalf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	recs := readCSV(t, out)
	if len(recs) != 21 {
		t.Fatalf("%d lines", len(recs))
	}
	for i, rec := range recs[1:] {
		if want := fmt.Sprintf("You said: Note for Customer %d in City %d", i+1, i%4); rec[2] != want {
			t.Fatalf("row %d: %q, want %q", i+1, rec[2], want)
		}
	}
	if m := srv.MaxInFlight(); m > 2 {
		t.Fatalf("%d requests at once with --concurrency 2", m)
	}
	if !strings.Contains(r.stdout, "text for 20 of 20 rows") {
		t.Fatalf("no progress in the log:\n%s", r.stdout)
	}
	// One generation per row in the history, with its row number.
	runID := strings.TrimSuffix(strings.Fields(r.stdout)[1], ":")
	h := runEnv(t, env, "", "model", "history", "--run", runID, "--json", "--limit", "100")
	rows := map[int]bool{}
	for _, line := range strings.Split(strings.TrimSpace(h.stdout), "\n") {
		var g struct {
			NodeID string `json:"node_id"`
			Params struct{ Row int }
		}
		if err := json.Unmarshal([]byte(line), &g); err != nil || g.NodeID != "notes" {
			t.Fatalf("history line %q: %v", line, err)
		}
		rows[g.Params.Row] = true
	}
	if h.code != 0 || len(rows) != 20 || !rows[1] || !rows[20] {
		t.Fatalf("history of run %s: %d rows\n%s%s", runID, len(rows), h.stdout, h.stderr)
	}

	// A misspelt column fails before any request.
	n := len(srv.Requests(""))
	path = rowsFlowFile(t, 3, "api:fake", "Note for {{ row.Costumer }}")
	r = runEnv(t, env, "", "run", path, "--var", "out="+out)
	if r.code != 1 || !strings.Contains(r.stderr, `did you mean "Customer"`) || !strings.Contains(r.stderr, "row 1") || len(srv.Requests("")) != n {
		t.Fatalf("misspelt: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// The same flow with the tiny local model.
func TestCLIGenerateRowsLocal(t *testing.T) {
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_MODELS=" + t.TempDir()}
	model, _ := filepath.Abs(tinyModel)
	path := rowsFlowFile(t, 12, model, "Note for {{ row.Customer }}")
	out := filepath.Join(t.TempDir(), "notes.csv")
	r := runEnv(t, env, "", "run", path, "--var", "out="+out)
	if r.code != 0 {
		t.Fatalf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	recs := readCSV(t, out)
	if len(recs) != 13 {
		t.Fatalf("%d lines", len(recs))
	}
	for i, rec := range recs[1:] {
		if rec[2] == "" {
			t.Fatalf("row %d has no text", i+1)
		}
	}
}

// The order-notes sample writes a note for each order of orders.xlsx with
// the tiny local model into a new workbook.
func TestCLISampleOrderNotes(t *testing.T) {
	data := t.TempDir()
	model, _ := filepath.Abs(tinyModel)
	out := t.TempDir()
	r := runEnv(t, []string{"DESKBOT_DATA=" + data, "DESKBOT_MODELS=" + t.TempDir()}, "", "run", "../assets/flows/order-notes.json",
		"--var", "out_dir="+out, "--var", "model="+model)
	if r.code != 0 {
		t.Fatalf("run order-notes: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	f, err := excelize.OpenFile(filepath.Join(out, "order-notes.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Notes")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 9 || strings.Join(rows[0], ",") != "Order,Customer,Product,Note" {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	for _, row := range rows[1:] {
		if len(row) != 4 || row[3] == "" {
			t.Fatalf("no note: %v", row)
		}
	}
	if rows[1][0] != "A-1001" || rows[1][1] != "Müller Bäckerei GmbH" {
		t.Fatalf("first order %v", rows[1])
	}
}
