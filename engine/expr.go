package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Expr is an expression compiled once per node and run many times.
// It is not safe for concurrent use: each run builds its own activities.
type Expr struct {
	Source string
	prog   *vm.Program
	vm     vm.VM
}

// CompileExpr compiles src. Names not in known are rejected, so a typo in a
// variable name is found by lint, not at run time. A nil known allows any name.
func CompileExpr(src string, known map[string]bool) (*Expr, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, fmt.Errorf("empty expression")
	}
	if known != nil {
		if err := checkNames(src, known); err != nil {
			return nil, err
		}
	}
	// Variables are dynamically typed, so the program is compiled without a
	// typed environment; names were checked above.
	p, err := expr.Compile(src, append(safeArithOptions(), expr.AllowUndefinedVariables())...)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %s", src, oneLine(err.Error()))
	}
	return &Expr{Source: src, prog: p}, nil
}

// IsBuiltin reports whether name is a built-in expression function, which a
// variable cannot shadow.
func IsBuiltin(name string) bool {
	_, ok := builtin.Index[name]
	return ok
}

// checkNames rejects identifiers that are neither known variables, names
// bound inside the expression (let), nor built-in functions.
func checkNames(src string, known map[string]bool) error {
	tree, err := parser.Parse(src)
	if err != nil {
		return fmt.Errorf("expression %q: %s", src, oneLine(err.Error()))
	}
	v := &nameCheck{known: known, bound: map[string]bool{}, callee: map[ast.Node]bool{}}
	ast.Walk(&tree.Node, v)
	if v.unknown != "" {
		return fmt.Errorf("expression %q: unknown variable %q", src, v.unknown)
	}
	return nil
}

type nameCheck struct {
	known   map[string]bool
	bound   map[string]bool
	callee  map[ast.Node]bool
	idents  []*ast.IdentifierNode
	unknown string
}

func (v *nameCheck) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.VariableDeclaratorNode:
		v.bound[x.Name] = true
	case *ast.CallNode:
		v.callee[x.Callee] = true
	case *ast.IdentifierNode:
		// Walk visits children first, so a call's callee is seen before
		// the call itself; decide at the end.
		v.idents = append(v.idents, x)
	}
	if _, root := (*n).(*ast.IdentifierNode); root {
		return
	}
	v.resolve()
}

func (v *nameCheck) resolve() {
	for _, id := range v.idents {
		name := id.Value
		if v.callee[id] || v.known[name] || v.bound[name] || name == "$env" || v.unknown != "" {
			continue
		}
		if _, fn := builtin.Index[name]; fn {
			continue
		}
		v.unknown = name
	}
	v.idents = v.idents[:0]
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Eval runs the expression against variables.
func (e *Expr) Eval(vars map[string]any) (any, error) {
	v, err := e.vm.Run(e.prog, vars)
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %s", e.Source, oneLine(err.Error()))
	}
	return v, nil
}

// EvalBool runs the expression and requires a bool result.
func (e *Expr) EvalBool(vars map[string]any) (bool, error) {
	v, err := e.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %q gave %s, want true or false", e.Source, describe(v))
	}
	return b, nil
}

// Template is text with {{ expr }} holes, compiled once.
type Template struct {
	Source string
	lits   []string // len(lits) == len(exprs)+1
	exprs  []*Expr
}

// CompileTemplate parses "Dear {{ row.name }}," style text.
func CompileTemplate(src string, known map[string]bool) (*Template, error) {
	t := &Template{Source: src}
	rest := src
	var lit strings.Builder
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			lit.WriteString(rest)
			break
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("template %q: %q without closing %q", src, "{{", "}}")
		}
		lit.WriteString(rest[:i])
		e, err := CompileExpr(rest[i+2:i+2+j], known)
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", src, err)
		}
		t.lits = append(t.lits, lit.String())
		lit.Reset()
		t.exprs = append(t.exprs, e)
		rest = rest[i+2+j+2:]
	}
	t.lits = append(t.lits, lit.String())
	return t, nil
}

// IsConst reports whether the template has no holes.
func (t *Template) IsConst() bool { return len(t.exprs) == 0 }

// Value evaluates the template. A template that is exactly one hole gives
// the expression's value unchanged (a list stays a list); otherwise a string.
func (t *Template) Value(vars map[string]any) (any, error) {
	if len(t.exprs) == 1 && t.lits[0] == "" && t.lits[1] == "" {
		return t.exprs[0].Eval(vars)
	}
	return t.String(vars)
}

// String evaluates the template to text.
func (t *Template) String(vars map[string]any) (string, error) {
	if len(t.exprs) == 0 {
		return t.lits[0], nil
	}
	var b strings.Builder
	for i, e := range t.exprs {
		b.WriteString(t.lits[i])
		v, err := e.Eval(vars)
		if err != nil {
			return "", err
		}
		b.WriteString(ToString(v))
	}
	b.WriteString(t.lits[len(t.lits)-1])
	return b.String(), nil
}

// ToString formats a value for text: numbers without needless decimals,
// lists and maps as JSON, nil as "". A value JSON cannot hold (a list or
// map that contains itself, NaN) is written JSON-like, with "<cycle>" for
// the repeat.
func ToString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	case error:
		return x.Error()
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	// Not fmt.Sprint: it recurses forever into a map that holds itself.
	return safeText(v)
}

func describe(v any) string {
	if v == nil {
		return "nothing (nil)"
	}
	s := ToString(v)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%T %q", v, s)
}

// Coerce converts v to a variable type. Strings (from --var or a form) are
// parsed: numbers, bools, and JSON for list, map and table.
func Coerce(typ string, v any) (any, error) {
	switch typ {
	case TypeAny, "":
		return v, nil
	case TypeString:
		return ToString(v), nil
	case TypeNumber:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
	case TypeBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil {
				return nil, fmt.Errorf("%q is not true or false", x)
			}
			return b, nil
		}
	case TypeList, TypeTable:
		if s, ok := v.(string); ok {
			var out []any
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return nil, fmt.Errorf("%q is not a JSON list", s)
			}
			v = out
		}
		if l, ok := v.([]any); ok {
			if typ == TypeTable {
				for i, r := range l {
					if _, ok := r.(map[string]any); !ok {
						return nil, fmt.Errorf("table row %d is %s, want an object", i, describe(r))
					}
				}
			}
			return l, nil
		}
	case TypeMap:
		if s, ok := v.(string); ok {
			var out map[string]any
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return nil, fmt.Errorf("%q is not a JSON object", s)
			}
			return out, nil
		}
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	default:
		return nil, fmt.Errorf("unknown type %q", typ)
	}
	return nil, fmt.Errorf("%s is not a %s", describe(v), typ)
}

// ToList turns a list-like value into []any: lists, tables, and maps
// (sorted keys) are accepted.
func ToList(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("%s is not a list", describe(v))
}
