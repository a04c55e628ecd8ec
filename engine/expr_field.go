package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// Reading a field of a map (a table row, a JSON object) that does not exist
// is a run error: a misspelled column must not silently give "". Two forms
// say that a field is optional:
//
//	customer.title ?? "Sir or Madam"   the default when the field is missing or nil
//	customer?.title                    nil (empty text) when customer is nil or has no title
//
// fieldCheck patches every other member access a.b / a["b"] into a call of
// fieldGet, which fails naming the field and the fields that exist.
// Accesses on $env (the variables themselves) and get(m, key) stay lenient.

const fieldFnName = "$field"

const optFnName = "$optfield"

var fieldCheckFunc = expr.Function(fieldFnName, fieldGet)

var optFieldFunc = expr.Function(optFnName, optFieldGet)

// optFieldGet reads base[key] for the left side of ??: nil when base is nil
// or a map without key.
func optFieldGet(args ...any) (any, error) {
	switch m := args[0].(type) {
	case map[string]any:
		if k, ok := args[1].(string); ok {
			return m[k], nil
		}
	case nil:
		return nil, nil
	}
	return runtime.Fetch(args[0], args[1]), nil
}

// fieldCheck is an expr patcher. ast.Walk visits children first, so by the
// time a ?? is seen its left side is already patched; lenient() undoes that.
type fieldCheck struct{}

func (fieldCheck) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.MemberNode:
		if x.Optional || x.Method {
			return
		}
		if id, ok := x.Node.(*ast.IdentifierNode); ok && id.Value == "$env" {
			return
		}
		ast.Patch(n, &ast.CallNode{
			Callee:    &ast.IdentifierNode{Value: fieldFnName},
			Arguments: []ast.Node{x.Node, x.Property, &ast.StringNode{Value: exprName(x.Node)}},
		})
	case *ast.BinaryNode:
		if x.Operator == "??" {
			lenient(&x.Left)
		}
	}
}

// exprName renders a (possibly patched) access chain as the user wrote it.
func exprName(n ast.Node) string {
	if c, ok := n.(*ast.CallNode); ok && len(c.Arguments) == 3 {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == fieldFnName {
			if s, ok := c.Arguments[1].(*ast.StringNode); ok && validIdent(s.Value) {
				return exprName(c.Arguments[0]) + "." + s.Value
			}
			return exprName(c.Arguments[0]) + "[" + c.Arguments[1].String() + "]"
		}
	}
	return n.String()
}

// lenient turns the checked accesses of a chain a.b.c into optional ones:
// a missing field or a nil base gives nil, which ?? replaces.
func lenient(n *ast.Node) {
	for {
		switch x := (*n).(type) {
		case *ast.ChainNode:
			n = &x.Node
			continue
		case *ast.MemberNode: // a?.b, $env.x: already lenient
			n = &x.Node
			continue
		case *ast.CallNode:
			if id, ok := x.Callee.(*ast.IdentifierNode); ok && id.Value == fieldFnName && len(x.Arguments) == 3 {
				id.Value = optFnName
				n = &x.Arguments[0]
				continue
			}
		}
		return
	}
}

// fieldGet reads base[key]; a missing key of a map is an error.
func fieldGet(args ...any) (any, error) {
	base, key := args[0], args[1]
	switch m := base.(type) {
	case map[string]any:
		if k, ok := key.(string); ok {
			if v, ok := m[k]; ok {
				return v, nil
			}
			return nil, missingField(m, k, args[2])
		}
	case nil:
		return nil, fmt.Errorf("%v is nothing (nil), so it has no field %s", args[2], ToString(key))
	}
	// Lists, strings and other values: expr's own rules (index checks).
	return runtime.Fetch(base, key), nil
}

// maxListedFields bounds the field list in a missing-field error.
const maxListedFields = 30

func missingField(m map[string]any, key string, base any) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	hint := didYouMean(key, keys, nil)
	if len(keys) > maxListedFields {
		keys = append(keys[:maxListedFields], fmt.Sprintf("… %d more", len(m)-maxListedFields))
	}
	have := "it has no fields"
	if len(keys) > 0 {
		have = "its fields are " + strings.Join(keys, ", ")
	}
	return fmt.Errorf("%v has no field %q%s; %s (write %v.%s ?? \"default\" if the field is optional)", base, key, hint, have, base, key)
}
