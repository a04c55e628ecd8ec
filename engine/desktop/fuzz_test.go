package desktop_test

import (
	"path/filepath"
	"testing"

	"deskbot/engine/desktop"
)

// FuzzParseKey: any input either fails or gives a key whose text parses
// back to the same key.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"ctrl+s", "alt+F4", "ctrl++", "+", "A", "shift+tab", "ctrl+alt+delete", "win+e", "f24", "ctrl+", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := desktop.ParseKey(s)
		if err != nil {
			return
		}
		k2, err := desktop.ParseKey(k.String())
		if err != nil || k2.String() != k.String() {
			t.Fatalf("%q -> %q -> %q, %v", s, k, k2, err)
		}
	})
}

// FuzzParseRegion: a parsed region is never empty and starts on screen
// coordinates >= 0, except for "" and "window".
func FuzzParseRegion(f *testing.F) {
	for _, s := range []string{"0,0,800,600", " 10, 20 ,30,40", "window", "", "1,2,3", "-1,0,5,5", "1,1,0,5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := desktop.ParseRegion(s)
		if err != nil {
			return
		}
		if r.Empty() {
			return // "" or "window"
		}
		if r.Min.X < 0 || r.Min.Y < 0 || r.Dx() <= 0 || r.Dy() <= 0 {
			t.Fatalf("%q -> %v", s, r)
		}
	})
}

// FuzzResolveTarget: app.open's target resolution never panics and gives
// either the target itself (a URL, an absolute path, a bare program name)
// or an absolute path.
func FuzzResolveTarget(f *testing.F) {
	for _, s := range []string{"gedit", "docs/report.pdf", "./run.sh", "~/x.pdf", "https://example.com/a", "mailto:a@b.c",
		"file:///tmp/x", "/bin/true", "c:\\x", "..", "a b/c", "%zz", "http://[::1", ""} {
		f.Add(s)
	}
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		got := desktop.ResolveTarget(base, s)
		if got != s && !filepath.IsAbs(got) {
			t.Fatalf("ResolveTarget(%q) = %q: neither the target nor an absolute path", s, got)
		}
	})
}
