package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Table is one table of a report, as every format shows it. Cells are
// string, int, float64, Percent, Seconds or time.Time, so a spreadsheet gets
// numbers and dates, and text formats get them written one way.
type Table struct {
	Name    string // the sheet name in XLSX; the heading elsewhere
	Columns []string
	Rows    [][]any
}

// Percent is a share, 0..1, shown as a percentage.
type Percent float64

// Seconds is a duration shown in seconds (the column header says "(s)").
type Seconds time.Duration

// Tables returns the report's tables in order. Empty tables are kept:
// a reader should see that there were no failures, not wonder.
func Tables(d *Data) []Table {
	s := d.Summary
	sum := Table{Name: "Summary", Columns: []string{"Measure", "Value"}, Rows: [][]any{
		{"Runs", s.Runs},
		{"Succeeded", s.Succeeded},
		{"Failed", s.Failed},
		{"Stopped", s.Stopped},
		{"Success rate", Percent(s.SuccessRate)},
		{"Duration p50 (s)", Seconds(s.P50)},
		{"Duration p90 (s)", Seconds(s.P90)},
		{"Duration max (s)", Seconds(s.Max)},
		{"Items processed", s.Items},
		{"Steps", s.Steps},
		{"Text generations", s.Generations},
		{"Tokens", s.Tokens},
	}}

	days := Table{Name: "Runs per day", Columns: []string{"Day", "Runs", "Succeeded", "Failed", "Stopped", "Other"}}
	for _, day := range d.Days {
		total := 0
		for _, n := range day.ByStatus {
			total += n
		}
		ok, failed, stopped := day.ByStatus["ok"], day.ByStatus["failed"], day.ByStatus["stopped"]
		days.Rows = append(days.Rows, []any{day.Day, total, ok, failed, stopped, total - ok - failed - stopped})
	}

	durs := Table{Name: "Durations", Columns: []string{"From (s)", "To (s)", "Runs"}}
	for _, b := range d.Durations {
		durs.Rows = append(durs.Rows, []any{Seconds(b.Lo), Seconds(b.Hi), b.Count})
	}

	acts := Table{Name: "Activities", Columns: []string{"Activity", "Steps", "Total (s)", "Mean (s)"}}
	for _, a := range d.Activities {
		acts.Rows = append(acts.Rows, []any{a.Type, a.Steps, Seconds(a.Total), Seconds(a.Mean)})
	}

	nodes := Table{Name: "Failures by node", Columns: []string{"Flow", "Node", "Label", "Activity", "Failures", "Most common error"}}
	for _, n := range d.NodeFails {
		nodes.Rows = append(nodes.Rows, []any{n.Flow, n.Node, n.Label, n.Type, n.Count, n.Error})
	}

	fails := Table{Name: "Failed runs", Columns: []string{"Started", "Run", "Flow", "Node", "Label", "Error", "Screenshot"}}
	for _, f := range d.Failures {
		fails.Rows = append(fails.Rows, []any{f.Start, f.RunID, f.Flow, f.Node, f.Label, f.Error, f.Screenshot})
	}

	models := Table{Name: "Models", Columns: []string{"Provider", "Model", "Generations", "Errors", "Prompt tokens", "Output tokens",
		"Tokens/s", "First token (s)", "Mean output tokens", "Mean output characters"}}
	for _, m := range d.Models {
		models.Rows = append(models.Rows, []any{m.Provider, m.Model, m.Count, m.Errors, m.PromptTokens, m.OutputTokens,
			m.TokensPerSecond, Seconds(m.FirstToken), m.MeanOutputTokens, m.MeanOutputRunes})
	}

	// Two rows per comparison, A above B: side by side in a column each.
	cmp := Table{Name: "Comparison", Columns: []string{"Pair", "Prompts", "Variant", "Provider", "Model", "Parameters", "Generations", "Errors", "Tokens/s", "Mean output tokens"}}
	for i, c := range d.Compare {
		for j, v := range []Variant{c.A, c.B} {
			cmp.Rows = append(cmp.Rows, []any{i + 1, c.Prompts, string(rune('A' + j)), v.Provider, v.Model, v.Params, v.Count, v.Errors, v.TokensPerSecond, v.MeanOutputTokens})
		}
	}
	return []Table{sum, days, durs, acts, nodes, fails, models, cmp}
}

// Text writes a cell the way the text formats (HTML, PDF, CSV) show it.
func Text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case Percent:
		return strconv.FormatFloat(float64(v)*100, 'f', 1, 64) + "%"
	case Seconds:
		return secondsText(time.Duration(v))
	case time.Time:
		if v.IsZero() {
			return ""
		}
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02 15:04:05")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// secondsText writes a duration in seconds to the millisecond, or with
// three significant digits (down to the microsecond) below a second, and
// without trailing zeros: 1.5, 0.215, 0.029, 0.00012 (not 0.000).
func secondsText(d time.Duration) string {
	s := d.Seconds()
	dec := 3
	if a := math.Abs(s); a > 0 && a < 1 {
		dec = min(6, 2-int(math.Floor(math.Log10(a))))
	}
	t := strconv.FormatFloat(s, 'f', dec, 64)
	if strings.Contains(t, ".") {
		t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	}
	if t == "-0" {
		t = "0"
	}
	return t
}

// Period describes the report's date range in words.
func Period(f Filter) string {
	const day = "2006-01-02"
	switch {
	case f.From.IsZero() && f.To.IsZero():
		return "all time"
	case f.To.IsZero():
		return "from " + f.From.Format(day)
	case f.From.IsZero():
		return "until " + f.To.Add(-time.Nanosecond).Format(day)
	}
	return f.From.Format(day) + " to " + f.To.Add(-time.Nanosecond).Format(day)
}

// FlowText is the filter's flow, or "all flows".
func FlowText(f Filter) string {
	if f.Flow == "" {
		return "all flows"
	}
	return f.Flow
}
