package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// MaxCallDepth is how deep call_flow calls may nest in a run: a flow that
// calls itself without a stop condition fails there, with the chain of
// calls in the error, instead of exhausting the stack.
const MaxCallDepth = 100

// CallDepthError is a run whose call_flow calls nested deeper than
// MaxCallDepth.
type CallDepthError struct {
	Chain []string // file names, the top flow first
}

func (e *CallDepthError) Error() string {
	c := e.Chain
	var shown string
	if len(c) > 10 {
		shown = strings.Join(c[:6], " → ") + " → … → " + strings.Join(c[len(c)-3:], " → ")
	} else {
		shown = strings.Join(c, " → ")
	}
	return fmt.Sprintf("calls nest more than %d deep (MaxCallDepth); does a flow call itself without a stop condition? %s", MaxCallDepth, shown)
}

// runCalls caches the flows a run calls, loaded once per file version
// (path, modification time and size). Their prepared activities are handed
// out one call at a time (a flow that calls itself, or a timed-out call
// still winding down, gets its own), since activities are not safe for
// concurrent use.
type runCalls struct {
	mu sync.Mutex
	m  map[string]*calledFlow
}

type calledFlow struct {
	flow *Flow
	mod  time.Time
	size int64
	free []*Prepared
}

// get returns the called flow and prepared activities for one call; put
// gives them back.
func (rc *runCalls) get(path string, reg *Registry) (*calledFlow, *Prepared, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load flow: %w", err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cf := rc.m[path]
	if cf == nil || !cf.mod.Equal(st.ModTime()) || cf.size != st.Size() {
		f, err := LoadFile(path)
		if err != nil {
			return nil, nil, err
		}
		cf = &calledFlow{flow: f, mod: st.ModTime(), size: st.Size()}
		if rc.m == nil {
			rc.m = map[string]*calledFlow{}
		}
		rc.m[path] = cf
	}
	if n := len(cf.free); n > 0 {
		p := cf.free[n-1]
		cf.free = cf.free[:n-1]
		return cf, p, nil
	}
	prep, err := Prepare(cf.flow, reg, filepath.Dir(path))
	if err != nil {
		return nil, nil, fmt.Errorf("called flow %s: %w", path, err)
	}
	return cf, prep, nil
}

func (rc *runCalls) put(cf *calledFlow, p *Prepared) {
	rc.mu.Lock()
	cf.free = append(cf.free, p)
	rc.mu.Unlock()
}

// callScope is what one lint has read of the flows its flow calls: each
// called file is read and checked once, however many nodes call it and
// however the calls loop (a.json → b.json → a.json).
type callScope struct {
	flows map[string]scopedFlow
}

type scopedFlow struct {
	flow *Flow
	err  error
}

func newCallScope() *callScope { return &callScope{flows: map[string]scopedFlow{}} }

// load reads a called flow once; first is true the first time.
func (s *callScope) load(path string) (f *Flow, first bool, err error) {
	key := path
	if abs, err := filepath.Abs(path); err == nil {
		key = abs
	}
	if sf, ok := s.flows[key]; ok {
		return sf.flow, false, sf.err
	}
	f, err = LoadFile(path)
	s.flows[key] = scopedFlow{f, err}
	return f, true, err
}
