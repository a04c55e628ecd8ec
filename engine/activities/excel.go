package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"deskbot/engine"
)

// Excel workbooks are read and written with excelize: no Excel install is
// needed. Every activity opens the workbook, does its work and (for writes)
// saves it atomically, so a flow can mix them freely.

func init() {
	sheetField := engine.Field{Name: "sheet", Title: "Sheet", Kind: engine.KindText, Help: "Sheet name; empty means the first sheet."}
	engine.Register(engine.Spec{
		Type: "excel.read", Title: "Read Excel", Category: "Excel", Icon: "grid",
		Summary: "Reads a sheet or a range of an Excel workbook (.xlsx) into a table: a list of rows, each an object keyed by the header.",
		Doc: "With a header (the first row of the sheet or range), each row is an object (`row.Customer`), just like " +
			"`file.read_csv`, so `control.for_each` over the table gives `item.Customer`; without one, each row is a list. " +
			"Numbers come back as numbers, TRUE/FALSE as true/false, dates (cells with a date format) as text " +
			"`2006-01-02` (with ` 15:04:05` when they have a time; a time of day alone as `15:04:05`), empty cells as empty text. Formulas give their cached " +
			"value, the one Excel saved; a formula without one (a workbook written by a program, or by the Excel " +
			"activities, which drop saved values so that none is stale) is calculated, and one that cannot be calculated " +
			"here reads as its error text (such as `#NAME?`) with a warning in the log. " +
			"Rows that are empty in every column are skipped. With a header, the table's columns are those the " +
			"header row names, up to its last non-empty cell. Errors name the file, the sheet and the cell.",
		Fields: []engine.Field{
			{Name: "path", Title: "Workbook", Kind: engine.KindPath, Required: true},
			sheetField,
			{Name: "range", Title: "Range", Kind: engine.KindText, Help: "e.g. A1:D20, or A:D for whole columns; empty means the whole used sheet."},
			{Name: "header", Title: "First row is a header", Kind: engine.KindBool, Default: true},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "rows"},
			{Name: "columns", Title: "Column names into", Kind: engine.KindVar, Advanced: true},
		},
		New: newExcelRead,
	})
	engine.Register(engine.Spec{
		Type: "excel.write", Title: "Write Excel cells", Category: "Excel", SideEffects: true, Icon: "documentSave",
		Summary: "Writes a value, a list of rows or a table into a sheet, starting at a cell. Creates the workbook if needed.",
		Doc: "A single value fills the cell; text that starts with `=` is written as a formula (`=SUM(B2:B9)`). A list of " +
			"lists fills rows from the cell down; a list of values fills one row. A table (a list of objects) is written " +
			"with its header row first (unless header is off), columns in the order of `columns` or else the first " +
			"row's names sorted. The rest of the workbook is kept, formulas included; formulas are calculated again " +
			"when the workbook is next read or opened. A missing sheet is an error (use `excel.add_sheet`), except " +
			"in a new workbook, whose first sheet gets the name.",
		Fields: []engine.Field{
			{Name: "path", Title: "Workbook", Kind: engine.KindPath, Required: true},
			sheetField,
			{Name: "cell", Title: "Cell", Kind: engine.KindText, Required: true, Default: "A1", Help: "Top-left cell, e.g. B2."},
			{Name: "value", Title: "Value", Kind: engine.KindExpr, Required: true, Help: "A value, a list of rows, or a table, e.g. rows"},
			{Name: "header", Title: "Write a table's header", Kind: engine.KindBool, Default: true},
			{Name: "columns", Title: "Columns", Kind: engine.KindList, Help: "A table's column order."},
		},
		New: newExcelWrite,
	})
	engine.Register(engine.Spec{
		Type: "excel.append", Title: "Append rows to Excel", Category: "Excel", SideEffects: true, Icon: "contentAdd",
		Summary: "Adds rows after the last used row of a sheet; a table's columns go under the header of the same name.",
		Doc: "For a table (a list of objects), each field goes to the column whose header (in header_row) has its name; a " +
			"field with no such column is an error that names it, and a column the row lacks stays empty. Into an empty " +
			"sheet, a table writes its header first. A list of lists is written from column A. Creates the workbook " +
			"(and, in a new workbook, names its sheet) if needed.",
		Fields: []engine.Field{
			{Name: "path", Title: "Workbook", Kind: engine.KindPath, Required: true},
			sheetField,
			{Name: "rows", Title: "Rows", Kind: engine.KindExpr, Required: true, Help: "A table or a list of lists, e.g. new_orders"},
			{Name: "header_row", Title: "Header row", Kind: engine.KindInt, Default: 1.0, Advanced: true},
		},
		New: newExcelAppend,
	})
	engine.Register(engine.Spec{
		Type: "excel.add_sheet", Title: "Add Excel sheet", Category: "Excel", SideEffects: true, Icon: "documentCreate",
		Summary: "Adds an empty sheet to a workbook, creating the workbook if needed.",
		Fields: []engine.Field{
			{Name: "path", Title: "Workbook", Kind: engine.KindPath, Required: true},
			{Name: "sheet", Title: "Sheet", Kind: engine.KindText, Required: true},
			{Name: "exists_ok", Title: "OK if it exists", Kind: engine.KindBool, Default: false},
		},
		New: newExcelAddSheet,
	})
	engine.Register(engine.Spec{
		Type: "excel.save_as", Title: "Save Excel as", Category: "Excel", SideEffects: true, Icon: "documentSave",
		Summary: "Saves a copy of a workbook under another name (.xlsx, .xlsm, .xltx or .xltm).",
		Fields: []engine.Field{
			{Name: "path", Title: "Workbook", Kind: engine.KindPath, Required: true},
			{Name: "to", Title: "Save as", Kind: engine.KindPath, Required: true},
			{Name: "overwrite", Title: "Overwrite", Kind: engine.KindBool, Default: false},
		},
		New: newExcelSaveAs,
	})
}

// Limits on what a workbook may unpack to; a hostile .xlsx (a zip bomb)
// fails with an error instead of filling the memory or the disk.
const (
	xlsxUnzipLimit    = 512 << 20
	xlsxXMLInMemLimit = 16 << 20
)

// workbookError names the workbook: "orders.xlsx: ...".
func workbookError(name string, format string, args ...any) error {
	return fmt.Errorf("%s: %s", filepath.Base(name), fmt.Sprintf(format, args...))
}

// openWorkbook opens an existing workbook.
func openWorkbook(name string) (*excelize.File, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("open workbook %q: %w", name, err)
	}
	return OpenWorkbookBytes(name, b)
}

// OpenWorkbookBytes opens a workbook from its bytes; name is for errors. A
// damaged file is an error, never a panic.
func OpenWorkbookBytes(name string, b []byte) (f *excelize.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, workbookError(name, "the workbook is damaged (%v)", r)
		}
	}()
	f, err = excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxXMLInMemLimit})
	if err != nil {
		return nil, workbookError(name, "not a readable Excel workbook: %v", err)
	}
	return f, nil
}

// openOrNew opens a workbook, or starts a new one whose first sheet is
// named sheet ("" keeps excelize's Sheet1) when the file does not exist.
func openOrNew(name, sheet string) (*excelize.File, bool, error) {
	if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
		f := excelize.NewFile()
		if sheet != "" && sheet != "Sheet1" {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				return nil, false, workbookError(name, "sheet name %q: %v", sheet, err)
			}
		}
		return f, true, nil
	}
	f, err := openWorkbook(name)
	return f, false, err
}

// pickSheet returns the sheet to use: the named one, or the first.
func pickSheet(f *excelize.File, name, sheet string) (string, error) {
	list := f.GetSheetList()
	if len(list) == 0 {
		return "", workbookError(name, "the workbook has no sheets")
	}
	if sheet == "" {
		return list[0], nil
	}
	for _, s := range list {
		if s == sheet {
			return s, nil
		}
	}
	set := map[string]bool{}
	for _, s := range list {
		set[s] = true
	}
	return "", workbookError(name, "sheet %q not found (sheets: %s)%s", sheet, strings.Join(list, ", "), engine.DidYouMean(sheet, list))
}

// saveWorkbook writes f to name atomically. Formulas' cached values are
// dropped, so that they are calculated again (by the next read, or by Excel
// on open) rather than shown stale.
func saveWorkbook(f *excelize.File, name string, recalc bool) error {
	if recalc {
		if err := f.UpdateLinkedValue(); err != nil {
			return workbookError(name, "save: %v", err)
		}
		on := true
		if err := f.SetCalcProps(&excelize.CalcPropsOptions{FullCalcOnLoad: &on}); err != nil {
			return workbookError(name, "save: %v", err)
		}
	}
	f.Path = name // the extension chooses the content type (.xlsm keeps macros)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return workbookError(name, "save: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create folder for %q: %w", name, err)
	}
	if err := engine.WriteFileAtomic(name, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("save workbook %q: %w", name, err)
	}
	return nil
}

// cellRange is a rectangle of cells, from 1; c2 or r2 may be 0 for "to the
// end of the used sheet".
type cellRange struct{ c1, r1, c2, r2 int }

// parseRange reads "A1:D20", "B2" or "A:D" ($ signs are allowed).
func parseRange(s string) (cellRange, error) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "$", ""))
	a, b, two := strings.Cut(s, ":")
	if !two {
		b = a
	}
	if isColumnName(a) && isColumnName(b) {
		c1, err1 := excelize.ColumnNameToNumber(a)
		c2, err2 := excelize.ColumnNameToNumber(b)
		if err1 != nil || err2 != nil {
			return cellRange{}, fmt.Errorf("range %q: %v", s, errors.Join(err1, err2))
		}
		if c1 > c2 {
			c1, c2 = c2, c1
		}
		return cellRange{c1: c1, r1: 1, c2: c2}, nil
	}
	c1, r1, err := excelize.CellNameToCoordinates(a)
	if err != nil {
		return cellRange{}, fmt.Errorf("range %q: want cells such as A1:D20, or columns such as A:D", s)
	}
	c2, r2, err := excelize.CellNameToCoordinates(b)
	if err != nil {
		return cellRange{}, fmt.Errorf("range %q: want cells such as A1:D20, or columns such as A:D", s)
	}
	if c1 > c2 {
		c1, c2 = c2, c1
	}
	if r1 > r2 {
		r1, r2 = r2, r1
	}
	return cellRange{c1, r1, c2, r2}, nil
}

func isColumnName(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// sheetReader reads typed cell values from one sheet.
type sheetReader struct {
	f        *excelize.File
	name     string // the workbook, for errors
	sheet    string
	dates    map[int]bool // style id -> has a date format
	date1904 bool
	warn     func(string)
}

func newSheetReader(f *excelize.File, name, sheet string, warn func(string)) *sheetReader {
	r := &sheetReader{f: f, name: name, sheet: sheet, dates: map[int]bool{}, warn: warn}
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		r.date1904 = *p.Date1904
	}
	return r
}

// value reads one cell: a number, a bool, or text ("" when empty).
func (r *sheetReader) value(col, row int) (any, error) {
	cell, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		return nil, workbookError(r.name, "sheet %q: %v", r.sheet, err)
	}
	raw, err := r.f.GetCellValue(r.sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, workbookError(r.name, "sheet %q cell %s: %v", r.sheet, cell, err)
	}
	typ, err := r.f.GetCellType(r.sheet, cell)
	if err != nil {
		return nil, workbookError(r.name, "sheet %q cell %s: %v", r.sheet, cell, err)
	}
	if raw == "" {
		formula, _ := r.f.GetCellFormula(r.sheet, cell)
		if formula == "" {
			return "", nil
		}
		v, err := r.f.CalcCellValue(r.sheet, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			if r.warn != nil {
				r.warn(fmt.Sprintf("%s: sheet %q cell %s: formula =%s cannot be calculated here (%v); it has no saved value, so it reads as %q", filepath.Base(r.name), r.sheet, cell, formula, err, v))
			}
			return v, nil
		}
		if f, ok := parseNumber(v); ok {
			return r.number(cell, f), nil
		}
		switch v {
		case "TRUE":
			return true, nil
		case "FALSE":
			return false, nil
		}
		return v, nil
	}
	switch typ {
	case excelize.CellTypeBool:
		return raw == "1" || strings.EqualFold(raw, "true"), nil
	case excelize.CellTypeUnset, excelize.CellTypeNumber:
		if f, ok := parseNumber(raw); ok {
			return r.number(cell, f), nil
		}
	case excelize.CellTypeDate:
		v, err := r.f.GetCellValue(r.sheet, cell)
		if err == nil {
			return v, nil
		}
	}
	return raw, nil
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// number gives a numeric cell's value: the number, or for a cell with a
// date format its date as text.
func (r *sheetReader) number(cell string, f float64) any {
	style, err := r.f.GetCellStyle(r.sheet, cell)
	if err != nil || style == 0 {
		return f
	}
	isDate, seen := r.dates[style]
	if !seen {
		if st, err := r.f.GetStyle(style); err == nil {
			isDate = dateFormat(st.NumFmt, st.CustomNumFmt)
		}
		r.dates[style] = isDate
	}
	if !isDate {
		return f
	}
	t, err := excelize.ExcelDateToTime(f, r.date1904)
	if err != nil {
		return f
	}
	if f >= 0 && f < 1 { // a time of day
		return t.Format("15:04:05")
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04:05")
}

// dateFormat reports whether a number format shows a date or time: the
// built-in ones, or a custom one with d, m, y, h or s outside quotes and
// brackets (colours such as [Red] are skipped).
func dateFormat(id int, custom *string) bool {
	switch {
	case id >= 14 && id <= 22, id >= 27 && id <= 36, id >= 45 && id <= 47, id >= 50 && id <= 58:
		return custom == nil || *custom == ""
	}
	if custom == nil {
		return false
	}
	quoted, bracket := false, false
	for _, c := range strings.ToLower(*custom) {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '[':
			bracket = true
		case c == ']':
			bracket = false
		case bracket:
		case strings.ContainsRune("dmyhs", c):
			return true
		}
	}
	return false
}

// ReadSheet reads a sheet (or a range of it, "" for the whole used sheet)
// of an open workbook into rows: with header, map[string]any keyed by the
// first row; otherwise []any. Columns are the header's names. name is the
// workbook's file name, for errors; warn receives notes such as a formula
// that cannot be calculated.
func ReadSheet(f *excelize.File, name, sheet, rng string, header bool, warn func(string)) (rows []any, columns []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, columns, err = nil, nil, workbookError(name, "sheet %q: the workbook is damaged (%v)", sheet, r)
		}
	}()
	sheet, err = pickSheet(f, name, sheet)
	if err != nil {
		return nil, nil, err
	}
	grid, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, workbookError(name, "sheet %q: %v", sheet, err)
	}
	used := cellRange{c1: 1, r1: 1, r2: len(grid)}
	for _, row := range grid {
		used.c2 = max(used.c2, len(row))
	}
	cr := used
	if strings.TrimSpace(rng) != "" {
		if cr, err = parseRange(rng); err != nil {
			return nil, nil, workbookError(name, "sheet %q: %v", sheet, err)
		}
		if cr.r2 == 0 {
			cr.r2 = used.r2
		}
	}
	// Cells past the used sheet are empty: no need to visit them.
	lastRow, lastCol := min(cr.r2, used.r2), min(cr.c2, used.c2)
	rd := newSheetReader(f, name, sheet, warn)
	rows, columns = []any{}, []any{}
	var head []string
	width := max(0, lastCol-cr.c1+1) // a range past the used columns adds no empty ones
	if header {
		if cr.r1 > lastRow {
			cell, _ := excelize.CoordinatesToCellName(cr.c1, cr.r1)
			return nil, nil, workbookError(name, "sheet %q: no header row at %s (the sheet's last used row is %d)", sheet, cell, used.r2)
		}
		// The header spans the used columns of its row within the range.
		width = 0
		for c := cr.c1; c <= lastCol; c++ {
			v, err := rd.value(c, cr.r1)
			if err != nil {
				return nil, nil, err
			}
			if engine.ToString(v) != "" {
				width = c - cr.c1 + 1
			}
		}
		if width == 0 {
			cell, _ := excelize.CoordinatesToCellName(cr.c1, cr.r1)
			return nil, nil, workbookError(name, "sheet %q: the header row %d is empty (from %s)", sheet, cr.r1, cell)
		}
		seen := map[string]string{}
		for c := cr.c1; c < cr.c1+width; c++ {
			cell, _ := excelize.CoordinatesToCellName(c, cr.r1)
			v, err := rd.value(c, cr.r1)
			if err != nil {
				return nil, nil, err
			}
			h := strings.TrimSpace(engine.ToString(v))
			if h == "" {
				return nil, nil, workbookError(name, "sheet %q: header cell %s is empty", sheet, cell)
			}
			if prev, dup := seen[h]; dup {
				return nil, nil, workbookError(name, "sheet %q: header %q appears twice (cells %s and %s)", sheet, h, prev, cell)
			}
			seen[h] = cell
			head = append(head, h)
			columns = append(columns, h)
		}
		cr.r1++
	}
	for r := cr.r1; r <= lastRow; r++ {
		vals := make([]any, width)
		empty := true
		for i := range vals {
			vals[i] = ""
			c := cr.c1 + i
			if c > lastCol || c-1 >= len(grid[r-1]) { // past the row's last cell
				continue
			}
			v, err := rd.value(c, r)
			if err != nil {
				return nil, nil, err
			}
			if v != "" {
				empty = false
			}
			vals[i] = v
		}
		if empty {
			continue
		}
		if !header {
			rows = append(rows, vals)
			continue
		}
		m := make(map[string]any, len(head))
		for i, h := range head {
			m[h] = vals[i]
		}
		rows = append(rows, m)
	}
	return rows, columns, nil
}

func newExcelRead(p *engine.Params) (engine.Activity, error) {
	path, sheet, rng := p.Template("path"), p.Template("sheet"), p.Template("range")
	header, out, cols := p.Bool("header"), p.Var("output"), p.Var("columns")
	if rng.IsConst() && strings.TrimSpace(rng.Source) != "" {
		if _, err := parseRange(rng.Source); err != nil {
			p.Fail("range", "%v", err)
		}
	}
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		name, err := c.Path(path)
		if err != nil {
			return "", fmt.Errorf("path: %w", err)
		}
		sh, err := c.Text(sheet)
		if err != nil {
			return "", fmt.Errorf("sheet: %w", err)
		}
		r, err := c.Text(rng)
		if err != nil {
			return "", fmt.Errorf("range: %w", err)
		}
		f, err := openWorkbook(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		rows, columns, err := ReadSheet(f, name, sh, r, header, func(s string) { c.Log("warn", s) })
		if err != nil {
			return "", err
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

// cellValue converts a flow value for a cell: text starting with = is a
// formula (returned separately).
func setCell(f *excelize.File, name, sheet string, col, row int, v any) error {
	cell, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		return workbookError(name, "sheet %q: %v", sheet, err)
	}
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "=") && len(x) > 1 {
			err = f.SetCellFormula(sheet, cell, x[1:])
		} else {
			err = f.SetCellStr(sheet, cell, x)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return workbookError(name, "sheet %q cell %s: %v is not a number a cell can hold", sheet, cell, x)
		}
		err = f.SetCellFloat(sheet, cell, x, -1, 64)
	case int, int64, bool, nil:
		err = f.SetCellValue(sheet, cell, x)
	case map[string]any, []any:
		return workbookError(name, "sheet %q cell %s: a cell cannot hold %s", sheet, cell, describeKind(v))
	default:
		err = f.SetCellStr(sheet, cell, engine.ToString(x))
	}
	if err != nil {
		return workbookError(name, "sheet %q cell %s: %v", sheet, cell, err)
	}
	return nil
}

func describeKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case float64, int, int64:
		return "a number"
	case string:
		return "text"
	case bool:
		return "true or false"
	case nil:
		return "nothing (nil)"
	}
	return fmt.Sprintf("%T", v)
}

// grid turns a value into rows of cells: a table gives a header row (when
// header) and a row per object; a list of lists its rows; a list of
// values one row; anything else one cell.
func toGrid(v any, header bool, cols []string) ([][]any, error) {
	l, isList := v.([]any)
	if !isList {
		if ll, err := engine.ToList(v); err == nil && ll != nil {
			if _, isMap := v.(map[string]any); !isMap {
				l, isList = ll, true
			}
		}
	}
	if !isList {
		return [][]any{{v}}, nil
	}
	if len(l) == 0 {
		return nil, nil
	}
	switch l[0].(type) {
	case map[string]any:
		if cols == nil {
			for k := range l[0].(map[string]any) {
				cols = append(cols, k)
			}
			sort.Strings(cols)
		}
		var out [][]any
		if header {
			h := make([]any, len(cols))
			for i, c := range cols {
				h[i] = c
			}
			out = append(out, h)
		}
		for i, r := range l {
			m, ok := r.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("row %d is %s, but row 1 is an object", i+1, describeKind(r))
			}
			row := make([]any, len(cols))
			for j, c := range cols {
				row[j] = m[c]
			}
			out = append(out, row)
		}
		return out, nil
	case []any:
		out := make([][]any, len(l))
		for i, r := range l {
			row, ok := r.([]any)
			if !ok {
				return nil, fmt.Errorf("row %d is %s, but row 1 is a list", i+1, describeKind(r))
			}
			out[i] = row
		}
		return out, nil
	}
	return [][]any{l}, nil
}

type excelWrite struct {
	path, sheet, cell *engine.Template
	value             *engine.Expr
	header            bool
	columns           []*engine.Template
}

func newExcelWrite(p *engine.Params) (engine.Activity, error) {
	a := &excelWrite{path: p.Template("path"), sheet: p.Template("sheet"), cell: p.Template("cell"), value: p.Expr("value"), header: p.Bool("header"), columns: p.List("columns")}
	if a.cell.IsConst() {
		if _, _, err := excelize.CellNameToCoordinates(strings.ReplaceAll(a.cell.Source, "$", "")); err != nil {
			p.Fail("cell", "%q is not a cell such as B2", a.cell.Source)
		}
	}
	return a, nil
}

// eval evaluates the fields: the workbook, sheet, top-left cell and grid.
func (a *excelWrite) eval(c *engine.Call) (name, sheet string, col, row int, g [][]any, err error) {
	if name, err = c.Path(a.path); err != nil {
		return "", "", 0, 0, nil, fmt.Errorf("path: %w", err)
	}
	if sheet, err = c.Text(a.sheet); err != nil {
		return "", "", 0, 0, nil, fmt.Errorf("sheet: %w", err)
	}
	cell, err := c.Text(a.cell)
	if err != nil {
		return "", "", 0, 0, nil, fmt.Errorf("cell: %w", err)
	}
	if col, row, err = excelize.CellNameToCoordinates(strings.ReplaceAll(strings.TrimSpace(cell), "$", "")); err != nil {
		return "", "", 0, 0, nil, fmt.Errorf("cell: %q is not a cell such as B2", cell)
	}
	v, err := c.Eval(a.value)
	if err != nil {
		return "", "", 0, 0, nil, fmt.Errorf("value: %w", err)
	}
	var cols []string
	for _, t := range a.columns {
		s, err := c.Text(t)
		if err != nil {
			return "", "", 0, 0, nil, fmt.Errorf("columns: %w", err)
		}
		cols = append(cols, s)
	}
	if g, err = toGrid(v, a.header, cols); err != nil {
		return "", "", 0, 0, nil, fmt.Errorf("value: %w", err)
	}
	return name, sheet, col, row, g, nil
}

func (a *excelWrite) Run(_ context.Context, c *engine.Call) (string, error) {
	name, sheet, col, row, g, err := a.eval(c)
	if err != nil {
		return "", err
	}
	f, _, err := openOrNew(name, sheet)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if sheet, err = pickSheet(f, name, sheet); err != nil {
		return "", err
	}
	cells := 0
	for i, r := range g {
		for j, v := range r {
			if err := setCell(f, name, sheet, col+j, row+i, v); err != nil {
				return "", err
			}
			cells++
		}
	}
	if err := saveWorkbook(f, name, true); err != nil {
		return "", err
	}
	c.Output("path", name)
	c.Output("cells", cells)
	return "", nil
}

func (a *excelWrite) DryRun(_ context.Context, c *engine.Call) (string, error) {
	name, sheet, col, row, g, err := a.eval(c)
	if err != nil {
		return "", err
	}
	cell, _ := excelize.CoordinatesToCellName(col, row)
	c.Logf("dry run: would write %d rows into %s, sheet %q, from %s", len(g), name, sheet, cell)
	return "", nil
}

type excelAppend struct {
	path, sheet *engine.Template
	rows        *engine.Expr
	headerRow   int
}

func newExcelAppend(p *engine.Params) (engine.Activity, error) {
	a := &excelAppend{path: p.Template("path"), sheet: p.Template("sheet"), rows: p.Expr("rows"), headerRow: p.Int("header_row")}
	if a.headerRow < 1 {
		p.Fail("header_row", "must be at least 1")
	}
	return a, nil
}

func (a *excelAppend) eval(c *engine.Call) (name, sheet string, rows []any, err error) {
	if name, err = c.Path(a.path); err != nil {
		return "", "", nil, fmt.Errorf("path: %w", err)
	}
	if sheet, err = c.Text(a.sheet); err != nil {
		return "", "", nil, fmt.Errorf("sheet: %w", err)
	}
	v, err := c.Eval(a.rows)
	if err != nil {
		return "", "", nil, fmt.Errorf("rows: %w", err)
	}
	if rows, err = engine.ToList(v); err != nil {
		return "", "", nil, fmt.Errorf("rows: %w", err)
	}
	return name, sheet, rows, nil
}

func (a *excelAppend) Run(_ context.Context, c *engine.Call) (string, error) {
	name, sheet, rows, err := a.eval(c)
	if err != nil {
		return "", err
	}
	f, _, err := openOrNew(name, sheet)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if sheet, err = pickSheet(f, name, sheet); err != nil {
		return "", err
	}
	grid, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return "", workbookError(name, "sheet %q: %v", sheet, err)
	}
	next := len(grid) + 1
	if len(rows) > 0 {
		if _, table := rows[0].(map[string]any); table {
			if len(grid) == 0 {
				// An empty sheet: the table brings its header.
				g, err := toGrid(rows, true, nil)
				if err != nil {
					return "", fmt.Errorf("rows: %w", err)
				}
				for i, r := range g {
					for j, v := range r {
						if err := setCell(f, name, sheet, j+1, a.headerRow+i, v); err != nil {
							return "", err
						}
					}
				}
				return a.save(c, f, name, len(rows))
			}
			if a.headerRow > len(grid) {
				return "", workbookError(name, "sheet %q: header row %d is empty (the last used row is %d)", sheet, a.headerRow, len(grid))
			}
			index := map[string]int{}
			var names []string
			for i, h := range grid[a.headerRow-1] {
				if h = strings.TrimSpace(h); h != "" {
					if _, dup := index[h]; !dup {
						index[h] = i + 1
						names = append(names, h)
					}
				}
			}
			for i, r := range rows {
				m, ok := r.(map[string]any)
				if !ok {
					return "", fmt.Errorf("rows: row %d is %s, but row 1 is an object", i+1, describeKind(r))
				}
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					col, ok := index[k]
					if !ok {
						return "", workbookError(name, "sheet %q: row %d has a field %q, but header row %d has no such column (columns: %s)%s",
							sheet, i+1, k, a.headerRow, strings.Join(names, ", "), engine.DidYouMean(k, names))
					}
					if err := setCell(f, name, sheet, col, next+i, m[k]); err != nil {
						return "", err
					}
				}
			}
			return a.save(c, f, name, len(rows))
		}
	}
	g, err := toGrid(rows, false, nil)
	if err != nil {
		return "", fmt.Errorf("rows: %w", err)
	}
	if len(g) == 1 && len(rows) > 0 {
		if _, isList := rows[0].([]any); !isList {
			return "", fmt.Errorf("rows: want a table or a list of lists, got a list of %s", describeKind(rows[0]))
		}
	}
	for i, r := range g {
		for j, v := range r {
			if err := setCell(f, name, sheet, j+1, next+i, v); err != nil {
				return "", err
			}
		}
	}
	return a.save(c, f, name, len(g))
}

func (a *excelAppend) save(c *engine.Call, f *excelize.File, name string, n int) (string, error) {
	if err := saveWorkbook(f, name, true); err != nil {
		return "", err
	}
	c.Output("path", name)
	c.Output("rows", n)
	return "", nil
}

func (a *excelAppend) DryRun(_ context.Context, c *engine.Call) (string, error) {
	name, sheet, rows, err := a.eval(c)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would append %d rows to %s, sheet %q", len(rows), name, sheet)
	return "", nil
}

func newExcelAddSheet(p *engine.Params) (engine.Activity, error) {
	path, sheet, existsOK := p.Template("path"), p.Template("sheet"), p.Bool("exists_ok")
	run := func(c *engine.Call, dry bool) (string, error) {
		name, err := c.Path(path)
		if err != nil {
			return "", fmt.Errorf("path: %w", err)
		}
		sh, err := c.Text(sheet)
		if err != nil {
			return "", fmt.Errorf("sheet: %w", err)
		}
		if strings.TrimSpace(sh) == "" {
			return "", fmt.Errorf("sheet: empty sheet name")
		}
		if dry {
			c.Logf("dry run: would add sheet %q to %s", sh, name)
			return "", nil
		}
		f, created, err := openOrNew(name, sh)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if !created {
			if idx, _ := f.GetSheetIndex(sh); idx >= 0 {
				if !existsOK {
					return "", workbookError(name, "sheet %q already exists (sheets: %s)", sh, strings.Join(f.GetSheetList(), ", "))
				}
				return "", nil
			}
			if _, err := f.NewSheet(sh); err != nil {
				return "", workbookError(name, "add sheet %q: %v", sh, err)
			}
		}
		if err := saveWorkbook(f, name, false); err != nil {
			return "", err
		}
		c.Output("path", name)
		return "", nil
	}
	return dryRunFunc{run}, nil
}

// dryRunFunc is an activity whose Run and DryRun share one function.
type dryRunFunc struct {
	f func(c *engine.Call, dry bool) (string, error)
}

func (a dryRunFunc) Run(_ context.Context, c *engine.Call) (string, error)    { return a.f(c, false) }
func (a dryRunFunc) DryRun(_ context.Context, c *engine.Call) (string, error) { return a.f(c, true) }

var workbookExts = map[string]bool{".xlsx": true, ".xlsm": true, ".xltx": true, ".xltm": true}

func newExcelSaveAs(p *engine.Params) (engine.Activity, error) {
	path, to, overwrite := p.Template("path"), p.Template("to"), p.Bool("overwrite")
	if to.IsConst() && to.Source != "" && !workbookExts[strings.ToLower(filepath.Ext(to.Source))] {
		p.Fail("to", "%q: want a name ending in .xlsx, .xlsm, .xltx or .xltm", to.Source)
	}
	run := func(c *engine.Call, dry bool) (string, error) {
		name, err := c.Path(path)
		if err != nil {
			return "", fmt.Errorf("path: %w", err)
		}
		target, err := c.Path(to)
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		if !workbookExts[strings.ToLower(filepath.Ext(target))] {
			return "", fmt.Errorf("to: %q: want a name ending in .xlsx, .xlsm, .xltx or .xltm", target)
		}
		if dry {
			c.Logf("dry run: would save %s as %s", name, target)
			return "", nil
		}
		if _, err := os.Stat(target); err == nil && !overwrite {
			return "", fmt.Errorf("to: %q already exists (set overwrite)", target)
		}
		f, err := openWorkbook(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if err := saveWorkbook(f, target, false); err != nil {
			return "", err
		}
		c.Output("path", target)
		return "", nil
	}
	return dryRunFunc{run}, nil
}
