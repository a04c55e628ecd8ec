package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Expr is an expression compiled once per node and run many times.
// It is not safe for concurrent use: each run builds its own activities.
type Expr struct {
	Source string
	prog   *vm.Program
	vm     vm.VM
	// field is the node field the expression was compiled from (set by
	// Params); a Call records the value under it as the step's input.
	field string
}

// Limits on an expression's source, checked before parsing: the parser
// recurses once per nesting level, so a hostile or broken flow could
// otherwise overflow the stack.
const (
	// MaxExprLen is the longest expression (one field, or one {{ }} hole).
	MaxExprLen = 20_000
	// MaxExprNesting is the deepest nesting of brackets and prefix operators.
	MaxExprNesting = 100
)

// CompileExpr compiles src. Names not in known are rejected, so a typo in a
// variable name is found by lint, not at run time. A nil known allows any
// variable name. Unknown functions are always rejected. Reading a missing
// field of a map is a run error unless the access is optional (a?.b) or has
// a default (a.b ?? "none"); see fieldCheck.
func CompileExpr(src string, known map[string]bool) (*Expr, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, fmt.Errorf("empty expression")
	}
	if err := checkDepth(src); err != nil {
		return nil, err
	}
	c := compileCached(src)
	if c.early != nil {
		return nil, c.early
	}
	if known != nil {
		for _, name := range c.names {
			if known[name] {
				continue
			}
			if IsBuiltin(name) {
				return nil, fmt.Errorf("expression %s: %q is a function; call it as %s(...)", clip(src), name, name)
			}
			return nil, fmt.Errorf("expression %s: unknown variable %q%s", clip(src), name, didYouMean(name, nil, known))
		}
	}
	if c.late != nil {
		return nil, c.late
	}
	return &Expr{Source: src, prog: c.prog}, nil
}

// compiled is what compiling a source gives, whatever the known names.
type compiled struct {
	early error       // a syntax error or an unknown function
	names []string    // the variables it reads, in order
	late  error       // a type or compile error
	prog  *vm.Program // shared: a Program is read-only when run
}

// maxCached bounds the compile cache; it is emptied when full.
const maxCached = 4096

var cache struct {
	sync.Mutex
	m map[string]*compiled
}

// compileCached compiles src once: lint and prepare (and the studio's lint
// on every edit) compile the same expressions again and again.
func compileCached(src string) *compiled {
	cache.Lock()
	c := cache.m[src]
	cache.Unlock()
	if c != nil {
		return c
	}
	c = compileSource(src)
	cache.Lock()
	if cache.m == nil || len(cache.m) >= maxCached {
		cache.m = make(map[string]*compiled, 64)
	}
	cache.m[src] = c
	cache.Unlock()
	return c
}

func compileSource(src string) *compiled {
	c := &compiled{}
	cfg := configs.Get().(*conf.Config)
	defer configs.Put(cfg)
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		c.early = fmt.Errorf("expression %s: %s", clip(src), oneLine(err.Error()))
		return c
	}
	if c.names, c.early = freeNames(src, tree); c.early != nil {
		return c
	}
	// Variables are dynamically typed, so the program is compiled without a
	// typed environment; names are checked by CompileExpr. This is
	// expr.Compile with the parse shared and the configuration reused.
	// fieldCheck needs no types, so it is walked here rather than given to
	// expr as a patcher, which would type-check the tree once more.
	ast.Walk(&tree.Node, fieldCheck{})
	if _, err = new(checker.Checker).PatchAndCheck(tree, cfg); err == nil {
		if err = optimizer.Optimize(&tree.Node, cfg); err == nil {
			if c.prog, err = compiler.Compile(tree, cfg); err == nil {
				return c
			}
		}
	}
	var fe *file.Error
	if errors.As(err, &fe) {
		err = fe.Bind(tree.Source)
	}
	c.late = fmt.Errorf("expression %s: %s", clip(src), oneLine(err.Error()))
	return c
}

// exprOptions configure every expression compile.
var exprOptions = append(append([]expr.Option{expr.AllowUndefinedVariables(), fieldCheckFunc, optFieldFunc}, safeArithOptions()...), pathFuncOptions()...)

// configs holds compile configurations. Building one (expr.Compile does it
// for every expression) is most of the cost of compiling a short
// expression; a configuration is reused, one goroutine at a time, because
// the checker caches types in it.
var configs = sync.Pool{New: func() any {
	cfg := conf.CreateNew()
	for _, op := range exprOptions {
		op(cfg)
	}
	cfg.Check()
	return cfg
}}

// IsBuiltin reports whether name is a built-in expression function, which a
// variable cannot shadow.
func IsBuiltin(name string) bool {
	_, ok := builtin.Index[name]
	return ok || isPathFunc(name)
}

// checkDepth rejects sources too long or too deeply nested to parse safely.
// Nesting counts open brackets plus the prefix operators (!, -, +, not)
// that stand before an operand; string literals are skipped.
func checkDepth(src string) error {
	if len(src) > MaxExprLen {
		return fmt.Errorf("expression %s is too long (%d characters; at most %d)", clip(src), len(src), MaxExprLen)
	}
	depth, prefix, max := 0, 0, 0
	operand := false // the previous token ends an operand (so - is binary)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			// Skip the literal; an unclosed one is the parser's to report.
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' && c != '`' {
					i++
				}
			}
			operand, prefix = true, 0
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
			operand = false
		case c == ')' || c == ']' || c == '}':
			depth--
			operand, prefix = true, 0
		case c == '!' && (i+1 >= len(src) || src[i+1] != '='), (c == '-' || c == '+') && !operand:
			prefix++
			operand = false
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			if w := src[i:j]; w == "not" {
				prefix++
				operand = false
			} else if w == "and" || w == "or" || w == "in" || w == "matches" || w == "contains" || w == "startsWith" || w == "endsWith" || w == "let" {
				operand, prefix = false, 0
			} else {
				operand, prefix = true, 0
			}
			i = j - 1
		default:
			operand, prefix = false, 0
		}
		if d := depth + prefix; d > max {
			max = d
			if max > MaxExprNesting {
				return fmt.Errorf("expression %s is nested too deeply (more than %d levels of brackets or prefix operators)", clip(src), MaxExprNesting)
			}
		}
	}
	return nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c == '#' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

// clip quotes an expression for an error message, shortened when long.
func clip(src string) string {
	if len(src) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(src[cut]) {
			cut--
		}
		return strconv.Quote(src[:cut]) + "…"
	}
	return strconv.Quote(src)
}

// freeNames returns the variables an expression reads: identifiers that are
// neither bound inside it (let) nor called; it rejects calls of functions
// that do not exist.
func freeNames(src string, tree *parser.Tree) ([]string, error) {
	v := &nameCheck{bound: map[string]bool{}, callee: map[ast.Node]bool{}}
	ast.Walk(&tree.Node, v)
	// Decide only after the whole tree was seen: a let binding's use is
	// visited before its declaration.
	for _, fn := range v.calls {
		if !IsBuiltin(fn) {
			return nil, fmt.Errorf("expression %s: unknown function %q%s", clip(src), fn, didYouMean(fn, append(pathFuncNames(), builtin.Names...), nil))
		}
	}
	var names []string
	for _, id := range v.idents {
		if !v.callee[id] && !v.bound[id.Value] && id.Value != "$env" {
			names = append(names, id.Value)
		}
	}
	return names, nil
}

// nameCheck collects the identifiers an expression reads and the functions
// it calls. Predicate fields (.name, #) are MemberNodes and PointerNodes, not
// identifiers, so they need no special case.
type nameCheck struct {
	bound  map[string]bool
	callee map[ast.Node]bool
	idents []*ast.IdentifierNode
	calls  []string
}

func (v *nameCheck) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.VariableDeclaratorNode:
		v.bound[x.Name] = true
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok {
			v.calls = append(v.calls, id.Value)
			v.callee[id] = true
		}
	case *ast.IdentifierNode:
		v.idents = append(v.idents, x)
	}
}

func sameLen(a, b string) bool { return len(a) == len(b) }

// didYouMean proposes the closest of names (a list or a set's keys) to a
// mistyped one, or "".
func didYouMean(name string, list []string, set map[string]bool) string {
	best, bestD := "", 0
	try := func(c string) {
		if c == name || strings.HasPrefix(c, "$") {
			return
		}
		if l := len(c) - len(name); l > 3 || l < -3 {
			return
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d > 3 || d*2 > len(name) {
			return
		}
		// Ties: a same-length name (a swapped letter) first, then A-Z.
		if best == "" || d < bestD || d == bestD && (sameLen(c, name) && !sameLen(best, name) || sameLen(c, name) == sameLen(best, name) && c < best) {
			best, bestD = c, d
		}
	}
	for _, c := range list {
		try(c)
	}
	for c := range set {
		try(c)
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
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
	// field is the node field the template was compiled from (set by
	// Params); a Call records the value under it as the step's input.
	field string
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
			return nil, fmt.Errorf("template %s: %q without closing %q", clip(src), "{{", "}}")
		}
		lit.WriteString(rest[:i])
		e, err := CompileExpr(rest[i+2:i+2+j], known)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", clip(src), err)
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
