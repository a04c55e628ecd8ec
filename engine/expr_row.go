package engine

import "maps"

// DidYouMean proposes the closest of names to a mistyped one, as the
// expression checks do: ` (did you mean "Customer"?)`, or "" when none is
// close.
func DidYouMean(name string, names []string) string { return didYouMean(name, names, nil) }

// ExprWith compiles an expression field that may also use the given names,
// which the activity binds itself while it runs (table.filter binds `row`).
// Evaluate it with Call.Scope.
func (p *Params) ExprWith(name string, extra ...string) *Expr {
	saved := p.known
	if saved != nil {
		p.known = maps.Clone(saved)
		for _, n := range extra {
			p.known[n] = true
		}
	}
	e := p.Expr(name)
	p.known = saved
	return e
}

// Scope is a set of variables for expressions that bind names of their own
// (ExprWith): the run's variables plus the bound names, which hide
// variables of the same name. Make one per activity run and rebind its
// names for each item.
type Scope struct{ vars map[string]any }

// Scope returns a scope over a copy of the run's variables: a bound name
// never changes the run's own.
func (c *Call) Scope() *Scope { return &Scope{vars: maps.Clone(c.vars)} }

// Bind sets a bound name.
func (s *Scope) Bind(name string, v any) { s.vars[name] = v }

// Eval evaluates e in the scope.
func (s *Scope) Eval(e *Expr) (any, error) { return e.Eval(s.vars) }

// EvalBool evaluates a condition in the scope.
func (s *Scope) EvalBool(e *Expr) (bool, error) { return e.EvalBool(s.vars) }
