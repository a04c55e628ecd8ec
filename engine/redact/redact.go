// Package redact removes secrets from text before it reaches a log, the
// history database or the terminal.
//
// Two kinds of secret are removed:
//
//   - known values: API keys the process has loaded (Add; the OpenAI client
//     adds its profile's key when it is made), replaced wherever they occur;
//   - secret-shaped text: bearer tokens and Authorization headers, OpenAI
//     style "sk-…" keys, GitHub, Hugging Face, Slack, Google and AWS key
//     formats, "api_key=…", "password: …", "token=…" and JSON members such
//     as "key": "…" or "api_key": "…".
//
// Each is replaced by Mask. String does both; Known only the known values
// (for generated text and prompts, where a pattern could eat real words).
// Error keeps errors.Is and errors.As working on the redacted error.
package redact

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces each secret.
const Mask = "[redacted]"

// MinLen is the shortest known secret that Add accepts. Passwords and PINs
// of four characters and more are masked; a shorter value would mask
// ordinary words and numbers everywhere (and is no secret).
const MinLen = 4

var (
	mu      sync.Mutex               // serialises Add
	secrets atomic.Pointer[[]string] // longest first, so that a key containing another is masked whole
)

// Add registers known secret values (API keys) to be masked wherever they
// appear from now on, in every redaction in this process. Values shorter
// than MinLen are ignored; surrounding space is trimmed.
func Add(values ...string) {
	mu.Lock()
	defer mu.Unlock()
	var list []string
	if p := secrets.Load(); p != nil {
		list = slices.Clone(*p)
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < MinLen || slices.Contains(list, v) {
			continue
		}
		list = append(list, v)
	}
	slices.SortFunc(list, func(a, b string) int { return len(b) - len(a) })
	secrets.Store(&list)
}

// Known masks the registered secret values only.
func Known(s string) string {
	p := secrets.Load()
	if p == nil {
		return s
	}
	for _, k := range *p {
		if strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, Mask)
		}
	}
	return s
}

// rule is one secret-shaped pattern; the groups before the secret (kept)
// come first in repl. need is a cheap test that s may match: most text
// never gets to the regular expression.
type rule struct {
	re   *regexp.Regexp
	repl string
	need func(s string) bool
}

const keyNames = `api[_-]?key|apikey|x-api-key|access[_-]?token|auth[_-]?token|refresh[_-]?token|id[_-]?token|client[_-]?secret|secret[_-]?key|private[_-]?key|passwd|password|pwd`

// namedValue: a name that holds secrets, then '=' or ':'.
func namedValue(s string) bool {
	return strings.ContainsAny(s, "=:") && anyFold(s, "key", "token", "secret", "auth", "pass", "pwd", "sig")
}

var rules = []rule{
	// JSON members: "key": "…", "api_key": "…", "token": "…"
	{regexp.MustCompile(`(?i)("(?:key|token|secret|authorization|` + keyNames + `)"\s*:\s*")(?:[^"\\]|\\.)*(")`), "${1}" + Mask + "${2}", namedValue},
	// headers: Authorization: Bearer …, Authorization: Basic …
	{regexp.MustCompile(`(?i)(\bauthorization\s*[:=]\s*)(?:(?:bearer|basic|token)\s+)?[^\s"',;]+`), "${1}" + Mask,
		func(s string) bool { return indexFold(s, "authorization") >= 0 }},
	{regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}`), "${1}" + Mask,
		func(s string) bool { return indexFold(s, "bearer") >= 0 }},
	// name=value and name: value for names that only ever hold secrets
	{regexp.MustCompile(`(?i)(\b(?:` + keyNames + `)\s*[=:]\s*"?)[^\s"'&,;]+`), "${1}" + Mask, namedValue},
	// query strings and forms: key=…, token=…, secret=…
	{regexp.MustCompile(`(?i)(\b(?:key|token|secret|sig|signature)=)[^\s"'&,;]+`), "${1}" + Mask, namedValue},
	// key formats
	{regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{8,}`), Mask, func(s string) bool { return strings.Contains(s, "sk-") }},
	{regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|hf_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,}|AKIA[0-9A-Z]{16})`), Mask,
		func(s string) bool {
			return strings.Contains(s, "_") && (strings.Contains(s, "gh") || strings.Contains(s, "hf_")) ||
				strings.Contains(s, "xox") || strings.Contains(s, "AIza") || strings.Contains(s, "AKIA")
		}},
}

// String masks known secrets and secret-shaped text.
func String(s string) string {
	s = Known(s)
	// Every pattern needs one of these bytes, or the word bearer, or an
	// AIza/AKIA key: most text is done after one pass.
	if len(s) < 8 || !strings.ContainsAny(s, "=:-_") && (len(s) < 15 || indexFold(s, "bearer") < 0) &&
		(len(s) < 20 || !strings.Contains(s, "AIza") && !strings.Contains(s, "AKIA")) {
		return s
	}
	for _, r := range rules {
		if r.need(s) {
			s = r.re.ReplaceAllString(s, r.repl)
		}
	}
	return s
}

// anyFold reports whether s contains one of the lower-case ASCII needles,
// in any case.
func anyFold(s string, needles ...string) bool {
	for _, n := range needles {
		if indexFold(s, n) >= 0 {
			return true
		}
	}
	return false
}

// indexFold finds the lower-case ASCII needle in s in any case.
func indexFold(s, needle string) int {
	lo, up := needle[0], needle[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	for i := 0; i+len(needle) <= len(s); {
		j := strings.IndexByte(s[i:], lo)
		if up != lo {
			if k := strings.IndexByte(s[i:], up); k >= 0 && (j < 0 || k < j) {
				j = k
			}
		}
		if j < 0 {
			return -1
		}
		i += j
		if i+len(needle) <= len(s) && strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
		i++
	}
	return -1
}

// Error returns err with its message redacted, or err itself when there
// was nothing to mask. The result unwraps to err.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*redacted); ok {
		return err
	}
	msg := err.Error()
	red := String(msg)
	if red == msg {
		return err
	}
	return &redacted{msg: red, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Value masks the strings in v: a string, or maps and lists of values as
// the engine's variables hold them. Containers are copied only where
// something changed; v itself is never modified, and comes back as is
// when there was nothing to mask.
func Value(v any) any {
	r, _ := value(v)
	return r
}

// value is Value that also says whether anything changed, without boxing
// unchanged strings.
func value(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		if r := String(x); r != x {
			return r, true
		}
	case error:
		if msg := x.Error(); String(msg) != msg {
			return Error(x), true
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if r, changed := value(e); changed {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = r
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range x {
			if r, changed := value(e); changed {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = r
			}
		}
		if out != nil {
			return out, true
		}
	case []string:
		var out []string
		for i, e := range x {
			if r := String(e); r != e {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = r
			}
		}
		if out != nil {
			return out, true
		}
	case map[string]string:
		var out map[string]string
		for k, e := range x {
			if r := String(e); r != e {
				if out == nil {
					out = make(map[string]string, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = r
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// Changed is Value that also reports whether anything was masked.
func Changed(v any) (any, bool) { return value(v) }

// sameRef reports whether a and b are the same map, slice or error.
func sameRef(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	switch va.Kind() {
	case reflect.Map, reflect.Pointer:
		return va.UnsafePointer() == vb.UnsafePointer()
	case reflect.Slice:
		return va.UnsafePointer() == vb.UnsafePointer() && va.Len() == vb.Len()
	}
	return va.Comparable() && vb.Comparable() && va.Equal(vb)
}
