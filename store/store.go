// Package store keeps Deskbot's history in SQLite: the flow library with a
// version for every save, runs, their step events, logs and variable
// snapshots, so a past run can be inspected step by step.
//
// The database lives in DataDir (DESKBOT_DATA, else the user's config
// folder) as deskbot.db, in WAL mode with a busy timeout and foreign keys;
// writers take the lock at BEGIN (IMMEDIATE) and wait for it, readers never
// take it.
// The schema comes from the embedded migrations/*.sql files, applied in name
// order and recorded in schema_migrations.
//
// A Recorder is the engine.Observer that writes a run's events in batches
// from its own goroutine; the runner waits on the disk only when
// MaxPendingEvents events are pending. Variables are stored as what changed
// since the previous step, with a full snapshot every so often, and large
// values as bounded previews with their size and hash, so the history grows
// with the work and not with the data. The flow's settings.history chooses
// how much is kept (full, steps, errors). A process killed mid-run keeps
// every batch committed before the kill; the next Open marks its run
// interrupted.
//
// Several processes share one database: readers never take the write lock,
// writers wait for it (busy timeout) and try again, and a recorder never
// drops a batch.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNotFound is returned (wrapped) when a flow, version or run does not exist.
var ErrNotFound = errors.New("not found")

// FileName is the database's name inside the data folder.
const FileName = "deskbot.db"

// DB is an open Deskbot database.
type DB struct {
	db   *sql.DB
	path string // file path, or ":memory:"
	// artifacts is the folder holding runs/<id>/; a temporary folder for an
	// in-memory database (removed by Close).
	artifacts string
	tmp       bool
	fts       bool // SQLite has FTS5: see FullTextSearch

	// Now returns the current time; tests may replace it.
	Now func() time.Time
}

// DataDir returns the data folder: $DESKBOT_DATA if set, else the user's
// config folder's deskbot subfolder. The CLI's --data overrides it by
// passing its own folder to OpenDir.
func DataDir() (string, error) {
	if d := os.Getenv("DESKBOT_DATA"); d != "" {
		return d, nil
	}
	c, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the data folder (set DESKBOT_DATA or --data): %w", err)
	}
	return filepath.Join(c, "deskbot"), nil
}

// OpenDir opens (creating) dir/deskbot.db.
func OpenDir(dir string) (*DB, error) {
	return Open(filepath.Join(dir, FileName))
}

var memSeq atomic.Int64

// openWait bounds how long Open waits for another process that holds the
// database's write lock (while it creates the file or migrates it).
const openWait = 2 * time.Minute

// Open opens the database at path, creating its folder and applying
// pending migrations, and marks runs of dead processes interrupted. path
// ":memory:" opens a private in-memory database (for tests).
//
// Opening takes the write lock only when it must: to turn a new file to
// WAL mode, to apply a pending migration (checked read-only first), or to
// mark a dead process's run interrupted. Readers never wait for writers
// (WAL); a writer that finds the lock taken waits (busy timeout) and
// tries again, so processes that open one data folder at once all
// succeed.
func Open(path string) (*DB, error) {
	d := &DB{path: path, Now: time.Now}
	params := "_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate"
	var dsn string
	if path == ":memory:" {
		// Each connection to ":memory:" would be its own database; keep one.
		dsn = fmt.Sprintf("file:deskbot-mem-%d?mode=memory&_foreign_keys=on&_txlock=immediate", memSeq.Add(1))
		tmp, err := os.MkdirTemp("", "deskbot-artifacts-")
		if err != nil {
			return nil, fmt.Errorf("open database %q: artifact folder: %w", path, err)
		}
		d.artifacts, d.tmp = tmp, true
	} else {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("open database %q: %w", path, err)
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("open database %q: %w", path, err)
		}
		d.artifacts = filepath.Dir(abs)
		dsn = "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + params
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		d.cleanup()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	d.db = db
	if path == ":memory:" {
		db.SetMaxOpenConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), openWait)
	defer cancel()
	if err := retryBusy(ctx, func() error { return db.PingContext(ctx) }); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	if path != ":memory:" {
		// WAL is a property of the file: set once, by whoever comes
		// first; a file already in WAL mode needs no lock for this.
		var mode string
		err := retryBusy(ctx, func() error {
			if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
				return err
			}
			if strings.EqualFold(mode, "wal") {
				return nil
			}
			return db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("open database %q: %w", path, err)
		}
		if !strings.EqualFold(mode, "wal") {
			d.Close()
			return nil, fmt.Errorf("open database %q: journal mode is %q, not WAL", path, mode)
		}
	}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	if err := d.setupSearch(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	// Marking dead runs can wait for the next Open if a writer holds the
	// lock now.
	if _, err := d.MarkInterrupted(context.Background()); err != nil && !isBusy(err) {
		d.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	return d, nil
}

// Checkpoint copies the write-ahead log into the database file and
// truncates it, so the file's size is the history's size.
func (d *DB) Checkpoint(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint %s: %w", d.path, err)
	}
	return nil
}

// Path returns the path the database was opened with.
func (d *DB) Path() string { return d.path }

// SQL returns the underlying handle, for packages that add their own tables
// through a migration in this package (e.g. the generation log).
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the database. An in-memory database's artifact folder is removed.
func (d *DB) Close() error {
	var err error
	if d.db != nil {
		err = d.db.Close()
	}
	d.cleanup()
	return err
}

func (d *DB) cleanup() {
	if d.tmp && d.artifacts != "" {
		os.RemoveAll(d.artifacts)
		d.artifacts = ""
	}
}

// ArtifactDir returns the folder for a run's screenshots and other files:
// <data folder>/runs/<run id>. It does not create it (the engine does when
// a step writes a file).
func (d *DB) ArtifactDir(runID string) string {
	return filepath.Join(d.artifacts, "runs", runID)
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in name order, in one transaction. It first checks,
// without a lock, whether any is pending: an up-to-date database is
// opened without taking the write lock.
func (d *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	pending := func(q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}) (bool, error) {
		var n int
		rows, err := q.QueryContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
		if err != nil {
			return false, err
		}
		for rows.Next() {
			rows.Scan(&n)
		}
		rows.Close()
		if n == 0 {
			return true, nil
		}
		done := map[string]bool{}
		rows, err = q.QueryContext(ctx, `SELECT name FROM schema_migrations`)
		if err != nil {
			return false, err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return false, err
			}
			done[n] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		for _, name := range names {
			if !done[filepath.Base(name)] {
				return true, nil
			}
		}
		return false, nil
	}
	var todo bool
	if err := retryBusy(ctx, func() (err error) { todo, err = pending(d.db); return err }); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if !todo {
		return nil
	}
	err = retryBusy(ctx, func() error { return d.applyMigrations(ctx, names) })
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// applyMigrations applies the pending migrations under the write lock.
func (d *DB) applyMigrations(ctx context.Context, names []string) error {
	tx, err := d.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return err
	}
	done := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		done[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range names {
		base := filepath.Base(name)
		if done[base] {
			continue
		}
		buf, err := fs.ReadFile(migrationFS, name)
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied) VALUES (?, ?)`, base, d.Now().UnixNano()); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return tx.Commit()
}

// Migrations returns the names of the applied migrations, in order.
func (d *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// NewRunID returns a new run id that sorts by time:
// "20261129-030405-1a2b3c" (UTC date and time, then random hex).
func NewRunID() string {
	var b [3]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102-150405-") + hex.EncodeToString(b[:])
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
