package activities

import (
	"encoding/json"
	"strings"
	"testing"

	"deskbot/engine"
)

// Any answer parses to a value the engine can hold, or stays text.
func FuzzParseBody(f *testing.F) {
	f.Add("application/json", []byte(`{"a": [1, 2.5, "x", null, true]}`))
	f.Add("", []byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Add("text/html; charset=utf-8", []byte("<p>\xff</p>"))
	f.Add("application/problem+json", []byte(`{"x": 1} {"y": 2}`))
	f.Fuzz(func(t *testing.T, ctype string, b []byte) {
		v, err := parseBody(ctype, b)
		if s, isText := v.(string); isText {
			var js string
			if err == nil && json.Unmarshal(b, &js) == nil && s == js {
				return // a JSON answer that is a string: its value
			}
			if len(s) < len(b)/3 {
				t.Fatalf("text of %d bytes from %d", len(s), len(b))
			}
			return
		}
		if err != nil {
			t.Fatalf("a value with an error: %v", err)
		}
		if err := engine.CheckSize(v); err != nil {
			t.Fatalf("a value the engine refuses: %v", err)
		}
	})
}

// TestParseBodyTrailing: anything after the first JSON value makes the
// answer text with an error, a stray closing bracket too.
func TestParseBodyTrailing(t *testing.T) {
	for _, b := range []string{`{"x": 1} {"y": 2}`, `""}`, `[1]]`, `{"a": 1}}`, `1 2`} {
		v, err := parseBody("application/json", []byte(b))
		if s, ok := v.(string); !ok || s != b || err == nil || !strings.Contains(err.Error(), "more after the first value") {
			t.Errorf("%s: %#v, %v", b, v, err)
		}
	}
	if v, err := parseBody("application/json", []byte(" {\"a\": 1}\n ")); err != nil || v.(map[string]any)["a"] != 1.0 {
		t.Errorf("surrounding space: %#v, %v", v, err)
	}
}
