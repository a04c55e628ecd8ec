package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ledongthuc/pdf"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "pdf.text", Title: "Read PDF text", Category: "Documents", Icon: "document",
		Summary: "Extracts the text of a PDF, page by page, into a list, and all of it into one text.",
		Doc: "The list has one text per page read (`pages[0]` is the first page read); the text joins them with a " +
			"blank line. Pages lists the pages to read, such as `1-3, 5` or `2-` (from page 2 to the end); empty " +
			"reads all. Text is what the PDF's fonts say the characters are: a scanned page (a picture of text) " +
			"gives no text; read it with ocr.read. Encrypted PDFs are not read. A malformed PDF fails the step with " +
			"an error that names the file; one that takes longer than the time limit to read is given up (a node " +
			"timeout or the Stop button also give up).",
		Fields: []engine.Field{
			{Name: "path", Title: "PDF file", Kind: engine.KindPath, Required: true},
			{Name: "pages", Title: "Pages", Kind: engine.KindText, Help: "e.g. 1-3, 5 or 2-; empty for all."},
			{Name: "output", Title: "Page texts into", Kind: engine.KindVar, Required: true, Default: "pages"},
			{Name: "text", Title: "All text into", Kind: engine.KindVar, Default: "text"},
			{Name: "page_count", Title: "Page count into", Kind: engine.KindVar, Advanced: true},
			{Name: "time_limit", Title: "Time limit", Kind: engine.KindDur, Default: "2m", Advanced: true,
				Help: "Give up on a PDF that takes longer to read."},
		},
		New: newPDFText,
	})
}

func newPDFText(p *engine.Params) (engine.Activity, error) {
	path, pages, out, text, count := p.Template("path"), p.Template("pages"), p.Var("output"), p.Var("text"), p.Var("page_count")
	limit := p.Template("time_limit")
	if pages.IsConst() {
		if _, err := ParsePageRange(pages.Source, 0); err != nil {
			p.Fail("pages", "%v", err)
		}
	}
	return engine.ActivityFunc(func(ctx context.Context, c *engine.Call) (string, error) {
		name, err := c.Path(path)
		if err != nil {
			return "", fmt.Errorf("path: %w", err)
		}
		sel, err := c.Text(pages)
		if err != nil {
			return "", fmt.Errorf("pages: %w", err)
		}
		ls, err := c.Text(limit)
		if err != nil {
			return "", fmt.Errorf("time_limit: %w", err)
		}
		d, err := time.ParseDuration(strings.TrimSpace(ls))
		if err != nil || d <= 0 {
			return "", fmt.Errorf("time_limit: want a duration such as 2m, got %q", ls)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("read PDF %q: %w", name, err)
		}
		c.Waiting("the text of " + name)
		texts, total, err := PDFText(ctx, b, sel, d)
		if err != nil {
			return "", fmt.Errorf("read PDF %q: %w", name, err)
		}
		list := make([]any, len(texts))
		for i, t := range texts {
			list[i] = t
		}
		c.Output("pages_read", len(texts))
		c.Output("page_count", total)
		if err := c.Set(out, list); err != nil {
			return "", err
		}
		if text != "" {
			if err := c.Set(text, strings.Join(texts, "\n\n")); err != nil {
				return "", err
			}
		}
		if count != "" {
			if err := c.Set(count, float64(total)); err != nil {
				return "", err
			}
		}
		return "", nil
	}), nil
}

// ParsePageRange parses a page selection such as "1-3, 5, 7-" into page
// numbers in order. With last > 0 the pages must exist and an open range
// ends at last; with last 0 only the syntax is checked. Empty selects all.
func ParsePageRange(s string, last int) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		out := make([]int, last)
		for i := range out {
			out[i] = i + 1
		}
		return out, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		a, b, isRange := strings.Cut(part, "-")
		from, err := pageNumber(a, part)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if strings.TrimSpace(b) == "" {
				to = last
				if last == 0 {
					to = from
				}
			} else if to, err = pageNumber(b, part); err != nil {
				return nil, err
			}
			if to < from {
				return nil, fmt.Errorf("%q runs backwards", part)
			}
		}
		if last > 0 && to > last {
			return nil, fmt.Errorf("page %d is past the last page (the PDF has %d)", to, last)
		}
		if last > 0 && from > last {
			return nil, fmt.Errorf("page %d is past the last page (the PDF has %d)", from, last)
		}
		if last > 0 {
			for p := from; p <= to; p++ {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func pageNumber(s, part string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 1e7 {
		return 0, fmt.Errorf("%q is not a page or a range of pages such as 2-5", part)
	}
	return n, nil
}

// Bounds on a PDF's page tree, so that a malformed one that loops ends.
const (
	maxPageTreeDepth = 64
	maxPageTreeNodes = 500000
	maxPDFText       = 64 << 20
)

// PDFText extracts the text of the selected pages of the PDF in b (see
// ParsePageRange) and returns it per page, with the PDF's page count. A
// malformed PDF gives an error, never a panic. Reading is given up when ctx
// ends or after limit: the PDF library can loop on some malformed files, and
// its goroutine then goes on until the program ends.
func PDFText(ctx context.Context, b []byte, sel string, limit time.Duration) ([]string, int, error) {
	type result struct {
		texts []string
		total int
		err   error
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, context.Cause(ctx) // the run ended before the read began
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if x := recover(); x != nil {
				r = result{err: fmt.Errorf("malformed PDF: %v", x)}
			}
			done <- r
		}()
		r.texts, r.total, r.err = pdfText(b, sel)
	}()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case r := <-done:
		return r.texts, r.total, r.err
	case <-ctx.Done():
		return nil, 0, context.Cause(ctx)
	case <-t.C:
		return nil, 0, fmt.Errorf("gave up after %s: the PDF takes too long to read (it may be malformed)", limit)
	}
}

func pdfText(b []byte, sel string) ([]string, int, error) {
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if strings.Contains(err.Error(), "encrypt") || errors.Is(err, pdf.ErrInvalidPassword) {
			return nil, 0, fmt.Errorf("the PDF is encrypted; Deskbot reads only unencrypted PDFs (%v)", err)
		}
		return nil, 0, err
	}
	pages, err := pageList(r)
	if err != nil {
		return nil, 0, err
	}
	want, err := ParsePageRange(sel, len(pages))
	if err != nil {
		return nil, len(pages), fmt.Errorf("pages: %w", err)
	}
	if len(pages) == 0 {
		return nil, 0, errors.New("the PDF has no pages")
	}
	out := make([]string, 0, len(want))
	size := 0
	for _, n := range want {
		p := pages[n-1]
		if err := parentChain(p.V); err != nil {
			return nil, len(pages), fmt.Errorf("page %d: %w", n, err)
		}
		s, err := pageText(p)
		if err != nil {
			return nil, len(pages), fmt.Errorf("page %d: %w", n, err)
		}
		if size += len(s); size > maxPDFText {
			return nil, len(pages), fmt.Errorf("the text is longer than %d MB", maxPDFText>>20)
		}
		out = append(out, s)
	}
	return out, len(pages), nil
}

// pageList walks the page tree, bounded against trees that loop.
func pageList(r *pdf.Reader) ([]pdf.Page, error) {
	root := r.Trailer().Key("Root").Key("Pages")
	if root.IsNull() {
		return nil, errors.New("malformed PDF: no page tree")
	}
	var out []pdf.Page
	nodes := 0
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		if nodes++; nodes > maxPageTreeNodes {
			return errors.New("malformed PDF: the page tree has too many nodes (it may loop)")
		}
		if depth > maxPageTreeDepth {
			return errors.New("malformed PDF: the page tree is nested too deep (it may loop)")
		}
		switch v.Key("Type").Name() {
		case "Page":
			out = append(out, pdf.Page{V: v})
		case "Pages":
			kids := v.Key("Kids")
			for i := 0; i < kids.Len(); i++ {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// parentChain checks that a page's chain of parents ends, so that the
// library's look-up of inherited resources does too.
func parentChain(v pdf.Value) error {
	for i := 0; i <= maxPageTreeDepth; i++ {
		if v.IsNull() {
			return nil
		}
		v = v.Key("Parent")
	}
	return errors.New("malformed PDF: the page's parents are nested too deep (they may loop)")
}

// pageText reads the text of a page's content streams in the order they
// show it. It starts a new line where the text moves down (Td, TD, T*, Tm,
// ' and ") and puts a space where it moves right within a line or a TJ
// array leaves a gap wider than a quarter of an em.
func pageText(p pdf.Page) (text string, err error) {
	defer func() {
		if x := recover(); x != nil {
			text, err = "", fmt.Errorf("malformed page: %v", x)
		}
	}()
	contents := p.V.Key("Contents")
	if contents.IsNull() {
		return "", nil
	}
	encs := map[string]pdf.TextEncoding{}
	var enc pdf.TextEncoding
	var b strings.Builder
	newline := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
	}
	space := func() {
		if s := b.String(); s != "" && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
			b.WriteString(" ")
		}
	}
	show := func(v pdf.Value) {
		raw := v.RawString()
		if enc != nil {
			b.WriteString(enc.Decode(raw))
		} else {
			for i := 0; i < len(raw); i++ { // PDFDocEncoding, close to Latin-1
				b.WriteRune(rune(raw[i]))
			}
		}
		if b.Len() > maxPDFText {
			panic(fmt.Sprintf("the page's text is longer than %d MB", maxPDFText>>20))
		}
	}
	lineY, haveY := 0.0, false
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "BT":
			haveY = false
		case "Tf":
			if n != 2 {
				return
			}
			name := args[0].Name()
			e, ok := encs[name]
			if !ok {
				if f := p.Font(name); !f.V.IsNull() {
					e = f.Encoder()
				}
				encs[name] = e
			}
			enc = e
		case "Td", "TD":
			if n != 2 {
				return
			}
			if args[1].Float64() != 0 {
				newline()
			} else if args[0].Float64() != 0 {
				space()
			}
		case "Tm":
			if n != 6 {
				return
			}
			y := args[5].Float64()
			if haveY && y != lineY {
				newline()
			} else if haveY {
				space()
			}
			lineY, haveY = y, true
		case "T*":
			newline()
		case "'", "\"":
			newline()
			if n > 0 {
				show(args[n-1])
			}
		case "Tj":
			if n == 1 {
				show(args[0])
			}
		case "TJ":
			if n != 1 {
				return
			}
			for i := 0; i < args[0].Len(); i++ {
				x := args[0].Index(i)
				switch x.Kind() {
				case pdf.String:
					show(x)
				case pdf.Integer, pdf.Real:
					if x.Float64() < -250 {
						space()
					}
				}
			}
		}
	})
	return strings.TrimSpace(b.String()), nil
}
