package store

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// Strings are quoted as valid JSON that decodes to the same text (invalid
// UTF-8 becomes U+FFFD, as encoding/json does).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote \" back \\ slash", "tab\tnl\ncr\r\x00\x1f", "ünïcödé 中文 \u2028\u2029", "bad \xff\xfe utf8", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q gives invalid JSON %s: %v", s, b, err)
		}
		want, _ := json.Marshal(s)
		var w string
		json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("%q decodes to %q, want %q", s, got, w)
		}
	})
}

// Every kind of value a flow can hold encodes to valid JSON, bounded.
func TestEncodeValue(t *testing.T) {
	self := map[string]any{}
	self["me"] = self
	list := []any{1.0, "a"}
	list[0] = list
	type point struct{ X, Y int }
	for _, v := range []any{
		nil, "text", 1.5, 3.0, -0.0, math.NaN(), math.Inf(-1), true, 7, int64(-8), uint8(9), float32(1.25),
		map[string]any{"a": []any{1.0, map[string]any{"b": nil}}},
		map[any]any{1: "one", "two": 2.0}, []string{"x", "y"}, []byte("bytes"), point{1, 2}, &point{3, 4},
		func() {}, make(chan int), complex(1, 2), self, list,
		strings.Repeat("x", 100_000), make([]any, 100_000), map[int]int{1: 2},
	} {
		b := encodeValue(nil, v)
		if !json.Valid(b) {
			t.Fatalf("%T gives invalid JSON: %.300s", v, b)
		}
		if len(b) > PreviewBytes+1024 {
			t.Fatalf("%T gives %d bytes", v, len(b))
		}
	}
	var m map[string]any
	json.Unmarshal(encodeValue(nil, strings.Repeat("é", 10_000)), &m)
	if m["$type"] != "text" || m["$len"] != 10_000.0 || m["$bytes"] != 20_002.0 {
		t.Fatalf("preview of a long text = %.200v", m)
	}
}
