package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"deskbot/store"
)

// MustOpenDB opens an in-memory database, closed when the test ends.
func MustOpenDB(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// MustOpenFile opens a database file in a fresh temporary folder.
func MustOpenFile(tb testing.TB) (*store.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "data", store.FileName)
	db, err := store.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

func TestOpen_Migrations(t *testing.T) {
	db := MustOpenDB(t)
	names, err := db.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 || names[0] != "001_init.sql" {
		t.Fatalf("migrations = %v, want 001_init.sql first", names)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("migrations out of order: %v", names)
		}
	}
}

func TestOpen_File(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db, err := store.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var mode string
	if err := db.SQL().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk, busy int
	if err := db.SQL().QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	if err := db.SQL().QueryRow(`PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != 10000 {
		t.Fatalf("busy_timeout = %d, %v", busy, err)
	}
	if _, err := db.SaveFlow(ctx, "a", "a.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	before, _ := db.Migrations(ctx)
	db.Close()
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing twice and keeps the data.
	db, err = store.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	after, _ := db.Migrations(ctx)
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Fatalf("migrations changed on reopen: %v -> %v", before, after)
	}
	if fl, err := db.Flows(ctx); err != nil || len(fl) != 1 {
		t.Fatalf("flows after reopen = %v, %v", fl, err)
	}
	if got := db.ArtifactDir("r1"); got != filepath.Join(dir, "runs", "r1") {
		t.Fatalf("ArtifactDir = %q", got)
	}
}

func TestOpen_BadPath(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, []byte("x"), 0o644)
	_, err := store.Open(filepath.Join(f, "sub", "deskbot.db"))
	if err == nil || !strings.Contains(err.Error(), "open database") {
		t.Fatalf("err = %v, want an open database error", err)
	}
	// A file that is not a database.
	bad := filepath.Join(t.TempDir(), "bad.db")
	os.WriteFile(bad, bytes.Repeat([]byte("not a database "), 100), 0o644)
	if _, err := store.Open(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("err = %v, want an error naming %s", err, bad)
	}
}

func TestMemoryArtifactDir(t *testing.T) {
	db, err := store.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	d := db.ArtifactDir("r1")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("artifact folder of an in-memory database kept after Close: %v", err)
	}
}

func TestDataDir(t *testing.T) {
	t.Setenv("DESKBOT_DATA", "/somewhere/data")
	if d, err := store.DataDir(); err != nil || d != "/somewhere/data" {
		t.Fatalf("DataDir = %q, %v", d, err)
	}
	t.Setenv("DESKBOT_DATA", "")
	if runtime.GOOS != "linux" {
		return
	}
	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	if d, err := store.DataDir(); err != nil || d != "/cfg/deskbot" {
		t.Fatalf("DataDir = %q, %v", d, err)
	}
}

func TestNewRunID(t *testing.T) {
	a, b := store.NewRunID(), store.NewRunID()
	if a == b || len(a) != len("20261129-030405-abc123") {
		t.Fatalf("ids %q %q", a, b)
	}
}

func TestSaveFlow(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	v, err := db.SaveFlow(ctx, "letters", "/flows/letters.json", []byte(`{"v":1}`))
	if err != nil || v != 1 {
		t.Fatalf("first save = %d, %v", v, err)
	}
	// Identical bytes: no new version.
	if v, err = db.SaveFlow(ctx, "letters", "/flows/letters.json", []byte(`{"v":1}`)); err != nil || v != 1 {
		t.Fatalf("identical save = %d, %v", v, err)
	}
	if v, err = db.SaveFlow(ctx, "letters", "/flows/moved.json", []byte(`{"v":2}`)); err != nil || v != 2 {
		t.Fatalf("second save = %d, %v", v, err)
	}
	if v, err = db.SaveFlow(ctx, "invoices", "/flows/inv.json", []byte(`{}`)); err != nil || v != 1 {
		t.Fatalf("other flow = %d, %v", v, err)
	}
	if _, err := db.SaveFlow(ctx, "", "", []byte(`{}`)); err == nil {
		t.Fatal("a flow without a name or path was saved")
	}
	if v, err := db.SaveFlow(ctx, "", "/flows/tidy inbox.json", []byte(`{}`)); err != nil || v != 1 {
		t.Fatalf("unnamed flow = %d, %v", v, err)
	}
	if _, err := db.FlowVersion(ctx, "tidy inbox", 1); err != nil {
		t.Fatalf("unnamed flow not filed under its file name: %v", err)
	}
	flows, err := db.Flows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 3 || flows[0].Name != "invoices" || flows[1].Name != "letters" || flows[1].Latest != 2 || flows[1].Path != "/flows/moved.json" || flows[1].Updated.IsZero() || flows[2].Name != "tidy inbox" {
		t.Fatalf("flows = %+v", flows)
	}
	vs, err := db.FlowVersions(ctx, "letters")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 || vs[0].Size != 7 || vs[1].Path != "/flows/moved.json" {
		t.Fatalf("versions = %+v", vs)
	}
	for _, tc := range []struct {
		v    int
		want string
	}{{1, `{"v":1}`}, {2, `{"v":2}`}, {0, `{"v":2}`}} {
		doc, err := db.FlowVersion(ctx, "letters", tc.v)
		if err != nil || string(doc) != tc.want {
			t.Fatalf("FlowVersion(%d) = %s, %v; want %s", tc.v, doc, err, tc.want)
		}
	}
	if _, err := db.FlowVersion(ctx, "letters", 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := db.FlowVersions(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing flow: %v", err)
	}
	// Going back to older bytes is a new version.
	if v, err = db.SaveFlow(ctx, "letters", "/flows/moved.json", []byte(`{"v":1}`)); err != nil || v != 3 {
		t.Fatalf("revert save = %d, %v", v, err)
	}
}

// Several processes' worth of handles opening a new database at once all
// succeed, and the migrations run once.
func TestOpen_ConcurrentFresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), store.FileName)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	dbs := make([]*store.DB, 4)
	for i := range dbs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			dbs[i], errs[i] = store.Open(path)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	names, err := dbs[0].Migrations(context.Background())
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations = %v, %v", names, err)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("migration %s recorded twice", n)
		}
		seen[n] = true
	}
}

// Opening an up-to-date database, listing runs and reading a run's steps
// and variables take no write lock: they work while another process holds
// it (a long recorded run, a migration).
func TestOpen_WhileLocked(t *testing.T) {
	db, path := MustOpenFile(t)
	ctx := context.Background()
	_, id := runRecorded(t, db, countFlow, ctx, false)
	tx, err := db.SQL().Begin() // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`UPDATE runs SET error = error`); err != nil {
		t.Fatal(err)
	}
	reader, err := store.Open(path)
	if err != nil {
		t.Fatalf("open while another holds the write lock: %v", err)
	}
	defer reader.Close()
	runs, err := reader.Runs(ctx, store.RunFilter{})
	if err != nil || len(runs) != 1 || runs[0].ID != id {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	if steps, err := reader.Steps(ctx, id); err != nil || len(steps) != 12 {
		t.Fatalf("steps = %d, %v", len(steps), err)
	}
	if v, err := reader.VarsAt(ctx, id, 12); err != nil || v["i"] != 3.0 {
		t.Fatalf("vars = %v, %v", v, err)
	}
}
