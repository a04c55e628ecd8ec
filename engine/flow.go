package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// FormatName is the "format" value of every flow document.
const FormatName = "deskbot.flow"

// FormatVersion is the flow document version this build writes.
const FormatVersion = 1

// Flow is a flow document: the truth that the studio edits and the runner
// interprets. Field order here is the key order on disk.
type Flow struct {
	Format      string     `json:"format"`
	Version     int        `json:"version"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Settings    Settings   `json:"settings"`
	Variables   []Variable `json:"variables"`
	Nodes       []*Node    `json:"nodes"`
	Edges       []Edge     `json:"edges"`
	// Notes are sticky notes on the canvas and Groups titled boxes around
	// nodes. They only help people read the flow: lint and the runner
	// ignore them.
	Notes  []Note  `json:"notes,omitempty"`
	Groups []Group `json:"groups,omitempty"`

	// index maps node ids to positions in Nodes; built lazily by Node and
	// checked on every hit, so edits of Nodes need no bookkeeping.
	index atomic.Pointer[map[string]int]
}

// Settings are flow-wide run settings.
type Settings struct {
	// DefaultTimeout applies to nodes without their own timeout; 0 is none.
	DefaultTimeout Duration `json:"default_timeout,omitempty"`
	// ActionDelay is the pause between desktop actions (default 100ms).
	ActionDelay *Duration `json:"action_delay,omitempty"`
	// SlowMotion makes desktop actions slow enough to watch.
	SlowMotion bool `json:"slow_motion,omitempty"`
	// History is how much of a run the history keeps (see HistoryLevels):
	// "full" (the default, also ""), "steps" or "errors".
	History string `json:"history,omitempty"`
}

// History detail levels, like a studio's log levels: each keeps less.
const (
	// HistoryFull keeps every step with its inputs and outputs, the
	// variables that changed and every log line. The default.
	HistoryFull = "full"
	// HistorySteps keeps every step and log line, without inputs, outputs
	// or variables.
	HistorySteps = "steps"
	// HistoryErrors keeps only the steps that failed (failed, caught,
	// retrying, stopped) with their inputs and the variables at that
	// point, and warnings and errors from the log. The run's status and
	// step count are kept.
	HistoryErrors = "errors"
)

// HistoryLevels lists the valid values of Settings.History, most detail first.
var HistoryLevels = []string{HistoryFull, HistorySteps, HistoryErrors}

// DefaultActionDelay is used when a flow does not set action_delay.
const DefaultActionDelay = 100 * time.Millisecond

// Delay returns the delay between desktop actions.
func (s Settings) Delay() time.Duration {
	if s.ActionDelay == nil {
		return DefaultActionDelay
	}
	return time.Duration(*s.ActionDelay)
}

// Variable types.
const (
	TypeString = "string"
	TypeNumber = "number"
	TypeBool   = "bool"
	TypeList   = "list"
	TypeMap    = "map"
	TypeTable  = "table"
	TypeAny    = "any"
)

// VariableTypes lists the valid Variable.Type values.
var VariableTypes = []string{TypeString, TypeNumber, TypeBool, TypeList, TypeMap, TypeTable, TypeAny}

// Variable is a flow variable with a type and default value. Variables with
// Input set can be given on the command line (--var) or by a calling flow;
// those with Output set are handed back to a calling flow.
type Variable struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Default any    `json:"default,omitempty"`
	Input   bool   `json:"input,omitempty"`
	Output  bool   `json:"output,omitempty"`
}

// Node is one step in a flow.
type Node struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Label    string         `json:"label,omitempty"`
	Position Point          `json:"position"`
	Params   map[string]any `json:"params,omitempty"`
	// Timeout bounds one attempt of the node; 0 falls back to the flow's
	// default timeout.
	Timeout Duration `json:"timeout,omitempty"`
	Retry   Retry    `json:"retry,omitzero"`
	// ErrorVar receives the error message when the node's failure is caught
	// by its error port. Empty means "last_error".
	ErrorVar string `json:"error_var,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// Retry says how often a failing node is tried again.
type Retry struct {
	Count    int      `json:"count,omitempty"`
	Interval Duration `json:"interval,omitempty"`
}

// IsZero lets omitempty-like encoding skip an empty retry.
func (r Retry) IsZero() bool { return r.Count == 0 && r.Interval == 0 }

// Note is a sticky note on the canvas: a comment for the people who read
// the flow.
type Note struct {
	Text     string `json:"text"`
	Position Point  `json:"position"`
	Size     Size   `json:"size"`
	// Color is "#rrggbb"; empty means the default yellow.
	Color string `json:"color,omitempty"`
}

// Group is a titled box around nodes. Moving the group in the studio moves
// its member nodes (Nodes, by id) with it.
type Group struct {
	Title    string   `json:"title"`
	Position Point    `json:"position"`
	Size     Size     `json:"size"`
	Nodes    []string `json:"nodes,omitempty"`
	Color    string   `json:"color,omitempty"`
}

// Size is a canvas size.
type Size struct {
	W float32 `json:"w"`
	H float32 `json:"h"`
}

// Point is a canvas position.
type Point struct {
	X float32 `json:"x"`
	Y float32 `json:"y"`
}

// Edge connects a node's output port to another node.
type Edge struct {
	From string `json:"from"`
	Port string `json:"port"`
	To   string `json:"to"`
}

// Duration is a time.Duration written as "1.5s" in JSON. It also reads a
// plain number as milliseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// MaxDuration is the longest duration a flow may give: about 292 years,
// the most a time.Duration holds.
const MaxDuration = Duration(math.MaxInt64)

// durationError is a duration in a document that is malformed, negative or
// out of range; Parse names the node and field it came from.
type durationError struct{ msg string }

func (e *durationError) Error() string { return e.msg }

// UnmarshalJSON reads "1.5s" or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s == "" {
			*d = 0
			return nil
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return &durationError{fmt.Sprintf("bad or out-of-range duration %q (want e.g. 500ms, 2s, 1m; at most %s)", s, MaxDuration)}
		}
		if v < 0 {
			return &durationError{fmt.Sprintf("negative duration %q", s)}
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return &durationError{fmt.Sprintf("bad duration %s (want a string such as \"2s\" or milliseconds)", b)}
	}
	if ms < 0 {
		return &durationError{fmt.Sprintf("negative duration %s", b)}
	}
	ns := ms * float64(time.Millisecond)
	// float64(math.MaxInt64) rounds up to 2^63, which does not fit.
	if ns >= float64(math.MaxInt64) {
		return &durationError{fmt.Sprintf("duration %s ms is out of range (at most %s)", b, MaxDuration)}
	}
	*d = Duration(ns)
	return nil
}

// locateDuration finds the node and field of a bad duration in document b.
func locateDuration(b []byte, de *durationError) error {
	var loc struct {
		Settings struct {
			DefaultTimeout json.RawMessage `json:"default_timeout"`
			ActionDelay    json.RawMessage `json:"action_delay"`
		} `json:"settings"`
		Nodes []struct {
			ID      string          `json:"id"`
			Timeout json.RawMessage `json:"timeout"`
			Retry   struct {
				Interval json.RawMessage `json:"interval"`
			} `json:"retry"`
		} `json:"nodes"`
	}
	bad := func(raw json.RawMessage) error {
		if len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		var d Duration
		return d.UnmarshalJSON(raw)
	}
	if json.Unmarshal(b, &loc) == nil {
		if err := bad(loc.Settings.DefaultTimeout); err != nil {
			return &FieldError{Field: "settings.default_timeout", Msg: err.Error()}
		}
		if err := bad(loc.Settings.ActionDelay); err != nil {
			return &FieldError{Field: "settings.action_delay", Msg: err.Error()}
		}
		for _, n := range loc.Nodes {
			if err := bad(n.Timeout); err != nil {
				return &FieldError{Node: n.ID, Field: "timeout", Msg: err.Error()}
			}
			if err := bad(n.Retry.Interval); err != nil {
				return &FieldError{Node: n.ID, Field: "retry.interval", Msg: err.Error()}
			}
		}
	}
	return &FieldError{Msg: de.msg}
}

// NewFlow returns an empty flow with a start node.
func NewFlow(name string) *Flow {
	return &Flow{
		Format:  FormatName,
		Version: FormatVersion,
		Name:    name,
		Nodes:   []*Node{{ID: "start", Type: "control.start", Label: "Start", Position: Point{X: 40, Y: 40}}},
	}
}

// Node returns the node with id, or nil. It takes constant time: a lookup
// goes through an index of ids that is rebuilt (in linear time) only when it
// is found stale, that is when the id is missing from it or names another
// node than the one at its recorded position. A miss therefore costs a
// rebuild; callers that look up many absent ids should build their own set.
func (f *Flow) Node(id string) *Node {
	if idx := f.index.Load(); idx != nil {
		if i, ok := (*idx)[id]; ok && i < len(f.Nodes) && f.Nodes[i] != nil && f.Nodes[i].ID == id {
			return f.Nodes[i]
		}
	}
	idx := make(map[string]int, len(f.Nodes))
	for i := len(f.Nodes) - 1; i >= 0; i-- { // the first of duplicates wins
		if n := f.Nodes[i]; n != nil {
			idx[n.ID] = i
		}
	}
	countWork(len(f.Nodes))
	f.index.Store(&idx)
	if i, ok := idx[id]; ok {
		return f.Nodes[i]
	}
	return nil
}

// Variable returns the declared variable name, or nil.
func (f *Flow) Variable(name string) *Variable {
	for i := range f.Variables {
		if f.Variables[i].Name == name {
			return &f.Variables[i]
		}
	}
	return nil
}

// Next returns the node that port of node from leads to, or "".
func (f *Flow) Next(from, port string) string {
	for _, e := range f.Edges {
		if e.From == from && e.Port == port {
			return e.To
		}
	}
	return ""
}

// NewID returns a node id based on prefix that no node uses yet.
func (f *Flow) NewID(prefix string) string {
	prefix = strings.NewReplacer(".", "_", " ", "_").Replace(prefix)
	for i := 1; ; i++ {
		id := fmt.Sprintf("%s_%d", prefix, i)
		if f.Node(id) == nil {
			return id
		}
	}
}

// Clone returns a deep copy of f through its JSON form.
func (f *Flow) Clone() *Flow {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err) // a Flow always marshals
	}
	var c Flow
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &c
}

// Marshal returns the document as indented JSON with a stable key order:
// struct fields in declaration order, map keys sorted.
func (f *Flow) Marshal() ([]byte, error) {
	if f.Format == "" {
		f.Format = FormatName
	}
	if f.Version == 0 {
		f.Version = FormatVersion
	}
	if f.Variables == nil {
		f.Variables = []Variable{}
	}
	if f.Edges == nil {
		f.Edges = []Edge{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes the flow to path atomically: a temp file in the same folder,
// fsync, then rename, so an interrupted save never leaves a broken file.
func (f *Flow) Save(path string) error {
	b, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("save flow %q: %w", path, err)
	}
	if err := WriteFileAtomic(path, b, 0o644); err != nil {
		return fmt.Errorf("save flow %q: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a synced temp file and rename.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not all filesystems support it
		d.Close()
	}
	return nil
}

// LoadFile reads and parses a flow file. Errors name the file and, for
// syntax errors, the line and column.
// Only regular files are read (not a FIFO or a device such as /dev/zero),
// and at most MaxFlowFileSize bytes of them.
func LoadFile(path string) (*Flow, error) {
	b, err := readFlowFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", path, err)
	}
	return f, nil
}

// MaxFlowFileSize is the largest flow file Deskbot reads: 64 MB, about
// 300,000 nodes.
const MaxFlowFileSize = 64 << 20

func readFlowFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load flow: %w", err)
	}
	if err := regularFlowFile(path, st); err != nil {
		return nil, err
	}
	// O_NONBLOCK: a FIFO swapped in after the Stat must not block the open.
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("load flow: %w", err)
	}
	defer fh.Close()
	if st, err = fh.Stat(); err != nil {
		return nil, fmt.Errorf("load flow %s: %w", path, err)
	}
	if err := regularFlowFile(path, st); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(fh, MaxFlowFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", path, err)
	}
	if len(b) > MaxFlowFileSize {
		return nil, fmt.Errorf("load flow %s: the file is larger than %d MB, the limit for a flow file", path, MaxFlowFileSize>>20)
	}
	return b, nil
}

func regularFlowFile(path string, st os.FileInfo) error {
	if st.IsDir() {
		return fmt.Errorf("load flow %s: is a folder, not a flow file", path)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("load flow %s: not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > MaxFlowFileSize {
		return fmt.Errorf("load flow %s: the file is %d MB, larger than %d MB, the limit for a flow file", path, st.Size()>>20, MaxFlowFileSize>>20)
	}
	return nil
}

// SyntaxError is a JSON error at a line and column (both from 1).
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// FieldError is a meaning error in a document, naming the node and field.
type FieldError struct {
	Node  string // node id, "" for flow-level fields
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	switch {
	case e.Node != "" && e.Field != "":
		return fmt.Sprintf("node %q, field %q: %s", e.Node, e.Field, e.Msg)
	case e.Node != "":
		return fmt.Sprintf("node %q: %s", e.Node, e.Msg)
	case e.Field != "":
		return fmt.Sprintf("field %q: %s", e.Field, e.Msg)
	}
	return e.Msg
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(b []byte, off int64) (int, int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Parse decodes a flow document of any known version, migrating older
// versions to the current one, and checks its structure (not its activities:
// that is Lint's job).
func Parse(b []byte) (*Flow, error) {
	var head struct {
		Format  *string `json:"format"`
		Version *int    `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, jsonErr(b, err)
	}
	version := 0
	if head.Version != nil {
		version = *head.Version
	}
	if head.Format != nil && *head.Format != FormatName {
		return nil, &FieldError{Field: "format", Msg: fmt.Sprintf("%q is not a Deskbot flow (want %q)", *head.Format, FormatName)}
	}
	if version > FormatVersion {
		return nil, &FieldError{Field: "version", Msg: fmt.Sprintf("version %d is newer than this Deskbot understands (%d); update Deskbot", version, FormatVersion)}
	}
	if version < 0 {
		return nil, &FieldError{Field: "version", Msg: fmt.Sprintf("bad version %d", version)}
	}
	for v := version; v < FormatVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return nil, &FieldError{Field: "version", Msg: fmt.Sprintf("no migration from version %d", v)}
		}
		nb, err := m(b)
		if err != nil {
			return nil, fmt.Errorf("migrate from version %d: %w", v, err)
		}
		b = nb
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f Flow
	if err := dec.Decode(&f); err != nil {
		var de *durationError
		if errors.As(err, &de) {
			return nil, locateDuration(b, de)
		}
		return nil, jsonErr(b, err)
	}
	if dec.More() {
		line, col := lineCol(b, dec.InputOffset())
		return nil, &SyntaxError{Line: line, Col: col, Msg: "extra data after the flow document"}
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

func jsonErr(b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset is just past the offending byte.
		line, col := lineCol(b, se.Offset-1)
		return &SyntaxError{Line: line, Col: col, Msg: se.Error()}
	case errors.As(err, &te):
		line, col := lineCol(b, te.Offset)
		return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf("field %q: cannot use %s as %s", te.Field, te.Value, te.Type)}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		line, col := lineCol(b, int64(len(b)))
		return &SyntaxError{Line: line, Col: col, Msg: "unexpected end of file (truncated?)"}
	}
	if strings.HasPrefix(err.Error(), "json: unknown field") {
		return &FieldError{Msg: strings.TrimPrefix(err.Error(), "json: ")}
	}
	return err
}

// check validates the document's structure: ids, edges, variables.
func (f *Flow) check() error {
	if f.Format != FormatName {
		return &FieldError{Field: "format", Msg: fmt.Sprintf("missing or wrong format (want %q)", FormatName)}
	}
	if h := f.Settings.History; h != "" && !slices.Contains(HistoryLevels, h) {
		return &FieldError{Field: "settings.history", Msg: fmt.Sprintf("unknown history level %q (want one of %s)", h, strings.Join(HistoryLevels, ", "))}
	}
	ids := map[string]bool{}
	for i, n := range f.Nodes {
		if n == nil {
			return &FieldError{Field: fmt.Sprintf("nodes[%d]", i), Msg: "null node"}
		}
		if n.ID == "" {
			return &FieldError{Field: fmt.Sprintf("nodes[%d].id", i), Msg: "node without id"}
		}
		if ids[n.ID] {
			return &FieldError{Node: n.ID, Field: "id", Msg: "duplicate node id"}
		}
		ids[n.ID] = true
		if n.Type == "" {
			return &FieldError{Node: n.ID, Field: "type", Msg: "missing activity type"}
		}
		if n.Retry.Count < 0 {
			return &FieldError{Node: n.ID, Field: "retry.count", Msg: "must not be negative"}
		}
		if err := n.checkDurations(); err != nil {
			return err
		}
	}
	vars := map[string]bool{}
	for i, v := range f.Variables {
		if !validIdent(v.Name) {
			return &FieldError{Field: fmt.Sprintf("variables[%d].name", i), Msg: fmt.Sprintf("%q is not a valid variable name (letters, digits, _; not starting with a digit)", v.Name)}
		}
		if IsBuiltin(v.Name) {
			return &FieldError{Field: fmt.Sprintf("variables[%d].name", i), Msg: fmt.Sprintf("%q is the name of a built-in function; choose another name", v.Name)}
		}
		if vars[v.Name] {
			return &FieldError{Field: fmt.Sprintf("variables[%d].name", i), Msg: fmt.Sprintf("variable %q declared twice", v.Name)}
		}
		vars[v.Name] = true
		if !validType(v.Type) {
			return &FieldError{Field: fmt.Sprintf("variables[%d].type", i), Msg: fmt.Sprintf("unknown type %q (want one of %s)", v.Type, strings.Join(VariableTypes, ", "))}
		}
		if v.Default != nil {
			if _, err := Coerce(v.Type, v.Default); err != nil {
				return &FieldError{Field: fmt.Sprintf("variables[%d].default", i), Msg: err.Error()}
			}
		}
	}
	for i, e := range f.Edges {
		if e.Port == "" {
			return &FieldError{Node: e.From, Field: fmt.Sprintf("edges[%d].port", i), Msg: "edge without port"}
		}
	}
	return nil
}

func validType(t string) bool {
	for _, v := range VariableTypes {
		if v == t {
			return true
		}
	}
	return false
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

// checkDurations rejects negative node durations (a document cannot hold
// them; a flow built in memory can).
func (n *Node) checkDurations() error {
	if n.Timeout < 0 {
		return &FieldError{Node: n.ID, Field: "timeout", Msg: fmt.Sprintf("negative duration %s", n.Timeout)}
	}
	if n.Retry.Interval < 0 {
		return &FieldError{Node: n.ID, Field: "retry.interval", Msg: fmt.Sprintf("negative duration %s", n.Retry.Interval)}
	}
	return nil
}

// String formats the duration like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }
