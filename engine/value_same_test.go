package engine_test

import (
	"math"
	"testing"

	"deskbot/engine"
)

// Scalars compare by value, containers by identity.
func TestSameValue(t *testing.T) {
	m := map[string]any{"a": 1.0}
	l := []any{1.0, 2.0}
	for _, c := range []struct {
		a, b any
		same bool
	}{
		{1.0, 1.0, true}, {1.0, 2.0, false}, {math.NaN(), math.NaN(), true}, {"a", "a", true}, {"a", "b", false},
		{nil, nil, true}, {nil, 0.0, false}, {1.0, 1, false}, {true, true, true},
		{m, m, true}, {m, map[string]any{"a": 1.0}, false},
		{l, l, true}, {l, l[:1], false}, {l, []any{1.0, 2.0}, false}, {[]any{}, []any{}, true},
		{[]string{"x"}, []string{"x"}, false}, {int64(3), int64(3), true},
	} {
		if got := engine.SameValue(c.a, c.b); got != c.same {
			t.Errorf("engine.SameValue(%v, %v) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
