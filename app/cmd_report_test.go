package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
)

// reportFlow is a flow with a Chinese name that writes a file and then
// exports a CSV report of today's runs (report.export inside the run).
func reportFlow(t *testing.T, dir string) string {
	t.Helper()
	f := engine.NewFlow("月度报告")
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "w", Type: "file.write_text", Label: "写文件", Params: map[string]any{"path": "note.txt", "text": "你好"}},
		&engine.Node{ID: "rep", Type: "report.export", Label: "导出报告", Params: map[string]any{"path": "today.csv", "format": "csv", "since": "1d", "output": "report"}},
	)
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "w"}, {From: "w", Port: "next", To: "rep"}}
	doc, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report-flow.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A recorded run reports on its own history with report.export, and
// `deskbot report` exports that history as PDF (the Chinese flow name in
// its text), XLSX and CSV.
func TestCLIReport(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	flow := reportFlow(t, dir)
	for i := 0; i < 2; i++ {
		if r := run(t, data, "run", flow); r.code != 0 {
			t.Fatalf("run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	}
	// The second run's report lists the first (ok) and itself (running).
	b, err := os.ReadFile(filepath.Join(dir, "today.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), "\n"); got != 3 || !strings.Contains(string(b), "月度报告") || !strings.Contains(string(b), ",ok,") || !strings.Contains(string(b), ",running,") {
		t.Errorf("report.export in the run wrote:\n%s", b)
	}

	pdf := filepath.Join(dir, "r.pdf")
	r := run(t, data, "report", "--flow", "月度报告", "--since", "7d", "--format", "pdf", "-o", pdf)
	if r.code != 0 || !strings.Contains(r.stdout, "wrote "+pdf) {
		t.Fatalf("report pdf: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", pdf, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	for _, want := range []string{"Flow: 月度报告", "Runs 2", "report.export"} {
		if !strings.Contains(strings.Join(strings.Fields(string(text)), " "), want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	// The format from the extension; CSV writes the steps beside the runs.
	if r := run(t, data, "report", "-o", filepath.Join(dir, "r.xlsx")); r.code != 0 {
		t.Errorf("report xlsx: exit %d\n%s", r.code, r.stderr)
	} else if b, _ := os.ReadFile(filepath.Join(dir, "r.xlsx")); !strings.HasPrefix(string(b), "PK") {
		t.Error("r.xlsx is not a workbook")
	}
	r = run(t, data, "report", "--format", "CSV", "--from", "2000-01-01", "-o", filepath.Join(dir, "all.csv"))
	if r.code != 0 || !strings.Contains(r.stdout, "all-steps.csv") {
		t.Errorf("report csv: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	steps, _ := os.ReadFile(filepath.Join(dir, "all-steps.csv"))
	if n := strings.Count(string(steps), "导出报告"); n != 2 {
		t.Errorf("steps CSV has the export step %d times, want 2:\n%s", n, steps)
	}
}

// Bad options fail with exit 2 and say what is wrong, before anything is
// written.
func TestCLIReportErrors(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	out := filepath.Join(dir, "r.pdf")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "docx", "-o", out}, `unknown report format "docx": want pdf, html, xlsx or csv`},
		{[]string{"--format", "pdf"}, "-o FILE is required"},
		{[]string{"-o", filepath.Join(dir, "report")}, "give --format"},
		{[]string{"--since", "a week", "-o", out}, "since: want a number of hours, days or weeks"},
		{[]string{"--from", "2026-02-30", "-o", out}, `from: want a date like 2026-11-23, got "2026-02-30"`},
		{[]string{"--from", "2026-11-08", "--to", "2026-11-01", "-o", out}, "ends (2026-11-01) before it starts (2026-11-08)"},
		{[]string{"--since", "7d", "--to", "2026-11-01", "-o", out}, "either since or from/to"},
		{[]string{"-o", out, "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		r := run(t, data, append([]string{"report"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("report %q: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed report left a file")
	}
	r := run(t, data, "report", "-o", filepath.Join(dir, "missing", "r.pdf"))
	if r.code != 1 || !strings.Contains(r.stderr, filepath.Join(dir, "missing", "r.pdf")) {
		t.Errorf("unwritable file: exit %d, %q", r.code, r.stderr)
	}
}
