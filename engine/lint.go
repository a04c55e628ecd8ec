package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Severity of a lint problem.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Problem is one lint finding. NodeID is empty for flow-level problems.
type Problem struct {
	NodeID   string
	Field    string
	Severity string
	Msg      string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Severity)
	if p.NodeID != "" {
		fmt.Fprintf(&b, ": node %q", p.NodeID)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, ", field %q", p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// HasErrors reports whether any problem is an error.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Lint checks a flow without running it: unknown activity types, missing or
// ill-typed fields, expressions that do not compile (unknown variables and
// functions included), edges to nowhere or from ports that do not exist,
// unreachable nodes, a missing or doubled start, loops whose body never
// comes back (errors) and cycles that can never be left (warnings).
// Problems are sorted by node id. Lint takes time linear in the size of the
// flow.
func Lint(f *Flow, reg *Registry, baseDir string) []Problem {
	if reg == nil {
		reg = Default
	}
	var ps []Problem
	add := func(node, field, sev, format string, args ...any) {
		ps = append(ps, Problem{NodeID: node, Field: field, Severity: sev, Msg: fmt.Sprintf(format, args...)})
	}
	known := Known(f, reg)
	calls := newCallScope()
	starts := []string{}
	countWork(len(f.Nodes))
	for _, n := range f.Nodes {
		if n.Type == "control.start" && !n.Disabled {
			starts = append(starts, n.ID)
		}
		spec, ok := reg.Spec(n.Type)
		if !ok {
			add(n.ID, "type", SeverityError, "unknown activity type %q%s", n.Type, suggest(n.Type, reg))
			continue
		}
		for k := range n.Params {
			if spec.Field(k) == nil {
				add(n.ID, k, SeverityWarning, "%s has no field %q; it is ignored", n.Type, k)
			}
		}
		pa := newParams(n, spec, known, baseDir, reg)
		pa.calls = calls // call_flow nodes read each called flow once per lint
		_, err := spec.New(pa)
		errs := pa.Errs()
		if err != nil && len(errs) == 0 {
			errs = append(errs, err)
		}
		for _, e := range errs {
			var fe *FieldError
			if errors.As(e, &fe) {
				add(n.ID, fe.Field, SeverityError, "%s", fe.Msg)
			} else {
				add(n.ID, "", SeverityError, "%v", e)
			}
		}
	}
	switch len(starts) {
	case 0:
		add("", "", SeverityError, "the flow has no start node (control.start)")
	case 1:
	default:
		for _, id := range starts[1:] {
			add(id, "", SeverityError, "a second start node (the first is %q)", starts[0])
		}
	}
	checkGraph(f, reg, starts, add)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].NodeID < ps[j].NodeID })
	return ps
}

// suggest proposes a registered type close to a mistyped one.
func suggest(typ string, reg *Registry) string {
	best, bestD := "", 4
	for _, s := range reg.Specs() {
		if d := editDistance(typ, s.Type); d < bestD {
			best, bestD = s.Type, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
