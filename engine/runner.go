package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrStoppedByUser is the cancel cause for a stop the user asked for: the
// Stop button, the failsafe corner or the stop hotkey.
var ErrStoppedByUser = errors.New("stopped by the user")

// StepError is a node's failure that ended a run.
type StepError struct {
	NodeID string
	Label  string // the node's label, if it has one
	Type   string
	Err    error
}

// Error names the node by label first, then id and type: `"Write letter"
// (node "n3", file.write): ...`; a node without a label by id.
func (e *StepError) Error() string {
	if e.Label != "" && e.Label != e.NodeID {
		return fmt.Sprintf("%q (node %q, %s): %v", e.Label, e.NodeID, e.Type, e.Err)
	}
	return fmt.Sprintf("node %q (%s): %v", e.NodeID, e.Type, e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }

// Options configure one run.
type Options struct {
	Registry *Registry // nil means Default
	Observer Observer  // may be nil
	Control  *Control  // pause/step/breakpoints; may be nil
	DryRun   bool      // describe side effects instead of doing them
	Inputs   map[string]any
	// BaseDir resolves relative paths (the flow file's folder).
	BaseDir string
	// ArtifactDir receives screenshots and other files of the run.
	ArtifactDir string
	RunID       string
	// Services hands run-wide objects to activities (the desktop, model
	// providers, the store). Keys are package-private types.
	Services map[any]any
	// MaxSteps stops runaway flows; 0 means 10,000,000.
	MaxSteps int
	// Prepared reuses a Prepare result (the flow must be the same).
	Prepared *Prepared

	// Path is the flow's file, for messages (the chain of calls).
	Path string

	depth  int
	prefix string
	chain  []string  // the files of the calls that led here, the top flow first
	calls  *runCalls // called flows, loaded once per run
}

// Result is what a finished run leaves.
type Result struct {
	RunID  string
	Status string
	Steps  int
	Vars   map[string]any
	Err    error
}

// Prepared holds a flow's activities built once.
type Prepared struct {
	flow  *Flow
	nodes map[string]*prepNode
	start string
}

type prepNode struct {
	node    *Node
	spec    *Spec
	act     Activity
	next    map[string]string // port -> node id
	ports   []string          // the node's output ports (Spec.NodePorts), error aside
	errVar  string
	timeout time.Duration
	// running is closed when the node's last timed-out activity has
	// returned; nil when none is left running.
	running chan struct{}
}

// detachedGrace is how long a node waits, before it runs again, for its
// previous timed-out attempt to return: the activity is not safe for use
// by two goroutines at once.
const detachedGrace = 5 * time.Second

// Known returns the variable names a flow's expressions may use: declared
// variables, variables named by activities' variable fields, error vars and
// the built-ins.
func Known(f *Flow, reg *Registry) map[string]bool {
	known := map[string]bool{"last_error": true, "run_id": true, "flow_dir": true}
	for _, v := range f.Variables {
		known[v.Name] = true
	}
	for _, n := range f.Nodes {
		if n.ErrorVar != "" {
			known[n.ErrorVar] = true
		}
		spec, ok := reg.Spec(n.Type)
		if !ok {
			continue
		}
		for _, fd := range spec.Fields {
			if fd.Kind != KindVar {
				continue
			}
			name, _ := n.Params[fd.Name].(string)
			if name == "" {
				name, _ = fd.Default.(string)
			}
			if name != "" {
				known[name] = true
			}
		}
		if spec.Sets != nil {
			for _, name := range spec.Sets(n.Params) {
				known[name] = true
			}
		}
		for _, fd := range spec.Fields {
			if fd.Kind == KindMap && fd.SetsVars {
				m, _ := n.Params[fd.Name].(map[string]any)
				for k := range m {
					known[k] = true
				}
			}
		}
	}
	return known
}

// Prepare builds every node's activity once, validating params. Its error
// joins one FieldError per problem. It does not read the flows that
// call_flow nodes call: a run reads them when they are called.
func Prepare(f *Flow, reg *Registry, baseDir string) (*Prepared, error) {
	return prepare(f, reg, baseDir, nil)
}

// prepare is Prepare; with a scope (lint), call_flow nodes read and check
// the flows they call, each file once per scope.
func prepare(f *Flow, reg *Registry, baseDir string, scope *callScope) (*Prepared, error) {
	if reg == nil {
		reg = Default
	}
	known := Known(f, reg)
	countWork(len(f.Nodes))
	p := &Prepared{flow: f, nodes: make(map[string]*prepNode, len(f.Nodes))}
	var errs []error
	for _, n := range f.Nodes {
		if n.Type == "control.start" && !n.Disabled {
			if p.start != "" {
				errs = append(errs, &FieldError{Node: n.ID, Msg: fmt.Sprintf("a second start node (the first is %q)", p.start)})
			}
			p.start = n.ID
		}
		spec, ok := reg.Spec(n.Type)
		if !ok {
			errs = append(errs, &FieldError{Node: n.ID, Field: "type", Msg: fmt.Sprintf("unknown activity type %q", n.Type)})
			continue
		}
		pa := newParams(n, spec, known, baseDir, reg)
		pa.atRun, pa.calls = scope == nil, scope
		act, err := spec.New(pa)
		if err == nil {
			err = pa.Err()
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pn := &prepNode{node: n, spec: spec, act: act, next: map[string]string{}, ports: spec.NodePorts(n), errVar: n.ErrorVar}
		if pn.errVar == "" {
			pn.errVar = "last_error"
		}
		pn.timeout = time.Duration(n.Timeout)
		if pn.timeout == 0 {
			pn.timeout = time.Duration(f.Settings.DefaultTimeout)
		}
		p.nodes[n.ID] = pn
	}
	ids := make(map[string]bool, len(f.Nodes))
	for _, n := range f.Nodes {
		ids[n.ID] = true
	}
	countWork(len(f.Nodes) + len(f.Edges))
	for _, e := range f.Edges {
		pn, ok := p.nodes[e.From]
		if !ok {
			if !ids[e.From] {
				errs = append(errs, &FieldError{Node: e.From, Msg: fmt.Sprintf("edge from unknown node %q", e.From)})
			}
			continue
		}
		if !ids[e.To] {
			errs = append(errs, &FieldError{Node: e.From, Field: "edges", Msg: fmt.Sprintf("port %q leads to unknown node %q", e.Port, e.To)})
			continue
		}
		if !pn.hasPort(e.Port) {
			errs = append(errs, &FieldError{Node: e.From, Field: "edges", Msg: fmt.Sprintf("%s has no port %q (ports: %s)", pn.spec.Type, e.Port, strings.Join(append(slices.Clone(pn.ports), PortError), ", "))})
			continue
		}
		if prev, dup := pn.next[e.Port]; dup {
			errs = append(errs, &FieldError{Node: e.From, Field: "edges", Msg: fmt.Sprintf("port %q is connected twice (to %q and %q)", e.Port, prev, e.To)})
			continue
		}
		pn.next[e.Port] = e.To
	}
	if p.start == "" {
		errs = append(errs, &FieldError{Msg: "the flow has no start node (control.start)"})
	}
	if len(errs) == 0 {
		errs = loopErrors(f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Vars are a run's variables.
type Vars struct {
	m       map[string]any
	version int
}

// runState is one flow's execution (a sub-flow has its own).
type runState struct {
	opts    *Options
	prep    *Prepared
	vars    Vars
	snapVer int
	state   map[string]any
	seq     *int
	call    Call
	obs     Observer
	inputs  bool                  // record steps' inputs: observed, and the observer wants them
	sizes   map[string]*valueSize // the last size check of list variables (run goroutine only)

	cleanupMu sync.Mutex
	cleanup   []func()
	ended     bool
}

// Call is what an activity sees while it runs: variables, evaluation,
// logging, outputs and services.
//
// An activity under a timeout runs on its own goroutine. Its Call then works
// on a private copy of the variables, and once the timeout has passed (or
// the run was stopped) the Call is detached: whatever the activity still
// does through it (Set, Log, Output, SetState) no longer reaches the run.
type Call struct {
	rs      *runState
	Node    *Node
	Attempt int
	From    string // the node that led here, "" at the start
	outputs map[string]any
	inputs  map[string]any // field values evaluated; nil unless rs.inputs
	vars    map[string]any // the run's variables, or a private copy (g != nil)
	g       *callGuard     // nil unless the activity runs on its own goroutine
	state   any            // the node's state once detached
}

// callGuard separates a timed activity's goroutine from the run.
type callGuard struct {
	mu       sync.Mutex
	detached bool
	waiting  string
}

// enter locks the guard and reports whether the call still reaches the run;
// leave must follow.
func (c *Call) enter() bool {
	if c.g == nil {
		return true
	}
	c.g.mu.Lock()
	return !c.g.detached
}

func (c *Call) leave() {
	if c.g != nil {
		c.g.mu.Unlock()
	}
}

// detach cuts the call off from the run; it returns what the activity said
// it was waiting for.
func (c *Call) detach() string {
	if c.g == nil {
		return ""
	}
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	c.g.detached = true
	return c.g.waiting
}

// Waiting tells the run what the activity is waiting for (a program to
// exit, a window titled "Invoice", an image): a node timeout names it.
func (c *Call) Waiting(what string) {
	if c.g == nil {
		return
	}
	c.g.mu.Lock()
	c.g.waiting = what
	c.g.mu.Unlock()
}

// Vars returns the variables map; treat it as read-only, use Set to write.
func (c *Call) Vars() map[string]any { return c.vars }

// Get returns a variable.
func (c *Call) Get(name string) (any, bool) { v, ok := c.vars[name]; return v, ok }

// Set assigns a variable. Declared variables are converted to their type.
// A value over the size limits (see CheckSize) is an error.
func (c *Call) Set(name string, v any) error {
	if d := c.rs.prep.flow.Variable(name); d != nil && v != nil {
		cv, err := Coerce(d.Type, v)
		if err != nil {
			return fmt.Errorf("set variable %q: %w", name, err)
		}
		v = cv
	}
	var prev *valueSize
	if c.g == nil {
		prev = c.rs.sizes[name]
	}
	size, err := checkSizeIn(v, c.vars, prev)
	if err != nil {
		return fmt.Errorf("set variable %q: %w", name, err)
	}
	attached := c.enter()
	defer c.leave()
	if c.g == nil {
		if size != nil {
			if c.rs.sizes == nil {
				c.rs.sizes = map[string]*valueSize{}
			}
			c.rs.sizes[name] = size
		} else {
			delete(c.rs.sizes, name)
		}
	}
	c.vars[name] = v
	if attached && c.g != nil {
		c.rs.vars.m[name] = v
	}
	if attached {
		c.rs.vars.version++
	}
	return nil
}

// Text evaluates a template to a string. Text, Value, Eval, EvalBool and
// Path record the value as the step's input under the field's name when
// the run's observer wants inputs (see InputsObserver).
func (c *Call) Text(t *Template) (string, error) {
	s, err := t.String(c.vars)
	if err == nil && len(s) > MaxTextBytes {
		return "", sizeErr(len(s), 0)
	}
	if err == nil && c.rs.inputs {
		c.input(t.field, s)
	}
	return s, err
}

// Value evaluates a template to a value.
func (c *Call) Value(t *Template) (any, error) {
	v, err := t.Value(c.vars)
	if err == nil && c.rs.inputs {
		c.input(t.field, v)
	}
	return v, err
}

// Eval evaluates an expression.
func (c *Call) Eval(e *Expr) (any, error) {
	v, err := e.Eval(c.vars)
	if err == nil && c.rs.inputs {
		c.input(e.field, v)
	}
	return v, err
}

// EvalBool evaluates a condition, which must give true or false.
func (c *Call) EvalBool(e *Expr) (bool, error) {
	b, err := e.EvalBool(c.vars)
	if err == nil && c.rs.inputs {
		c.input(e.field, b)
	}
	return b, err
}

// Path evaluates a path template and resolves it against the flow folder.
func (c *Call) Path(t *Template) (string, error) {
	s, err := t.String(c.vars)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fmt.Errorf("empty path")
	}
	s = Resolve(c.rs.opts.BaseDir, s)
	if c.rs.inputs {
		c.input(t.field, s)
	}
	return s, nil
}

// input records a field's value as the step's input (the last evaluation
// of a field wins). Only called when rs.inputs is set.
func (c *Call) input(field string, v any) {
	if field == "" {
		return
	}
	if !c.enter() {
		c.leave()
		return
	}
	defer c.leave()
	if c.inputs == nil {
		c.inputs = map[string]any{}
	}
	c.inputs[field] = v
}

// Log emits a log event from the node.
func (c *Call) Log(level, msg string) {
	if c.rs.obs == nil {
		return
	}
	if !c.enter() {
		c.leave()
		return
	}
	defer c.leave()
	c.rs.obs.Event(Event{Kind: EventLog, Time: time.Now(), RunID: c.rs.opts.RunID, Flow: c.rs.prep.flow.Name,
		Depth: c.rs.opts.depth, Seq: *c.rs.seq, NodeID: c.rs.opts.prefix + c.Node.ID, Type: c.Node.Type,
		Level: level, Message: msg})
}

// Logf emits an info log event.
func (c *Call) Logf(format string, args ...any) { c.Log("info", fmt.Sprintf(format, args...)) }

// Output records a value shown with the step in history (not a variable).
func (c *Call) Output(name string, v any) {
	if !c.enter() {
		c.leave()
		return
	}
	defer c.leave()
	if c.outputs == nil {
		c.outputs = map[string]any{}
	}
	c.outputs[name] = v
}

// DryRun reports whether this is a dry run.
func (c *Call) DryRun() bool { return c.rs.opts.DryRun }

// Service returns the run-wide object stored under key, or nil.
func (c *Call) Service(key any) any { return c.rs.opts.Services[key] }

// Flow is the flow being run.
func (c *Call) Flow() *Flow { return c.rs.prep.flow }

// RunID is the run's id.
func (c *Call) RunID() string { return c.rs.opts.RunID }

// BaseDir is the flow file's folder.
func (c *Call) BaseDir() string { return c.rs.opts.BaseDir }

// ArtifactDir returns the run's artifact folder, creating it.
func (c *Call) ArtifactDir() (string, error) {
	d := c.rs.opts.ArtifactDir
	if d == "" {
		d = filepath.Join(os.TempDir(), "deskbot-artifacts", c.rs.opts.RunID)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("artifact folder: %w", err)
	}
	return d, nil
}

// State returns the node's loop state (kept between visits of the node).
func (c *Call) State() any {
	if !c.enter() {
		c.leave()
		return c.state
	}
	defer c.leave()
	return c.rs.state[c.Node.ID]
}

// SetState stores the node's loop state; nil clears it.
func (c *Call) SetState(v any) {
	if !c.enter() {
		c.leave()
		c.state = v
		return
	}
	defer c.leave()
	if v == nil {
		delete(c.rs.state, c.Node.ID)
		return
	}
	c.rs.state[c.Node.ID] = v
}

// OnRunEnd registers f to run when the run ends, however it ends (release
// held keys, close files). Registered after the end, f runs at once.
func (c *Call) OnRunEnd(f func()) {
	rs := c.rs
	rs.cleanupMu.Lock()
	if rs.ended {
		rs.cleanupMu.Unlock()
		f()
		return
	}
	rs.cleanup = append(rs.cleanup, f)
	rs.cleanupMu.Unlock()
}

// Options returns the run's options (for sub-flows).
func (c *Call) Options() *Options { return c.rs.opts }

// runSub runs a called flow as part of this call. A timed call gives the
// sub-run its own step counter and an observer that goes quiet once the
// call is detached.
func (c *Call) runSub(ctx context.Context, f *Flow, opts *Options) (*Result, error) {
	if c.g == nil {
		return runFlow(ctx, f, opts, c.rs.seq)
	}
	c.g.mu.Lock()
	seq := *c.rs.seq
	c.g.mu.Unlock()
	if opts.Observer != nil {
		opts.Observer = guardedObserver{g: c.g, o: opts.Observer}
	}
	res, err := runFlow(ctx, f, opts, &seq)
	if c.enter() {
		*c.rs.seq = seq
	}
	c.leave()
	return res, err
}

// guardedObserver passes events on until its call is detached.
type guardedObserver struct {
	g *callGuard
	o Observer
}

func (g guardedObserver) Event(e Event) {
	g.g.mu.Lock()
	defer g.g.mu.Unlock()
	if !g.g.detached {
		g.o.Event(e)
	}
}

// Run executes a flow to its end. It returns the result and, on failure,
// an error naming the node. Cancelling ctx stops the run between steps and
// inside waiting activities; its cause (for example ErrStoppedByUser) ends
// up in the result.
func Run(ctx context.Context, f *Flow, opts Options) (*Result, error) {
	if opts.Registry == nil {
		opts.Registry = Default
	}
	if opts.MaxSteps == 0 {
		opts.MaxSteps = 10_000_000
	}
	if opts.RunID == "" {
		opts.RunID = time.Now().UTC().Format("20060102T150405.000000000")
	}
	opts.calls = &runCalls{}
	top := f.Name
	if opts.Path != "" {
		top = filepath.Base(opts.Path)
	}
	opts.chain = []string{top}
	seq := 0
	opts.Observer = redactObserver(opts.Observer) // secrets never reach a log or the history
	res, err := runFlow(ctx, f, &opts, &seq)
	return res, redactResult(res, err)
}

func runFlow(ctx context.Context, f *Flow, opts *Options, seq *int) (*Result, error) {
	start := time.Now()
	res := &Result{RunID: opts.RunID}
	emit := func(e Event) {
		// A called flow's start and end are steps of the caller, not runs.
		if opts.Observer != nil && opts.depth == 0 {
			e.Time = time.Now()
			e.RunID, e.Flow, e.Depth = opts.RunID, f.Name, opts.depth
			opts.Observer.Event(e)
		}
	}
	prep := opts.Prepared
	var err error
	if prep == nil || prep.flow != f {
		prep, err = Prepare(f, opts.Registry, opts.BaseDir)
	}
	emit(Event{Kind: EventRunStarted})
	var rs *runState
	if err == nil {
		rs = &runState{opts: opts, prep: prep, state: map[string]any{}, seq: seq, obs: opts.Observer, inputs: wantsInputs(opts.Observer)}
		rs.call.rs = rs
		err = rs.initVars()
	}
	if err == nil {
		err = rs.loop(ctx)
	}
	if rs != nil {
		rs.cleanupMu.Lock()
		cleanup := rs.cleanup
		rs.cleanup, rs.ended = nil, true
		rs.cleanupMu.Unlock()
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		res.Vars = rs.vars.m
	}
	res.Steps = *seq
	res.Err = err
	res.Status = StatusOK
	switch {
	case err == nil:
	case errors.Is(err, ErrStoppedByUser):
		res.Status = StatusStopped
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		res.Status = StatusCancelled
	default:
		res.Status = StatusFailed
	}
	e := Event{Kind: EventRunFinished, Status: res.Status, Duration: time.Since(start), Seq: *seq}
	if err != nil {
		e.Err = err.Error()
	}
	if rs != nil {
		e.Vars = maps.Clone(rs.vars.m)
	}
	emit(e)
	return res, err
}

func (rs *runState) initVars() error {
	f := rs.prep.flow
	rs.vars.m = make(map[string]any, len(f.Variables)+4)
	for _, v := range f.Variables {
		val := v.Default
		if val == nil {
			val = zero(v.Type)
		} else {
			cv, err := Coerce(v.Type, val)
			if err != nil {
				return &FieldError{Field: "variables." + v.Name, Msg: err.Error()}
			}
			val = cv
		}
		rs.vars.m[v.Name] = val
	}
	names := make([]string, 0, len(rs.opts.Inputs))
	for k := range rs.opts.Inputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		val := rs.opts.Inputs[k]
		d := f.Variable(k)
		if d == nil {
			return &FieldError{Field: "inputs", Msg: fmt.Sprintf("the flow has no variable %q (declared: %s)", k, declared(f))}
		}
		cv, err := Coerce(d.Type, val)
		if err == nil {
			err = CheckSize(cv)
		}
		if err != nil {
			return &FieldError{Field: "inputs", Msg: fmt.Sprintf("variable %q: %v", k, err)}
		}
		rs.vars.m[k] = cv
	}
	rs.vars.m["run_id"] = rs.opts.RunID
	rs.vars.m["flow_dir"] = rs.opts.BaseDir
	rs.vars.version = 1
	return nil
}

func declared(f *Flow) string {
	if len(f.Variables) == 0 {
		return "none"
	}
	var s []string
	for _, v := range f.Variables {
		s = append(s, v.Name)
	}
	return strings.Join(s, ", ")
}

func zero(typ string) any {
	switch typ {
	case TypeString:
		return ""
	case TypeNumber:
		return 0.0
	case TypeBool:
		return false
	case TypeList, TypeTable:
		return []any{}
	case TypeMap:
		return map[string]any{}
	}
	return nil
}

func (rs *runState) emit(e Event) {
	if rs.obs == nil {
		return
	}
	e.Time = time.Now()
	e.RunID, e.Flow, e.Depth = rs.opts.RunID, rs.prep.flow.Name, rs.opts.depth
	rs.obs.Event(e)
}

func (rs *runState) snapshot(force bool) map[string]any {
	if !force && rs.vars.version == rs.snapVer {
		return nil
	}
	rs.snapVer = rs.vars.version
	return maps.Clone(rs.vars.m)
}

// applyEdits sets variables changed while the run was paused (see
// Control.SetVar) and reports them.
func (rs *runState) applyEdits(edits []varEdit) {
	for _, e := range edits {
		rs.vars.m[e.name] = e.value
	}
	rs.vars.version++
	rs.emit(Event{Kind: EventVars, Seq: *rs.seq, Vars: rs.snapshot(true)})
}

func (rs *runState) loop(ctx context.Context) error {
	id, from := rs.prep.start, ""
	ctl := rs.opts.Control
	for id != "" {
		if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
			return err
		}
		pn := rs.prep.nodes[id]
		if pn == nil {
			return &StepError{NodeID: rs.opts.prefix + id, Err: fmt.Errorf("unknown node")}
		}
		if *rs.seq >= rs.opts.MaxSteps {
			return &StepError{NodeID: rs.opts.prefix + id, Label: pn.node.Label, Type: pn.node.Type, Err: fmt.Errorf("the run took more than %d steps; is there an endless loop?", rs.opts.MaxSteps)}
		}
		if ctl != nil && ctl.shouldStop(rs.opts.prefix+id) {
			rs.emit(Event{Kind: EventPaused, NodeID: rs.opts.prefix + id, Type: pn.node.Type, Label: pn.node.Label, Seq: *rs.seq, Vars: rs.snapshot(true)})
			if err := ctl.wait(ctx, rs.applyEdits); err != nil {
				return err
			}
			rs.emit(Event{Kind: EventResumed, NodeID: rs.opts.prefix + id, Type: pn.node.Type, Seq: *rs.seq})
		}
		port, err := rs.step(ctx, pn, from)
		if ctl != nil {
			ctl.afterStep()
		}
		if err != nil {
			return err
		}
		from = id
		if port == "" {
			ports := pn.ports
			if len(ports) == 0 {
				return nil // an end node
			}
			port = ports[0]
		}
		id = pn.next[port]
	}
	return nil
}

// step runs one node with its retries and error port; it returns the port
// to follow.
func (rs *runState) step(ctx context.Context, pn *prepNode, from string) (string, error) {
	n := pn.node
	nodeID := rs.opts.prefix + n.ID
	if n.Disabled {
		return "", nil
	}
	var lastErr error
	for attempt := 1; attempt <= n.Retry.Count+1; attempt++ {
		*rs.seq++
		seq := *rs.seq
		c := &rs.call
		if pn.timeout > 0 && !(rs.opts.DryRun && pn.spec.SideEffects) {
			// A timed-out activity's goroutine may outlive the step; give it
			// a Call of its own, on a copy of the variables.
			c = &Call{rs: rs, Node: n, Attempt: attempt, From: from, vars: maps.Clone(rs.vars.m), g: &callGuard{}}
		} else {
			*c = Call{rs: rs, Node: n, Attempt: attempt, From: from, vars: rs.vars.m}
		}
		// main is the call's view from the run's goroutine, never detached.
		main := c
		if c.g != nil {
			main = &Call{rs: rs, Node: n, Attempt: attempt, From: from, vars: rs.vars.m}
		}
		rs.emit(Event{Kind: EventStepStarted, Seq: seq, NodeID: nodeID, Type: n.Type, Label: n.Label, Attempt: attempt})
		t0 := time.Now()
		port, err := rs.attempt(ctx, pn, c)
		d := time.Since(t0)
		status := StatusOK
		if rs.opts.DryRun && pn.spec.SideEffects {
			status = StatusDry
		}
		if err == nil {
			if port != "" && !pn.hasPort(port) {
				err = fmt.Errorf("activity returned unknown port %q", port)
			}
		}
		if err == nil {
			rs.emit(Event{Kind: EventStepFinished, Seq: seq, NodeID: nodeID, Type: n.Type, Label: n.Label, Attempt: attempt,
				Port: portOr(port, pn.ports), Status: status, Duration: d, Inputs: c.inputs, Outputs: c.outputs, Vars: rs.snapIfObserved()})
			return port, nil
		}
		lastErr = err
		stopped := ctx.Err() != nil
		status = StatusFailed
		switch {
		case stopped && errors.Is(context.Cause(ctx), ErrStoppedByUser):
			status = StatusStopped
		case stopped:
			status = StatusCancelled
		case attempt <= n.Retry.Count:
			status = StatusRetrying
		case pn.next[PortError] != "":
			status = StatusCaught
		}
		fin := Event{Kind: EventStepFinished, Seq: seq, NodeID: nodeID, Type: n.Type, Label: n.Label, Attempt: attempt,
			Status: status, Duration: d, Err: err.Error(), Inputs: c.inputs, Outputs: c.outputs}
		if status == StatusCaught {
			fin.Port = PortError
			if serr := main.Set(pn.errVar, err.Error()); serr != nil {
				main.Log("warn", serr.Error())
			}
		}
		fin.Vars = rs.snapIfObserved()
		rs.emit(fin)
		if stopped {
			return "", &StepError{NodeID: nodeID, Label: n.Label, Type: n.Type, Err: context.Cause(ctx)}
		}
		if status == StatusCaught {
			return PortError, nil
		}
		if status == StatusRetrying {
			main.Log("warn", fmt.Sprintf("attempt %d of %d failed: %v; retrying in %s", attempt, n.Retry.Count+1, err, time.Duration(n.Retry.Interval)))
			if err := Sleep(ctx, time.Duration(n.Retry.Interval)); err != nil {
				return "", &StepError{NodeID: nodeID, Label: n.Label, Type: n.Type, Err: err}
			}
		}
	}
	return "", &StepError{NodeID: nodeID, Label: n.Label, Type: n.Type, Err: lastErr}
}

func (rs *runState) snapIfObserved() map[string]any {
	if rs.obs == nil {
		return nil
	}
	return rs.snapshot(false)
}

// hasPort reports whether port is one of the node's ports or "error".
func (pn *prepNode) hasPort(port string) bool {
	return port == PortError || slices.Contains(pn.ports, port)
}

func portOr(port string, ports []string) string {
	if port != "" {
		return port
	}
	if len(ports) > 0 {
		return ports[0]
	}
	return ""
}

// attempt runs the activity once, under the node's timeout.
func (rs *runState) attempt(ctx context.Context, pn *prepNode, c *Call) (port string, err error) {
	act := pn.act
	if rs.opts.DryRun && pn.spec.SideEffects {
		if dr, ok := act.(DryRunner); ok {
			return dr.DryRun(ctx, c)
		}
		c.Logf("dry run: would run %s", describeNode(pn.node))
		return "", nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("activity crashed: %v", r)
		}
	}()
	if pn.running != nil {
		t := time.NewTimer(detachedGrace)
		select {
		case <-pn.running:
			pn.running = nil
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return "", context.Cause(ctx)
		case <-t.C:
			return "", fmt.Errorf("the node's previous attempt timed out and is still running %s later; it cannot run twice at once", detachedGrace)
		}
	}
	if pn.timeout <= 0 {
		return act.Run(ctx, c)
	}
	tctx, cancel := context.WithTimeoutCause(ctx, pn.timeout, errNodeTimeout)
	defer cancel()
	type result struct {
		port string
		err  error
	}
	done := make(chan result, 1)
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("activity crashed: %v", r)}
			}
		}()
		p, e := act.Run(tctx, c)
		done <- result{p, e}
	}()
	select {
	case r := <-done:
		if r.err != nil && tctx.Err() != nil && ctx.Err() == nil {
			return "", rs.timedOut(pn, c)
		}
		return r.port, r.err
	case <-tctx.Done():
		pn.running = returned
		if ctx.Err() != nil {
			c.detach()
			return "", context.Cause(ctx)
		}
		return "", rs.timedOut(pn, c)
	}
}

// errNodeTimeout is the cause of a node's timed-out context.
var errNodeTimeout = errors.New("node timeout")

// TimeoutError is a node that ran past its timeout.
type TimeoutError struct {
	NodeID, Label string
	After         time.Duration
	// Waiting is what the activity was waiting for, as it told the run
	// (Call.Waiting), or a description of the node.
	Waiting string
}

func (e *TimeoutError) Error() string {
	name := fmt.Sprintf("node %q", e.NodeID)
	if e.Label != "" {
		name = fmt.Sprintf("node %q (%s)", e.Label, e.NodeID)
	}
	return fmt.Sprintf("timed out after %s: %s was waiting for %s", e.After, name, e.Waiting)
}

// TimeoutHandler is implemented by activities that leave evidence when
// their node times out (a desktop activity saves a screenshot). OnTimeout
// runs on the run's goroutine, after the timed-out call was detached.
type TimeoutHandler interface {
	OnTimeout(c *Call)
}

// timedOut detaches the timed-out call, lets the activity leave evidence
// and returns the error that names the node and what it was waiting for.
func (rs *runState) timedOut(pn *prepNode, c *Call) error {
	waiting := c.detach()
	if waiting == "" {
		waiting = describeNode(pn.node)
	}
	if h, ok := pn.act.(TimeoutHandler); ok {
		// The detached call's outputs are the step's; only this goroutine
		// touches them now.
		hc := &Call{rs: rs, Node: c.Node, Attempt: c.Attempt, From: c.From, vars: rs.vars.m, outputs: c.outputs, inputs: c.inputs}
		func() {
			defer func() {
				if r := recover(); r != nil {
					hc.Log("warn", fmt.Sprintf("timeout handler crashed: %v", r))
				}
			}()
			h.OnTimeout(hc)
		}()
		c.outputs, c.inputs = hc.outputs, hc.inputs
	}
	return &TimeoutError{NodeID: rs.opts.prefix + pn.node.ID, Label: pn.node.Label, After: pn.timeout, Waiting: waiting}
}

func describeNode(n *Node) string {
	keys := make([]string, 0, len(n.Params))
	for k := range n.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(n.Type)
	for i, k := range keys {
		if i == 0 {
			b.WriteString(" with ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", k, ToString(n.Params[k]))
	}
	return b.String()
}

// Sleep waits for d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
