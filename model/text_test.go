package model

import "testing"

func TestValidText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"héllo", "héllo"},
		{"a\x97\xc1b", "a\uFFFD\uFFFDb"},
		{"\xe2\x82", "\uFFFD\uFFFD"}, // a cut-off 3-byte sequence: one per byte
		{"x\xffé", "x\uFFFDé"},
	} {
		if got := ValidText([]byte(c.in)); got != c.want {
			t.Errorf("ValidText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
