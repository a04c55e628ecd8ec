package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Control activities are part of the engine itself: every flow needs them.
func init() {
	Register(Spec{
		Type: "control.start", Title: "Start", Category: "Control", Icon: "mediaPlay",
		Summary: "Where the flow begins. A flow has exactly one.",
		New:     func(*Params) (Activity, error) { return nop, nil },
	})
	Register(Spec{
		Type: "control.end", Title: "End", Category: "Control", Icon: "mediaStop",
		Summary: "Ends the flow successfully.",
		Ports:   []string{},
		New:     func(*Params) (Activity, error) { return nop, nil },
	})
	Register(Spec{
		Type: "control.if", Title: "If", Category: "Control", Icon: "question",
		Summary: "Follows the true or false port depending on a condition.",
		Doc:     "The condition is an expression over the flow's variables, for example `total > 100 && country == \"NL\"`.",
		Fields:  []Field{{Name: "condition", Title: "Condition", Kind: KindExpr, Required: true, Help: "An expression that gives true or false."}},
		Ports:   []string{PortTrue, PortFalse},
		New:     newIf,
	})
	Register(Spec{
		Type: "control.switch", Title: "Switch", Category: "Control", Icon: "menu",
		Summary: "Follows the port of the case that equals a value, or default.",
		Doc: "The value is an expression, for example `order.status`. Each case is a text and gives the node a port " +
			"of the same name; the value, as text, is compared with the cases in order (so the number 2 matches " +
			"the case `2`), and the first case that equals it is followed. No match follows `default`. Case names " +
			"are plain text (no `{{ }}`), each at most once, and neither `default` nor `error`.",
		Fields: []Field{
			{Name: "value", Title: "Value", Kind: KindExpr, Required: true, Help: "e.g. order.status"},
			{Name: "cases", Title: "Cases", Kind: KindList, Required: true, Help: "One port per case, e.g. new, paid, shipped"},
		},
		Ports:    []string{PortDefault},
		PortsFor: switchPorts,
		New:      newSwitch,
	})
	Register(Spec{
		Type: "control.for_each", Title: "For each", Category: "Control", Icon: "list",
		Summary: "Runs the each port once per item of a list or row of a table, then done.",
		Doc: "Connect the last node of the loop body back to this node. Each visit takes the next item; " +
			"when the items are used up the done port is followed. `item` holds the current item (a table " +
			"row is an object: `row.name`), `index` its position from 0.",
		Fields: []Field{
			{Name: "items", Title: "Items", Kind: KindExpr, Required: true, Help: "A list or table, e.g. customers."},
			{Name: "item", Title: "Item variable", Kind: KindVar, Default: "item"},
			{Name: "index", Title: "Index variable", Kind: KindVar, Default: "index"},
		},
		Ports: []string{PortEach, PortDone},
		New:   newForEach,
	})
	Register(Spec{
		Type: "control.while", Title: "While", Category: "Control", Icon: "viewRefresh",
		Summary: "Follows the loop port while a condition holds, then done.",
		Doc:     "Connect the loop body back to this node. The run fails if the loop goes round more than max_iterations times.",
		Fields: []Field{
			{Name: "condition", Title: "Condition", Kind: KindExpr, Required: true},
			{Name: "max_iterations", Title: "Max iterations", Kind: KindInt, Default: 10000.0, Help: "Safety cap against endless loops."},
		},
		Ports: []string{PortLoop, PortDone},
		New:   newWhile,
	})
	Register(Spec{
		Type: "control.wait", Title: "Wait", Category: "Control", Icon: "history",
		Summary: "Pauses the flow for a while.",
		Fields:  []Field{{Name: "duration", Title: "Duration", Kind: KindDur, Required: true, Default: "1s", Help: "e.g. 500ms, 2s, 1m"}},
		New:     newWait,
	})
	Register(Spec{
		Type: "control.set_variable", Title: "Set variable", Category: "Control", Icon: "storage",
		Summary: "Assigns the value of an expression to a variable.",
		Doc: "The value is an expression: text needs quotes (`\"Dear \" + name`), numbers and variables do not (`count + 1`). " +
			"Dividing by zero (`/` or `%`) is an error, not infinity.\n\n" +
			"Limits, for every variable however it is set: one text is at most 64 MB, all the texts of one list, table " +
			"or map at most 1 GB, and one value holds at most 20,000,000 items (list items, table rows and map fields " +
			"at every depth), nested at most 100 deep. A value past a limit fails the step that made it, naming the node " +
			"and the variable, so a text that doubles in a loop stops long before the computer runs out of memory. " +
			"A variable cannot hold `$env` (all the variables), since it would contain itself.",
		Fields: []Field{
			{Name: "variable", Title: "Variable", Kind: KindVar, Required: true},
			{Name: "value", Title: "Value", Kind: KindExpr, Required: true},
		},
		New: newSetVar,
	})
	Register(Spec{
		Type: "control.log", Title: "Log message", Category: "Control", Icon: "info",
		Summary: "Writes a message to the run's log.",
		Fields: []Field{
			{Name: "message", Title: "Message", Kind: KindText, Required: true},
			{Name: "level", Title: "Level", Kind: KindSelect, Default: "info", Options: []string{"debug", "info", "warn", "error"}},
		},
		New: newLog,
	})
	Register(Spec{
		Type: "control.assert", Title: "Assert", Category: "Control", Icon: "confirm",
		Summary: "Fails the step unless a condition holds.",
		Fields: []Field{
			{Name: "condition", Title: "Condition", Kind: KindExpr, Required: true},
			{Name: "message", Title: "Message", Kind: KindText, Help: "Shown when the condition is false."},
		},
		New: newAssert,
	})
	Register(Spec{
		Type: "control.fail", Title: "Fail", Category: "Control", Icon: "error",
		Summary: "Fails the step with a message (caught by an error port, or ends the run).",
		Fields:  []Field{{Name: "message", Title: "Message", Kind: KindText, Required: true}},
		New:     newFail,
	})
	Register(Spec{
		Type: "control.call_flow", Title: "Call flow", Category: "Control", Icon: "login",
		Summary: "Runs another flow file with inputs and takes back its outputs.",
		Doc: "inputs maps the called flow's input variables to expressions evaluated here. outputs maps " +
			"variables here to expressions evaluated over the called flow's variables when it ends. " +
			"The called flow is read when the call happens (once per run while the file is unchanged), so a flow " +
			"may call itself: recursion with a stop condition works. Calls nest at most 100 deep (MaxCallDepth); " +
			"deeper, the run fails with an error that shows the chain of calls.",
		Fields: []Field{
			{Name: "flow", Title: "Flow file", Kind: KindString, Required: true, Help: "Path relative to this flow's folder."},
			{Name: "inputs", Title: "Inputs", Kind: KindMap, Help: "called variable: expression here"},
			{Name: "outputs", Title: "Outputs", Kind: KindMap, SetsVars: true, Help: "variable here: expression over the called flow's variables"},
		},
		New: newCallFlow,
	})
}

var nop = ActivityFunc(func(context.Context, *Call) (string, error) { return "", nil })

func newIf(p *Params) (Activity, error) {
	cond := p.Expr("condition")
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		ok, err := c.EvalBool(cond)
		if err != nil {
			return "", err
		}
		if ok {
			return PortTrue, nil
		}
		return PortFalse, nil
	}), nil
}

// switchCases reads the cases of a switch node's params as they are
// written, checking each; bad ones are left out with a reason.
func switchCases(params map[string]any) (cases []string, bad []string) {
	var l []any
	switch x := params["cases"].(type) {
	case []any:
		l = x
	case string:
		l = []any{x}
	}
	seen := map[string]bool{}
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			s = ToString(v)
		}
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			bad = append(bad, fmt.Sprintf("case %d is empty", i+1))
		case s == PortDefault || s == PortError:
			bad = append(bad, fmt.Sprintf("case %d: %q is the name of a port every switch has", i+1, s))
		case strings.Contains(s, "{{"):
			bad = append(bad, fmt.Sprintf("case %d: %q: cases name ports, so they are plain text without {{ }}", i+1, s))
		case seen[s]:
			bad = append(bad, fmt.Sprintf("case %d: %q appears twice", i+1, s))
		default:
			seen[s] = true
			cases = append(cases, s)
		}
	}
	return cases, bad
}

// switchPorts is control.switch's PortsFor: one port per case, then default.
func switchPorts(params map[string]any) []string {
	cases, _ := switchCases(params)
	return append(cases, PortDefault)
}

func newSwitch(p *Params) (Activity, error) {
	value := p.Expr("value")
	p.List("cases") // type checks: a list of texts
	cases, bad := switchCases(p.node.Params)
	for _, b := range bad {
		p.Fail("cases", "%s", b)
	}
	if len(cases) == 0 && len(bad) == 0 && p.Has("cases") {
		p.Fail("cases", "name at least one case")
	}
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		v, err := c.Eval(value)
		if err != nil {
			return "", err
		}
		s := ToString(v)
		for _, cs := range cases {
			if cs == s {
				return cs, nil
			}
		}
		return PortDefault, nil
	}), nil
}

type loopState struct {
	entry string // the node that entered the loop
	items []any
	next  int
	count int
}

// loopEntry returns the node's loop state, starting afresh when the node is
// entered again from the node that started the loop (the loop was left early
// and is now re-entered) or when there is none.
func loopEntry(c *Call) (*loopState, bool) {
	st, _ := c.State().(*loopState)
	if st == nil || c.From == st.entry {
		st = &loopState{entry: c.From}
		c.SetState(st)
		return st, true
	}
	return st, false
}

func newForEach(p *Params) (Activity, error) {
	items := p.Expr("items")
	itemVar, indexVar := p.Var("item"), p.Var("index")
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		st, fresh := loopEntry(c)
		if fresh {
			v, err := c.Eval(items)
			if err != nil {
				c.SetState(nil)
				return "", err
			}
			l, err := ToList(v)
			if err != nil {
				c.SetState(nil)
				return "", fmt.Errorf("items: %w", err)
			}
			st.items = l
		}
		if st.next >= len(st.items) {
			c.SetState(nil)
			return PortDone, nil
		}
		if err := c.Set(itemVar, st.items[st.next]); err != nil {
			return "", err
		}
		if indexVar != "" {
			if err := c.Set(indexVar, float64(st.next)); err != nil {
				return "", err
			}
		}
		st.next++
		return PortEach, nil
	}), nil
}

func newWhile(p *Params) (Activity, error) {
	cond := p.Expr("condition")
	max := p.Int("max_iterations")
	if max <= 0 {
		p.Fail("max_iterations", "must be at least 1")
	}
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		st, _ := loopEntry(c)
		ok, err := c.EvalBool(cond)
		if err != nil {
			c.SetState(nil)
			return "", err
		}
		if !ok {
			c.SetState(nil)
			return PortDone, nil
		}
		st.count++
		if st.count > max {
			c.SetState(nil)
			return "", fmt.Errorf("loop went round more than %d times (max_iterations)", max)
		}
		return PortLoop, nil
	}), nil
}

// durationOf evaluates a duration template: "2s", "500ms", or a number of
// milliseconds.
func durationOf(c *Call, t *Template) (time.Duration, error) {
	v, err := c.Value(t)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float64:
		ns := x * float64(time.Millisecond)
		if !(ns >= 0 && ns < float64(math.MaxInt64)) { // also NaN
			return 0, fmt.Errorf("%s ms is not a duration (negative or out of range)", ToString(x))
		}
		return time.Duration(ns), nil
	case int:
		if x < 0 || x > math.MaxInt64/int(time.Millisecond) {
			return 0, fmt.Errorf("%d ms is not a duration (negative or out of range)", x)
		}
		return time.Duration(x) * time.Millisecond, nil
	}
	s := ToString(v)
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 500ms, 2s, 1m)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// DurationOf evaluates a duration field's template at run time.
func DurationOf(c *Call, t *Template) (time.Duration, error) { return durationOf(c, t) }

func newWait(p *Params) (Activity, error) {
	dur := p.Template("duration")
	if dur.IsConst() {
		if _, err := time.ParseDuration(dur.Source); err != nil {
			p.Fail("duration", "%q is not a duration (want e.g. 500ms, 2s, 1m)", dur.Source)
		}
	}
	return ActivityFunc(func(ctx context.Context, c *Call) (string, error) {
		d, err := durationOf(c, dur)
		if err != nil {
			return "", err
		}
		c.Waiting(fmt.Sprintf("the end of its %s pause", d))
		return "", Sleep(ctx, d)
	}), nil
}

func newSetVar(p *Params) (Activity, error) {
	name, val := p.Var("variable"), p.Expr("value")
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		v, err := c.Eval(val)
		if err != nil {
			return "", err
		}
		return "", c.Set(name, v)
	}), nil
}

func newLog(p *Params) (Activity, error) {
	msg, level := p.Template("message"), p.Select("level")
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		s, err := c.Text(msg)
		if err != nil {
			return "", err
		}
		c.Log(level, s)
		return "", nil
	}), nil
}

func newAssert(p *Params) (Activity, error) {
	cond, msg := p.Expr("condition"), p.Template("message")
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		ok, err := c.EvalBool(cond)
		if err != nil || ok {
			return "", err
		}
		s, err := c.Text(msg)
		if err != nil {
			return "", err
		}
		if s == "" {
			s = fmt.Sprintf("assertion failed: %s", cond.Source)
		}
		return "", errors.New(s)
	}), nil
}

func newFail(p *Params) (Activity, error) {
	msg := p.Template("message")
	return ActivityFunc(func(_ context.Context, c *Call) (string, error) {
		s, err := c.Text(msg)
		if err != nil {
			return "", err
		}
		return "", errors.New(s)
	}), nil
}

type callFlow struct {
	path    string
	inputs  []NamedExpr
	outputs []NamedExpr
}

// newCallFlow compiles a call. A run loads the called flow when the call
// happens (see callFlow.Run); lint reads it now, once per lint, to check
// the inputs and outputs against it and the called flow itself.
func newCallFlow(p *Params) (Activity, error) {
	a := &callFlow{path: Resolve(p.BaseDir(), p.String("flow"))}
	a.inputs = p.Map("inputs")
	var called *Flow
	if !p.atRun && a.path != "" {
		scope := p.calls
		if scope == nil {
			scope = newCallScope()
		}
		f, first, err := scope.load(a.path)
		if err != nil {
			p.Fail("flow", "%v", err)
		} else {
			called = f
			if first {
				if _, err := prepare(f, p.Registry(), filepath.Dir(a.path), scope); err != nil {
					p.Fail("flow", "called flow %s: %v", a.path, err)
				}
			}
			for _, in := range a.inputs {
				if f.Variable(in.Name) == nil {
					p.Fail("inputs", "called flow %s has no variable %q", a.path, in.Name)
				}
			}
		}
	}
	// Outputs are evaluated over the called flow's variables; without the
	// called flow (at run time) any name compiles, and a wrong one fails
	// when the output is read.
	saved := p.known
	p.known = nil
	if called != nil {
		p.known = Known(called, p.Registry())
	}
	a.outputs = p.Map("outputs")
	p.known = saved
	for _, out := range a.outputs {
		if !validIdent(out.Name) {
			p.Fail("outputs", "%q is not a valid variable name", out.Name)
		}
	}
	return a, nil
}

func (a *callFlow) Run(ctx context.Context, c *Call) (string, error) {
	parent := c.Options()
	chain := append(slices.Clone(parent.chain), filepath.Base(a.path))
	if parent.depth+1 > MaxCallDepth {
		return "", &CallDepthError{Chain: chain}
	}
	called, prep, err := parent.calls.get(a.path, parent.Registry)
	if err != nil {
		return "", err
	}
	defer parent.calls.put(called, prep)
	in := make(map[string]any, len(a.inputs))
	for _, ne := range a.inputs {
		if called.flow.Variable(ne.Name) == nil {
			return "", fmt.Errorf("input %q: called flow %s has no variable %q", ne.Name, a.path, ne.Name)
		}
		v, err := c.Eval(ne.Expr)
		if err != nil {
			return "", fmt.Errorf("input %q: %w", ne.Name, err)
		}
		in[ne.Name] = v
	}
	opts := *parent
	opts.Inputs = in
	opts.BaseDir = filepath.Dir(a.path)
	opts.Prepared = prep
	opts.Control = nil
	opts.depth = parent.depth + 1
	opts.prefix = parent.prefix + c.Node.ID + "/"
	opts.chain = chain
	c.Waiting(fmt.Sprintf("the called flow %s to end", filepath.Base(a.path)))
	res, err := c.runSub(ctx, called.flow, &opts)
	if err != nil {
		var de *CallDepthError
		if errors.As(err, &de) {
			return "", de // one message for the whole chain, not one per level
		}
		return "", fmt.Errorf("called flow %s: %w", filepath.Base(a.path), err)
	}
	for _, ne := range a.outputs {
		v, err := ne.Expr.Eval(res.Vars)
		if err != nil {
			return "", fmt.Errorf("output %q: %w", ne.Name, err)
		}
		if err := c.Set(ne.Name, v); err != nil {
			return "", err
		}
	}
	c.Output("outputs", maps.Clone(res.Vars))
	return "", nil
}
