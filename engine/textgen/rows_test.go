package textgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	_ "deskbot/engine/activities"
	"deskbot/engine/textgen/providers"
	"deskbot/model"
	"deskbot/model/openai"
	"deskbot/model/openai/openaitest"
)

var customerNames = []string{"Anna", "Bram", "Cem", "Dana", "Emil", "Fleur", "Gus", "Hana", "Ivo", "Jet"}

// writeCustomers writes a CSV of n customers and returns its folder.
func writeCustomers(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Customer,Product,Note\n")
	for i := range n {
		fmt.Fprintf(&b, "%s %d,%s,old %d\n", customerNames[i%len(customerNames)], i+1, []string{"tea", "chairs", "lamps"}[i%3], i+1)
	}
	if err := os.WriteFile(filepath.Join(dir, "customers.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rowsFlow reads customers.csv and runs text.generate_rows with params.
func rowsFlow(params map[string]any) *engine.Flow {
	f := engine.NewFlow("rows")
	p := map[string]any{"table": "customers", "prompt": "Thank {{ row.Customer }} for the {{ row.Product }}.",
		"column": "Letter", "temperature": 0.0, "max_tokens": 6.0}
	for k, v := range params {
		p[k] = v
	}
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "read", Type: "file.read_csv", Params: map[string]any{"path": "customers.csv", "output": "customers"}},
		&engine.Node{ID: "gen", Type: "text.generate_rows", Params: p},
		&engine.Node{ID: "end", Type: "control.end"})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "read"}, {From: "read", Port: "next", To: "gen"}, {From: "gen", Port: "next", To: "end"}}
	return f
}

func tableOf(t *testing.T, v any) []map[string]any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("not a table: %T %v", v, v)
	}
	out := make([]map[string]any, len(l))
	for i, r := range l {
		out[i] = r.(map[string]any)
	}
	return out
}

func rowParam(t *testing.T, g Generation) int {
	t.Helper()
	var p struct{ Row int }
	if err := json.Unmarshal(g.Params, &p); err != nil {
		t.Fatal(err)
	}
	return p.Row
}

// Text for 50 rows from the tiny local GPT-2 equals what text.generate
// writes for the same prompts row by row in a for-each: greedy, and
// sampled with a seed (the tiny model's greedy text is the same for every
// prompt; sampled, rows differ). The history has one generation per row
// with its row number.
func TestGenerateRowsLocalModel(t *testing.T) {
	t.Setenv("DESKBOT_MODELS", t.TempDir())
	modelDir, _ := filepath.Abs("../../model/gpt2/testdata/hf-fake-gpt2")
	dir := writeCustomers(t, 50)
	cache := NewCache(providers.Opener(providers.OpenOptions{Threads: 1}))
	defer cache.Close()
	for _, sampling := range []map[string]any{
		{"temperature": 0.0},
		{"temperature": 1.0, "top_k": 0.0, "seed": 7.0},
	} {
		log := &memLog{}
		opts := engine.Options{BaseDir: dir, RunID: "rows-1"}
		WithProviders(&opts, cache)
		WithLog(&opts, log)
		params := map[string]any{"provider": modelDir, "batch_size": 8.0}
		for k, v := range sampling {
			params[k] = v
		}
		res, err := engine.Run(context.Background(), rowsFlow(params), opts)
		if err != nil {
			t.Fatal(err)
		}
		rows := tableOf(t, res.Vars["customers"])
		if len(rows) != 50 || len(log.gens) != 50 {
			t.Fatalf("%d rows, %d generations", len(rows), len(log.gens))
		}
		for i, r := range rows {
			g := log.gens[i]
			if rowParam(t, g) != i+1 || g.RunID != "rows-1" || g.NodeID != "gen" || g.Error != "" {
				t.Fatalf("generation %d: %+v", i, g)
			}
			if r["Letter"] != g.Output || g.OutputTokens != 6 || r["Note"] != fmt.Sprintf("old %d", i+1) {
				t.Fatalf("row %d: %v, generation %+v", i+1, r, g)
			}
		}

		// The same prompts through text.generate in a for-each.
		one := map[string]any{"provider": modelDir, "prompt": "Thank {{ c.Customer }} for the {{ c.Product }}.", "max_tokens": 6.0, "output": "letter"}
		for k, v := range sampling {
			one[k] = v
		}
		f := engine.NewFlow("each")
		f.Nodes = append(f.Nodes,
			&engine.Node{ID: "read", Type: "file.read_csv", Params: map[string]any{"path": "customers.csv", "output": "customers"}},
			&engine.Node{ID: "each", Type: "control.for_each", Params: map[string]any{"items": "customers", "item": "c"}},
			&engine.Node{ID: "one", Type: "text.generate", Params: one},
			&engine.Node{ID: "end", Type: "control.end"})
		f.Edges = []engine.Edge{{From: "start", Port: "next", To: "read"}, {From: "read", Port: "next", To: "each"},
			{From: "each", Port: "each", To: "one"}, {From: "one", Port: "next", To: "each"}, {From: "each", Port: "done", To: "end"}}
		each := &memLog{}
		opts = engine.Options{BaseDir: dir}
		WithProviders(&opts, cache)
		WithLog(&opts, each)
		if _, err := engine.Run(context.Background(), f, opts); err != nil {
			t.Fatal(err)
		}
		distinct := map[string]bool{}
		for i, g := range each.gens {
			if g.Prompt != log.gens[i].Prompt || g.Output != rows[i]["Letter"] {
				t.Fatalf("%v, row %d: for-each %q → %q; for each row %q → %q", sampling, i+1, g.Prompt, g.Output, log.gens[i].Prompt, rows[i]["Letter"])
			}
			distinct[g.Output] = true
		}
		if len(each.gens) != 50 || sampling["seed"] != nil && len(distinct) < 2 {
			t.Fatalf("%v: %d generations, %d distinct texts", sampling, len(each.gens), len(distinct))
		}
	}
}

// Through an API profile: the requests of a batch go concurrently (never
// more than the profile allows), every row gets its own answer.
func TestGenerateRowsThroughAPI(t *testing.T) {
	srv := openaitest.New("sk-rows")
	srv.BusyDelay = 5 * time.Millisecond
	defer srv.Close()
	data := t.TempDir()
	t.Setenv("DESKBOT_DATA", data)
	t.Setenv("DESKBOT_NO_KEYRING", "1")
	t.Setenv("DESKBOT_API_KEY_LOCAL", "sk-rows")
	ps := &openai.Profiles{}
	if err := ps.Set(openai.Profile{Name: "local", BaseURL: srv.APIURL(), Model: "busy", Concurrency: 3}); err != nil {
		t.Fatal(err)
	}
	if err := ps.Save(filepath.Join(data, "providers.json")); err != nil {
		t.Fatal(err)
	}
	dir := writeCustomers(t, 50)
	log := &memLog{}
	opts := engine.Options{BaseDir: dir}
	cache := NewCache(providers.Opener(providers.OpenOptions{}))
	defer cache.Close()
	WithProviders(&opts, cache)
	WithLog(&opts, log)
	res, err := engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "api:local", "max_tokens": 20.0, "batch_size": 10.0, "output": "letters"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableOf(t, res.Vars["letters"])
	for i, r := range rows {
		want := fmt.Sprintf("You said: Thank %s %d for the %s.", customerNames[i%len(customerNames)], i+1, r["Product"])
		if r["Letter"] != want {
			t.Fatalf("row %d: %q, want %q", i+1, r["Letter"], want)
		}
	}
	// The input table is left as it was.
	for _, r := range tableOf(t, res.Vars["customers"]) {
		if _, ok := r["Letter"]; ok {
			t.Fatal("the input table was changed")
		}
	}
	if n := len(srv.Requests("busy")); n != 50 {
		t.Fatalf("%d requests", n)
	}
	if m := srv.MaxInFlight(); m > 3 || m < 2 {
		t.Fatalf("%d requests at once; the profile allows 3", m)
	}
	seen := map[int]bool{}
	for _, g := range log.gens {
		seen[rowParam(t, g)] = true
		if g.Model != "api:local/busy" {
			t.Fatalf("%+v", g)
		}
	}
	if len(log.gens) != 50 || len(seen) != 50 {
		t.Fatalf("%d generations for %d rows", len(log.gens), len(seen))
	}
}

// A misspelt column fails before anything is generated, naming the row,
// the column and the closest one.
func TestGenerateRowsMisspeltColumn(t *testing.T) {
	dir := writeCustomers(t, 5)
	gen := &fakeGen{}
	log := &memLog{}
	opts := engine.Options{BaseDir: dir}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	WithLog(&opts, log)
	_, err := engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "fake", "prompt": "Dear {{ row.Custmer }}"}), opts)
	var se *engine.StepError
	if !errors.As(err, &se) || se.NodeID != "gen" {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"row 1", `"Custmer"`, `did you mean "Customer"`} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("want %s in %v", want, err)
		}
	}
	if len(gen.reqs) != 0 || len(log.gens) != 0 {
		t.Fatalf("%d generations before the error", len(gen.reqs))
	}
	// A column missing from a later row only: still nothing generated.
	os.WriteFile(filepath.Join(dir, "customers.csv"), []byte("Customer,Product\nAnna,tea\n"), 0o644)
	f := rowsFlow(map[string]any{"provider": "fake", "prompt": "Dear {{ row.Customer }}, {{ row.Extra }}"})
	f.Nodes[1] = &engine.Node{ID: "read", Type: "control.set_variable", Params: map[string]any{"variable": "customers",
		"value": `[{"Customer": "Anna", "Extra": "x"}, {"Customer": "Bram", "Extras": "y"}]`}}
	_, err = engine.Run(context.Background(), f, opts)
	if err == nil || !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), `did you mean "Extras"`) || len(gen.reqs) != 0 {
		t.Fatalf("err %v after %d generations", err, len(gen.reqs))
	}
}

// stopper is a Generator that stops the run while generating row stopAt.
type stopper struct {
	fakeGen
	stopAt int
	cancel context.CancelCauseFunc
	n      int
}

var errStop = errors.New("stopped by the user")

func (s *stopper) Generate(ctx context.Context, req model.Request, emit func(model.Token) error) (*model.Result, error) {
	s.n++
	if s.n == s.stopAt {
		s.cancel(errStop)
		return &model.Result{Text: "Dear", FinishReason: "cancelled"}, fmt.Errorf("generation stopped: %w", context.Cause(ctx))
	}
	return s.fakeGen.Generate(ctx, req, emit)
}

// Stopping the run in the middle of a batch keeps the rows done.
func TestGenerateRowsCancelKeepsDoneRows(t *testing.T) {
	dir := writeCustomers(t, 30)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	gen := &stopper{stopAt: 11, cancel: cancel}
	log := &memLog{}
	opts := engine.Options{BaseDir: dir}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	WithLog(&opts, log)
	res, err := engine.Run(ctx, rowsFlow(map[string]any{"provider": "fake", "batch_size": 8.0}), opts)
	if !errors.Is(err, errStop) {
		t.Fatalf("err %v", err)
	}
	rows := tableOf(t, res.Vars["customers"])
	for i, r := range rows {
		want := ""
		if i < 10 {
			want = "Dear " + r["Product"].(string) + "."
		}
		if r["Letter"] != want {
			t.Fatalf("row %d: %q, want %q", i+1, r["Letter"], want)
		}
	}
	if gen.n != 11 {
		t.Fatalf("%d generations started after the stop at row 11", gen.n)
	}
	// The stopped row is recorded with its partial text; rows never
	// started are not.
	if len(log.gens) != 11 || log.gens[10].Error == "" || rowParam(t, log.gens[10]) != 11 {
		t.Fatalf("%d generations recorded: %+v", len(log.gens), log.gens[len(log.gens)-1])
	}
}

// failing fails the rows whose prompt holds a word.
type failing struct {
	fakeGen
	word string
}

func (f *failing) Generate(ctx context.Context, req model.Request, emit func(model.Token) error) (*model.Result, error) {
	if strings.Contains(req.Prompt, f.word) {
		return nil, errors.New("HTTP 500: the server had an error")
	}
	return f.fakeGen.Generate(ctx, req, emit)
}

func TestGenerateRowsFailedRow(t *testing.T) {
	dir := writeCustomers(t, 12)
	gen := &failing{word: "Cem 3 "}
	log := &memLog{}
	opts := engine.Options{BaseDir: dir}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	WithLog(&opts, log)

	// Default: the node fails naming the row; caught by the error port,
	// the rows done (the whole first batch but row 3) keep their text.
	f := rowsFlow(map[string]any{"provider": "fake", "batch_size": 4.0})
	f.Nodes = append(f.Nodes, &engine.Node{ID: "caught", Type: "control.end"})
	f.Edges = append(f.Edges, engine.Edge{From: "gen", Port: "error", To: "caught"})
	res, err := engine.Run(context.Background(), f, opts)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := res.Vars["last_error"].(string)
	if !strings.Contains(last, "row 3: generate with fake: HTTP 500") || !strings.Contains(last, "3 of 12 rows done") {
		t.Fatalf("last_error %q", last)
	}
	rows := tableOf(t, res.Vars["customers"])
	for i, r := range rows {
		if done := i < 4 && i != 2; done != (r["Letter"] != "") {
			t.Fatalf("row %d: %q", i+1, r["Letter"])
		}
	}
	if len(gen.reqs) != 3 || len(log.gens) != 4 || log.gens[2].Error == "" {
		t.Fatalf("%d generated, %d recorded", len(gen.reqs), len(log.gens))
	}

	// on_error continue: the cell stays empty, the error is in its column.
	log.gens = nil
	res, err = engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "fake", "batch_size": 4.0,
		"on_error": "continue", "error_column": "Problem"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	rows = tableOf(t, res.Vars["customers"])
	for i, r := range rows {
		if i == 2 {
			if r["Letter"] != "" || !strings.Contains(r["Problem"].(string), "HTTP 500") {
				t.Fatalf("failed row: %v", r)
			}
			continue
		}
		if r["Letter"] == "" || r["Problem"] != "" {
			t.Fatalf("row %d: %v", i+1, r)
		}
	}
	if len(log.gens) != 12 {
		t.Fatalf("%d recorded", len(log.gens))
	}
}

// The output column may not be one the prompt reads, unless asked.
func TestGenerateRowsOverwrite(t *testing.T) {
	dir := writeCustomers(t, 3)
	gen := &fakeGen{}
	opts := engine.Options{BaseDir: dir}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	_, err := engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "fake", "prompt": "Improve: {{ row.Note }}", "column": "Note"}), opts)
	if err == nil || !strings.Contains(err.Error(), `reads column "Note"`) || !strings.Contains(err.Error(), "overwrite") || len(gen.reqs) != 0 {
		t.Fatalf("err %v", err)
	}
	// A prompt that reads it only in a condition is caught too.
	_, err = engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "fake",
		"prompt": `Dear {{ row.Note == "" ? "x" : row.Customer }}`, "column": "Note"}), opts)
	if err == nil || !strings.Contains(err.Error(), `reads column "Note"`) {
		t.Fatalf("err %v", err)
	}
	res, err := engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "fake", "prompt": "Improve: {{ row.Note }}", "column": "Note", "overwrite": true}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r := tableOf(t, res.Vars["customers"])[1]; r["Note"] != "Dear 2" {
		t.Fatalf("%v", r)
	}
	// An existing column the prompt does not read is replaced.
	res, err = engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "fake", "column": "Note"}), opts)
	if err != nil || tableOf(t, res.Vars["customers"])[0]["Note"] != "Dear tea." {
		t.Fatalf("%v %v", err, res.Vars["customers"])
	}
}

func TestGenerateRowsDryRun(t *testing.T) {
	dir := writeCustomers(t, 3)
	gen := &fakeGen{}
	rec := &engine.Recorder{}
	opts := engine.Options{BaseDir: dir, DryRun: true, Observer: rec}
	WithProviders(&opts, NewCache(func(context.Context, string) (model.Generator, error) { return gen, nil }))
	res, err := engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "gpt2"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.reqs) != 0 {
		t.Fatal("a dry run generated text")
	}
	if r := tableOf(t, res.Vars["customers"])[2]; r["Letter"] != "[text that gpt2 would write]" {
		t.Fatalf("%v", r)
	}
	found := false
	for _, e := range rec.Events() {
		if e.Kind == engine.EventLog && strings.Contains(e.Message, "would generate up to 6 tokens for each of 3 rows with gpt2") &&
			strings.Contains(e.Message, `into column "Letter" of customers`) && strings.Contains(e.Message, "Thank Anna 1 for the tea.") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no dry-run description: %+v", rec.Events())
	}
	// A misspelt column fails a dry run too.
	if _, err := engine.Run(context.Background(), rowsFlow(map[string]any{"provider": "gpt2", "prompt": "{{ row.Produkt }}"}), opts); err == nil ||
		!strings.Contains(err.Error(), `did you mean "Product"`) {
		t.Fatalf("dry run: %v", err)
	}
}

func TestGenerateRowsParams(t *testing.T) {
	_, err := engine.Prepare(rowsFlow(map[string]any{"provider": "fake", "batch_size": 0.0, "temperature": -1.0,
		"on_error": "continue", "error_column": "Letter", "prompt": "{{ rowz.Customer }}"}), nil, "")
	for _, want := range []string{"batch_size", "temperature", "error_column", "of their own", `unknown variable "rowz"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want %s in %v", want, err)
		}
	}
	_, err = engine.Prepare(rowsFlow(map[string]any{"provider": "fake", "table": "customers[0:2]"}), nil, "")
	if err == nil || !strings.Contains(err.Error(), "not a variable") {
		t.Fatalf("expression table without output: %v", err)
	}
	if _, err = engine.Prepare(rowsFlow(map[string]any{"provider": "fake", "table": "customers[0:2]", "output": "some"}), nil, ""); err != nil {
		t.Fatal(err)
	}
	// No rows: an empty table, no model opened.
	f := rowsFlow(map[string]any{"provider": "fake"})
	f.Nodes[1] = &engine.Node{ID: "read", Type: "control.set_variable", Params: map[string]any{"variable": "customers", "value": "[]"}}
	res, err := engine.Run(context.Background(), f, engine.Options{})
	if err != nil || len(tableOf(t, res.Vars["customers"])) != 0 {
		t.Fatalf("%v %v", err, res.Vars)
	}
}

// cancelLog stops the run when the n-th generation is recorded.
type cancelLog struct {
	memLog
	n      int
	cancel context.CancelCauseFunc
}

func (l *cancelLog) SaveGeneration(ctx context.Context, g Generation) error {
	l.memLog.SaveGeneration(ctx, g)
	if len(l.gens) == l.n {
		l.cancel(errStop)
	}
	return nil
}

// Stopping the run between two batches of an API profile: the batches
// done keep their text and no request of a later batch is sent.
func TestGenerateRowsCancelBetweenBatches(t *testing.T) {
	srv := openaitest.New("")
	defer srv.Close()
	srv.BusyDelay = time.Millisecond
	data := t.TempDir()
	t.Setenv("DESKBOT_DATA", data)
	t.Setenv("DESKBOT_NO_KEYRING", "1")
	ps := &openai.Profiles{}
	ps.Set(openai.Profile{Name: "local", BaseURL: srv.APIURL(), Model: "busy", Concurrency: 4})
	if err := ps.Save(filepath.Join(data, "providers.json")); err != nil {
		t.Fatal(err)
	}
	dir := writeCustomers(t, 20)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	log := &cancelLog{n: 5, cancel: cancel}
	opts := engine.Options{BaseDir: dir}
	cache := NewCache(providers.Opener(providers.OpenOptions{}))
	defer cache.Close()
	WithProviders(&opts, cache)
	WithLog(&opts, log)
	res, err := engine.Run(ctx, rowsFlow(map[string]any{"provider": "api:local", "max_tokens": 20.0, "batch_size": 4.0}), opts)
	if !errors.Is(err, errStop) {
		t.Fatalf("err %v", err)
	}
	for i, r := range tableOf(t, res.Vars["customers"]) {
		if done := r["Letter"] != ""; done != (i < 8) {
			t.Fatalf("row %d: %q", i+1, r["Letter"])
		}
	}
	if n := len(srv.Requests("")); n != 8 {
		t.Fatalf("%d requests, want the two batches done", n)
	}
}

func TestGenerateRowsNotATable(t *testing.T) {
	f := rowsFlow(map[string]any{"provider": "fake"})
	f.Nodes[1] = &engine.Node{ID: "read", Type: "control.set_variable", Params: map[string]any{"variable": "customers", "value": `[{"Customer": "Anna"}, "Bram"]`}}
	_, err := engine.Run(context.Background(), f, engine.Options{})
	if err == nil || !strings.Contains(err.Error(), `row 2 is "Bram", want an object`) {
		t.Fatalf("err %v", err)
	}
	f.Nodes[1].Params["value"] = `"Anna"`
	if _, err = engine.Run(context.Background(), f, engine.Options{}); err == nil || !strings.Contains(err.Error(), "table: want a table") {
		t.Fatalf("err %v", err)
	}
}
