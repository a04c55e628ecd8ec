package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"

	"deskbot/engine"
	_ "deskbot/engine/activities"
	_ "deskbot/engine/desktop" // its activities are in the palette too
	_ "deskbot/engine/textgen"
)

// TestTranslationsCoverSource checks that every lang.L string in the
// package has an English and a Simplified Chinese entry, and that each
// activity, category and port of the registry has a Chinese name.
func TestTranslationsCoverSource(t *testing.T) {
	files, _ := os.ReadDir(".")
	re := regexp.MustCompile(`(?:lang\.L|cachedL)\("((?:[^"\\]|\\.)*)"\)`)
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
	}
	// Every key the studio looks up for the registry's activities and the
	// samples: activity titles and summaries, field titles and help,
	// categories, ports, statuses and sample names and descriptions. A
	// missing one fails, so that an activity added without its Chinese
	// texts is seen (go run ./ui/cmd/i18n-missing lists them as JSON).
	required := RequiredKeys(engine.Default, LoadSamples(filepath.Join("..", "assets", "flows")))
	if len(required) < 300 || required["sample.csv-to-letters.name"] == "" {
		t.Fatalf("only %d required keys; samples not found?", len(required))
	}
	for _, language := range Languages {
		missing, err := MissingKeys(language, engine.Default, LoadSamples(filepath.Join("..", "assets", "flows")))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range missing {
			t.Errorf("translations/%s.json lacks %q (English: %q)", language, k, required[k])
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
	// activity summaries, field help and samples are translated
	if got := tr(sampleKey("x/csv-to-letters.json")+".name", "CSV to letters"); got != "CSV 生成信件" {
		t.Errorf("zh: sample name = %q", got)
	}
	if got := tr("summary.control.log", "Writes a message to the run's log."); got != "向运行日志写一条消息。" {
		t.Errorf("zh: summary = %q", got)
	}
	if got := tr("help.control.wait.duration", "e.g. 500ms, 2s, 1m"); got != "例如 500ms、2s、1m" {
		t.Errorf("zh: help = %q", got)
	}
	if err := SetupLanguage("en"); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("Run"); got != "Run" {
		t.Errorf("en: Run = %q", got)
	}
}
