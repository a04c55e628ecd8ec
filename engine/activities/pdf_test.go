package activities_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"deskbot/engine/activities"
)

const dejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

// invoicePDF makes a two-page PDF: page 1 in a core font, page 2 in an
// embedded Unicode font (text through a ToUnicode map).
func invoicePDF(t testing.TB) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFont("Helvetica", "", 14)
	p.Cell(0, 10, "Invoice 4711")
	p.Ln(12)
	p.Cell(0, 10, "Customer: ACME Ltd")
	p.AddPage()
	ttf, err := os.ReadFile(dejaVu)
	if err != nil {
		t.Fatalf("%v (make deps installs fonts-dejavu-core)", err)
	}
	p.AddUTF8FontFromBytes("dejavu", "", ttf)
	p.SetFont("dejavu", "", 14)
	p.Cell(0, 10, "Grüße aus Köln")
	p.Ln(12)
	p.Cell(0, 10, "Total 99.50 EUR")
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func words(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestPDFText(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "invoice.pdf"), invoicePDF(t), 0o644)
	res, err := runNode(t, dir, "pdf.text", map[string]any{"path": "invoice.pdf", "page_count": "n"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pages := res.Vars["pages"].([]any)
	if len(pages) != 2 || words(pages[0].(string)) != "Invoice 4711 Customer: ACME Ltd" || words(pages[1].(string)) != "Grüße aus Köln Total 99.50 EUR" {
		t.Fatalf("pages %q", pages)
	}
	if txt := res.Vars["text"].(string); !strings.Contains(txt, "ACME Ltd") || !strings.Contains(txt, "Köln") || res.Vars["n"] != 2.0 {
		t.Fatalf("text %q, n %v", txt, res.Vars["n"])
	}
	for sel, want := range map[string][]string{"2": {"Grüße"}, "2-": {"Grüße"}, "1-2": {"Invoice", "Grüße"}, " 2 , 1 ": {"Grüße", "Invoice"}} {
		res, err := runNode(t, dir, "pdf.text", map[string]any{"path": "invoice.pdf", "pages": sel, "output": "p"}, nil)
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		got := res.Vars["p"].([]any)
		if len(got) != len(want) {
			t.Fatalf("%q: %q", sel, got)
		}
		for i, w := range want {
			if !strings.HasPrefix(got[i].(string), w) {
				t.Errorf("%q: page %d is %q", sel, i, got[i])
			}
		}
	}
	for sel, want := range map[string]string{"3": "page 3 is past the last page (the PDF has 2)", "1-5": "page 5 is past the last page"} {
		_, err := runNode(t, dir, "pdf.text", map[string]any{"path": "invoice.pdf", "pages": sel}, nil)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "invoice.pdf") {
			t.Errorf("%q: %v", sel, err)
		}
	}
	for _, sel := range []string{"x", "0", "3-1", "1,,2", "-2"} {
		_, err := runNode(t, dir, "pdf.text", map[string]any{"path": "invoice.pdf", "pages": sel}, nil)
		if err == nil || !strings.Contains(err.Error(), `field "pages"`) {
			t.Errorf("%q: %v", sel, err)
		}
	}
}

// Poppler reads the same text out of the PDF (a cross-check of the
// library). PDFs that other programs wrote are read too, each with its own
// writer and cross-reference layout: one page that poppler's pdfseparate
// took out, and a two-page PDF that cairo (rsvg-convert) made from SVG,
// with compressed object streams, subset fonts and a Chinese line.
func TestPDFTextAgainstOtherPrograms(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdfseparate", "rsvg-convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: make deps installs poppler-utils and librsvg2-bin", tool)
		}
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "invoice.pdf")
	os.WriteFile(in, invoicePDF(t), 0o644)
	poppler := func(path string, page int) string {
		t.Helper()
		out, err := exec.Command("pdftotext", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), "-enc", "UTF-8", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		return words(string(out))
	}
	ours, total, err := activities.PDFText(context.Background(), invoicePDF(t), "", time.Minute)
	if err != nil || total != 2 {
		t.Fatal(total, err)
	}
	for i := range ours {
		if p := poppler(in, i+1); p != words(ours[i]) {
			t.Errorf("page %d: poppler %q, Deskbot %q", i+1, p, words(ours[i]))
		}
	}

	if out, err := exec.Command("pdfseparate", "-f", "2", "-l", "2", in, filepath.Join(dir, "page%d.pdf")).CombinedOutput(); err != nil {
		t.Fatalf("pdfseparate: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "page2.pdf"))
	got, total, err := activities.PDFText(context.Background(), b, "", time.Minute)
	if err != nil || total != 1 || words(got[0]) != words(ours[1]) {
		t.Fatalf("pdfseparate's page: %d pages, %q, %v", total, got, err)
	}

	svg := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">`+body+`</svg>`), 0o644)
		return p
	}
	p1 := svg("p1.svg", `<text x="20" y="50" font-family="DejaVu Sans" font-size="20">Invoice 4711</text>`+
		`<text x="20" y="100" font-family="WenQuanYi Micro Hei" font-size="20">合计 99.50 元</text>`)
	p2 := svg("p2.svg", `<text x="20" y="50" font-family="DejaVu Sans" font-size="20">Grüße aus Köln</text>`)
	cairo := filepath.Join(dir, "cairo.pdf")
	if out, err := exec.Command("rsvg-convert", "-f", "pdf", "-o", cairo, p1, p2).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v\n%s", err, out)
	}
	b, _ = os.ReadFile(cairo)
	got, total, err = activities.PDFText(context.Background(), b, "", time.Minute)
	if err != nil || total != 2 {
		t.Fatalf("cairo's PDF: %d pages, %v", total, err)
	}
	for i, want := range []string{"Invoice 4711 合计 99.50 元", "Grüße aus Köln"} {
		if p := poppler(cairo, i+1); p != want {
			t.Errorf("poppler reads cairo's page %d as %q", i+1, p)
		}
		if words(got[i]) != want {
			t.Errorf("cairo's page %d: %q, want %q", i+1, words(got[i]), want)
		}
	}
}

// rawPDF assembles a PDF from object bodies (object i+1 is objs[i]) with a
// correct cross-reference table; object 1 is the catalog.
func rawPDF(objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

// Hostile PDFs fail with clear errors that name the file; none crashes the
// process or hangs the run.
func TestPDFTextHostile(t *testing.T) {
	dir := t.TempDir()
	good := invoicePDF(t)
	content := "<< /Length 40 >>\nstream\nBT /F1 12 Tf 72 712 Td (Hello raw) Tj ET\nendstream"
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":     {nil, "not a PDF file"},
		"text":      {[]byte("hello, I am not a PDF\n"), "not a PDF file"},
		"truncated": {good[:len(good)/2], "missing %%EOF"},
		"garbled":   {append(append(append([]byte{}, good[:len(good)/3]...), bytes.Repeat([]byte{0xff, '(', ')', '<'}, 200)...), good[len(good)/3+800:]...), ""},
		"no pages":  {rawPDF("<< /Type /Catalog >>"), "no page tree"},
		"kids loop": {rawPDF("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R 2 0 R] /Count 1 >>"), "page tree"},
		"parent loop": {rawPDF("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>", content), "parents are nested too deep"},
		"bad object": {rawPDF("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /Contents 9 0 R /Resources << /Font 7 >> >>"), ""},
	}
	for name, c := range cases {
		os.WriteFile(filepath.Join(dir, name+".pdf"), c.data, 0o644)
		res, err := runNode(t, dir, "pdf.text", map[string]any{"path": name + ".pdf", "time_limit": "30s"}, nil)
		if c.want == "" {
			// Whatever the library makes of it: an error that names the
			// file, or some text; never a crash.
			if err != nil && !strings.Contains(err.Error(), name+".pdf") {
				t.Errorf("%s: %v", name, err)
			}
			if err == nil {
				t.Logf("%s: read %q", name, res.Vars["pages"])
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name+".pdf") || strings.Contains(err.Error(), "gave up") {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// The raw PDF itself is fine once its page is sound.
	ok := rawPDF("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>", content)
	got, _, err := activities.PDFText(context.Background(), ok, "", time.Minute)
	if err != nil || len(got) != 1 || got[0] != "Hello raw" {
		t.Fatalf("raw: %q %v", got, err)
	}
	// An encrypted PDF is refused with a reason.
	p := fpdf.New("P", "mm", "A4", "")
	p.SetProtection(fpdf.CnProtectPrint, "user-pass", "owner-pass")
	p.AddPage()
	p.SetFont("Helvetica", "", 12)
	p.Cell(0, 10, "secret")
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "locked.pdf"), buf.Bytes(), 0o644)
	if _, err := runNode(t, dir, "pdf.text", map[string]any{"path": "locked.pdf"}, nil); err == nil || !strings.Contains(err.Error(), "locked.pdf") {
		t.Errorf("encrypted: %v", err)
	}
	// A missing file.
	if _, err := runNode(t, dir, "pdf.text", map[string]any{"path": "gone.pdf"}, nil); err == nil || !strings.Contains(err.Error(), "gone.pdf") {
		t.Errorf("missing: %v", err)
	}
}

// The time limit and the run's end give up on a PDF that reads forever.
func TestPDFTextGivesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := activities.PDFText(ctx, invoicePDF(t), "", time.Minute); err == nil {
		t.Error("a cancelled read succeeded")
	}
}

func FuzzPDFText(f *testing.F) {
	good := invoicePDF(f)
	f.Add(good)
	f.Add(good[:len(good)-40])
	f.Add(rawPDF("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>", "<< /Length 40 >>\nstream\nBT /F1 12 Tf 72 712 Td (Hello raw) Tj ET\nendstream"))
	f.Add([]byte("%PDF-1.4\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		texts, total, err := activities.PDFText(context.Background(), b, "", 10*time.Second)
		if err == nil && len(texts) != total {
			t.Fatalf("%d texts for %d pages", len(texts), total)
		}
	})
}

// BenchmarkPDFText reads the two-page invoice in process; its same-run
// baseline, BenchmarkPDFTextPdftotext, has poppler's pdftotext read the
// same file in a process of its own.
func BenchmarkPDFText(b *testing.B) {
	doc := invoicePDF(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := activities.PDFText(context.Background(), doc, "", time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPDFTextPdftotext(b *testing.B) {
	path := filepath.Join(b.TempDir(), "invoice.pdf")
	os.WriteFile(path, invoicePDF(b), 0o644)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output(); err != nil || !bytes.Contains(out, []byte("Invoice")) {
			b.Fatal(err)
		}
	}
}

func FuzzParsePageRange(f *testing.F) {
	for _, s := range []string{"", "1-3, 5", "2-", "3-1", "x", "1,,2", "-2", "9999999-"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, last int) {
		if last < 0 || last > 10000 {
			return
		}
		pages, err := activities.ParsePageRange(s, last)
		if err != nil {
			return
		}
		for _, p := range pages {
			if last > 0 && (p < 1 || p > last) {
				t.Fatalf("%q of %d gave page %d", s, last, p)
			}
		}
	})
}
