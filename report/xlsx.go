package report

import (
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// WriteXLSX writes the report as an Excel workbook, one sheet per table
// (Summary first, with the flow and period above its numbers). Numbers
// are numbers, shares are percentages, durations are seconds and days are
// dates, so the reader can sort and sum.
func WriteXLSX(w io.Writer, d *Data) error {
	x := excelize.NewFile()
	defer x.Close()
	fail := func(err error) error { return fmt.Errorf("XLSX report: %w", err) }
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F0F0F0"}}})
	if err != nil {
		return fail(err)
	}
	pct, err := x.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return fail(err)
	}
	secs := "0.000"
	sec, err := x.NewStyle(&excelize.Style{CustomNumFmt: &secs})
	if err != nil {
		return fail(err)
	}
	one := "0.0"
	dec, err := x.NewStyle(&excelize.Style{CustomNumFmt: &one})
	if err != nil {
		return fail(err)
	}
	dayFmt, tsFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	day, err := x.NewStyle(&excelize.Style{CustomNumFmt: &dayFmt})
	if err != nil {
		return fail(err)
	}
	ts, err := x.NewStyle(&excelize.Style{CustomNumFmt: &tsFmt})
	if err != nil {
		return fail(err)
	}

	for i, t := range Tables(d) {
		sheet := t.Name
		if i == 0 {
			if err := x.SetSheetName("Sheet1", sheet); err != nil {
				return fail(err)
			}
		} else if _, err := x.NewSheet(sheet); err != nil {
			return fail(err)
		}
		row := 1
		if i == 0 {
			for _, kv := range [][]any{{d.Title}, {"Flow", FlowText(d.Filter)}, {"Period", Period(d.Filter)}, {"Generated", Text(d.Generated)}, {}} {
				if err := x.SetSheetRow(sheet, cell(1, row), &kv); err != nil {
					return fail(err)
				}
				row++
			}
		}
		widths := make([]int, len(t.Columns))
		hdr := make([]any, len(t.Columns))
		for j, c := range t.Columns {
			hdr[j] = c
			widths[j] = utf8.RuneCountInString(c)
		}
		if err := x.SetSheetRow(sheet, cell(1, row), &hdr); err != nil {
			return fail(err)
		}
		if err := x.SetCellStyle(sheet, cell(1, row), cell(len(hdr), row), bold); err != nil {
			return fail(err)
		}
		if err := x.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: row, TopLeftCell: cell(1, row+1), ActivePane: "bottomLeft"}); err != nil {
			return fail(err)
		}
		row++
		for _, r := range t.Rows {
			for j, v := range r {
				ref := cell(j+1, row)
				style := 0
				var val any = v
				switch v := v.(type) {
				case Percent:
					val, style = float64(v), pct
				case Seconds:
					val, style = time.Duration(v).Seconds(), sec
				case float64:
					style = dec
				case time.Time:
					if v.IsZero() {
						val = ""
						break
					}
					// Excel has no time zones: write the wall clock of v's zone.
					val = time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
					style = ts
					if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 {
						style = day
					}
				}
				if err := x.SetCellValue(sheet, ref, val); err != nil {
					return fail(fmt.Errorf("sheet %q cell %s: %w", sheet, ref, err))
				}
				if style != 0 {
					if err := x.SetCellStyle(sheet, ref, ref, style); err != nil {
						return fail(err)
					}
				}
				widths[j] = max(widths[j], utf8.RuneCountInString(Text(v))+cjkExtra(Text(v)))
			}
			row++
		}
		for j, wd := range widths {
			col, _ := excelize.ColumnNumberToName(j + 1)
			if err := x.SetColWidth(sheet, col, col, float64(min(max(wd, 8)+2, 60))); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := x.WriteTo(w); err != nil {
		return fail(err)
	}
	return nil
}

func cell(col, row int) string {
	s, _ := excelize.CoordinatesToCellName(col, row)
	return s
}

// cjkExtra counts the wide (CJK) characters of s: each takes two columns.
func cjkExtra(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 {
			n++
		}
	}
	return n
}
