package sysloc

import (
	"os"
	"testing"
)

func TestShape(t *testing.T) {
	for _, v := range vars {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("LANG", "C.UTF-8")
	restore := Shape("")
	if got := os.Getenv("LANG"); got != "C" {
		t.Errorf("LANG = %q, want C", got)
	}
	restore()
	if got := os.Getenv("LANG"); got != "C.UTF-8" {
		t.Errorf("restored LANG = %q", got)
	}

	t.Setenv("LC_ALL", "POSIX.utf8")
	restore = Shape("zh_Hans")
	if os.Getenv("LC_ALL") != "zh_Hans" || os.Getenv("LANGUAGE") != "zh_Hans" || os.Getenv("LANG") != "C.UTF-8" {
		t.Errorf("override: LC_ALL=%q LANGUAGE=%q LANG=%q", os.Getenv("LC_ALL"), os.Getenv("LANGUAGE"), os.Getenv("LANG"))
	}
	restore()
	if _, had := os.LookupEnv("LANGUAGE"); had || os.Getenv("LC_ALL") != "POSIX.utf8" {
		t.Errorf("restore: LANGUAGE set=%v LC_ALL=%q", had, os.Getenv("LC_ALL"))
	}

	os.Unsetenv("LC_ALL")
	t.Setenv("LANG", "de_DE.UTF-8")
	restore = Shape("")
	if os.Getenv("LANG") != "de_DE.UTF-8" {
		t.Errorf("a real locale was changed: %q", os.Getenv("LANG"))
	}
	restore()
}
