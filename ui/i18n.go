package ui

import (
	"embed"
	"strings"

	"fyne.io/fyne/v2/lang"

	"deskbot/ui/internal/sysloc"
)

//go:embed translations
var translations embed.FS

// SetupLanguage loads the studio's translations (English and Simplified
// Chinese). The language follows the system locale; override ("en",
// "zh_Hans"; "" for the system) replaces it, as the Language setting does.
// Call it before building any window.
func SetupLanguage(override string) error {
	// fyne reads the locale from the environment when translations are
	// added; sysloc makes it see the override (or "C" for "C.UTF-8") and
	// puts the environment back for the programs that flows start.
	defer sysloc.Shape(override)()
	defer clearL10nCache()
	return lang.AddTranslationsFS(translations, "translations")
}

// RestoreLocaleEnv undoes the locale shaping done before fyne started (see
// package ui/internal/sysloc). The program calls it first thing in main,
// so that programs that flows start see the user's locale.
func RestoreLocaleEnv() { sysloc.Restore() }

// tr translates a keyed text such as an activity's title or help. Texts
// with {{ }} are returned as they are: go-i18n would execute them as
// templates.
func tr(key, fallback string) string {
	if strings.Contains(fallback, "{{") {
		return fallback
	}
	return lang.X(key, fallback)
}
