package ui

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"

	"deskbot/engine"
	_ "deskbot/engine/desktop" // its activities are in the palette too
)

// TestTranslationsCoverSource checks that every lang.L string in the
// package has an English and a Simplified Chinese entry, and that each
// activity, category and port of the registry has a Chinese name.
func TestTranslationsCoverSource(t *testing.T) {
	files, _ := os.ReadDir(".")
	re := regexp.MustCompile(`lang\.L\("((?:[^"\\]|\\.)*)"\)`)
	keys := map[string]bool{}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d strings", len(keys))
	}
	for _, file := range []string{"translations/en.json", "translations/zh_Hans.json"} {
		b, err := translations.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, r := range []string{"ID", "Description", "Hash", "LeftDelim", "RightDelim", "Zero", "One", "Two", "Few", "Many", "Other"} {
			if _, ok := m[r]; ok {
				t.Errorf("%s: %q is a reserved go-i18n key; use lang.X with a dotted key", file, r)
			}
		}
		for k := range keys {
			if m[k] == "" {
				t.Errorf("%s lacks %q", file, k)
			}
			if strings.Contains(m[k], "{{") {
				t.Errorf("%s: %q has template braces, which go-i18n would execute", file, k)
			}
		}
		if strings.Contains(file, "zh") {
			// Activities are added by other packages all the time: a missing
			// name falls back to English, so it is reported, not failed.
			t := &logOnly{t}
			for _, s := range engine.Default.Specs() {
				if m["activity."+s.Type] == "" {
					t.Errorf("%s lacks activity.%s", file, s.Type)
				}
				if m["category."+s.Category] == "" {
					t.Errorf("%s lacks category.%s", file, s.Category)
				}
				for _, p := range append(s.OutPorts(), engine.PortError) {
					if m["port."+p] == "" {
						t.Errorf("%s lacks port.%s", file, p)
					}
				}
			}
		}
	}
}

func TestLanguageOverride(t *testing.T) {
	old, had := os.LookupEnv("LANGUAGE")
	t.Cleanup(func() {
		if had {
			os.Setenv("LANGUAGE", old)
		} else {
			os.Unsetenv("LANGUAGE")
		}
		SetupLanguage("en")
	})
	if err := SetupLanguage("zh_Hans"); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("Run"); got != "运行" {
		t.Errorf("zh: Run = %q", got)
	}
	if got := lang.X("port.true", "true"); got != "是" {
		t.Errorf("zh: port.true = %q", got)
	}
	if err := SetupLanguage("en"); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("Run"); got != "Run" {
		t.Errorf("en: Run = %q", got)
	}
}

// logOnly turns Errorf into Logf.
type logOnly struct{ *testing.T }

func (l *logOnly) Errorf(format string, args ...any) { l.Logf("missing translation: "+format, args...) }
