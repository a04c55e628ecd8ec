package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	_ "deskbot/engine/activities"
	"deskbot/store"
)

// lettersFlow reads a CSV of customers and, for each row, appends a letter
// built from a template to one file and counts it: the everyday "for each
// row of a table" job whose history must grow with the work, not with the
// table.
func lettersFlow(history string) string {
	settings := "{}"
	if history != "" {
		settings = fmt.Sprintf(`{"history":%q}`, history)
	}
	return `{"format":"deskbot.flow","version":1,"name":"letters","settings":` + settings + `,
 "variables":[{"name":"csv","type":"string","default":""},{"name":"out","type":"string","default":""},
   {"name":"written","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"read","type":"file.read_csv","params":{"path":"{{ csv }}","output":"customers"}},
   {"id":"each","type":"control.for_each","params":{"items":"customers","item":"customer"}},
   {"id":"letter","type":"file.append_text","label":"Write letter","params":{"path":"{{ out }}",
     "text":"{{ customer.company }}\nAttn. {{ customer.first_name }} {{ customer.last_name }}\n\nDear {{ customer.first_name }},\n\nOur records show an open balance of EUR {{ customer.balance }}, due on {{ customer.due_date }}.\n\nKind regards\n\n"}},
   {"id":"count","type":"control.set_variable","params":{"variable":"written","value":"written + 1"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"read"},{"from":"read","port":"next","to":"each"},
   {"from":"each","port":"each","to":"letter"},{"from":"letter","port":"next","to":"count"},
   {"from":"count","port":"next","to":"each"},{"from":"each","port":"done","to":"end"}]}`
}

// writeCustomers writes a CSV of n customers into dir and returns its path.
func writeCustomers(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("id,company,first_name,last_name,balance,due_date\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d,Company %d Ltd,Anna%d,Schmidt%d,%d.50,2026-12-%02d\n", i, i, i, i, i%1000, 1+i%28)
	}
	p := filepath.Join(dir, "customers.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// runLetters runs the letters flow over csvPath, recorded into db when db
// is not nil.
func runLetters(tb testing.TB, db *store.DB, history, csvPath, out string) *engine.Result {
	tb.Helper()
	f, err := engine.Parse([]byte(lettersFlow(history)))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	opts := engine.Options{Inputs: map[string]any{"csv": csvPath, "out": out}, MaxSteps: 10_000_000}
	var rec *store.Recorder
	if db != nil {
		rec, err = db.Recorder(ctx, store.RunInfo{Flow: f.Name, History: f.Settings.History})
		if err != nil {
			tb.Fatal(err)
		}
		opts.Observer, opts.RunID = rec, rec.RunID()
	}
	res, err := engine.Run(ctx, f, opts)
	if err != nil || res.Status != engine.StatusOK {
		tb.Fatalf("run: %v %+v", err, res)
	}
	if rec != nil {
		if err := rec.Close(res); err != nil {
			tb.Fatal(err)
		}
		if os.Getenv("DESKBOT_RECORDER_STATS") != "" {
			fmt.Printf("recorder: %+v\n", rec.Stats())
		}
	}
	return res
}

// dbSize is the database's size on disk, WAL included, after a checkpoint.
func dbSize(tb testing.TB, path string) int64 {
	tb.Helper()
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// A recorded for-each over 10,000 CSV rows keeps its history under 20 MB,
// and the history still shows every variable at every step.
func TestHistory_CSV10k(t *testing.T) {
	const rows = 10_000
	dir := t.TempDir()
	csv := writeCustomers(t, dir, rows)
	db, path := MustOpenFile(t)
	res := runLetters(t, db, "", csv, filepath.Join(dir, "letters.txt"))
	if want := 3*rows + 4; res.Steps != want {
		t.Fatalf("steps = %d, want %d", res.Steps, want)
	}
	if err := db.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	size := dbSize(t, path)
	t.Logf("history of %d rows: %d bytes (%.1f bytes/step)", rows, size, float64(size)/float64(res.Steps))
	if size > 20<<20 {
		t.Fatalf("history of %d rows is %d bytes, want under 20 MB", rows, size)
	}
	ctx := context.Background()
	runs, err := db.Runs(ctx, store.RunFilter{})
	if err != nil || len(runs) != 1 || runs[0].Status != engine.StatusOK || runs[0].Steps != res.Steps {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	id := runs[0].ID
	// The full state at a step late in the run: the row being processed,
	// the count so far and the table (as a preview).
	seq := 2 + 3*7000 + 3 // row 7001's count step
	vars, err := db.VarsAt(ctx, id, seq)
	if err != nil {
		t.Fatal(err)
	}
	if vars["written"] != 7001.0 {
		t.Fatalf("written at step %d = %v, want 7001", seq, vars["written"])
	}
	cust, _ := vars["customer"].(map[string]any)
	if cust["id"] != "7001" {
		t.Fatalf("customer at step %d = %v", seq, vars["customer"])
	}
	if vars["csv"] != csv {
		t.Fatalf("csv at step %d = %v", seq, vars["csv"])
	}
	b, _ := json.Marshal(vars["customers"])
	if len(b) > 16<<10 || !strings.Contains(string(b), strconv.Itoa(rows)) {
		t.Fatalf("customers at step %d: %d bytes: %.300s", seq, len(b), b)
	}
}

// BenchmarkCSVLetters runs the letters flow over 10,000 CSV rows, once
// unrecorded and once recorded into a database file (Close, the final
// flush, included), and reports the recorded/unrecorded time ratio
// measured in the same run (target: at most 3x) and the history's size.
func BenchmarkCSVLetters(b *testing.B) {
	rows := 10_000
	if n, err := strconv.Atoi(os.Getenv("DESKBOT_BENCH_ROWS")); err == nil && n > 0 {
		rows = n
	}
	dir := b.TempDir()
	csv := writeCustomers(b, dir, rows)
	out := filepath.Join(dir, "letters.txt")
	var plain, recorded time.Duration
	var size int64
	for b.Loop() {
		os.Remove(out)
		t0 := time.Now()
		runLetters(b, nil, "", csv, out)
		plain += time.Since(t0)

		os.Remove(out)
		data := filepath.Join(b.TempDir(), store.FileName)
		db, err := store.Open(data)
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		runLetters(b, db, os.Getenv("DESKBOT_BENCH_HISTORY"), csv, out)
		recorded += time.Since(t0)
		if err := db.Checkpoint(context.Background()); err != nil {
			b.Fatal(err)
		}
		size = dbSize(b, data)
		db.Close()
	}
	n := float64(b.N)
	b.ReportMetric(plain.Seconds()/n, "unrecorded-s/op")
	b.ReportMetric(recorded.Seconds()/n, "recorded-s/op")
	b.ReportMetric(recorded.Seconds()/plain.Seconds(), "recorded/unrecorded")
	b.ReportMetric(float64(size)/(1<<20), "history-MB")
}

// TestHelperLetters is a child process for measuring a large recorded run:
// with $DESKBOT_LETTERS_ROWS set, it runs the letters flow over that many
// rows, recorded into $DESKBOT_LETTERS_DB (unrecorded when that is empty),
// and prints the time, the peak RSS (VmHWM) and the history's size:
//
//	DESKBOT_LETTERS_ROWS=1000000 DESKBOT_LETTERS_DB=/tmp/h/deskbot.db go test -run TestHelperLetters -v ./store/
func TestHelperLetters(t *testing.T) {
	rows, err := strconv.Atoi(os.Getenv("DESKBOT_LETTERS_ROWS"))
	if err != nil {
		t.Skip("helper process: set DESKBOT_LETTERS_ROWS (and DESKBOT_LETTERS_DB) to measure a large run")
	}
	dir := t.TempDir()
	csv := writeCustomers(t, dir, rows)
	out := filepath.Join(dir, "letters.txt")
	var db *store.DB
	path := os.Getenv("DESKBOT_LETTERS_DB")
	if path != "" {
		if db, err = store.Open(path); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
	}
	hwm0 := vmHWM(t)
	t0 := time.Now()
	res := runLetters(t, db, os.Getenv("DESKBOT_LETTERS_HISTORY"), csv, out)
	d := time.Since(t0)
	var size int64
	if db != nil {
		if err := db.Checkpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
		size = dbSize(t, path)
	}
	fmt.Printf("letters rows=%d steps=%d recorded=%v time=%.2fs vmhwm_before_run=%dkB vmhwm=%dkB history=%d bytes (%.1f MB)\n",
		rows, res.Steps, db != nil, d.Seconds(), hwm0, vmHWM(t), size, float64(size)/(1<<20))
}

// vmHWM returns this process's peak resident set size in kB.
func vmHWM(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
