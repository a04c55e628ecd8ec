package engine

import (
	"fmt"
	"math"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// Division and modulo in expressions: x / 0 and x % 0 are errors that name
// the expression (and, through the step, the node), not a silent +Inf, NaN
// or a crash. CompileExpr adds safeArithOptions; they rewrite every / and %
// into a call of the functions below.
const (
	safeDivName = "_deskbot_div"
	safeModName = "_deskbot_mod"
)

func safeArithOptions() []expr.Option {
	return []expr.Option{
		expr.Patch(safeArith{}),
		expr.Function(safeDivName, safeDiv),
		expr.Function(safeModName, safeMod),
	}
}

type safeArith struct{}

// Visit replaces a / b and a % b by calls; ast.Walk visits children first,
// so nested operations are replaced too.
func (safeArith) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok {
		return
	}
	var name string
	switch b.Operator {
	case "/":
		name = safeDivName
	case "%":
		name = safeModName
	default:
		return
	}
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: []ast.Node{b.Left, b.Right}})
}

func safeDiv(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("division needs two numbers")
	}
	a, b := params[0], params[1]
	if f, ok := number(b); ok && f == 0 {
		return nil, fmt.Errorf("division by zero (%s / %s)", ToString(a), ToString(b))
	}
	return runtime.Divide(a, b), nil
}

func safeMod(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("modulo needs two numbers")
	}
	a, b := params[0], params[1]
	fb, okb := number(b)
	if okb && fb == 0 {
		return nil, fmt.Errorf("modulo by zero (%s %% %s)", ToString(a), ToString(b))
	}
	if integer(a) && integer(b) {
		return runtime.Modulo(a, b), nil
	}
	fa, oka := number(a)
	if !oka || !okb {
		return nil, fmt.Errorf("invalid operation: %s %% %s (want numbers)", describe(a), describe(b))
	}
	return math.Mod(fa, fb), nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

func integer(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}
