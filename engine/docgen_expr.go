package engine

import (
	"bytes"
	"fmt"
)

// exprRulesMarkdown is the section of docs/activities.md on the rules that
// lint and the runner apply to expressions and loops.
func exprRulesMarkdown(b *bytes.Buffer) {
	fmt.Fprintf(b, `
## Expression rules, loops and cycles

These rules make a mistake stop the flow with an error instead of letting it quietly do the wrong thing.

**Unknown names.** An expression or template may use the flow's variables, the variables that its nodes set
(an *output*, *item* or *index* field, an error variable), the built-in variables, the built-in functions
of expr-lang and the path functions. Any other name is a lint error, and a run refuses to start: `+"`customerz`"+` gives
*unknown variable "customerz" (did you mean "customers"?)*, and `+"`base(path)`"+` gives *unknown function "base"*.
Names bound in the expression itself (`+"`let x = ...;`"+`, `+"`#`"+` and `+"`.field`"+` in `+"`filter`, `map`"+` and the
other predicates) and `+"`$env`"+` (the variables as a map) are always allowed.

**Missing fields.** Reading a field that an object does not have (a table row, a JSON object) is a run error that
names the node, the field and the fields that exist: `+"`{{ customer.first_nam }}`"+` fails with *customer has no field
"first_nam" (did you mean "first_name"?)*. The same holds for `+"`customer[\"first_nam\"]`"+`. To say that a field is
optional, give a default or use optional chaining:

| Write | Missing field (or nil) gives |
|---|---|
| `+"`customer.title ?? \"Sir or Madam\"`"+` | the default; the whole chain left of `+"`??`"+` is optional (`+"`a.b.c ?? x`"+`) |
| `+"`customer?.title`"+` | nil, which a template writes as empty text; also when `+"`customer`"+` itself is nil |
| `+"`get(customer, \"title\")`"+` | nil |
| `+"`\"title\" in customer`"+` | false (test for the field) |

`+"`$env.name`"+` and `+"`$env[\"name\"]`"+` read a variable that may not exist (nil when it does not).

**Size limits.** One expression (a field, or one `+"`{{ }}`"+` hole of a template) is at most %d characters and at most
%d levels deep (brackets and prefix operators such as `+"`!`"+` and `+"`-`"+`); beyond that lint reports the node and field.

**Loops.** The `+"`each`"+` port of a For each and the `+"`loop`"+` port of a While must be connected, and the branch must be
able to come back to the loop node. A branch from which the loop node can never be reached again (it ends at an End
node, or at a port left unconnected) would process only the first item and end the run "ok": lint reports it as an
error and a run refuses to start. A branch may still leave the loop early where it makes a choice (an If, an error
port, a nested loop's `+"`done`"+`): that is a break.

**Cycles.** A cycle of nodes with no For each or While in it and no way out (no port that leaves it, no unconnected
port of an If) would go round until the run's step limit: lint warns. A cycle that an If can leave is a loop made
by hand and is fine.
`, MaxExprLen, MaxExprNesting)
}
