package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// FieldKind says what a field holds and how the studio edits it.
type FieldKind string

// Field kinds. Text fields take {{ expr }} templates; Expr fields hold one
// expression; Var fields name a variable that the activity writes.
const (
	KindString FieldKind = "string"    // plain text, no templating
	KindText   FieldKind = "text"      // text with {{ expr }} templates
	KindExpr   FieldKind = "expr"      // one expression, e.g. total > 10
	KindInt    FieldKind = "int"       // whole number
	KindFloat  FieldKind = "float"     // number
	KindBool   FieldKind = "bool"      // true or false
	KindSelect FieldKind = "select"    // one of Options
	KindVar    FieldKind = "variable"  // name of a variable the activity sets
	KindPath   FieldKind = "path"      // a file or folder path; takes templates
	KindList   FieldKind = "list"      // list of texts (templates)
	KindMap    FieldKind = "map"       // name -> expression
	KindMulti  FieldKind = "multiline" // long text with templates
	KindDur    FieldKind = "duration"  // a Go duration such as 500ms or 2s; takes templates
)

// TakesTemplates reports whether values of this kind are {{ }} templates.
func (k FieldKind) TakesTemplates() bool {
	switch k {
	case KindText, KindPath, KindList, KindMulti, KindDur:
		return true
	}
	return false
}

// TakesExpr reports whether values of this kind are expressions.
func (k FieldKind) TakesExpr() bool { return k == KindExpr || k == KindMap }

// Field declares one param of an activity.
type Field struct {
	Name     string
	Title    string
	Kind     FieldKind
	Required bool
	Default  any
	Options  []string // for KindSelect
	Help     string
	Advanced bool // shown folded in the studio
	// SetsVars marks a map field whose keys are variables the activity sets.
	SetsVars bool
	// Pick says that the studio can fill the field by pointing at the
	// screen ("Indicate on screen"): PickPoint, PickImage or PickRegion.
	Pick PickKind
	// PickY names the field that takes the y of a PickPoint field (which
	// takes the x).
	PickY string
	// PickAnchor, on a PickPoint field, names the PickImage field whose
	// picture the point is relative to: the studio stores the picked point
	// as an offset from the centre of that picture as found on the screen.
	PickAnchor string
}

// PickKind is what "Indicate on screen" picks for a field.
type PickKind string

// Pick kinds.
const (
	PickNone   PickKind = ""
	PickPoint  PickKind = "point"  // a click on the screen: x here, y in PickY
	PickImage  PickKind = "image"  // a dragged rectangle saved as a PNG next to the flow
	PickRegion PickKind = "region" // a dragged rectangle as left,top,width,height
)

// Port names used by many activities.
const (
	PortNext     = "next"
	PortError    = "error"
	PortTrue     = "true"
	PortFalse    = "false"
	PortEach     = "each"
	PortDone     = "done"
	PortLoop     = "loop"
	PortNotFound = "not_found"
	PortDefault  = "default"
)

// Spec describes an activity type. Everything the studio, lint and the docs
// know about an activity comes from its Spec.
type Spec struct {
	Type     string // namespaced id, e.g. "file.write_text"
	Title    string
	Category string
	Summary  string
	Doc      string // longer Markdown help
	Fields   []Field
	// Ports are the output ports besides "error", which every node has.
	// Nil means the single port "next"; an empty non-nil slice means none.
	Ports []string
	// PortsFor, when set, gives a node's output ports from its params (a
	// switch has one per case); Ports then holds the ones every node of
	// the type has. Lint, the runner and the studio ask NodePorts.
	PortsFor func(params map[string]any) []string
	// SideEffects marks activities that touch the world (files, programs,
	// desktop). In a dry run they are described, not run, unless they
	// implement DryRunner.
	SideEffects bool
	// Sets, when set, names the variables a node sets besides those in its
	// variable fields and SetsVars maps (dialog.input: one per form field),
	// so that expressions may use them. It must accept any params.
	Sets func(params map[string]any) []string
	// Icon names the activity's icon: a fyne theme icon name such as
	// "document" or "mailSend". The studio shows it in the palette and on
	// the node; a test checks that every registered activity has one.
	Icon string
	// New validates params once and builds the activity. Errors should come
	// from Params' getters so they name the field.
	New func(p *Params) (Activity, error)
}

// OutPorts returns the spec's ports without the implicit error port.
func (s *Spec) OutPorts() []string {
	if s.Ports == nil {
		return []string{PortNext}
	}
	return s.Ports
}

// HasPort reports whether port is one of the spec's ports or "error".
func (s *Spec) HasPort(port string) bool {
	if port == PortError {
		return true
	}
	for _, p := range s.OutPorts() {
		if p == port {
			return true
		}
	}
	return false
}

// NodePorts returns node n's output ports without the implicit error port:
// PortsFor's when the spec has it, else OutPorts.
func (s *Spec) NodePorts(n *Node) []string {
	if s.PortsFor != nil && n != nil {
		return s.PortsFor(n.Params)
	}
	return s.OutPorts()
}

// NodeHasPort reports whether port is one of node n's ports or "error".
func (s *Spec) NodeHasPort(n *Node, port string) bool {
	if port == PortError {
		return true
	}
	for _, p := range s.NodePorts(n) {
		if p == port {
			return true
		}
	}
	return false
}

// Field returns the named field, or nil.
func (s *Spec) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Activity is a node's behaviour, built once per run from its params.
// Run returns the port to follow; "" means the first declared port.
type Activity interface {
	Run(ctx context.Context, c *Call) (port string, err error)
}

// DryRunner is implemented by side-effecting activities that can say what
// they would do. In a dry run the runner calls DryRun instead of Run.
type DryRunner interface {
	DryRun(ctx context.Context, c *Call) (port string, err error)
}

// ActivityFunc adapts a function to Activity.
type ActivityFunc func(ctx context.Context, c *Call) (string, error)

// Run calls f.
func (f ActivityFunc) Run(ctx context.Context, c *Call) (string, error) { return f(ctx, c) }

// Registry holds activity specs by type.
type Registry struct {
	mu    sync.RWMutex
	specs map[string]*Spec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{specs: map[string]*Spec{}} }

// Default is the registry that activity packages fill from init().
var Default = NewRegistry()

// Register adds a spec. It fails on an empty or duplicate type.
func (r *Registry) Register(s Spec) error {
	if s.Type == "" || !strings.Contains(s.Type, ".") {
		return fmt.Errorf("register activity %q: type must be namespaced, like file.write_text", s.Type)
	}
	if s.New == nil {
		return fmt.Errorf("register activity %q: no constructor", s.Type)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.specs[s.Type]; dup {
		return fmt.Errorf("register activity %q: already registered", s.Type)
	}
	for _, f := range s.Fields {
		if f.Kind == KindSelect && len(f.Options) == 0 {
			return fmt.Errorf("register activity %q: select field %q has no options", s.Type, f.Name)
		}
		if err := checkPick(&s, f); err != nil {
			return fmt.Errorf("register activity %q: field %q: %w", s.Type, f.Name, err)
		}
	}
	sp := s
	r.specs[s.Type] = &sp
	return nil
}

// MustRegister registers s in r and panics on error; for init() functions.
func (r *Registry) MustRegister(s Spec) {
	if err := r.Register(s); err != nil {
		panic(err)
	}
}

// Register adds s to the Default registry and panics on error.
func Register(s Spec) { Default.MustRegister(s) }

// Spec returns the spec for typ.
func (r *Registry) Spec(typ string) (*Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.specs[typ]
	return s, ok
}

// Specs returns all specs sorted by category, then type.
func (r *Registry) Specs() []*Spec {
	r.mu.RLock()
	out := make([]*Spec, 0, len(r.specs))
	for _, s := range r.specs {
		out = append(out, s)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Category != out[j].Category {
			return out[i].Category < out[j].Category
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// Categories returns the category names in order.
func (r *Registry) Categories() []string {
	var cats []string
	seen := map[string]bool{}
	for _, s := range r.Specs() {
		if !seen[s.Category] {
			seen[s.Category] = true
			cats = append(cats, s.Category)
		}
	}
	return cats
}

// checkPick checks a field's screen-pick markers against the spec.
func checkPick(s *Spec, f Field) error {
	switch f.Pick {
	case PickNone:
		if f.PickY != "" || f.PickAnchor != "" {
			return fmt.Errorf("PickY and PickAnchor need Pick %q", PickPoint)
		}
		return nil
	case PickImage, PickRegion:
		if f.PickY != "" || f.PickAnchor != "" {
			return fmt.Errorf("PickY and PickAnchor need Pick %q", PickPoint)
		}
		return nil
	case PickPoint:
		if f.PickY == "" || s.Field(f.PickY) == nil {
			return fmt.Errorf("pick point: PickY %q is not a field", f.PickY)
		}
		if f.PickAnchor != "" {
			if a := s.Field(f.PickAnchor); a == nil || a.Pick != PickImage {
				return fmt.Errorf("pick point: PickAnchor %q is not an image field", f.PickAnchor)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown pick kind %q", f.Pick)
}
