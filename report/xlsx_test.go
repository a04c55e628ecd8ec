package report

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The workbook read back with excelize: one sheet per table, Chinese text
// intact, numbers stored as numbers and shown in their formats.
func TestXLSX(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, sampleData()); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var want []string
	for _, tb := range Tables(sampleData()) {
		want = append(want, tb.Name)
	}
	if got := x.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	get := func(sheet, ref string, raw bool) string {
		t.Helper()
		v, err := x.GetCellValue(sheet, ref, excelize.Options{RawCellValue: raw})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	checks := []struct {
		sheet, ref string
		raw        bool
		want       string
	}{
		{"Summary", "A1", false, "Deskbot report"},
		{"Summary", "B2", false, sampleFlow},
		{"Summary", "B3", false, "2026-11-23 to 2026-11-29"},
		{"Summary", "A6", false, "Measure"},
		{"Summary", "B7", true, "26"},       // Runs
		{"Summary", "B11", false, "76.92%"}, // Success rate, formatted
		{"Summary", "B12", true, "1.5"},     // p50 in seconds
		{"Runs per day", "A2", false, "2026-11-23"},
		{"Runs per day", "B5", true, "7"}, // Nov 26: 5 ok + 2 failed
		{"Failures by node", "C2", false, "填写表单"},
		{"Failures by node", "F2", false, `window "表单" not found`},
		{"Failed runs", "B2", false, "20261129-101500-aaaaaa"},
		{"Failed runs", "A2", false, "2026-11-29 10:00:00"},
		{"Models", "G3", true, "48"},
		{"Comparison", "F3", false, `{"temperature":0.9}`},
	}
	for _, c := range checks {
		if got := get(c.sheet, c.ref, c.raw); got != c.want {
			t.Errorf("%s!%s = %q, want %q", c.sheet, c.ref, got, c.want)
		}
	}
	// A count is a number cell, not text that looks like one.
	if typ, _ := x.GetCellType("Summary", "B7"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("Summary!B7 is stored as text (%v)", typ)
	}
	rate, _ := strconv.ParseFloat(get("Summary", "B11", true), 64)
	if rate < 0.769 || rate > 0.77 {
		t.Errorf("success rate stored as %v, want 0.769...", rate)
	}
}

func TestTextCells(t *testing.T) {
	for v, want := range map[any]string{
		Seconds(120 * time.Microsecond):     "0.00012",
		Seconds(1500 * time.Millisecond):    "1.5",
		Seconds(0):                          "0",
		Seconds(29005 * time.Microsecond):   "0.029",
		Seconds(214900 * time.Microsecond):  "0.215",
		Seconds(41 * time.Second):           "41",
		Seconds(1234567 * time.Millisecond): "1234.567",
		Percent(0.5):                        "50.0%",
		3:                                   "3",
		21.55:                               "21.6",
	} {
		if got := Text(v); got != want {
			t.Errorf("Text(%v) = %q, want %q", v, got, want)
		}
	}
}
