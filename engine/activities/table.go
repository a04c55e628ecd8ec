package activities

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"deskbot/engine"
)

// Tables are lists of objects, one per row, keyed by column name: what
// file.read_csv and excel.read give. The table activities never change
// their input; they put a new table into a variable.

func init() {
	tableField := engine.Field{Name: "table", Title: "Table", Kind: engine.KindExpr, Required: true, Help: "A table (a list of objects), e.g. orders"}
	engine.Register(engine.Spec{
		Type: "table.filter", Title: "Filter table", Category: "Data", Icon: "search",
		Summary: "Keeps the rows of a table for which a condition holds.",
		Doc: "The condition is an expression evaluated once per row with `row` bound to the row: " +
			"`row.Amount > 100 && row.Country == \"NL\"`. A misspelt column fails the step naming it " +
			"(*row has no field \"Amout\" (did you mean \"Amount\"?)*). `row` hides a variable of the same name.",
		Fields: []engine.Field{
			tableField,
			{Name: "where", Title: "Keep rows where", Kind: engine.KindExpr, Required: true, Help: "e.g. row.Amount > 100"},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "filtered"},
		},
		New: newTableFilter,
	})
	engine.Register(engine.Spec{
		Type: "table.sort", Title: "Sort table", Category: "Data", Icon: "arrowDropDown",
		Summary: "Sorts a table by one or more columns, each ascending or descending.",
		Doc: "Each entry of `by` is a column name, optionally followed by `asc` or `desc`: `Amount desc`. " +
			"Numbers sort as numbers, also when they are text (\"9\" before \"10\", as CSV gives them); other text " +
			"sorts alphabetically, ignoring case; numbers come before text and empty cells last. Rows that tie " +
			"keep their order.",
		Fields: []engine.Field{
			tableField,
			{Name: "by", Title: "Sort by", Kind: engine.KindList, Required: true, Help: "Columns, e.g. Amount desc"},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "sorted"},
		},
		New: newTableSort,
	})
	engine.Register(engine.Spec{
		Type: "table.lookup", Title: "Look up row", Category: "Data", Icon: "searchReplace",
		Summary: "Finds the first row whose column equals a value; follows not_found when there is none.",
		Doc:     "Values are compared as text, so the number 42 finds the text \"42\" that a CSV holds. The row (an object) goes into the output variable.",
		Fields: []engine.Field{
			tableField,
			{Name: "column", Title: "Column", Kind: engine.KindText, Required: true},
			{Name: "value", Title: "Value", Kind: engine.KindExpr, Required: true, Help: "e.g. order.customer_id"},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "found"},
		},
		Ports: []string{engine.PortNext, engine.PortNotFound},
		New:   newTableLookup,
	})
	engine.Register(engine.Spec{
		Type: "table.join", Title: "Join tables", Category: "Data", Icon: "contentAdd",
		Summary: "Joins two tables on key columns (inner or left join).",
		Doc: "Each entry of `on` is a column that both tables have, or `left_column=right_column`. A result row has " +
			"the left row's columns and the right row's other columns; a right column whose name the left table " +
			"already uses gets the suffix. An inner join keeps the pairs that match; a left join also keeps the " +
			"left rows without a match, with the right table's columns empty. Keys are compared as text.",
		Fields: []engine.Field{
			{Name: "left", Title: "Left table", Kind: engine.KindExpr, Required: true},
			{Name: "right", Title: "Right table", Kind: engine.KindExpr, Required: true},
			{Name: "on", Title: "Key columns", Kind: engine.KindList, Required: true, Help: "e.g. customer_id, or id=customer_id"},
			{Name: "kind", Title: "Join", Kind: engine.KindSelect, Default: "inner", Options: []string{"inner", "left"}},
			{Name: "suffix", Title: "Suffix for clashing names", Kind: engine.KindString, Default: "_right", Advanced: true},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "joined"},
		},
		New: newTableJoin,
	})
	engine.Register(engine.Spec{
		Type: "table.aggregate", Title: "Aggregate table", Category: "Data", Icon: "grid",
		Summary: "Groups a table by columns and computes sum, count, avg, min and max per group, as a new table.",
		Doc: "Each entry of `values` is `function(Column)`, optionally followed by `as name`: `sum(Amount) as total`, " +
			"`count()`. The functions are sum, count, avg, min and max; `count()` counts rows and `count(Column)` " +
			"the rows where the column is not empty. Without `as`, the result column is named like `sum_Amount`. " +
			"Empty cells are left out of sum, avg, min and max; numbers given as text (from a CSV) count as numbers. " +
			"The result has one row per group, in the order the groups first appear, with the group columns first. " +
			"Without group columns the result is one row over the whole table.",
		Fields: []engine.Field{
			tableField,
			{Name: "group_by", Title: "Group by", Kind: engine.KindList, Help: "Columns; empty means one group."},
			{Name: "values", Title: "Values", Kind: engine.KindList, Required: true, Help: "e.g. sum(Amount) as total"},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "summary"},
		},
		New: newTableAggregate,
	})
}

// evalTable evaluates a table field: every row must be an object.
func evalTable(c *engine.Call, e *engine.Expr, field string) ([]map[string]any, error) {
	v, err := c.Eval(e)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	l, err := engine.ToList(v)
	if err != nil {
		return nil, fmt.Errorf("%s: want a table (a list of objects): %w", field, err)
	}
	out := make([]map[string]any, len(l))
	for i, r := range l {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: row %d is %s, want an object (a table row with named columns)", field, i+1, describeKind(r))
		}
		out[i] = m
	}
	return out, nil
}

func tableValue(rows []map[string]any) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}

// cell reads row[col], or fails naming the row, the column and the
// columns that exist.
func cell(row map[string]any, i int, col, field string) (any, error) {
	if v, ok := row[col]; ok {
		return v, nil
	}
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return nil, fmt.Errorf("%s: row %d has no column %q (columns: %s)%s", field, i+1, col, strings.Join(keys, ", "), engine.DidYouMean(col, keys))
}

func empty(v any) bool { return v == nil || v == "" }

// asNumber gives a number for numbers and for text that is one.
func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// compareCells orders two cells: numbers (also as text) by value and before
// text, text ignoring case, empty last.
func compareCells(a, b any) int {
	ea, eb := empty(a), empty(b)
	switch {
	case ea && eb:
		return 0
	case ea:
		return 1
	case eb:
		return -1
	}
	fa, na := asNumber(a)
	fb, nb := asNumber(b)
	switch {
	case na && nb:
		if fa < fb {
			return -1
		}
		if fa > fb {
			return 1
		}
		return 0
	case na:
		return -1
	case nb:
		return 1
	}
	sa, sb := engine.ToString(a), engine.ToString(b)
	if c := strings.Compare(strings.ToLower(sa), strings.ToLower(sb)); c != 0 {
		return c
	}
	return strings.Compare(sa, sb)
}

func newTableFilter(p *engine.Params) (engine.Activity, error) {
	table, where, out := p.Expr("table"), p.ExprWith("where", "row"), p.Var("output")
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		rows, err := evalTable(c, table, "table")
		if err != nil {
			return "", err
		}
		s := c.Scope()
		kept := []any{}
		for i, r := range rows {
			s.Bind("row", r)
			ok, err := s.EvalBool(where)
			if err != nil {
				return "", fmt.Errorf("where, row %d: %w", i+1, err)
			}
			if ok {
				kept = append(kept, r)
			}
		}
		c.Output("rows", len(kept))
		return "", c.Set(out, kept)
	}), nil
}

type sortKey struct {
	col  string
	desc bool
}

func parseSortKey(s string) (sortKey, error) {
	s = strings.TrimSpace(s)
	k := sortKey{col: s}
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		switch strings.ToLower(s[i+1:]) {
		case "asc":
			k.col = strings.TrimSpace(s[:i])
		case "desc":
			k.col, k.desc = strings.TrimSpace(s[:i]), true
		}
	}
	if k.col == "" {
		return k, fmt.Errorf("empty column name")
	}
	return k, nil
}

func newTableSort(p *engine.Params) (engine.Activity, error) {
	table, by, out := p.Expr("table"), p.List("by"), p.Var("output")
	for i, t := range by {
		if t.IsConst() {
			if _, err := parseSortKey(t.Source); err != nil {
				p.Fail("by", "item %d: %v", i+1, err)
			}
		}
	}
	if len(by) == 0 && p.Has("by") {
		p.Fail("by", "name at least one column")
	}
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		rows, err := evalTable(c, table, "table")
		if err != nil {
			return "", err
		}
		var keys []sortKey
		for i, t := range by {
			s, err := c.Text(t)
			if err != nil {
				return "", fmt.Errorf("by: %w", err)
			}
			k, err := parseSortKey(s)
			if err != nil {
				return "", fmt.Errorf("by: item %d: %w", i+1, err)
			}
			keys = append(keys, k)
		}
		// Every row must have every column: a misspelt name must not sort
		// by nothing.
		vals := make([][]any, len(rows))
		for i, r := range rows {
			vals[i] = make([]any, len(keys))
			for j, k := range keys {
				if vals[i][j], err = cell(r, i, k.col, "by"); err != nil {
					return "", err
				}
			}
		}
		idx := make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			for j, k := range keys {
				c := compareCells(vals[idx[a]][j], vals[idx[b]][j])
				if c == 0 {
					continue
				}
				if k.desc && !empty(vals[idx[a]][j]) && !empty(vals[idx[b]][j]) {
					c = -c // empty cells stay last
				}
				return c < 0
			}
			return false
		})
		sorted := make([]any, len(rows))
		for i, j := range idx {
			sorted[i] = rows[j]
		}
		return "", c.Set(out, sorted)
	}), nil
}

func newTableLookup(p *engine.Params) (engine.Activity, error) {
	table, column, value, out := p.Expr("table"), p.Template("column"), p.Expr("value"), p.Var("output")
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		rows, err := evalTable(c, table, "table")
		if err != nil {
			return "", err
		}
		col, err := c.Text(column)
		if err != nil {
			return "", fmt.Errorf("column: %w", err)
		}
		v, err := c.Eval(value)
		if err != nil {
			return "", fmt.Errorf("value: %w", err)
		}
		want := engine.ToString(v)
		for i, r := range rows {
			got, err := cell(r, i, col, "column")
			if err != nil {
				return "", err
			}
			if engine.ToString(got) == want {
				c.Output("row", i+1)
				return engine.PortNext, c.Set(out, r)
			}
		}
		return engine.PortNotFound, c.Set(out, nil)
	}), nil
}

type joinKey struct{ left, right string }

func parseJoinKey(s string) (joinKey, error) {
	l, r, two := strings.Cut(s, "=")
	l = strings.TrimSpace(l)
	r = strings.TrimSpace(r)
	if !two {
		r = l
	}
	if l == "" || r == "" {
		return joinKey{}, fmt.Errorf("%q: want a column, or left_column=right_column", s)
	}
	return joinKey{l, r}, nil
}

func newTableJoin(p *engine.Params) (engine.Activity, error) {
	left, right, on := p.Expr("left"), p.Expr("right"), p.List("on")
	kind, suffix, out := p.Select("kind"), p.String("suffix"), p.Var("output")
	for i, t := range on {
		if t.IsConst() {
			if _, err := parseJoinKey(t.Source); err != nil {
				p.Fail("on", "item %d: %v", i+1, err)
			}
		}
	}
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		lrows, err := evalTable(c, left, "left")
		if err != nil {
			return "", err
		}
		rrows, err := evalTable(c, right, "right")
		if err != nil {
			return "", err
		}
		var keys []joinKey
		for i, t := range on {
			s, err := c.Text(t)
			if err != nil {
				return "", fmt.Errorf("on: %w", err)
			}
			k, err := parseJoinKey(s)
			if err != nil {
				return "", fmt.Errorf("on: item %d: %w", i+1, err)
			}
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			return "", fmt.Errorf("on: name at least one key column")
		}
		keyOf := func(r map[string]any, i int, right bool) (string, error) {
			var b strings.Builder
			for _, k := range keys {
				col, field := k.left, "left"
				if right {
					col, field = k.right, "right"
				}
				v, err := cell(r, i, col, field)
				if err != nil {
					return "", err
				}
				b.WriteString(engine.ToString(v))
				b.WriteByte(0)
			}
			return b.String(), nil
		}
		rightKey := map[string]bool{}
		for _, k := range keys {
			rightKey[k.right] = true
		}
		index := map[string][]int{}
		var rcols []string
		seen := map[string]bool{}
		for i, r := range rrows {
			k, err := keyOf(r, i, true)
			if err != nil {
				return "", err
			}
			index[k] = append(index[k], i)
			for col := range r {
				if !seen[col] && !rightKey[col] {
					seen[col] = true
					rcols = append(rcols, col)
				}
			}
		}
		sort.Strings(rcols)
		joined := []any{}
		for i, l := range lrows {
			k, err := keyOf(l, i, false)
			if err != nil {
				return "", err
			}
			matches := index[k]
			if len(matches) == 0 && kind == "left" {
				matches = []int{-1}
			}
			for _, j := range matches {
				row := make(map[string]any, len(l)+len(rcols))
				for col, v := range l {
					row[col] = v
				}
				for _, col := range rcols {
					name := col
					if _, clash := l[col]; clash {
						name = col + suffix
					}
					var v any = ""
					if j >= 0 {
						if rv, ok := rrows[j][col]; ok {
							v = rv
						}
					}
					row[name] = v
				}
				joined = append(joined, row)
			}
		}
		c.Output("rows", len(joined))
		return "", c.Set(out, joined)
	}), nil
}

var aggRE = regexp.MustCompile(`^\s*(?i:(sum|count|avg|min|max))\s*\(\s*([^()]*?)\s*\)\s*(?:(?i:as)\s+(.+?))?\s*$`)

type aggSpec struct {
	fn, col, name string
}

func parseAgg(s string) (aggSpec, error) {
	m := aggRE.FindStringSubmatch(s)
	if m == nil {
		return aggSpec{}, fmt.Errorf("%q: want function(Column) [as name], with sum, count, avg, min or max", s)
	}
	a := aggSpec{fn: strings.ToLower(m[1]), col: m[2], name: m[3]}
	if a.col == "*" {
		a.col = ""
	}
	if a.col == "" && a.fn != "count" {
		return a, fmt.Errorf("%q: %s needs a column", s, a.fn)
	}
	if a.name == "" {
		a.name = a.fn
		if a.col != "" {
			a.name += "_" + a.col
		}
	}
	return a, nil
}

// aggState accumulates one value column of one group.
type aggState struct {
	count    int
	sum      float64
	nums     int
	min, max any
}

func newTableAggregate(p *engine.Params) (engine.Activity, error) {
	table, groupBy, values, out := p.Expr("table"), p.List("group_by"), p.List("values"), p.Var("output")
	for i, t := range values {
		if t.IsConst() {
			if _, err := parseAgg(t.Source); err != nil {
				p.Fail("values", "item %d: %v", i+1, err)
			}
		}
	}
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		rows, err := evalTable(c, table, "table")
		if err != nil {
			return "", err
		}
		var groups []string
		for _, t := range groupBy {
			s, err := c.Text(t)
			if err != nil {
				return "", fmt.Errorf("group_by: %w", err)
			}
			groups = append(groups, strings.TrimSpace(s))
		}
		var aggs []aggSpec
		names := map[string]bool{}
		for _, g := range groups {
			names[g] = true
		}
		for i, t := range values {
			s, err := c.Text(t)
			if err != nil {
				return "", fmt.Errorf("values: %w", err)
			}
			a, err := parseAgg(s)
			if err != nil {
				return "", fmt.Errorf("values: item %d: %w", i+1, err)
			}
			if names[a.name] {
				return "", fmt.Errorf("values: item %d: the result column %q is named twice (use as to rename)", i+1, a.name)
			}
			names[a.name] = true
			aggs = append(aggs, a)
		}
		type group struct {
			key   []any
			state []aggState
		}
		var order []*group
		byKey := map[string]*group{}
		for i, r := range rows {
			key := make([]any, len(groups))
			var kb strings.Builder
			for j, g := range groups {
				if key[j], err = cell(r, i, g, "group_by"); err != nil {
					return "", err
				}
				kb.WriteString(engine.ToString(key[j]))
				kb.WriteByte(0)
			}
			gr := byKey[kb.String()]
			if gr == nil {
				gr = &group{key: key, state: make([]aggState, len(aggs))}
				byKey[kb.String()] = gr
				order = append(order, gr)
			}
			for j, a := range aggs {
				st := &gr.state[j]
				if a.col == "" {
					st.count++
					continue
				}
				v, err := cell(r, i, a.col, "values")
				if err != nil {
					return "", err
				}
				if empty(v) {
					continue
				}
				st.count++
				switch a.fn {
				case "sum", "avg":
					f, ok := asNumber(v)
					if !ok {
						return "", fmt.Errorf("values: %s(%s): row %d holds %q, which is not a number", a.fn, a.col, i+1, engine.ToString(v))
					}
					st.sum += f
					st.nums++
				case "min":
					if st.min == nil || compareCells(v, st.min) < 0 {
						st.min = v
					}
				case "max":
					if st.max == nil || compareCells(v, st.max) > 0 {
						st.max = v
					}
				}
			}
		}
		if len(groups) == 0 && len(order) == 0 {
			order = append(order, &group{state: make([]aggState, len(aggs))})
		}
		result := make([]any, 0, len(order))
		for _, gr := range order {
			row := make(map[string]any, len(groups)+len(aggs))
			for j, g := range groups {
				row[g] = gr.key[j]
			}
			for j, a := range aggs {
				st := gr.state[j]
				var v any
				switch a.fn {
				case "count":
					v = float64(st.count)
				case "sum":
					v = st.sum
				case "avg":
					if st.nums > 0 {
						v = st.sum / float64(st.nums)
					}
				case "min":
					v = numberIfText(st.min)
				case "max":
					v = numberIfText(st.max)
				}
				if v == nil {
					v = ""
				}
				row[a.name] = v
			}
			result = append(result, row)
		}
		c.Output("groups", len(result))
		return "", c.Set(out, result)
	}), nil
}

// numberIfText gives a number for a number written as text (min and max of
// a CSV column are numbers).
func numberIfText(v any) any {
	if s, ok := v.(string); ok {
		if f, ok := asNumber(s); ok {
			return f
		}
	}
	return v
}
