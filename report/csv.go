package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"deskbot/store"
)

// RunColumns and StepColumns are the CSV export's headers.
var (
	RunColumns  = []string{"run_id", "flow", "flow_version", "start", "end", "duration_s", "status", "error", "steps", "path"}
	StepColumns = []string{"run_id", "flow", "seq", "node", "label", "type", "attempt", "start", "duration_s", "status", "port", "error", "outputs"}
)

// StepsPath is where the CSV export writes the step table beside the run
// table at path: report.csv -> report-steps.csv.
func StepsPath(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-steps" + ext
}

const csvTime = "2006-01-02 15:04:05.000"

// bom starts each CSV file: with it, Excel reads the file as UTF-8 and
// shows Chinese names; Deskbot's file.read_csv skips it.
const bom = "\ufeff"

func csvTimeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(csvTime)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// WriteRunsCSV writes the runs f selects (as the report counts them: no dry
// runs), oldest first, streaming them from the store.
func WriteRunsCSV(ctx context.Context, w io.Writer, db *store.DB, f Filter) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("runs CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(RunColumns); err != nil {
		return fmt.Errorf("runs CSV: %w", err)
	}
	rec := make([]string, len(RunColumns))
	err := db.EachRun(ctx, store.StatsFilter(f), func(r store.Run) error {
		dur := ""
		if !r.End.IsZero() {
			dur = seconds(r.End.Sub(r.Start))
		}
		rec = append(rec[:0], r.ID, r.Flow, strconv.Itoa(r.FlowVersion), csvTimeText(r.Start), csvTimeText(r.End), dur, r.Status, r.Error, strconv.Itoa(r.Steps), r.Path)
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		return fmt.Errorf("runs CSV: %w", err)
	}
	return nil
}

// WriteStepsCSV writes every step of the runs f selects, run by run, in
// order, streaming them from the store: a million steps never sit in
// memory together.
func WriteStepsCSV(ctx context.Context, w io.Writer, db *store.DB, f Filter) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("steps CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(StepColumns); err != nil {
		return fmt.Errorf("steps CSV: %w", err)
	}
	rec := make([]string, len(StepColumns))
	err := db.EachStep(ctx, store.StatsFilter(f), func(s store.ExportStep) error {
		rec = append(rec[:0], s.RunID, s.Flow, strconv.Itoa(s.Seq), s.NodeID, s.Label, s.Type, strconv.Itoa(s.Attempt),
			csvTimeText(s.Start), seconds(s.Duration), s.Status, s.Port, s.Error, s.Outputs)
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		return fmt.Errorf("steps CSV: %w", err)
	}
	return nil
}
