package engine

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// builtinVars documents the variables that every run defines by itself (the
// built-ins of Known). TestMarkdownDocumentsBuiltinVariables fails when a
// built-in is added to Known without a line here.
var builtinVars = []struct{ name, when, value string }{
	{"flow_dir", "at the start of every run",
		"The folder of the flow file, against which relative paths resolve: `{{ flow_dir }}/out/letter.txt`. " +
			"Inside a called flow (control.call_flow) it is the called flow's folder; for a flow not yet saved, the studio's working folder."},
	{"run_id", "at the start of every run",
		"The run's id, as `deskbot runs` and the studio's History show it; handy in file names: `report-{{ run_id }}.pdf`."},
	{"last_error", "when a node fails and its `error` port catches the failure",
		"The error message. A node's *error variable* setting (`error_var`) puts the message there " +
			"instead. Empty (nil) until a failure has been caught."},
}

// writeBuiltinVars writes the "Built-in variables" section: the run's
// built-ins, then the variables that activities fill by default (the loop's
// `item` and `index` among them), read from the registry.
func writeBuiltinVars(b *bytes.Buffer, reg *Registry) {
	b.WriteString("\n## Built-in variables\n\n")
	b.WriteString("Expressions and templates may use these names without declaring them.\n\n")
	b.WriteString("| Variable | Set | Value |\n|---|---|---|\n")
	for _, v := range builtinVars {
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", v.name, v.when, v.value)
	}
	b.WriteString("\n`control.for_each` sets `item` to the current item (a table row is an object: `item.name`) and `index` " +
		"to its position, counted from 0, on every round; its `item` and `index` fields choose other names " +
		"(for nested loops, say). After the loop both keep their last values.\n")
	type row struct{ name, typ, field string }
	var rows []row
	for _, s := range reg.Specs() {
		for _, f := range s.Fields {
			if f.Kind != KindVar {
				continue
			}
			if name, ok := f.Default.(string); ok && name != "" {
				rows = append(rows, row{name, s.Type, f.Name})
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	b.WriteString("\nActivities that put a result into a variable name it in a field; unless the flow sets that field, " +
		"these are the names they use:\n\n| Variable | Set by | Field |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` | `%s` | `%s` |\n", r.name, r.typ, strings.ReplaceAll(r.field, "|", "\\|"))
	}
}
