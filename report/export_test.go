package report

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/store/storetest"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"pdf": PDF, "PDF": PDF, ".html": HTML, " xlsx ": XLSX, "csv": CSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "docx", "pd f"} {
		if _, err := ParseFormat(in); err == nil || !strings.Contains(err.Error(), "want pdf, html, xlsx or csv") {
			t.Errorf("ParseFormat(%q): err %v, want one naming the formats", in, err)
		}
	}
}

func TestRangeFilter(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 30, 15, 30, 0, 0, loc)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, loc) }
	cases := []struct {
		r        Range
		from, to time.Time
	}{
		{Range{}, time.Time{}, time.Time{}},
		{Range{Since: "7d"}, day(11, 24), time.Time{}},
		{Range{Since: "all"}, time.Time{}, time.Time{}},
		{Range{Since: "1d"}, day(11, 30), time.Time{}},
		{Range{Since: "2w"}, day(11, 17), time.Time{}},
		{Range{Since: "24h"}, now.Add(-24 * time.Hour), time.Time{}},
		{Range{From: "2026-11-01", To: "2026-11-07"}, day(11, 1), day(11, 8)},
		{Range{From: "2026-11-01"}, day(11, 1), time.Time{}},
		{Range{To: "2026-11-07"}, time.Time{}, day(11, 8)},
		{Range{From: "2026-11-07", To: "2026-11-07"}, day(11, 7), day(11, 8)},
	}
	for _, c := range cases {
		f, err := c.r.Filter(" 发票 ", now, loc)
		if err != nil {
			t.Errorf("%+v: %v", c.r, err)
			continue
		}
		if !f.From.Equal(c.from) || !f.To.Equal(c.to) || f.Flow != "发票" {
			t.Errorf("%+v: got %v..%v %q, want %v..%v", c.r, f.From, f.To, f.Flow, c.from, c.to)
		}
	}
	bad := map[Range]string{
		{Since: "7"}:                           "such as 24h, 7d or 2w",
		{Since: "7m"}:                          "such as 24h, 7d or 2w",
		{Since: "-3d"}:                         "such as 24h, 7d or 2w",
		{Since: "0d"}:                          "such as 24h, 7d or 2w",
		{Since: "99999999d"}:                   "too far",
		{Since: "7d", From: "2026-11-01"}:      "either since or from/to",
		{From: "2026-13-01"}:                   "from: want a date like",
		{From: "1/11/2026"}:                    "from: want a date like",
		{To: "tomorrow"}:                       "to: want a date like",
		{From: "2026-11-08", To: "2026-11-07"}: "ends (2026-11-07) before it starts (2026-11-08)",
	}
	for r, want := range bad {
		if _, err := r.Filter("", now, loc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: err %v, want %q", r, err, want)
		}
	}
}

func FuzzRangeFilter(f *testing.F) {
	f.Add("7d", "", "")
	f.Add("", "2026-11-01", "2026-11-07")
	f.Add("9223372036854775807h", "", "")
	now := time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, since, from, to string) {
		fl, err := Range{since, from, to}.Filter("", now, time.UTC)
		if err == nil && !fl.From.IsZero() && !fl.To.IsZero() && !fl.To.After(fl.From) {
			t.Errorf("accepted an empty period %v..%v", fl.From, fl.To)
		}
	})
}

// Export on a real history file: every format written whole under its
// name, nothing left behind, and the CSV pair holds the run and step
// tables with Chinese text intact.
func TestExport(t *testing.T) {
	db, _, _ := knownDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	for _, format := range Formats {
		path := filepath.Join(dir, "report."+string(format))
		files, err := Export(ctx, db, Filter{}, format, path)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, f := range files {
			if st, err := os.Stat(f); err != nil || st.Size() < 100 {
				t.Errorf("%s: %s missing or tiny (%v)", format, f, err)
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	if text := pdfText(t, filepath.Join(dir, "report.pdf")); !strings.Contains(text, storetest.FlowChinese) || !strings.Contains(text, "读取发票") {
		t.Errorf("PDF of the history lacks the Chinese flow or label:\n%s", text)
	}

	runs := readCSV(t, filepath.Join(dir, "report.csv"))
	if strings.Join(runs[0], ",") != strings.Join(RunColumns, ",") {
		t.Errorf("runs header %q", runs[0])
	}
	// 8 runs (the dry run is left out, as in the statistics), oldest first.
	if len(runs) != 1+8 {
		t.Fatalf("%d run rows, want 8", len(runs)-1)
	}
	var c1 []string
	for _, r := range runs[1:] {
		if r[1] == storetest.FlowChinese && r[6] == "failed" {
			c1 = r
		}
	}
	if c1 == nil || c1[5] != "50.000" || c1[7] == "" {
		t.Errorf("the failed Chinese run: %q", c1)
	}
	steps := readCSV(t, filepath.Join(dir, "report-steps.csv"))
	// Every recorded step row of those runs: 6+7+3+3+6+3 (r1-r6) + 2+3 (c1, c2).
	if len(steps) != 1+33 {
		t.Errorf("%d step rows, want 33", len(steps)-1)
	}
	found := false
	for _, s := range steps[1:] {
		if s[4] == "读取发票" && s[9] == "failed" && s[11] == "文件不存在" {
			found = true
		}
	}
	if !found {
		t.Error("the Chinese failed step is not in the steps CSV")
	}

	if _, err := Export(ctx, db, Filter{}, Format("docx"), filepath.Join(dir, "x.docx")); err == nil {
		t.Error("format docx accepted")
	}
	if _, err := Export(ctx, db, Filter{}, PDF, filepath.Join(dir, "no", "such", "dir.pdf")); err == nil || !strings.Contains(err.Error(), "dir.pdf") {
		t.Errorf("missing folder: err %v, want one naming the file", err)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), bom) {
		t.Errorf("%s has no UTF-8 byte-order mark (Excel would misread Chinese)", path)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), bom))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
