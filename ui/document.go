package ui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"deskbot/engine"
)

// maxUndo bounds the undo history.
const maxUndo = 200

// Document is the flow being edited: the engine.Flow is the truth, and every
// edit goes through Edit so that undo and redo (whole-document snapshots) and
// change listeners see it. Document has no fyne dependency and is used from
// the UI goroutine only.
type Document struct {
	Flow *engine.Flow
	Path string // "" for a flow never saved

	undo, redo [][]byte
	dirty      bool
	lastKey    string // coalescing key of the last edit (typing in one field)
	listeners  []func()
}

// NewDocument wraps f, read from path ("" for new).
func NewDocument(f *engine.Flow, path string) *Document {
	return &Document{Flow: f, Path: path}
}

// OnChange registers a function called after every change of the flow.
func (d *Document) OnChange(fn func()) { d.listeners = append(d.listeners, fn) }

func (d *Document) changed() {
	for _, fn := range d.listeners {
		fn()
	}
}

// Dirty reports whether the flow has changes not yet saved.
func (d *Document) Dirty() bool { return d.dirty }

// MarkSaved records a successful save to path.
func (d *Document) MarkSaved(path string) {
	d.Path = path
	d.dirty = false
	d.lastKey = ""
}

func (d *Document) snapshot() []byte {
	b, err := json.Marshal(d.Flow)
	if err != nil {
		panic(fmt.Sprintf("marshal flow: %v", err)) // a Flow always marshals
	}
	return b
}

func (d *Document) restore(b []byte) {
	var f engine.Flow
	if err := json.Unmarshal(b, &f); err != nil {
		panic(fmt.Sprintf("restore flow snapshot: %v", err))
	}
	d.Flow = &f
}

// Edit applies fn to the flow as one undoable step.
func (d *Document) Edit(fn func(f *engine.Flow)) { d.EditKey("", fn) }

// EditKey is Edit, but consecutive edits with the same non-empty key (typing
// into one field) form a single undo step.
func (d *Document) EditKey(key string, fn func(f *engine.Flow)) {
	if key == "" || key != d.lastKey {
		d.pushUndo(d.snapshot())
	}
	d.lastKey = key
	fn(d.Flow)
	d.dirty = true
	d.changed()
}

// Commit records an edit that was already applied live (a node drag) whose
// before-state is before.
func (d *Document) Commit(before []byte) {
	d.pushUndo(before)
	d.lastKey = ""
	d.dirty = true
	d.changed()
}

// Snapshot returns the current state, for Commit.
func (d *Document) Snapshot() []byte { return d.snapshot() }

func (d *Document) pushUndo(b []byte) {
	d.undo = append(d.undo, b)
	if len(d.undo) > maxUndo {
		d.undo = d.undo[len(d.undo)-maxUndo:]
	}
	d.redo = nil
}

// CanUndo reports whether Undo has something to undo.
func (d *Document) CanUndo() bool { return len(d.undo) > 0 }

// CanRedo reports whether Redo has something to redo.
func (d *Document) CanRedo() bool { return len(d.redo) > 0 }

// Undo restores the state before the last edit.
func (d *Document) Undo() bool {
	if len(d.undo) == 0 {
		return false
	}
	d.redo = append(d.redo, d.snapshot())
	d.restore(d.undo[len(d.undo)-1])
	d.undo = d.undo[:len(d.undo)-1]
	d.lastKey = ""
	d.dirty = true
	d.changed()
	return true
}

// Redo re-applies the last undone edit.
func (d *Document) Redo() bool {
	if len(d.redo) == 0 {
		return false
	}
	d.undo = append(d.undo, d.snapshot())
	d.restore(d.redo[len(d.redo)-1])
	d.redo = d.redo[:len(d.redo)-1]
	d.lastKey = ""
	d.dirty = true
	d.changed()
	return true
}

// AddNode adds a node of spec at p and returns its id.
func (d *Document) AddNode(spec *engine.Spec, p engine.Point) string {
	var id string
	d.Edit(func(f *engine.Flow) {
		prefix := spec.Type
		if i := strings.LastIndexByte(prefix, '.'); i >= 0 {
			prefix = prefix[i+1:]
		}
		id = f.NewID(prefix)
		n := &engine.Node{ID: id, Type: spec.Type, Label: spec.Title, Position: p}
		for _, fd := range spec.Fields {
			// Required fields with a default start filled in, so the form
			// shows what will be used; others stay unset (the default applies).
			if fd.Required && fd.Default != nil {
				if n.Params == nil {
					n.Params = map[string]any{}
				}
				n.Params[fd.Name] = fd.Default
			}
		}
		f.Nodes = append(f.Nodes, n)
	})
	return id
}

// Connect connects port of node from to node to, replacing the port's
// previous edge (a port leads to one node). It reports whether anything
// changed.
func (d *Document) Connect(from, port, to string) bool {
	if from == to || d.Flow.Node(from) == nil || d.Flow.Node(to) == nil {
		return false
	}
	if d.Flow.Next(from, port) == to {
		return false
	}
	d.Edit(func(f *engine.Flow) {
		out := f.Edges[:0:0]
		for _, e := range f.Edges {
			if !(e.From == from && e.Port == port) {
				out = append(out, e)
			}
		}
		f.Edges = append(out, engine.Edge{From: from, Port: port, To: to})
	})
	return true
}

// Delete removes the given nodes and edges (edges given as index into
// Flow.Edges) and every edge touching a removed node.
func (d *Document) Delete(nodes map[string]bool, edges map[int]bool) {
	if len(nodes) == 0 && len(edges) == 0 {
		return
	}
	d.Edit(func(f *engine.Flow) {
		ns := f.Nodes[:0:0]
		for _, n := range f.Nodes {
			if !nodes[n.ID] {
				ns = append(ns, n)
			}
		}
		f.Nodes = ns
		es := f.Edges[:0:0]
		for i, e := range f.Edges {
			if !edges[i] && !nodes[e.From] && !nodes[e.To] {
				es = append(es, e)
			}
		}
		f.Edges = es
	})
}

// SetParam sets (or, for nil, clears) a node's param. Typing into one field
// coalesces into one undo step.
func (d *Document) SetParam(nodeID, field string, v any) {
	n := d.Flow.Node(nodeID)
	if n == nil {
		return
	}
	d.EditKey("param:"+nodeID+":"+field, func(f *engine.Flow) {
		n := f.Node(nodeID)
		if v == nil {
			delete(n.Params, field)
			if len(n.Params) == 0 {
				n.Params = nil
			}
			return
		}
		if n.Params == nil {
			n.Params = map[string]any{}
		}
		n.Params[field] = v
	})
}

// SetNode changes a node's own settings (label, timeout, retry, ...) through
// fn, coalescing per key.
func (d *Document) SetNode(nodeID, key string, fn func(n *engine.Node)) {
	if d.Flow.Node(nodeID) == nil {
		return
	}
	d.EditKey("node:"+nodeID+":"+key, func(f *engine.Flow) { fn(f.Node(nodeID)) })
}

// clip is the clipboard form of copied nodes.
type clip struct {
	Format string         `json:"format"`
	Nodes  []*engine.Node `json:"nodes"`
	Edges  []engine.Edge  `json:"edges"`
}

const clipFormat = "deskbot.clip"

// Copy returns the JSON of the selected nodes and the edges among them.
func (d *Document) Copy(ids map[string]bool) string {
	c := clip{Format: clipFormat}
	for _, n := range d.Flow.Nodes {
		if ids[n.ID] {
			c.Nodes = append(c.Nodes, n)
		}
	}
	for _, e := range d.Flow.Edges {
		if ids[e.From] && ids[e.To] {
			c.Edges = append(c.Edges, e)
		}
	}
	if len(c.Nodes) == 0 {
		return ""
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// Paste adds the nodes of a Copy result, shifted by off, with fresh ids, and
// returns the new ids. A second start node is not pasted.
func (d *Document) Paste(text string, off engine.Point) ([]string, error) {
	var c clip
	if err := json.Unmarshal([]byte(text), &c); err != nil || c.Format != clipFormat {
		return nil, fmt.Errorf("the clipboard holds no Deskbot nodes")
	}
	var ids []string
	d.Edit(func(f *engine.Flow) {
		hasStart := false
		for _, n := range f.Nodes {
			hasStart = hasStart || n.Type == "control.start"
		}
		rename := map[string]string{}
		for _, n := range c.Nodes {
			if n.Type == "control.start" && hasStart {
				continue
			}
			prefix := n.Type
			if i := strings.LastIndexByte(prefix, '.'); i >= 0 {
				prefix = prefix[i+1:]
			}
			nn := *n
			nn.ID = f.NewID(prefix)
			nn.Position = engine.Point{X: n.Position.X + off.X, Y: n.Position.Y + off.Y}
			rename[n.ID] = nn.ID
			f.Nodes = append(f.Nodes, &nn)
			ids = append(ids, nn.ID)
		}
		for _, e := range c.Edges {
			if rename[e.From] != "" && rename[e.To] != "" {
				f.Edges = append(f.Edges, engine.Edge{From: rename[e.From], Port: e.Port, To: rename[e.To]})
			}
		}
	})
	return ids, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
