package engine_test

import (
	"context"
	"strings"
	"testing"

	"deskbot/engine"
)

// An activity may compile an expression with a name of its own (ExprWith)
// and evaluate it per item in a Scope, without touching the run's variables.
func TestExprWithScope(t *testing.T) {
	reg := engine.NewRegistry()
	for _, s := range engine.Default.Specs() {
		if strings.HasPrefix(s.Type, "control.") {
			reg.MustRegister(*s)
		}
	}
	reg.MustRegister(engine.Spec{
		Type: "test.count_if", Title: "Count if", Category: "Test",
		Fields: []engine.Field{
			{Name: "items", Kind: engine.KindExpr, Required: true},
			{Name: "cond", Kind: engine.KindExpr, Required: true},
			{Name: "output", Kind: engine.KindVar, Required: true},
		},
		New: func(p *engine.Params) (engine.Activity, error) {
			items, cond, out := p.Expr("items"), p.ExprWith("cond", "x"), p.Var("output")
			return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
				v, err := c.Eval(items)
				if err != nil {
					return "", err
				}
				l, _ := engine.ToList(v)
				s, n := c.Scope(), 0.0
				for _, it := range l {
					s.Bind("x", it)
					ok, err := s.EvalBool(cond)
					if err != nil {
						return "", err
					}
					if ok {
						n++
					}
				}
				return "", c.Set(out, n)
			}), nil
		},
	})
	flow := func(cond string) *engine.Flow {
		f := engine.NewFlow("t")
		f.Variables = []engine.Variable{{Name: "x", Type: engine.TypeString, Default: "mine"}, {Name: "limit", Type: engine.TypeNumber, Default: 2.0}}
		f.Nodes = append(f.Nodes, &engine.Node{ID: "n", Type: "test.count_if", Params: map[string]any{"items": "[1, 2, 3, 4]", "cond": cond, "output": "hits"}})
		f.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
		return f
	}
	res, err := engine.Run(context.Background(), flow("x > limit"), engine.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["hits"] != 2.0 || res.Vars["x"] != "mine" {
		t.Errorf("hits %v, x %v (the bound x must not reach the run)", res.Vars["hits"], res.Vars["x"])
	}
	// Other names are still checked; the bound name is offered.
	ps := engine.Lint(flow("y > limit"), reg, "")
	if !engine.HasErrors(ps) || !strings.Contains(ps[0].String(), `unknown variable "y"`) {
		t.Errorf("lint: %v", ps)
	}
	if got := engine.DidYouMean("Amout", []string{"Amount", "Customer"}); got != ` (did you mean "Amount"?)` {
		t.Errorf("DidYouMean: %q", got)
	}
}
