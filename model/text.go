package model

import (
	"strings"
	"unicode/utf8"
)

// ValidText is b as text with each byte that is not part of valid UTF-8
// replaced by U+FFFD: a run of such bytes keeps its length in characters
// (strings.ToValidUTF8 makes one character of a whole run).
func ValidText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/2)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteString("\uFFFD")
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}
