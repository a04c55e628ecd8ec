package activities

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "file.read_csv", Title: "Read CSV", Category: "Files", Icon: "list",
		Summary: "Reads a CSV file into a table: a list of rows, each an object keyed by the header.",
		Doc: "With a header, each row is an object (`row.name`); without one, each row is a list of texts. " +
			"A UTF-8 byte-order mark is skipped. Errors name the line.",
		Fields: []engine.Field{
			{Name: "path", Title: "File", Kind: engine.KindPath, Required: true},
			{Name: "header", Title: "First row is a header", Kind: engine.KindBool, Default: true},
			{Name: "delimiter", Title: "Delimiter", Kind: engine.KindString, Default: ",", Help: "One character; \\t for tab."},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "rows"},
			{Name: "columns", Title: "Column names into", Kind: engine.KindVar, Advanced: true},
		},
		New: newReadCSV,
	})
	engine.Register(engine.Spec{
		Type: "file.write_csv", Title: "Write CSV", Category: "Files", SideEffects: true, Icon: "documentSave",
		Summary: "Writes rows (objects or lists) to a CSV file with a header.",
		Fields: []engine.Field{
			{Name: "path", Title: "File", Kind: engine.KindPath, Required: true},
			{Name: "rows", Title: "Rows", Kind: engine.KindExpr, Required: true, Help: "A table or list of lists, e.g. rows"},
			{Name: "columns", Title: "Columns", Kind: engine.KindList, Help: "Column order; by default the first row's keys, sorted."},
			{Name: "delimiter", Title: "Delimiter", Kind: engine.KindString, Default: ","},
			{Name: "append", Title: "Append", Kind: engine.KindBool, Default: false, Help: "Add rows to an existing file (no second header)."},
		},
		New: newWriteCSV,
	})
}

func delimiter(p *engine.Params) rune {
	d := p.String("delimiter")
	if d == `\t` {
		return '\t'
	}
	r, n := utf8.DecodeRuneInString(d)
	if n == 0 || n != len(d) || r == '"' || r == '\n' || r == '\r' || r == utf8.RuneError {
		p.Fail("delimiter", "want one character (not a quote or newline), got %q", d)
		return ','
	}
	return r
}

func newReadCSV(p *engine.Params) (engine.Activity, error) {
	path, header, delim := p.Template("path"), p.Bool("header"), delimiter(p)
	out, cols := p.Var("output"), p.Var("columns")
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		name, err := c.Path(path)
		if err != nil {
			return "", fmt.Errorf("path: %w", err)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("read CSV %q: %w", name, err)
		}
		rows, columns, err := ParseCSV(b, delim, header)
		if err != nil {
			return "", fmt.Errorf("read CSV %q: %w", name, err)
		}
		c.Output("rows", len(rows))
		if cols != "" {
			if err := c.Set(cols, columns); err != nil {
				return "", err
			}
		}
		return "", c.Set(out, rows)
	}), nil
}

// ParseCSV parses CSV data. With header, rows are map[string]any keyed by
// the header; otherwise []any of strings. Columns are the header's names.
func ParseCSV(b []byte, delim rune, header bool) (rows []any, columns []any, err error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = delim
	r.FieldsPerRecord = -1
	var head []string
	rows = []any{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		line, _ := r.FieldPos(0)
		if header && head == nil {
			head = rec
			seen := map[string]bool{}
			for i, h := range head {
				if h == "" {
					return nil, nil, fmt.Errorf("line %d: header column %d is empty", line, i+1)
				}
				if seen[h] {
					return nil, nil, fmt.Errorf("line %d: header column %q appears twice", line, h)
				}
				seen[h] = true
				columns = append(columns, h)
			}
			continue
		}
		if !header {
			l := make([]any, len(rec))
			for i, v := range rec {
				l[i] = v
			}
			rows = append(rows, l)
			continue
		}
		if len(rec) != len(head) {
			return nil, nil, fmt.Errorf("line %d: %d fields, but the header has %d", line, len(rec), len(head))
		}
		m := make(map[string]any, len(head))
		for i, h := range head {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	if columns == nil {
		columns = []any{}
	}
	return rows, columns, nil
}

type writeCSV struct {
	path    *engine.Template
	rows    *engine.Expr
	columns []*engine.Template
	delim   rune
	append  bool
}

func newWriteCSV(p *engine.Params) (engine.Activity, error) {
	return &writeCSV{path: p.Template("path"), rows: p.Expr("rows"), columns: p.List("columns"), delim: delimiter(p), append: p.Bool("append")}, nil
}

// records evaluates the rows; header is nil for rows given as lists without
// columns.
func (a *writeCSV) records(c *engine.Call) (name string, header []string, recs [][]string, err error) {
	name, err = c.Path(a.path)
	if err != nil {
		return "", nil, nil, fmt.Errorf("path: %w", err)
	}
	v, err := c.Eval(a.rows)
	if err != nil {
		return "", nil, nil, fmt.Errorf("rows: %w", err)
	}
	rows, err := engine.ToList(v)
	if err != nil {
		return "", nil, nil, fmt.Errorf("rows: %w", err)
	}
	var cols []string
	for _, t := range a.columns {
		s, err := c.Text(t)
		if err != nil {
			return "", nil, nil, fmt.Errorf("columns: %w", err)
		}
		cols = append(cols, s)
	}
	for i, r := range rows {
		switch x := r.(type) {
		case map[string]any:
			if cols == nil {
				for k := range x {
					cols = append(cols, k)
				}
				sort.Strings(cols)
			}
			rec := make([]string, len(cols))
			for j, col := range cols {
				rec[j] = engine.ToString(x[col])
			}
			recs = append(recs, rec)
		case []any:
			rec := make([]string, len(x))
			for j, v := range x {
				rec[j] = engine.ToString(v)
			}
			recs = append(recs, rec)
		default:
			return "", nil, nil, fmt.Errorf("rows: row %d is %T, want an object or a list", i+1, r)
		}
	}
	return name, cols, recs, nil
}

func (a *writeCSV) Run(_ context.Context, c *engine.Call) (string, error) {
	name, header, recs, err := a.records(c)
	if err != nil {
		return "", err
	}
	exists := false
	if st, err := os.Stat(name); err == nil && st.Size() > 0 {
		exists = true
	}
	if header != nil && !(a.append && exists) {
		recs = append([][]string{header}, recs...)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = a.delim
	if err := w.WriteAll(recs); err != nil {
		return "", fmt.Errorf("write CSV %q: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return "", fmt.Errorf("create folder for %q: %w", name, err)
	}
	if a.append {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return "", fmt.Errorf("write CSV %q: %w", name, err)
		}
		_, err = f.Write(buf.Bytes())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("write CSV %q: %w", name, err)
		}
	} else if err := engine.WriteFileAtomic(name, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write CSV %q: %w", name, err)
	}
	c.Output("path", name)
	c.Output("records", len(recs))
	return "", nil
}

func (a *writeCSV) DryRun(_ context.Context, c *engine.Call) (string, error) {
	name, _, recs, err := a.records(c)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would write %d CSV rows to %s", len(recs), name)
	return "", nil
}
