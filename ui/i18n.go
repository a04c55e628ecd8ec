package ui

import (
	"embed"
	"os"

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
