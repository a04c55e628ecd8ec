package engine

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Params gives an activity constructor typed, validated access to a node's
// params. Getters never fail: they record a FieldError naming the node and
// field, and New's caller reports all of them together.
type Params struct {
	node    *Node
	spec    *Spec
	known   map[string]bool
	baseDir string
	reg     *Registry
	errs    []error
	// atRun is set when a run prepares its flow: call_flow then reads the
	// called flow when it is called, not now.
	atRun bool
	// calls is the called flows one lint has read (nil: each node its own).
	calls *callScope
}

func newParams(n *Node, s *Spec, known map[string]bool, baseDir string, reg *Registry) *Params {
	p := &Params{node: n, spec: s, known: known, baseDir: baseDir, reg: reg}
	if err := n.checkDurations(); err != nil {
		p.errs = append(p.errs, err)
	}
	return p
}

// NodeID is the id of the node being built.
func (p *Params) NodeID() string { return p.node.ID }

// BaseDir is the folder of the flow file; relative paths resolve against it.
func (p *Params) BaseDir() string { return p.baseDir }

// Registry is the registry the flow is built from (for sub-flows).
func (p *Params) Registry() *Registry { return p.reg }

// Known is the set of variable names expressions may use.
func (p *Params) Known() map[string]bool { return p.known }

// Fail records a problem with a field.
func (p *Params) Fail(field, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Node: p.node.ID, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Err returns all recorded problems, or nil.
func (p *Params) Err() error { return errors.Join(p.errs...) }

// Errs returns the recorded problems.
func (p *Params) Errs() []error { return p.errs }

// Has reports whether the node sets the field.
func (p *Params) Has(name string) bool {
	v, ok := p.node.Params[name]
	if !ok || v == nil {
		return false
	}
	if s, ok := v.(string); ok && s == "" {
		return false
	}
	return true
}

// raw returns the param value or the spec default; it records a missing
// required field.
func (p *Params) raw(name string) (any, bool) {
	f := p.spec.Field(name)
	if f == nil {
		panic(fmt.Sprintf("activity %s reads undeclared field %q", p.spec.Type, name))
	}
	if p.Has(name) {
		return p.node.Params[name], true
	}
	if f.Default != nil {
		return f.Default, true
	}
	if f.Required {
		p.Fail(name, "required field is missing")
	}
	return nil, false
}

// String returns a plain string field.
func (p *Params) String(name string) string {
	v, ok := p.raw(name)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		if _, num := v.(float64); num {
			return ToString(v)
		}
		p.Fail(name, "want text, got %s", describe(v))
	}
	return s
}

// Select returns a select field and checks it against the options.
func (p *Params) Select(name string) string {
	s := p.String(name)
	if s == "" {
		return s
	}
	for _, o := range p.spec.Field(name).Options {
		if o == s {
			return s
		}
	}
	p.Fail(name, "%q is not one of %s", s, strings.Join(p.spec.Field(name).Options, ", "))
	return s
}

// Template compiles a text field. A missing optional field gives an empty
// constant template.
func (p *Params) Template(name string) *Template {
	s := p.String(name)
	t, err := CompileTemplate(s, p.known)
	if err != nil {
		p.Fail(name, "%v", err)
		t, _ = CompileTemplate("", nil)
	}
	t.field = name
	return t
}

// Expr compiles an expression field; nil when the field is unset.
func (p *Params) Expr(name string) *Expr {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	var src string
	switch x := v.(type) {
	case string:
		src = x
	case float64, bool:
		src = ToString(x)
	default:
		p.Fail(name, "want an expression, got %s", describe(v))
		return nil
	}
	e, err := CompileExpr(src, p.known)
	if err != nil {
		p.Fail(name, "%v", err)
		return nil
	}
	e.field = name
	return e
}

// Float returns a number field.
func (p *Params) Float(name string) float64 {
	v, ok := p.raw(name)
	if !ok {
		return 0
	}
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err == nil {
			return f
		}
	}
	p.Fail(name, "want a number, got %s", describe(v))
	return 0
}

// Int returns a whole-number field.
func (p *Params) Int(name string) int {
	f := p.Float(name)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		p.Fail(name, "want a whole number, got %v", f)
	}
	return int(f)
}

// Bool returns a bool field.
func (p *Params) Bool(name string) bool {
	v, ok := p.raw(name)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b
		}
	}
	p.Fail(name, "want true or false, got %s", describe(v))
	return false
}

// Var returns a variable-name field, checked to be a valid name.
func (p *Params) Var(name string) string {
	s := p.String(name)
	if s != "" && !validIdent(s) {
		p.Fail(name, "%q is not a valid variable name", s)
	} else if IsBuiltin(s) {
		p.Fail(name, "%q is the name of a built-in function; choose another name", s)
	}
	return s
}

// Duration returns a duration field given as "2s" or milliseconds.
func (p *Params) Duration(name string) time.Duration {
	v, ok := p.raw(name)
	if !ok {
		return 0
	}
	switch x := v.(type) {
	case float64:
		if x >= 0 && x*float64(time.Millisecond) < float64(math.MaxInt64) {
			return time.Duration(x * float64(time.Millisecond))
		}
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err == nil && d >= 0 {
			return d
		}
	}
	p.Fail(name, "want a duration such as 500ms or 2s (not negative, at most %s), got %s", time.Duration(math.MaxInt64), describe(v))
	return 0
}

// List compiles a list-of-templates field. Item i (from 0) is recorded as
// the step's input "name[i]".
func (p *Params) List(name string) []*Template {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		if s, isStr := v.(string); isStr {
			l = []any{s}
		} else {
			p.Fail(name, "want a list of texts, got %s", describe(v))
			return nil
		}
	}
	out := make([]*Template, 0, len(l))
	for i, x := range l {
		s, isStr := x.(string)
		if !isStr {
			s = ToString(x)
		}
		t, err := CompileTemplate(s, p.known)
		if err != nil {
			p.Fail(name, "item %d: %v", i+1, err)
			continue
		}
		t.field = fmt.Sprintf("%s[%d]", name, i)
		out = append(out, t)
	}
	return out
}

// NamedExpr is one entry of a map field.
type NamedExpr struct {
	Name string
	Expr *Expr
}

// Map compiles a name -> expression field, sorted by name. Entry key is
// recorded as the step's input "name.key".
func (p *Params) Map(name string) []NamedExpr {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		p.Fail(name, "want an object of name: expression, got %s", describe(v))
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]NamedExpr, 0, len(keys))
	for _, k := range keys {
		src, isStr := m[k].(string)
		if !isStr {
			src = ToString(m[k])
		}
		e, err := CompileExpr(src, p.known)
		if err != nil {
			p.Fail(name, "%s: %v", k, err)
			continue
		}
		e.field = name + "." + k
		out = append(out, NamedExpr{Name: k, Expr: e})
	}
	return out
}

// Resolve makes a path relative to the flow's folder absolute.
func Resolve(base, path string) string {
	if path == "" || filepath.IsAbs(path) || base == "" {
		return path
	}
	return filepath.Join(base, path)
}
