package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// nastyText is text a flow can carry into a report: invalid UTF-8,
// control characters, markup, emoji, formulas, very long words.
var nastyText = []string{"发票处理", "<script>x</script>", "\x00\x1b[31m", strings.Repeat("长", 300), "\xff\xfe", "a\nb\tc", "=SUM(A1)", "😀 emoji", ""}

// withText puts s into every text field a report shows.
func withText(flow, label, errText, model string) *Data {
	d := sampleData()
	d.Title = flow
	d.Filter.Flow = flow
	d.NodeFails[0].Label, d.NodeFails[0].Error, d.NodeFails[0].Flow = label, errText, flow
	d.Failures[0].Label, d.Failures[0].Error, d.Failures[0].Flow, d.Failures[0].Screenshot = label, errText, flow, errText
	d.Activities[0].Type = label
	d.Models[0].Model = model
	d.Compare[0].A.Params = errText
	return d
}

// The PDF takes any such text (fpdf itself panics on invalid UTF-8 and
// refuses emoji): each is cleaned on the way in.
func TestPDFNastyText(t *testing.T) {
	for _, s := range nastyText {
		var buf bytes.Buffer
		if err := writePDF(&buf, withText(s, s, s, s), false); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// clean leaves only what fpdf takes: valid UTF-8 within the Basic
// Multilingual Plane, no control characters; other text is unchanged.
func FuzzClean(f *testing.F) {
	for _, s := range nastyText {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := clean(s)
		if !utf8.ValidString(c) {
			t.Fatalf("clean(%q) = %q is not UTF-8", s, c)
		}
		for _, r := range c {
			if r > 0xFFFF || unicode.IsControl(r) {
				t.Fatalf("clean(%q) keeps %U", s, r)
			}
		}
		if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r > 0xFFFF || unicode.IsControl(r) }) && c != s {
			t.Fatalf("clean changed plain text %q to %q", s, c)
		}
	})
}

// The workbook takes any such text, or refuses it with an error that names
// the sheet (excelize limits a cell to 32767 characters); it reads back.
func TestXLSXNastyText(t *testing.T) {
	for _, s := range append(nastyText, strings.Repeat("x", 40000)) {
		var buf bytes.Buffer
		if err := WriteXLSX(&buf, withText(s, s, s, s)); err != nil {
			if !strings.Contains(err.Error(), "sheet") {
				t.Errorf("%.20q: %v", s, err)
			}
			continue
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatalf("%.20q: read back: %v", s, err)
		}
		x.Close()
	}
}

// Any text goes into the HTML page whole, without a panic (escaping:
// TestHTMLEscapes). (The charts
// are left out: TestCharts draws them, and they would slow the fuzzing.)
func FuzzReportText(f *testing.F) {
	for _, s := range nastyText {
		f.Add(s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, flow, label, errText, model string) {
		var buf bytes.Buffer
		if err := writeHTML(&buf, withText(flow, label, errText, model), false); err != nil {
			t.Fatalf("HTML: %v", err)
		}
		if !strings.HasSuffix(buf.String(), "</html>\n") {
			t.Fatal("the page is cut short")
		}
	})
}
