package engine_test

import (
	"strings"
	"testing"

	"deskbot/engine"
)

// TestMarkdownDocumentsBuiltinVariables: every variable a run defines by
// itself (flow_dir, run_id, last_error: the built-ins in Known) and the
// loop's item and index defaults appear in the built-in variables section
// of the activity reference.
func TestMarkdownDocumentsBuiltinVariables(t *testing.T) {
	doc := string(engine.Markdown(engine.Default))
	start := strings.Index(doc, "\n## Built-in variables\n")
	if start < 0 {
		t.Fatal("docs/activities.md has no \"## Built-in variables\" section")
	}
	sec := doc[start+1:]
	if end := strings.Index(sec[3:], "\n## "); end >= 0 {
		sec = sec[:end+3]
	}
	names := []string{"item", "index"}
	for name := range engine.Known(engine.NewFlow("empty"), engine.Default) {
		names = append(names, name)
	}
	if len(names) < 5 {
		t.Fatalf("built-ins %v: expected flow_dir, run_id and last_error", names)
	}
	for _, name := range names {
		if !strings.Contains(sec, "`"+name+"`") {
			t.Errorf("the built-in variables section does not mention `%s`:\n%s", name, sec)
		}
	}
	if !strings.Contains(doc, "- [Built-in variables](#built-in-variables)") {
		t.Error("the table of contents does not link the built-in variables section")
	}
}
