package ui

import (
	"path/filepath"
	"regexp"
	"testing"

	"deskbot/engine"
)

// commandLine matches what belongs in the docs, not in a sample's
// description on the start page: commands, flags, paths and code.
var commandLine = regexp.MustCompile("\\bdeskbot [a-z-]+|(^|\\s)--?[a-z]|\\bgo (run|build)\\b|\\./|assets/|`|\\$[A-Z{]|[a-z_]+=[a-z]|\\bapi:|\\.go\\b|\\.json\\b")

// TestSampleDescriptionsSpeakToOfficeUsers: each sample says what it does
// in plain words, with no command lines.
func TestSampleDescriptionsSpeakToOfficeUsers(t *testing.T) {
	files, _ := filepath.Glob("../assets/flows/*.json")
	if len(files) < 5 {
		t.Fatalf("%d samples", len(files))
	}
	for _, p := range files {
		f, err := engine.LoadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d := f.Description
		if len(d) < 40 || len(d) > 320 {
			t.Errorf("%s: description of %d characters: %q", p, len(d), d)
		}
		if m := commandLine.FindString(d); m != "" {
			t.Errorf("%s: description has a command line (%q): %q", p, m, d)
		}
	}
	for _, bad := range []string{"GPT-2 on this computer (deskbot model pull gpt2) or --var model=api:PROFILE", "go run ./assets/formapp", "the file is out_dir=x"} {
		if !commandLine.MatchString(bad) {
			t.Errorf("the check misses %q", bad)
		}
	}
}
