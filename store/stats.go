package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"deskbot/engine"
)

// Statistics over the history, for reports and the Insights tab. Every
// number is computed by SQLite (COUNT, SUM, AVG, window functions, GROUP
// BY); Go receives only the aggregates, never the run or step rows.
//
// What counts:
//   - Runs are those that started in the range; dry runs are left out (they
//     did nothing), runs still running count as runs but not in the success
//     rate or the durations.
//   - Succeeded is status ok; Failed is failed or interrupted; Stopped is
//     stopped or cancelled. SuccessRate is Succeeded over finished runs.
//   - A run's duration is end - start; percentiles are nearest-rank.
//   - Items are the for-each items processed: control.for_each steps that
//     left by their "each" port (one per item).
//   - A failed step is one with status failed, caught (its error port took
//     over) or retrying (an attempt that failed before a retry).
//   - Steps are counted as recorded: a flow whose settings.history is
//     "errors" keeps only its failed steps, so its step numbers are low.

// StatsFilter selects the runs (by start) and generations (by creation)
// that statistics cover. Zero values mean no limit.
type StatsFilter struct {
	Flow string    // flow name; "" for every flow
	From time.Time // inclusive
	To   time.Time // exclusive
}

// RunSummary is the headline of the runs in a range.
type RunSummary struct {
	Runs, Succeeded, Failed, Stopped, Running int
	SuccessRate                               float64 // Succeeded / finished runs; 0 without any
	P50, P90, Max                             time.Duration
	First, Last                               time.Time // the first and last run's start; zero without runs
}

// failedStepStatuses are the step statuses counted as failures.
const failedStepStatuses = `('` + engine.StatusFailed + `', '` + engine.StatusCaught + `', '` + engine.StatusRetrying + `')`

// runWhere returns the WHERE conditions (on alias r) and arguments that
// select f's runs.
func runWhere(f StatsFilter) (string, []any) {
	conds := []string{"r.dry_run = 0"}
	var args []any
	if f.Flow != "" {
		conds = append(conds, "r.flow = ?")
		args = append(args, f.Flow)
	}
	if !f.From.IsZero() {
		conds = append(conds, "r.start >= ?")
		args = append(args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		conds = append(conds, "r.start < ?")
		args = append(args, f.To.UnixNano())
	}
	return strings.Join(conds, " AND "), args
}

func (f StatsFilter) String() string {
	var b strings.Builder
	if f.Flow != "" {
		fmt.Fprintf(&b, "flow %q", f.Flow)
	} else {
		b.WriteString("all flows")
	}
	if !f.From.IsZero() {
		b.WriteString(" from " + f.From.Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		b.WriteString(" to " + f.To.Format(time.RFC3339))
	}
	return b.String()
}

// RunStats counts f's runs by outcome and gives their duration
// percentiles.
func (d *DB) RunStats(ctx context.Context, f StatsFilter) (RunSummary, error) {
	where, args := runWhere(f)
	var s RunSummary
	var first, last int64
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(status = ?), 0), COALESCE(SUM(status IN (?, ?)), 0), COALESCE(SUM(status IN (?, ?)), 0),
		COALESCE(SUM(status = ?), 0), COALESCE(MIN(start), 0), COALESCE(MAX(start), 0)
		FROM runs r WHERE `+where,
		append([]any{engine.StatusOK, engine.StatusFailed, engine.StatusInterrupted, engine.StatusStopped, engine.StatusCancelled, StatusRunning}, args...)...).
		Scan(&s.Runs, &s.Succeeded, &s.Failed, &s.Stopped, &s.Running, &first, &last)
	if err != nil {
		return s, fmt.Errorf("run statistics for %s: %w", f, err)
	}
	s.First, s.Last = fromNanos(first), fromNanos(last)
	if fin := s.Runs - s.Running; fin > 0 {
		s.SuccessRate = float64(s.Succeeded) / float64(fin)
	}
	// Nearest-rank percentiles: the value at rank ceil(p*n) of the sorted
	// durations.
	var p50, p90, max int64
	err = d.db.QueryRowContext(ctx, `WITH d AS (
			SELECT r.end - r.start AS d, ROW_NUMBER() OVER (ORDER BY r.end - r.start) AS i, COUNT(*) OVER () AS n
			FROM runs r WHERE `+where+` AND r.end IS NOT NULL AND r.status != ?)
		SELECT COALESCE(MAX(CASE WHEN i = (n * 50 + 99) / 100 THEN d END), 0),
			COALESCE(MAX(CASE WHEN i = (n * 90 + 99) / 100 THEN d END), 0), COALESCE(MAX(d), 0) FROM d`,
		append(args, StatusRunning)...).Scan(&p50, &p90, &max)
	if err != nil {
		return s, fmt.Errorf("run durations for %s: %w", f, err)
	}
	s.P50, s.P90, s.Max = time.Duration(p50), time.Duration(p90), time.Duration(max)
	return s, nil
}

// DayCount is the number of runs by status that started on one day.
type DayCount struct {
	Day      time.Time // midnight in the location asked for
	ByStatus map[string]int
}

// MaxDays bounds RunsPerDay's range.
const MaxDays = 3660

// RunsPerDay counts f's runs per calendar day in loc, by status, for every
// day from from to to (both days included; days without runs have an
// empty map). The day boundaries are computed in Go (they follow loc's
// daylight saving changes) and handed to SQLite, which counts the runs
// between them through the start index.
func (d *DB) RunsPerDay(ctx context.Context, f StatsFilter, from, to time.Time, loc *time.Location) ([]DayCount, error) {
	if loc == nil {
		loc = time.Local
	}
	day := func(t time.Time) time.Time {
		t = t.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	}
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return nil, nil
	}
	var days []DayCount
	var bounds []int64
	for t := day(from); !t.After(to); t = t.AddDate(0, 0, 1) {
		if len(days) == MaxDays {
			return nil, fmt.Errorf("runs per day for %s: more than %d days from %s to %s; choose a shorter range",
				f, MaxDays, from.Format(time.DateOnly), to.Format(time.DateOnly))
		}
		days = append(days, DayCount{Day: t, ByStatus: map[string]int{}})
		bounds = append(bounds, t.UnixNano())
	}
	bounds = append(bounds, days[len(days)-1].Day.AddDate(0, 0, 1).UnixNano())
	bj, _ := json.Marshal(bounds)
	where, args := runWhere(f)
	rows, err := d.db.QueryContext(ctx, `WITH b AS (SELECT CAST(key AS INTEGER) AS i, value AS lo FROM json_each(?)),
			days AS (SELECT b.i, b.lo, n.lo AS hi FROM b JOIN b n ON n.i = b.i + 1)
		SELECT days.i, r.status, COUNT(*) FROM days CROSS JOIN runs r ON r.start >= days.lo AND r.start < days.hi
		WHERE `+where+` GROUP BY days.i, r.status`, append([]any{string(bj)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("runs per day for %s: %w", f, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int
		var status string
		if err := rows.Scan(&i, &status, &n); err != nil {
			return nil, fmt.Errorf("runs per day for %s: %w", f, err)
		}
		if i >= 0 && i < len(days) {
			days[i].ByStatus[status] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("runs per day for %s: %w", f, err)
	}
	return days, nil
}

// DurationBucket is one bar of the run-duration histogram: finished runs
// with Lo <= duration < Hi.
type DurationBucket struct {
	Lo, Hi time.Duration
	Count  int
}

// niceWidth returns the smallest 1-2-5 x 10^k nanoseconds at least w.
func niceWidth(w time.Duration) time.Duration {
	if w < 1 {
		return 1
	}
	for base := time.Duration(1); ; base *= 10 {
		for _, m := range []time.Duration{1, 2, 5} {
			if base*m >= w {
				return base * m
			}
		}
		if base > time.Duration(1<<62)/10 {
			return w
		}
	}
}

// DurationHistogram counts f's finished runs in equal-width duration
// buckets from 0 (about 15 of them, with 1-2-5 widths). s is the range's
// RunStats. When the longest run is more than three times p90, the buckets
// cover up to twice p90 and the last one, up to the maximum, takes the
// long tail.
func (d *DB) DurationHistogram(ctx context.Context, f StatsFilter, s RunSummary) ([]DurationBucket, error) {
	if s.Max <= 0 {
		return nil, nil
	}
	top := s.Max
	tail := s.Max > 3*s.P90 && s.P90 > 0
	if tail {
		top = 2 * s.P90
	}
	width := niceWidth((top + 14) / 15)
	n := int(top/width) + 1
	var out []DurationBucket
	for i := 0; i < n; i++ {
		out = append(out, DurationBucket{Lo: time.Duration(i) * width, Hi: time.Duration(i+1) * width})
	}
	if tail {
		out = append(out, DurationBucket{Lo: time.Duration(n) * width, Hi: s.Max + 1})
	}
	where, args := runWhere(f)
	rows, err := d.db.QueryContext(ctx, `SELECT MIN((r.end - r.start) / ?, ?), COUNT(*) FROM runs r
		WHERE `+where+` AND r.end IS NOT NULL AND r.status != ? GROUP BY 1`,
		append(append([]any{int64(width), len(out) - 1}, args...), StatusRunning)...)
	if err != nil {
		return nil, fmt.Errorf("duration histogram for %s: %w", f, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, c int
		if err := rows.Scan(&i, &c); err != nil {
			return nil, fmt.Errorf("duration histogram for %s: %w", f, err)
		}
		if i < 0 { // a clock that went back: end before start
			i = 0
		}
		out[i].Count += c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duration histogram for %s: %w", f, err)
	}
	return out, nil
}

// ActivityStat is the time spent in one activity type.
type ActivityStat struct {
	Type  string
	Steps int
	Total time.Duration
	Mean  time.Duration
}

// StepTotals sums the recorded steps of f's runs.
type StepTotals struct {
	Steps int
	Items int // for-each items processed
}

// ActivityStats returns the time per activity type, largest total first,
// and the step and item totals, from one pass over the steps of f's runs.
// When f selects a large part of the history, the pass reads the steps in
// key order and looks each step's run up; otherwise it goes from f's runs
// to their steps.
func (d *DB) ActivityStats(ctx context.Context, f StatsFilter) ([]ActivityStat, StepTotals, error) {
	var tot StepTotals
	where, args := runWhere(f)
	wide, err := d.selectsMuch(ctx, f)
	if err != nil {
		return nil, tot, fmt.Errorf("time per activity for %s: %w", f, err)
	}
	from := `runs r JOIN steps s ON s.run = r.id`
	if wide {
		from = `steps s CROSS JOIN runs r ON r.id = s.run`
	}
	rows, err := d.db.QueryContext(ctx, `SELECT s.type, COUNT(*), SUM(s.duration),
			SUM(s.type = 'control.for_each' AND s.port = ?)
		FROM `+from+` WHERE `+where+` AND s.status != ?
		GROUP BY s.type ORDER BY 3 DESC, 1`, append(append([]any{engine.PortEach}, args...), StatusRunning)...)
	if err != nil {
		return nil, tot, fmt.Errorf("time per activity for %s: %w", f, err)
	}
	defer rows.Close()
	var out []ActivityStat
	for rows.Next() {
		var a ActivityStat
		var total int64
		var items int
		if err := rows.Scan(&a.Type, &a.Steps, &total, &items); err != nil {
			return nil, tot, fmt.Errorf("time per activity for %s: %w", f, err)
		}
		a.Total = time.Duration(total)
		if a.Steps > 0 {
			a.Mean = a.Total / time.Duration(a.Steps)
		}
		tot.Steps += a.Steps
		tot.Items += items
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, tot, fmt.Errorf("time per activity for %s: %w", f, err)
	}
	return out, tot, nil
}

// selectsMuch says whether f selects more than an eighth of all runs:
// then reading every step in index order beats looking up the steps of
// each selected run.
func (d *DB) selectsMuch(ctx context.Context, f StatsFilter) (bool, error) {
	if f.Flow == "" && f.From.IsZero() && f.To.IsZero() {
		return true, nil
	}
	where, args := runWhere(f)
	var all, sel int
	err := d.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM runs r WHERE `+where+`)`, args...).Scan(&all, &sel)
	return sel*8 > all, err
}

// NodeFailure counts the failed steps of one node of one flow.
type NodeFailure struct {
	Flow, Node, Label, Type string
	Count                   int
	Error                   string // the most frequent error (ties: the first by text)
	ErrorCount              int    // how often Error occurred
}

// NodeFailures returns the nodes of f's runs with the most failed steps,
// most first (at most limit; 0 for 20), each with its most frequent error.
// Like ActivityStats it reads all steps in key order when f selects much
// of the history (the steps have no index on their status: see migration
// 005).
func (d *DB) NodeFailures(ctx context.Context, f StatsFilter, limit int) ([]NodeFailure, error) {
	if limit <= 0 {
		limit = 20
	}
	where, args := runWhere(f)
	wide, err := d.selectsMuch(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("failures by node for %s: %w", f, err)
	}
	from := `runs r JOIN steps s ON s.run = r.id`
	if wide {
		from = `steps s CROSS JOIN runs r ON r.id = s.run`
	}
	rows, err := d.db.QueryContext(ctx, `WITH e AS (
			SELECT r.flow, s.node, s.error, COUNT(*) AS c, MAX(s.label) AS label, MAX(s.type) AS type
			FROM `+from+`
			WHERE `+where+` AND s.status IN `+failedStepStatuses+`
			GROUP BY r.flow, s.node, s.error),
		n AS (SELECT flow, node, error, c, label, type,
			SUM(c) OVER (PARTITION BY flow, node) AS total,
			ROW_NUMBER() OVER (PARTITION BY flow, node ORDER BY c DESC, error) AS k FROM e)
		SELECT flow, node, label, type, total, error, c FROM n WHERE k = 1
		ORDER BY total DESC, flow, node LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("failures by node for %s: %w", f, err)
	}
	defer rows.Close()
	var out []NodeFailure
	for rows.Next() {
		var n NodeFailure
		if err := rows.Scan(&n.Flow, &n.Node, &n.Label, &n.Type, &n.Count, &n.Error, &n.ErrorCount); err != nil {
			return nil, fmt.Errorf("failures by node for %s: %w", f, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failures by node for %s: %w", f, err)
	}
	return out, nil
}

// FailedRun is a failed (or interrupted) run with the step it failed in.
type FailedRun struct {
	RunID, Flow    string
	Start          time.Time
	Status         string
	Error          string // the run's error
	Node, Label    string // its last failed step; "" when none was recorded
	StepError      string
	StepType       string
	Seq            int    // the step's seq
	Screenshot     string // the failure screenshot the step recorded (its "screenshot" output), if the file exists
	ScreenshotGone string // a recorded screenshot path whose file no longer exists
}

// FailedRuns returns the newest failed and interrupted runs of f (at most
// limit; 0 for 20), newest first, each with its last failed step and the
// failure screenshot a desktop step leaves as its "screenshot" output
// (recorded at the "full" history level).
func (d *DB) FailedRuns(ctx context.Context, f StatsFilter, limit int) ([]FailedRun, error) {
	if limit <= 0 {
		limit = 20
	}
	where, args := runWhere(f)
	rows, err := d.db.QueryContext(ctx, `SELECT r.run_id, r.flow, r.start, r.status, r.error,
			COALESCE(s.node, ''), COALESCE(s.label, ''), COALESCE(s.type, ''), COALESCE(s.error, ''), COALESCE(s.seq, 0),
			COALESCE(CASE WHEN json_valid(s.outputs) THEN json_extract(s.outputs, '$.screenshot') END, '')
		FROM runs r LEFT JOIN steps s ON s.run = r.id AND s.seq = (
			SELECT MAX(seq) FROM steps x WHERE x.run = r.id AND x.status IN (?, ?))
		WHERE `+where+` AND r.status IN (?, ?)
		ORDER BY r.start DESC, r.id DESC LIMIT ?`,
		append(append([]any{engine.StatusFailed, engine.StatusInterrupted}, args...), engine.StatusFailed, engine.StatusInterrupted, limit)...)
	if err != nil {
		return nil, fmt.Errorf("failed runs for %s: %w", f, err)
	}
	defer rows.Close()
	var out []FailedRun
	for rows.Next() {
		var r FailedRun
		var start int64
		var shot sql.NullString
		if err := rows.Scan(&r.RunID, &r.Flow, &start, &r.Status, &r.Error, &r.Node, &r.Label, &r.StepType, &r.StepError,
			&r.Seq, &shot); err != nil {
			return nil, fmt.Errorf("failed runs for %s: %w", f, err)
		}
		r.Start = fromNanos(start)
		if shot.Valid && shot.String != "" {
			if st, err := os.Stat(shot.String); err == nil && st.Mode().IsRegular() {
				r.Screenshot = shot.String
			} else {
				r.ScreenshotGone = shot.String
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed runs for %s: %w", f, err)
	}
	return out, nil
}
