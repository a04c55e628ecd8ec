package engine

import (
	"sync"

	"deskbot/engine/redact"
)

// redactObserver wraps o so that every event it gets has its secrets
// masked (see package redact): error and log texts, inputs, outputs and variable
// copies. Run wraps the run's observer with it once; nil stays nil.
func redactObserver(o Observer) Observer {
	if o == nil || !redactEvents {
		return nil
	}
	if _, ok := o.(*redactingObserver); ok {
		return o
	}
	return &redactingObserver{next: o, vars: map[string]any{}}
}

// redactEvents is off only in the benchmark that measures its cost.
var redactEvents = true

// redactingObserver masks secrets in events. Variables are copied into
// events again and again (a table on every step of a loop over it): a
// variable whose value is the same one that was found clean last time is
// not scanned again, so a step costs what changed, not every variable.
type redactingObserver struct {
	next Observer
	mu   sync.Mutex
	vars map[string]any // name -> the value last found clean
}

func (o *redactingObserver) Event(e Event) {
	e.Err = redact.String(e.Err)
	e.Message = redact.String(e.Message)
	if e.Outputs != nil {
		if r, changed := redact.Changed(e.Outputs); changed {
			e.Outputs = r.(map[string]any)
		}
	}
	if e.Inputs != nil {
		if r, changed := redact.Changed(e.Inputs); changed {
			e.Inputs = r.(map[string]any)
		}
	}
	if e.Vars != nil {
		e.Vars = o.redactVars(e.Vars)
	}
	o.next.Event(e)
}

// WantsInputs passes on whether the wrapped observer wants inputs.
func (o *redactingObserver) WantsInputs() bool { return wantsInputs(o.next) }

func (o *redactingObserver) redactVars(vars map[string]any) map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out map[string]any
	for k, v := range vars {
		if prev, ok := o.vars[k]; ok && SameValue(prev, v) {
			continue
		}
		r, changed := redact.Changed(v)
		if !changed {
			o.vars[k] = v
			continue
		}
		delete(o.vars, k)
		if out == nil {
			out = make(map[string]any, len(vars))
			for k2, v2 := range vars {
				out[k2] = v2
			}
		}
		out[k] = r
	}
	if out == nil {
		return vars
	}
	return out
}

// redactResult masks secrets in a finished run's error (the history keeps
// it as runs.error), keeping errors.Is and errors.As working.
func redactResult(res *Result, err error) error {
	err = redact.Error(err)
	if res != nil {
		res.Err = redact.Error(res.Err)
	}
	return err
}
