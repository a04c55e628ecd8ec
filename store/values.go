package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// How the history stores a value (a variable or a step output).
const (
	// PreviewBytes bounds a stored value: one whose JSON is longer is
	// stored as a preview (its first elements or characters) with its
	// full size and a hash, under the keys of a Preview.
	PreviewBytes = 4 << 10
	// MaxDepth bounds the nesting the history follows; deeper values are
	// stored as DeepMarker.
	MaxDepth = 32
	// hashBytes bounds the JSON hashed for a large value's sha256 (a DAG
	// of shared sub-values can be exponential in its memory size).
	hashBytes = 1 << 30
)

// Markers that stand in for a value the history does not store.
const (
	DeepMarker  = "…(nested deeper than 32 levels)"
	CycleMarker = "…(contains itself)"
)

// Preview keys: a large value is stored as a JSON object
// {"$preview": first part, "$type": "list"|"map"|"text"|..., "$len": elements
// or characters, "$bytes": size of its full JSON, "$sha256": hash of that
// JSON}. "$hash_partial": true says the value was too large to hash whole.
const (
	PreviewKey = "$preview"
)

// valueEncoder writes Go values as JSON, bounded in depth, with cycle
// detection, and (when limit > 0) stops adding elements once limit bytes
// are written, marking the cut. It accepts values encoding/json rejects:
// NaN and infinities, functions and channels become text, maps with
// non-string keys get printed keys.
type valueEncoder struct {
	buf   []byte
	limit int  // 0: no limit
	cut   bool // the limit cut the value short
	path  []uintptr
	// Streaming to a hash (limit 0): buf is flushed into h as it grows.
	h       hash.Hash
	written int64
}

func (e *valueEncoder) full() bool { return e.limit > 0 && len(e.buf) >= e.limit }

func (e *valueEncoder) flush() {
	if e.h != nil && len(e.buf) >= 32<<10 {
		e.h.Write(e.buf)
		e.written += int64(len(e.buf))
		e.buf = e.buf[:0]
	}
}

func (e *valueEncoder) over() bool {
	if e.h != nil {
		return e.written+int64(len(e.buf)) > hashBytes
	}
	return false
}

// enter reports whether container p is already on the path (a cycle) and
// pushes it otherwise.
func (e *valueEncoder) enter(p uintptr) bool {
	if p != 0 && slices.Contains(e.path, p) {
		return false
	}
	e.path = append(e.path, p)
	return true
}

func (e *valueEncoder) leave() { e.path = e.path[:len(e.path)-1] }

func (e *valueEncoder) value(v any, depth int) {
	e.flush()
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.str(x)
	case float64:
		e.float(x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case map[string]any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return
		}
		if depth >= MaxDepth {
			e.str(DeepMarker)
			return
		}
		if !e.enter(reflect.ValueOf(x).Pointer()) {
			e.str(CycleMarker)
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.object(keys, func(i int) { e.value(x[keys[i]], depth+1) })
		e.leave()
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return
		}
		if depth >= MaxDepth {
			e.str(DeepMarker)
			return
		}
		var p uintptr
		if cap(x) > 0 {
			p = reflect.ValueOf(x).Pointer()
		}
		if !e.enter(p) {
			e.str(CycleMarker)
			return
		}
		e.array(len(x), func(i int) { e.value(x[i], depth+1) })
		e.leave()
	default:
		e.reflected(reflect.ValueOf(v), depth)
	}
}

// object writes {"key":value,...} for keys in order, elem(i) writing the
// value of keys[i]; once the preview is full the rest is one "… N more
// keys" entry.
func (e *valueEncoder) object(keys []string, elem func(i int)) {
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if e.full() || e.over() {
			e.cut = true
			e.str("…")
			e.buf = append(e.buf, ':')
			e.str(fmt.Sprintf("%d more keys", len(keys)-i))
			break
		}
		e.str(k)
		e.buf = append(e.buf, ':')
		elem(i)
	}
	e.buf = append(e.buf, '}')
}

// array writes [elem(0),...,elem(n-1)]; once the preview is full the rest
// is one "… N more" element.
func (e *valueEncoder) array(n int, elem func(i int)) {
	e.buf = append(e.buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if e.full() || e.over() {
			e.cut = true
			e.str(fmt.Sprintf("… %d more", n-i))
			break
		}
		elem(i)
	}
	e.buf = append(e.buf, ']')
}

func (e *valueEncoder) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.str(strconv.FormatFloat(f, 'g', -1, 64)) // "NaN", "+Inf"
		return
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		e.buf = strconv.AppendFloat(e.buf, f, 'f', -1, 64)
		return
	}
	e.buf = strconv.AppendFloat(e.buf, f, 'g', -1, 64)
}

// reflected handles the types the fast path does not.
func (e *valueEncoder) reflected(v reflect.Value, depth int) {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return
	}
	if v.CanInterface() {
		if m, ok := v.Interface().(json.Marshaler); ok {
			if v.Kind() == reflect.Pointer && v.IsNil() {
				e.buf = append(e.buf, "null"...)
				return
			}
			if b, err := m.MarshalJSON(); err == nil && json.Valid(b) {
				e.buf = append(e.buf, b...)
				return
			}
		}
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return
		}
		if depth >= MaxDepth {
			e.str(DeepMarker)
			return
		}
		p := uintptr(0)
		if v.Kind() == reflect.Pointer {
			p = v.Pointer()
		}
		if !e.enter(p) {
			e.str(CycleMarker)
			return
		}
		e.value(v.Elem().Interface(), depth+1)
		e.leave()
	case reflect.String:
		e.str(v.String())
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		e.float(v.Float())
	case reflect.Map:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return
		}
		if depth >= MaxDepth {
			e.str(DeepMarker)
			return
		}
		if !e.enter(v.Pointer()) {
			e.str(CycleMarker)
			return
		}
		type kv struct {
			k string
			v reflect.Value
		}
		var kvs []kv
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			ks := ""
			if k.Kind() == reflect.String {
				ks = k.String()
			} else if k.CanInterface() {
				ks = fmt.Sprint(k.Interface())
			}
			kvs = append(kvs, kv{ks, it.Value()})
		}
		slices.SortFunc(kvs, func(a, b kv) int {
			switch {
			case a.k < b.k:
				return -1
			case a.k > b.k:
				return 1
			}
			return 0
		})
		keys := make([]string, len(kvs))
		for i, p := range kvs {
			keys[i] = p.k
		}
		e.object(keys, func(i int) { e.reflectedElem(kvs[i].v, depth+1) })
		e.leave()
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice {
			if v.IsNil() {
				e.buf = append(e.buf, "null"...)
				return
			}
			if v.Type().Elem().Kind() == reflect.Uint8 {
				b := v.Bytes()
				if e.limit > 0 && len(b) > e.limit {
					b, e.cut = b[:e.limit], true
				}
				e.str(base64.StdEncoding.EncodeToString(b))
				return
			}
		}
		if depth >= MaxDepth {
			e.str(DeepMarker)
			return
		}
		p := uintptr(0)
		if v.Kind() == reflect.Slice && v.Cap() > 0 {
			p = v.Pointer()
		}
		if !e.enter(p) {
			e.str(CycleMarker)
			return
		}
		e.array(v.Len(), func(i int) { e.reflectedElem(v.Index(i), depth+1) })
		e.leave()
	case reflect.Struct:
		if v.CanInterface() {
			if b, err := json.Marshal(v.Interface()); err == nil {
				e.buf = append(e.buf, b...)
				return
			}
			e.str(fmt.Sprint(v.Interface()))
			return
		}
		e.buf = append(e.buf, "null"...)
	default: // func, chan, complex, unsafe pointer
		if v.CanInterface() {
			e.str(fmt.Sprint(v.Interface()))
			return
		}
		e.buf = append(e.buf, "null"...)
	}
}

func (e *valueEncoder) reflectedElem(v reflect.Value, depth int) {
	if v.Kind() == reflect.Interface && !v.IsNil() && v.CanInterface() {
		e.value(v.Elem().Interface(), depth)
		return
	}
	if v.CanInterface() {
		e.value(v.Interface(), depth)
		return
	}
	e.reflected(v, depth)
}

// str writes s as a JSON string; with a limit, a long string is cut to
// fit, with a marker.
func (e *valueEncoder) str(s string) {
	if e.limit > 0 {
		room := max(e.limit-len(e.buf), 64)
		if len(s) > room {
			cut := room
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			e.cut = true
			s = s[:cut] + fmt.Sprintf("…(%d more bytes)", len(s)-cut)
		}
	}
	e.buf = appendJSONString(e.buf, s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as JSON; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// encodeValue returns v as JSON for the history, appended to dst: whole
// when it fits PreviewBytes, else as a preview object with the value's
// type, length, full JSON size and sha256.
func encodeValue(dst []byte, v any) []byte {
	e := valueEncoder{buf: dst, limit: len(dst) + PreviewBytes}
	start := len(dst)
	e.value(v, 0)
	if !e.cut {
		return e.buf
	}
	preview := append([]byte(nil), e.buf[start:]...)
	// The whole value, streamed into the hash.
	h := sha256.New()
	he := valueEncoder{buf: make([]byte, 0, 64<<10), h: h}
	he.value(v, 0)
	h.Write(he.buf)
	total := he.written + int64(len(he.buf))
	b := append(e.buf[:start], `{"$preview":`...)
	b = append(b, preview...)
	typ, n := describe(v)
	b = append(b, `,"$type":`...)
	b = appendJSONString(b, typ)
	b = append(b, `,"$len":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"$bytes":`...)
	b = strconv.AppendInt(b, total, 10)
	b = append(b, `,"$sha256":"`...)
	b = hex.AppendEncode(b, h.Sum(nil))
	b = append(b, '"')
	if he.cut {
		b = append(b, `,"$hash_partial":true`...)
	}
	return append(b, '}')
}

// describe names v's kind for a preview, with its length (elements, keys
// or characters).
func describe(v any) (string, int) {
	switch x := v.(type) {
	case string:
		return "text", utf8.RuneCountInString(x)
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				return "table", len(x)
			}
		}
		return "list", len(x)
	case map[string]any:
		return "map", len(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return "list", rv.Len()
	case reflect.Map:
		return "map", rv.Len()
	case reflect.String:
		return "text", utf8.RuneCountInString(rv.String())
	}
	return rv.Kind().String(), 0
}

// marshalValues encodes a map of values (outputs, a full snapshot) as a
// JSON object, each value bounded by encodeValue.
func marshalValues(dst []byte, m map[string]any) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = encodeValue(dst, m[k])
	}
	return append(dst, '}')
}
