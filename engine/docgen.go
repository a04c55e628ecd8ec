package engine

import (
	"bytes"
	"fmt"
	"strings"
)

// Markdown renders the registry's specs as the activity reference
// (docs/activities.md). It is generated, never written by hand.
func Markdown(reg *Registry) []byte {
	var b bytes.Buffer
	b.WriteString("# Activity reference\n\n")
	b.WriteString("Generated from the activity specs by `make docs` (`deskbot docs`); do not edit by hand.\n\n")
	b.WriteString("Fields of kind *text*, *multiline*, *path*, *list* and *duration* take `{{ expression }}` templates; ")
	b.WriteString("fields of kind *expr* and *map* hold expressions ([expr-lang](https://expr-lang.org) syntax). ")
	b.WriteString("Every node also has the `error` port, a timeout and a retry setting.\n\n")
	b.WriteString("- [Built-in variables](#built-in-variables)\n")
	b.WriteString("- [Path functions](#path-functions)\n")
	for _, cat := range reg.Categories() {
		fmt.Fprintf(&b, "- [%s](#%s)\n", cat, anchor(cat))
	}
	writeBuiltinVars(&b, reg)
	for _, cat := range reg.Categories() {
		fmt.Fprintf(&b, "\n## %s\n", cat)
		for _, s := range reg.Specs() {
			if s.Category != cat {
				continue
			}
			fmt.Fprintf(&b, "\n### %s — `%s`\n\n%s\n", s.Title, s.Type, s.Summary)
			if s.Doc != "" {
				fmt.Fprintf(&b, "\n%s\n", s.Doc)
			}
			ports := s.OutPorts()
			if s.PortsFor != nil {
				b.WriteString("\nPorts: one per entry that the node's params name (see above)")
				if len(ports) > 0 {
					fmt.Fprintf(&b, ", then `%s`", strings.Join(ports, "`, `"))
				}
			} else if len(ports) == 0 {
				b.WriteString("\nPorts: none (the flow ends here)")
			} else {
				fmt.Fprintf(&b, "\nPorts: `%s`", strings.Join(ports, "`, `"))
			}
			b.WriteString(", `error`.")
			if s.SideEffects {
				b.WriteString(" Dry runs describe this step instead of doing it.")
			}
			b.WriteString("\n")
			if len(s.Fields) == 0 {
				continue
			}
			b.WriteString("\n| Field | Kind | Required | Default | Help |\n|---|---|---|---|---|\n")
			for _, f := range s.Fields {
				kind := string(f.Kind)
				if f.Kind == KindSelect {
					kind += ": " + strings.Join(f.Options, ", ")
				}
				req := ""
				if f.Required {
					req = "yes"
				}
				def := ""
				if f.Default != nil {
					def = "`" + ToString(f.Default) + "`"
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Name, kind, req, def, strings.ReplaceAll(f.Help, "|", "\\|"))
			}
		}
	}
	pathFuncsMarkdown(&b) // engine/expr_path.go
	exprRulesMarkdown(&b) // the expression rules: engine/docgen_expr.go
	return b.Bytes()
}

func anchor(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "-")) }
