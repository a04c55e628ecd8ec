package ui

import (
	"embed"
	"os"
	"strings"

	"fyne.io/fyne/v2/lang"
)

//go:embed translations
var translations embed.FS

// SetupLanguage loads the studio's translations (English and Simplified
// Chinese). The language follows the system locale; override ("en",
// "zh_Hans"; "" for the system) replaces it, as the Language setting does.
// Call it before building any window.
func SetupLanguage(override string) error {
	if override != "" {
		// fyne's lang package reads the locale from the environment each
		// time translations are added; LANGUAGE comes first.
		os.Setenv("LANGUAGE", override)
	}
	return lang.AddTranslationsFS(translations, "translations")
}

// tr translates a keyed text such as an activity's title or help. Texts
// with {{ }} are returned as they are: go-i18n would execute them as
// templates.
func tr(key, fallback string) string {
	if strings.Contains(fallback, "{{") {
		return fallback
	}
	return lang.X(key, fallback)
}
