package redact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	Add("s3cr3t-known-value-123", "abc", "pw4711")
	for _, c := range []struct{ in, want string }{
		// known values, anywhere
		{"the key s3cr3t-known-value-123 was rejected", "the key [redacted] was rejected"},
		{`{"error":{"message":"Incorrect API key provided: s3cr3t-known-value-123."}}`, `{"error":{"message":"Incorrect API key provided: [redacted]."}}`},
		// a short password is masked too; three characters are too short to register
		{"login failed for pw4711", "login failed for [redacted]"},
		{"abc and abcd", "abc and abcd"},
		// bearer tokens and headers
		{"Authorization: Bearer abcdefghijklmnop", "Authorization: [redacted]"},
		{"authorization=Basic dXNlcjpwYXNz", "authorization=[redacted]"},
		{"sent bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "sent bearer [redacted]"},
		// key formats
		{"Incorrect API key provided: sk-proj-AbCdEf123456. You can find", "Incorrect API key provided: [redacted]. You can find"},
		{"key sk-ant-api03-xyzxyzxyz", "key [redacted]"},
		{"token ghp_0123456789abcdefghij0123 and hf_abcdefghijklmnopqrstuvwxyz", "token [redacted] and [redacted]"},
		{"AKIAIOSFODNN7EXAMPLE", "[redacted]"},
		// name=value, name: value
		{"GET /v1/x?api_key=abc123&model=m", "GET /v1/x?api_key=[redacted]&model=m"},
		{"https://h/p?key=AIzaSyA&x=1", "https://h/p?key=[redacted]&x=1"},
		{"password: hunter22 then", "password: [redacted] then"},
		{"X-Api-Key: 1234567890", "X-Api-Key: [redacted]"},
		{`client_secret="abc def"`, `client_secret="[redacted] def"`},
		// JSON members
		{`{"key": "abc", "model": "m"}`, `{"key": "[redacted]", "model": "m"}`},
		{`{"api_key":"a\"b","token" : "t"}`, `{"api_key":"[redacted]","token" : "[redacted]"}`},
		// ordinary text is left alone
		{`node "write" (text.generate): generate with api:fake: unknown key: name`, `node "write" (text.generate): generate with api:fake: unknown key: name`},
		{"press the Enter key; Basic settings; 12 tokens; the token limit; passed; sk-learn", "press the Enter key; Basic settings; 12 tokens; the token limit; passed; sk-learn"},
		{"Dear Anna, thank you for your order.", "Dear Anna, thank you for your order."},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		if got := String(String(c.in)); got != String(c.in) {
			t.Errorf("not idempotent on %q: %q", c.in, got)
		}
	}
	if got := Known("api_key=s3cr3t-known-value-123 sk-abcdefghijk"); got != "api_key=[redacted] sk-abcdefghijk" {
		t.Errorf("Known: %q", got)
	}
}

func TestError(t *testing.T) {
	Add("sk-live-0123456789")
	base := fmt.Errorf("rejected key sk-live-0123456789: %w", context.Canceled)
	err := Error(fmt.Errorf("node %q: %w", "x", base))
	if strings.Contains(err.Error(), "0123456789") || !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
	if Error(err) != err {
		t.Error("redacting twice wraps twice")
	}
	plain := errors.New("nothing secret")
	if Error(plain) != plain || Error(nil) != nil {
		t.Error("an error without secrets must come back as is")
	}
}

func TestValue(t *testing.T) {
	Add("value-secret-abcdef")
	clean := map[string]any{"a": "x", "n": 1.0, "l": []any{"y", map[string]any{"z": true}}}
	if got := Value(clean); !sameRef(got, clean) {
		t.Error("a value without secrets must come back as is, not copied")
	}
	dirty := map[string]any{"a": "x", "l": []any{"ok", map[string]any{"err": "bad key value-secret-abcdef"}}, "s": []string{"Bearer abcdefghijkl"}}
	got := Value(dirty).(map[string]any)
	if s := fmt.Sprint(got); strings.Contains(s, "value-secret") || strings.Contains(s, "abcdefghijkl") {
		t.Errorf("not masked: %v", s)
	}
	if s := fmt.Sprint(dirty); !strings.Contains(s, "value-secret-abcdef") {
		t.Error("the original was modified")
	}
	if !sameRef(got["a"], dirty["a"]) {
		t.Error("unchanged members should be shared")
	}
}

// FuzzString: a registered secret never survives, whatever surrounds it;
// redaction is idempotent and never panics.
func FuzzString(f *testing.F) {
	const secret = "fuzz-secret-0123456789"
	Add(secret)
	f.Add("before ", " after")
	f.Add(`{"key": "`, `"}`)
	f.Add("Authorization: Bearer ", "")
	f.Add("api_key=", "&x=1")
	f.Fuzz(func(t *testing.T, a, b string) {
		s := String(a + secret + b)
		if strings.Contains(s, secret) {
			t.Fatalf("secret survived: %q", s)
		}
		if String(s) != s {
			t.Fatalf("not idempotent: %q -> %q", s, String(s))
		}
	})
}

// BenchmarkStringNoSecret: the common case, text with nothing to mask.
func BenchmarkStringNoSecret(b *testing.B) {
	for b.Loop() {
		String("ordered the blue key ring, token 7")
	}
}
