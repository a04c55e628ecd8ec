package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/engine"
	_ "deskbot/engine/activities"
)

// sample loads a real sample flow from assets/flows with one text replaced.
func sample(t *testing.T, name, old, new string) (*engine.Flow, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "assets", "flows", name))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	dir := t.TempDir()
	src := filepath.Join("..", "assets", "flows")
	abs, _ := filepath.Abs(src)
	os.Symlink(filepath.Join(abs, "data"), filepath.Join(dir, "data"))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := engine.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f, dir
}

func problems(ps []engine.Problem) string {
	var all []string
	for _, p := range ps {
		all = append(all, p.String())
	}
	return strings.Join(all, "\n")
}

// The for-each over "customerz" ran zero times and said "ok": a bare
// identifier (the whole expression) was never checked.
func TestTypoInForEachItemsIsLintAndPrepareError(t *testing.T) {
	f, dir := sample(t, "csv-to-letters.json", `"items": "customers"`, `"items": "customerz"`)
	got := problems(engine.Lint(f, nil, dir))
	want := `error: node "each", field "items": expression "customerz": unknown variable "customerz" (did you mean "customers"?)`
	if !strings.Contains(got, want) {
		t.Errorf("lint: want %q, got:\n%s", want, got)
	}
	if _, err := engine.Prepare(f, nil, dir); err == nil || !strings.Contains(err.Error(), `unknown variable "customerz"`) {
		t.Errorf("prepare: want an unknown-variable error, got %v", err)
	}
	res, err := engine.Run(context.Background(), f, engine.Options{BaseDir: dir})
	if err == nil || res.Status != engine.StatusFailed || res.Steps != 0 {
		t.Errorf("run: want a failure before any step, got %v, %v", res.Status, err)
	}
}

func TestUnknownNamesInEveryFieldKind(t *testing.T) {
	cases := []struct{ node, want string }{
		{`{"id":"x","type":"control.log","params":{"message":"Wrote {{ writen }} letters"}}`, `unknown variable "writen" (did you mean "written"?)`},
		{`{"id":"x","type":"control.set_variable","params":{"variable":"written","value":"writen"}}`, `unknown variable "writen"`},
		{`{"id":"x","type":"control.if","params":{"condition":"filter(rows, .n > limit) != nil"}}`, `unknown variable "limit"`},
		{`{"id":"x","type":"control.if","params":{"condition":"all(rows, # > lim)"}}`, `unknown variable "lim"`},
		{`{"id":"x","type":"control.if","params":{"condition":"let y = 1; y > z"}}`, `unknown variable "z"`},
		{`{"id":"x","type":"control.log","params":{"message":"{{ base(path) }}"}}`, `unknown function "base"`},
		{`{"id":"x","type":"control.log","params":{"message":"{{ uper(\"a\") }}"}}`, `unknown function "uper" (did you mean "upper"?)`},
		{`{"id":"x","type":"control.if","params":{"condition":"len"}}`, `"len" is a function`},
		{`{"id":"x","type":"process.run","params":{"command":"echo","args":["{{ writen }}"]}}`, `unknown variable "writen"`},
	}
	for _, c := range cases {
		doc := `{"format":"deskbot.flow","version":1,"variables":[{"name":"written","type":"number"},{"name":"rows","type":"list"}],
 "nodes":[{"id":"start","type":"control.start"},` + c.node + `],"edges":[{"from":"start","port":"next","to":"x"}]}`
		got := problems(engine.Lint(mustParse(t, doc), nil, ""))
		if !strings.Contains(got, `node "x"`) || !strings.Contains(got, c.want) {
			t.Errorf("%s: want %q, got:\n%s", c.node, c.want, got)
		}
	}
	ok := []string{`written + 1`, `let y = 1; y + written`, `map(rows, # * 2)`, `filter(rows, .n > 1)`, `$env.written`,
		`$env["written"]`, `rows | map(#index)`, `upper("a")`, `{a: written}.a`, `get({a: 1}, "a")`}
	for _, src := range ok {
		if _, err := engine.CompileExpr(src, map[string]bool{"written": true, "rows": true}); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

func runLog(t *testing.T, message string) (string, error) {
	t.Helper()
	doc := `{"format":"deskbot.flow","version":1,
 "variables":[{"name":"customers","type":"table","default":[{"first_name":"Ann","last_name":"Lee"}]},
   {"name":"nested","type":"map","default":{"a":{"b":1}}},{"name":"nothing","type":"any"},{"name":"xs","type":"list","default":[1,2]}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"each","type":"control.for_each","params":{"items":"customers","item":"customer"}},
   {"id":"letter","type":"control.log","label":"Write letter","params":{"message":` + jsonString(message) + `}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"each"},{"from":"each","port":"each","to":"letter"},
   {"from":"letter","port":"next","to":"each"},{"from":"each","port":"done","to":"end"}]}`
	var logs []string
	obs := engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.EventLog {
			logs = append(logs, e.Message)
		}
	})
	_, err := engine.Run(context.Background(), mustParse(t, doc), engine.Options{Observer: obs})
	return strings.Join(logs, "|"), err
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// "Dear {{ customer.first_nam }}," wrote "Dear ," into every letter.
func TestMissingFieldIsRunError(t *testing.T) {
	_, err := runLog(t, "Dear {{ customer.first_nam }},")
	if err == nil {
		t.Fatal("a misspelled column ran without error")
	}
	for _, want := range []string{`node "letter"`, `customer has no field "first_nam"`, `did you mean "first_name"?`, "first_name, last_name", `??`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	for _, src := range []string{`{{ customer["first_nam"] }}`, `{{ nested.a.c }}`, `{{ nothing.x }}`} {
		if _, err := runLog(t, src); err == nil {
			t.Errorf("%s: no error", src)
		}
	}
}

func TestOptionalFieldSyntax(t *testing.T) {
	for src, want := range map[string]string{
		`Dear {{ customer.title ?? "customer" }} {{ customer.last_name }}`: "Dear customer Lee",
		`[{{ customer?.title }}]`:              "[]",
		`{{ nested.a.c ?? "none" }}`:           "none",
		`{{ nested.x.y ?? "none" }}`:           "none",
		`{{ nested.a.b ?? "none" }}`:           "1",
		`{{ nothing?.x ?? "n" }}`:              "n",
		`{{ nothing?.x.y }}`:                   "",
		`{{ customer.first_name }}`:            "Ann",
		`{{ xs[1] }} {{ get(customer, "z") }}`: "2 ",
		`{{ $env.customer.first_name }}`:       "Ann",
		`{{ "title" in customer }}`:            "false",
		`[{{ $env.nope }}]`:                    "[]",
	} {
		got, err := runLog(t, src)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", src, got, err, want)
		}
	}
}

// Expressions nested a million deep overflowed the stack in lint.
func TestDeepExpressionsAreLintErrors(t *testing.T) {
	const n = 1_000_000
	for name, src := range map[string]string{
		"parens":  strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
		"lists":   strings.Repeat("[", n) + strings.Repeat("]", n),
		"not":     strings.Repeat("!", n) + "true",
		"minus":   strings.Repeat("-", n) + "1",
		"sum":     strings.Repeat("1+", n) + "1",
		"ternary": strings.Repeat("true ? 1 : ", n) + "2",
		"nested":  strings.Repeat("(", 101) + "1" + strings.Repeat(")", 101),
		"unary":   strings.Repeat("not ", 101) + "true",
	} {
		doc := `{"format":"deskbot.flow","version":1,"nodes":[{"id":"start","type":"control.start"},
 {"id":"deep","type":"control.if","params":{"condition":` + jsonString(src) + `}}],"edges":[{"from":"start","port":"next","to":"deep"}]}`
		got := problems(engine.Lint(mustParse(t, doc), nil, ""))
		if !strings.Contains(got, `node "deep", field "condition"`) || !(strings.Contains(got, "nested too deeply") || strings.Contains(got, "too long")) {
			t.Errorf("%s: got %.300s", name, got)
		}
		tpl := `{{ ` + src + ` }}`
		if _, err := engine.CompileTemplate(tpl, nil); err == nil {
			t.Errorf("%s: template compiled", name)
		}
	}
	// Within the limits, deep but legal expressions still compile.
	for _, src := range []string{strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100), `"((((((" + '[[[[' + "\"(("`, strings.Repeat("1 - ", 1000) + "1"} {
		if _, err := engine.CompileExpr(src, nil); err != nil {
			t.Errorf("%.40s: %v", src, err)
		}
	}
}
