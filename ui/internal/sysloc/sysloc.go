// Package sysloc shapes the locale environment that fyne's lang package
// reads, without changing what the programs a flow starts inherit.
//
// fyne asks github.com/jeandeaual/go-locale for the user's language. That
// library understands "C" and "POSIX" but not "C.UTF-8" (Debian's default
// in containers and minimal installs), and fyne then logs "Error parsing
// user locale C" on every start, even for headless commands. It also reads
// LC_ALL, LC_MESSAGES and LANG before LANGUAGE, so a language chosen in the
// studio's settings is ignored under a C locale.
//
// This package has no imports outside the standard library and sorts
// before fyne.io in import-path order, so Go initialises it before fyne's
// lang package (whose init reads the locale): its init hides a C.*
// locale, and the program calls Restore once fyne has started.
package sysloc

import (
	"os"
	"strings"
)

var vars = [...]string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"}

var restoreInit = func() {}

func init() { restoreInit = Shape("") }

// Restore undoes what this package's init changed. Call it early in main.
func Restore() {
	restoreInit()
	restoreInit = func() {}
}

// Shape sets the environment so that go-locale sees lang (such as "en" or
// "zh_Hans"), or, with lang empty, "C" in place of a C.* or POSIX.* locale.
// The returned function puts every changed variable back.
func Shape(lang string) (restore func()) {
	type saved struct {
		name, val string
		had       bool
	}
	var old []saved
	set := func(name, val string) {
		v, had := os.LookupEnv(name)
		old = append(old, saved{name, v, had})
		os.Setenv(name, val)
	}
	first := "LANG" // the variable go-locale reads first
	for _, v := range vars[:3] {
		if os.Getenv(v) != "" {
			first = v
			break
		}
	}
	cur := os.Getenv(first)
	switch {
	case lang != "":
		set(first, lang)
		set("LANGUAGE", lang)
	case isPOSIX(cur):
		set(first, "C")
	}
	return func() {
		for i := len(old) - 1; i >= 0; i-- {
			if old[i].had {
				os.Setenv(old[i].name, old[i].val)
			} else {
				os.Unsetenv(old[i].name)
			}
		}
	}
}

// isPOSIX reports a C or POSIX locale with an encoding ("C.UTF-8").
func isPOSIX(l string) bool {
	base, _, found := strings.Cut(l, ".")
	return found && (base == "C" || base == "POSIX")
}
