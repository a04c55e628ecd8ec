package report

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"deskbot/store"
	"deskbot/store/storetest"
)

// BenchmarkCollect builds a report's data over 100,000 runs and 1,000,000
// step events (and 20,000 generations), seeded once into a database file
// (the seeding time is reported as seed-s, apart from the benchmark).
// Sub-benchmarks: all flows over the whole history; one flow over 30
// days; the baseline, in the same run: one plain pass over every step
// row of the history (SELECT COUNT(*), SUM(duration) FROM steps), the
// least any statistic over all steps costs; and all flows again without
// the indexes of migration 005. Besides the wall time, each
// reports cpu-s/op, the process's CPU time (user and system, cgo
// included) per operation: on a machine shared with other work the wall
// time grows with the load, the CPU time much less.
func BenchmarkCollect(b *testing.B) {
	ctx := context.Background()
	db, _, gens, seed := bigHistory(b)
	var nsteps, nruns int
	db.SQL().QueryRow(`SELECT (SELECT COUNT(*) FROM steps), (SELECT COUNT(*) FROM runs)`).Scan(&nsteps, &nruns)
	b.Logf("seeded %d runs, %d steps, %d generations in %v", nruns, nsteps, gens, seed.Round(time.Millisecond))

	b.Run("all", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			d, err := Collect(ctx, db, Filter{})
			if err != nil {
				b.Fatal(err)
			}
			if d.Summary.Runs != nruns || d.Summary.Steps != nsteps {
				b.Fatalf("%d runs, %d steps", d.Summary.Runs, d.Summary.Steps)
			}
		}
		b.ReportMetric(seed.Seconds(), "seed-s")
	})
	b.Run("flow-30d", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := Collect(ctx, db, Filter{Flow: "发票处理 4", From: benchEnd.AddDate(0, 0, -30), To: benchEnd}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-scan-steps", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			var n, sum int64
			if err := db.SQL().QueryRow(`SELECT COUNT(*), SUM(duration) FROM steps`).Scan(&n, &sum); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Last, as it changes the database: the same report without the
	// indexes of migration 005 (the run indexes as they were before it).
	b.Run("all-without-005-indexes", func(b *testing.B) {
		for _, q := range []string{`DROP INDEX runs_start_stats`, `DROP INDEX runs_flow_stats`,
			`CREATE INDEX runs_start ON runs(start)`, `CREATE INDEX runs_flow_start ON runs(flow, start)`} {
			if _, err := db.SQL().Exec(q); err != nil {
				b.Fatal(err)
			}
		}
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := Collect(ctx, db, Filter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchEnd is the last day of the benchmarks' history.
var benchEnd = time.Date(2026, 11, 30, 0, 0, 0, 0, time.Local)

// bigHistory seeds a database file with 100,000 runs, about 1,000,000
// steps and 20,000 generations ending on 30 Nov 2026, once per benchmark;
// it returns the database, its folder, the generations and how long
// seeding took. The database is closed when the benchmark ends.
func bigHistory(b *testing.B) (db *store.DB, dir string, gens int, seed time.Duration) {
	dir = b.TempDir()
	db, err := store.Open(filepath.Join(dir, store.FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	db.Now = func() time.Time { return benchEnd }
	t0 := time.Now()
	runs, g := storetest.Big(benchEnd, 100_000, 1_000_000, 20_000)
	if err := storetest.Seed(ctx, db, runs, g); err != nil {
		b.Fatal(err)
	}
	if err := db.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	return db, dir, len(g), time.Since(t0)
}
