package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

// Size limits of one variable's value. A value that grows past them (a text
// doubled in a loop, a list appended to itself) fails the step that made it
// with an error naming the node and the variable, long before the process
// runs out of memory. Real office data fits well under them: a 1,000,000-row
// CSV of ten columns is 11 million items and some 100 MB of text.
const (
	// MaxTextBytes bounds one text (string): 64 MB.
	MaxTextBytes = 64 << 20
	// MaxValueTextBytes bounds all the texts of one list, table or map
	// together: 1 GB.
	MaxValueTextBytes = 1 << 30
	// MaxItems bounds the items of one value: list items, table rows and
	// the fields of maps, counted at every depth: 20 million.
	MaxItems = 20_000_000
	// MaxDepth bounds the nesting of lists and maps in a value.
	MaxDepth = 100
)

func sizeErr(textBytes, items int) error {
	if items > 0 {
		return fmt.Errorf("the value is too large: more than %d items (the limit is %d items per value)", items, MaxItems)
	}
	return fmt.Errorf("the value is too large: a text of %s (the limit is %s per text)", mb(textBytes), mb(MaxTextBytes))
}

func mb(n int) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }

// CheckSize reports whether v is within MaxTextBytes, MaxItems and
// MaxDepth, and refuses values that contain themselves. It stops counting
// as soon as a limit is passed, so it costs at most the limits.
func CheckSize(v any) error { _, err := checkSizeIn(v, nil, nil); return err }

// valueSize is what a size check counted in a list, kept so that the next
// check of the same variable can skip the part it has seen.
type valueSize struct {
	list        []any
	items, text int
}

// checkSizeIn is CheckSize for a value about to be stored in vars: a value
// that holds vars itself ($env) would contain itself once stored. prev is
// the check of the variable's last list value, or nil: a list that starts
// with the same items (rows = concat(rows, [row])) is counted from prev on,
// so collecting rows one by one does not walk the whole table each time.
func checkSizeIn(v any, vars map[string]any, prev *valueSize) (*valueSize, error) {
	switch x := v.(type) {
	case nil, bool, float64, int, int64:
		return nil, nil
	case string:
		if len(x) > MaxTextBytes {
			return nil, sizeErr(len(x), 0)
		}
		return nil, nil
	}
	w := sizeWalk{seen: map[uintptr]bool{}}
	if vars != nil {
		w.seen[reflect.ValueOf(vars).Pointer()] = true
	}
	l, isList := v.([]any)
	if isList && prev != nil && len(prev.list) > 0 && len(l) >= len(prev.list) && samePrefix(l, prev.list) {
		p := sliceID(l)
		w.seen[p] = true
		w.items, w.text = prev.items, prev.text
		w.count(len(l) - len(prev.list))
		for _, e := range l[len(prev.list):] {
			if !w.scalar(e) {
				w.walk(e, 1)
			}
		}
	} else {
		w.walk(v, 0)
	}
	if w.err != nil {
		return nil, w.err
	}
	if isList {
		return &valueSize{list: l, items: w.items, text: w.text}, nil
	}
	return nil, nil
}

// samePrefix reports whether l starts with the very items of prev (the same
// maps and lists, not equal copies).
func samePrefix(l, prev []any) bool {
	for i, p := range prev {
		// An item copied from list to list keeps both words of its
		// interface value: the same type and the same data pointer.
		if *(*[2]uintptr)(unsafe.Pointer(&l[i])) == *(*[2]uintptr)(unsafe.Pointer(&prev[i])) {
			continue
		}
		if !sameItem(l[i], p) {
			return false
		}
	}
	return true
}

func sameItem(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer()
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && sliceID(x) == sliceID(y)
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

type sizeWalk struct {
	text, items int
	seen        map[uintptr]bool // containers on the current path
	err         error
}

func (w *sizeWalk) walk(v any, depth int) {
	if w.err != nil {
		return
	}
	if depth > MaxDepth {
		w.err = fmt.Errorf("the value is nested more than %d deep", MaxDepth)
		return
	}
	enter := func(p uintptr) bool {
		if p == 0 {
			return true
		}
		if w.seen[p] {
			w.err = fmt.Errorf("the value would contain itself (a variable cannot hold $env, all the variables, nor a list or map that holds itself)")
			return false
		}
		w.seen[p] = true
		return true
	}
	switch x := v.(type) {
	case string:
		w.text += len(x)
		switch {
		case len(x) > MaxTextBytes:
			w.err = sizeErr(len(x), 0)
		case w.text > MaxValueTextBytes:
			w.err = fmt.Errorf("the value is too large: more than %s of text in all (the limit is %s per value)", mb(MaxValueTextBytes), mb(MaxValueTextBytes))
		}
	case []any:
		p := sliceID(x)
		if !enter(p) {
			return
		}
		w.count(len(x))
		for _, e := range x {
			if w.scalar(e) {
				continue
			}
			w.walk(e, depth+1)
		}
		delete(w.seen, p)
	case map[string]any:
		p := reflect.ValueOf(x).Pointer()
		if !enter(p) {
			return
		}
		w.count(len(x))
		for _, e := range x {
			if w.scalar(e) {
				continue
			}
			w.walk(e, depth+1)
		}
		delete(w.seen, p)
	case []string:
		w.count(len(x))
		for _, s := range x {
			w.walk(s, depth+1)
		}
	case []map[string]any:
		w.count(len(x))
		for _, m := range x {
			w.walk(m, depth+1)
		}
	}
}

// scalar handles the common leaves without a call to walk; it reports
// whether v was one.
func (w *sizeWalk) scalar(v any) bool {
	switch x := v.(type) {
	case nil, bool, float64, int, int64:
		return true
	case string:
		if len(x) <= MaxTextBytes {
			w.text += len(x)
			if w.text <= MaxValueTextBytes {
				return true
			}
		}
	}
	return false
}

func (w *sizeWalk) count(n int) {
	w.items += n
	if w.items > MaxItems && w.err == nil {
		w.err = sizeErr(0, MaxItems)
	}
}

func sliceID(x []any) uintptr {
	if cap(x) == 0 {
		return 0
	}
	return reflect.ValueOf(x).Pointer()
}

// safeText renders a value that encoding/json refuses (a cycle, NaN, a
// function, nesting past MaxDepth) as JSON-like text: a repeated container
// on the path becomes "<cycle>", deeper nesting "…", and the whole text
// stops at MaxTextBytes.
func safeText(v any) string {
	var b strings.Builder
	r := safeRender{b: &b, seen: map[uintptr]bool{}}
	r.value(v, 0)
	return b.String()
}

type safeRender struct {
	b    *strings.Builder
	seen map[uintptr]bool
}

func (r *safeRender) full() bool { return r.b.Len() > MaxValueTextBytes }

func (r *safeRender) value(v any, depth int) {
	if r.full() {
		return
	}
	if depth > MaxDepth {
		r.b.WriteString(`"…"`)
		return
	}
	switch x := v.(type) {
	case nil:
		r.b.WriteString("null")
	case string:
		r.b.WriteString(strconv.Quote(x))
	case float64:
		r.b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case bool, int, int64, float32:
		fmt.Fprint(r.b, x)
	case []any:
		p := sliceID(x)
		if p != 0 && r.seen[p] {
			r.b.WriteString(`"<cycle>"`)
			return
		}
		r.seen[p] = true
		r.b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				r.b.WriteByte(',')
			}
			r.value(e, depth+1)
		}
		r.b.WriteByte(']')
		delete(r.seen, p)
	case map[string]any:
		p := reflect.ValueOf(x).Pointer()
		if r.seen[p] {
			r.b.WriteString(`"<cycle>"`)
			return
		}
		r.seen[p] = true
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		r.b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				r.b.WriteByte(',')
			}
			r.b.WriteString(strconv.Quote(k))
			r.b.WriteByte(':')
			r.value(x[k], depth+1)
		}
		r.b.WriteByte('}')
		delete(r.seen, p)
	default:
		if b, err := json.Marshal(v); err == nil {
			r.b.Write(b)
		} else {
			fmt.Fprintf(r.b, "%q", fmt.Sprintf("<%T>", v))
		}
	}
}

// JSONSafe returns v in a form encoding/json always encodes: NaN and the
// infinities become the strings "NaN", "+Inf" and "-Inf", a container that
// contains itself becomes "<cycle>", nesting past MaxDepth "…", and values
// json cannot encode (functions, channels) their text. Plain values come back
// unchanged, without copying.
func JSONSafe(v any) any {
	if jsonPlain(v, 0, nil) {
		return v
	}
	return jsonCopy(v, 0, map[uintptr]bool{})
}

// jsonPlain reports whether v needs no change.
func jsonPlain(v any, depth int, seen map[uintptr]bool) bool {
	if depth > MaxDepth {
		return false
	}
	switch x := v.(type) {
	case nil, string, bool, int, int64:
		return true
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
	case []any:
		if seen == nil {
			seen = map[uintptr]bool{}
		}
		p := sliceID(x)
		if p != 0 && seen[p] {
			return false
		}
		seen[p] = true
		defer delete(seen, p)
		for _, e := range x {
			if !jsonPlain(e, depth+1, seen) {
				return false
			}
		}
		return true
	case map[string]any:
		if seen == nil {
			seen = map[uintptr]bool{}
		}
		p := reflect.ValueOf(x).Pointer()
		if seen[p] {
			return false
		}
		seen[p] = true
		defer delete(seen, p)
		for _, e := range x {
			if !jsonPlain(e, depth+1, seen) {
				return false
			}
		}
		return true
	case []string:
		return true
	}
	_, err := json.Marshal(v)
	return err == nil
}

func jsonCopy(v any, depth int, seen map[uintptr]bool) any {
	if depth > MaxDepth {
		return "…"
	}
	switch x := v.(type) {
	case nil, string, bool, int, int64, []string:
		return x
	case float64:
		return jsonFloat(x)
	case float32:
		return jsonFloat(float64(x))
	case []any:
		p := sliceID(x)
		if p != 0 && seen[p] {
			return "<cycle>"
		}
		seen[p] = true
		defer delete(seen, p)
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonCopy(e, depth+1, seen)
		}
		return out
	case map[string]any:
		p := reflect.ValueOf(x).Pointer()
		if seen[p] {
			return "<cycle>"
		}
		seen[p] = true
		defer delete(seen, p)
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonCopy(e, depth+1, seen)
		}
		return out
	}
	if _, err := json.Marshal(v); err == nil {
		return v
	}
	return fmt.Sprintf("<%T>", v)
}

func jsonFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return f
}
