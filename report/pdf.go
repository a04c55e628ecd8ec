package report

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // screenshots may be any of these
	"image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/go-pdf/fpdf"
)

// PDF layout, in millimetres on A4 portrait.
const (
	pdfMargin = 15.0
	pdfWidth  = 210 - 2*pdfMargin
	pdfChartW = 165.0
	pdfChartH = pdfChartW * chartH / chartW
	pdfShotW  = 150.0 // a failure's screenshot, at most this wide
	pdfShotH  = 95.0  // and this high
	pdfFont   = "cjk"
)

// WritePDF writes the report as a PDF: title, period, summary table, the
// charts, the tables, and the failed runs with their screenshots. Text is
// set in the CJK font (embedded, subset), so Chinese names read and copy.
func WritePDF(w io.Writer, d *Data) error { return writePDF(w, d, true) }

// writePDF writes the PDF, with or without the charts (the fuzz test
// leaves them out: they take most of the time and none of the text).
func writePDF(w io.Writer, d *Data, charts bool) error {
	f, err := cjkFont()
	if err != nil {
		return fmt.Errorf("PDF report: %w", err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin)
	pdf.AddUTF8FontFromBytes(pdfFont, "", f.ttf)
	pdf.SetTitle(clean(d.Title+" – "+FlowText(d.Filter)), true)
	pdf.SetCreator("Deskbot", true)
	if !d.Generated.IsZero() {
		pdf.SetCreationDate(d.Generated)
		pdf.SetModificationDate(d.Generated)
	}
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont(pdfFont, "", 8)
		pdf.SetTextColor(0x70, 0x70, 0x70)
		pdf.CellFormat(0, 5, fit(pdf, fmt.Sprintf("%s · %s · page %d of {nb}", d.Title, FlowText(d.Filter), pdf.PageNo()), pdfWidth), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont(pdfFont, "", 20)
	pdf.SetTextColor(0x20, 0x20, 0x20)
	pdf.MultiCell(0, 10, clean(d.Title), "", "L", false)
	pdf.SetFont(pdfFont, "", 11)
	pdf.SetTextColor(0x50, 0x50, 0x50)
	pdf.MultiCell(0, 6, clean("Flow: "+FlowText(d.Filter)), "", "L", false)
	pdf.CellFormat(0, 6, "Period: "+Period(d.Filter)+"    Generated: "+Text(d.Generated), "", 1, "L", false, 0, "")
	pdf.Ln(3)

	tables := Tables(d)
	byName := map[string]Table{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	pdfTable(pdf, byName["Summary"], 70)

	if charts {
		heading(pdf, "Charts")
	}
	for i, c := range Charts {
		if !charts {
			break
		}
		png, err := ChartPNG(d, c, chartW, chartH, 3)
		if err != nil {
			return fmt.Errorf("PDF report: %w", err)
		}
		name := fmt.Sprintf("chart%d", i)
		pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
		if pdf.GetY()+pdfChartH > 297-pdfMargin-5 {
			pdf.AddPage()
		}
		pdf.ImageOptions(name, pdfMargin+(pdfWidth-pdfChartW)/2, pdf.GetY(), pdfChartW, pdfChartH, true, fpdf.ImageOptions{}, 0, "")
		pdf.Ln(3)
	}

	for _, name := range []string{"Activities", "Failures by node", "Models", "Comparison"} {
		t := byName[name]
		heading(pdf, t.Name)
		if len(t.Rows) == 0 {
			note(pdf, "None in this period.")
			continue
		}
		pdfTable(pdf, t, pdfWidth)
	}

	heading(pdf, "Failed runs")
	if len(d.Failures) == 0 {
		note(pdf, "No failed runs in this period.")
	}
	for i, fl := range d.Failures {
		if pdf.GetY() > 297-pdfMargin-40 {
			pdf.AddPage()
		}
		pdf.SetFont(pdfFont, "", 11)
		pdf.SetTextColor(0x20, 0x20, 0x20)
		pdf.MultiCell(0, 6, clean(fmt.Sprintf("%s   %s   run %s", Text(fl.Start), fl.Flow, fl.RunID)), "", "L", false)
		pdf.SetFont(pdfFont, "", 10)
		if fl.Node != "" {
			pdf.MultiCell(0, 5, clean("Node: "+NodeName(fl.Label, fl.Node)), "", "L", false)
		}
		pdf.SetTextColor(0xB0, 0x40, 0x00)
		pdf.MultiCell(0, 5, clean("Error: "+fl.Error), "", "L", false)
		pdf.SetTextColor(0x20, 0x20, 0x20)
		if fl.Screenshot != "" {
			if err := pdfShot(pdf, fmt.Sprintf("shot%d", i), fl.Screenshot); err != nil {
				note(pdf, "Screenshot not available: "+err.Error())
			}
		}
		pdf.Ln(4)
	}

	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("PDF report: %w", err)
	}
	return nil
}

func heading(pdf *fpdf.Fpdf, s string) {
	if pdf.GetY() > 297-pdfMargin-30 {
		pdf.AddPage()
	}
	pdf.Ln(4)
	pdf.SetFont(pdfFont, "", 14)
	pdf.SetTextColor(0x20, 0x20, 0x20)
	pdf.CellFormat(0, 8, s, "B", 1, "L", false, 0, "")
	pdf.Ln(2)
}

func note(pdf *fpdf.Fpdf, s string) {
	pdf.SetFont(pdfFont, "", 10)
	pdf.SetTextColor(0x70, 0x70, 0x70)
	pdf.MultiCell(0, 5, clean(s), "", "L", false)
	pdf.SetTextColor(0x20, 0x20, 0x20)
}

// pdfTable draws t at most width mm wide; columns get room in proportion
// to their content, and a cell too long for its column is cut with "…".
func pdfTable(pdf *fpdf.Fpdf, t Table, width float64) {
	const rowH, pad = 6, 1.5
	size := 9.0
	// A column is as wide as its longest cell (at most 70 mm) or the
	// longest word of its header: headers wrap.
	measure := func() (widths []float64, total float64) {
		pdf.SetFont(pdfFont, "", size)
		widths = make([]float64, len(t.Columns))
		for i, c := range t.Columns {
			for _, word := range strings.Fields(c) {
				widths[i] = max(widths[i], pdf.GetStringWidth(word)+2*pad)
			}
		}
		for _, r := range t.Rows {
			for i, v := range r {
				widths[i] = max(widths[i], min(pdf.GetStringWidth(clean(Text(v)))+2*pad, 70))
			}
		}
		for _, w := range widths {
			total += w
		}
		return widths, total
	}
	widths, total := measure()
	if total > width {
		// A smaller font first (down to 7 pt), then narrower columns.
		size = max(7, size*width/total)
		widths, total = measure()
		if total > width {
			for i := range widths {
				widths[i] *= width / total
			}
		}
	} else if total < width && len(t.Columns) > 4 {
		// Wide tables fill the page, so their headers wrap less.
		for i := range widths {
			widths[i] *= width / total
		}
	}
	lineH := size * 0.55
	header := func() {
		lines := make([][]string, len(t.Columns))
		n := 1
		for i, c := range t.Columns {
			lines[i] = pdf.SplitText(c, widths[i]-2*pad+2*pdf.GetCellMargin()+0.01) // SplitText takes the cell margins off again
			n = max(n, len(lines[i]))
		}
		h := float64(n)*lineH + 2
		if pdf.GetY()+h+rowH > 297-pdfMargin-5 {
			pdf.AddPage()
		}
		x, y := pdf.GetX(), pdf.GetY()
		for i := range t.Columns {
			pdf.Rect(x, y, widths[i], h, "FD")
			for j, l := range lines[i] {
				pdf.SetXY(x, y+1+float64(j)*lineH)
				pdf.CellFormat(widths[i], lineH, l, "", 0, "L", false, 0, "")
			}
			x += widths[i]
		}
		pdf.SetXY(pdfMargin, y+h)
	}
	row := func(cells []string, nums []bool) {
		if pdf.GetY()+rowH > 297-pdfMargin-5 {
			pdf.AddPage()
			header()
		}
		for i, s := range cells {
			align := "L"
			if nums[i] {
				align = "R"
			}
			pdf.CellFormat(widths[i], rowH, fit(pdf, s, widths[i]-2*pad), "1", 0, align, false, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.SetFillColor(0xF0, 0xF0, 0xF0)
	pdf.SetDrawColor(0xC8, 0xC8, 0xC8)
	header()
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		nums := make([]bool, len(r))
		for i, v := range r {
			cells[i], nums[i] = Text(v), isNum(v)
		}
		row(cells, nums)
	}
}

// fit cuts s to w mm in the current font.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	s = clean(s)
	if pdf.GetStringWidth(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && pdf.GetStringWidth(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// clean makes text safe for fpdf, which panics on invalid UTF-8, refuses
// characters beyond U+FFFF and draws control characters as boxes: bad
// bytes and emoji become "?", line breaks and other control characters
// spaces.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		if r > 0xFFFF { // fpdf's fonts stop at the Basic Multilingual Plane (no emoji)
			return '?'
		}
		return r
	}, s)
}

// pdfShot places a screenshot, scaled to fit. The image is decoded and
// written again as JPEG, so any PNG (16-bit, palette, alpha) goes in and a
// bad file is an error here, not a broken PDF.
func pdfShot(pdf *fpdf.Fpdf, name, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	cfg, _, err := image.DecodeConfig(fh)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > 64<<20 {
		return fmt.Errorf("%s: image too large (%dx%d)", path, cfg.Width, cfg.Height)
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return err
	}
	img, _, err := image.Decode(fh)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	b := img.Bounds()
	if b.Dx() == 0 || b.Dy() == 0 {
		return fmt.Errorf("%s: empty image", path)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Over)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 85}); err != nil {
		return err
	}
	w := pdfShotW
	h := w * float64(b.Dy()) / float64(b.Dx())
	if h > pdfShotH {
		h = pdfShotH
		w = h * float64(b.Dx()) / float64(b.Dy())
	}
	pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "JPG"}, &buf)
	if pdf.GetY()+h > 297-pdfMargin-5 {
		pdf.AddPage()
	}
	pdf.ImageOptions(name, pdfMargin, pdf.GetY()+1, w, h, true, fpdf.ImageOptions{}, 0, "")
	return nil
}
