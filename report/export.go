package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"deskbot/store"
)

// Format is an export format.
type Format string

// The export formats.
const (
	PDF  Format = "pdf"
	HTML Format = "html"
	XLSX Format = "xlsx"
	CSV  Format = "csv"
)

// Formats lists the export formats.
var Formats = []Format{PDF, HTML, XLSX, CSV}

// ParseFormat reads a format name (any case; a leading dot is allowed, so
// a file's extension works).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), ".")))
	for _, k := range Formats {
		if f == k {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown report format %q: want pdf, html, xlsx or csv", s)
}

// DefaultTitle is the title of an exported report.
const DefaultTitle = "Deskbot report"

// Range is a report's period as a person gives it: a span back from now
// (Since: 7d, 24h, 2w, or "all" for all time) or days (From and To, YYYY-MM-DD, To included).
type Range struct {
	Since    string
	From, To string
}

// Filter turns the range and a flow name into a Filter, in loc's days.
// "7d" is today and the six days before; "24h" the last 24 hours. An empty
// range is all time.
func (r Range) Filter(flow string, now time.Time, loc *time.Location) (Filter, error) {
	f := Filter{Flow: strings.TrimSpace(flow)}
	since, from, to := strings.TrimSpace(r.Since), strings.TrimSpace(r.From), strings.TrimSpace(r.To)
	if since != "" && (from != "" || to != "") {
		return f, errors.New("give either since or from/to, not both")
	}
	now = now.In(loc)
	if strings.EqualFold(since, "all") {
		return f, nil
	}
	if since != "" {
		n, unit, err := parseSince(since)
		if err != nil {
			return f, err
		}
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
		switch unit {
		case 'h':
			f.From = now.Add(-time.Duration(n) * time.Hour)
		case 'd':
			f.From = today.AddDate(0, 0, -(n - 1))
		case 'w':
			f.From = today.AddDate(0, 0, -(7*n - 1))
		}
		return f, nil
	}
	if from != "" {
		d, err := time.ParseInLocation("2006-01-02", from, loc)
		if err != nil {
			return f, fmt.Errorf("from: want a date like 2026-11-23, got %q", from)
		}
		f.From = d
	}
	if to != "" {
		d, err := time.ParseInLocation("2006-01-02", to, loc)
		if err != nil {
			return f, fmt.Errorf("to: want a date like 2026-11-30, got %q", to)
		}
		f.To = d.AddDate(0, 0, 1) // the whole day
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, fmt.Errorf("the period ends (%s) before it starts (%s)", to, from)
	}
	return f, nil
}

// parseSince reads "7d", "24h", "2w".
func parseSince(s string) (int, byte, error) {
	bad := fmt.Errorf("since: want a number of hours, days or weeks such as 24h, 7d or 2w (or all), got %q", s)
	if len(s) < 2 {
		return 0, 0, bad
	}
	unit := s[len(s)-1]
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || strings.ContainsAny(s[:len(s)-1], "+-") {
		return 0, 0, bad
	}
	switch unit {
	case 'h', 'd', 'w':
	default:
		return 0, 0, bad
	}
	if n > 100*366*24 { // beyond a century the dates overflow nothing useful
		return 0, 0, fmt.Errorf("since: %q reaches back too far", s)
	}
	return n, unit, nil
}

// Write renders d in format to w. CSV is not rendered from Data (its rows
// are the store's run and step tables): use Export or WriteRunsCSV.
func Write(w io.Writer, d *Data, format Format) error {
	switch format {
	case PDF:
		return WritePDF(w, d)
	case HTML:
		return WriteHTML(w, d)
	case XLSX:
		return WriteXLSX(w, d)
	}
	return fmt.Errorf("report format %q cannot be written from statistics", format)
}

// Export writes the report on db's history selected by f to path, and
// returns the files written: one, or for CSV two (the runs at path and the
// steps beside it, see StepsPath). Each file is written under a temporary
// name and renamed when complete, so a failed export leaves no half file.
func Export(ctx context.Context, db *store.DB, f Filter, format Format, path string) ([]string, error) {
	if path == "" {
		return nil, errors.New("export: no output file")
	}
	if _, err := ParseFormat(string(format)); err != nil {
		return nil, err
	}
	if format == CSV {
		steps := StepsPath(path)
		if err := writeFile(path, func(w io.Writer) error { return WriteRunsCSV(ctx, w, db, f) }); err != nil {
			return nil, err
		}
		if err := writeFile(steps, func(w io.Writer) error { return WriteStepsCSV(ctx, w, db, f) }); err != nil {
			return nil, err
		}
		return []string{path, steps}, nil
	}
	d, err := Collect(ctx, db, f)
	if err != nil {
		return nil, err
	}
	d.Title = DefaultTitle
	if err := writeFile(path, func(w io.Writer) error { return Write(w, d, format) }); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// writeFile writes path through a temporary file in its folder.
func writeFile(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	return nil
}
