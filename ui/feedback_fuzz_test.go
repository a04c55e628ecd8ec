package ui

import (
	"testing"

	"deskbot/engine"
)

// FuzzParseEdit: whatever is typed into the Variables editor or a grid
// default, reading it returns a value or an error, never a panic.
func FuzzParseEdit(f *testing.F) {
	for _, s := range []string{"", "41", "[1, 2]", `{"a": [1, {"b": null}]}`, "true", "forty", `[{"n": 1}, 2]`, "\x00", "1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range engine.VariableTypes {
			parseEdit(nil, typ, s)
			parseEdit("old", typ, s)
			if v, err := parseDefault(typ, s); err == nil {
				engine.Coerce(typ, v)
			}
		}
		parseEdit(1.0, "", s)
		wrapTip(s)
		describeValue(s)
	})
}
