package engine_test

import (
	"strings"
	"testing"

	"deskbot/engine"
)

func evalPath(t *testing.T, src string, vars map[string]any) (any, error) {
	t.Helper()
	e, err := engine.CompileExpr(src, nil)
	if err != nil {
		return nil, err
	}
	return e.Eval(vars)
}

// The documented examples hold (docs/activities.md shows them).
func TestPathFuncExamples(t *testing.T) {
	md := string(engine.Markdown(engine.Default))
	for _, ex := range engine.PathFuncExamples() {
		got, err := evalPath(t, ex[0], map[string]any{"flow_dir": "/flows"})
		if err != nil || got != ex[1] {
			t.Errorf("%s = %q, %v; the docs say %q", ex[0], got, err, ex[1])
		}
		if !strings.Contains(md, engine.PathExampleMarkdown(ex[0], ex[1])) {
			t.Errorf("the docs lack the example %s", ex[0])
		}
	}
}

func TestPathFuncs(t *testing.T) {
	for _, tc := range [][2]string{
		{`basename("")`, ""},
		{`basename("/")`, "/"},
		{`basename("C:\\")`, "\\"},
		{`basename("a\\b/c")`, "c"},
		{`basename("C:report.txt")`, "report.txt"},
		{`basename("\\\\server\\share\\file.pdf")`, "file.pdf"},
		{`dirname("/a")`, "/"},
		{`dirname("/")`, "/"},
		{`dirname("C:\\a.txt")`, "C:\\"},
		{`dirname("C:\\")`, "C:\\"},
		{`dirname("a/b/")`, "a"},
		{`dirname("a//b")`, "a"},
		{`dirname("\\\\server\\share\\file.pdf")`, "\\\\server\\share"},
		{`dirname("")`, "."},
		{`ext("")`, ""},
		{`ext("a.")`, "."},
		{`ext("..")`, ""},
		{`ext("C:\\dir.d\\readme")`, ""},
		{`ext("Report.PDF")`, ".PDF"},
		{`joinpath("a")`, "a"},
		{`joinpath("a", "", "b")`, "a/b"},
		{`joinpath("a/", "/b")`, "a/b"},
		{`joinpath("", "b")`, "b"},
		{`joinpath("C:\\x", "y/z")`, "C:\\x/y/z"},
		{`joinpath("D:", "\\data")`, "D:\\data"},
		{`basename(joinpath(dirname("/in/a.csv"), "b.csv"))`, "b.csv"},
	} {
		got, err := evalPath(t, tc[0], nil)
		if err != nil || got != tc[1] {
			t.Errorf("%s = %q, %v; want %q", tc[0], got, err, tc[1])
		}
	}
	for _, tc := range [][2]string{
		{`basename(3)`, `basename: argument 1 is int "3", want a path (text)`},
		{`basename("a", "b")`, `basename takes 1 text arguments, got 2`},
		{`joinpath()`, `joinpath takes at least 1 text arguments, got 0`},
	} {
		if _, err := evalPath(t, tc[0], nil); err == nil || !strings.Contains(err.Error(), tc[1]) {
			t.Errorf("%s: error %v, want %q", tc[0], err, tc[1])
		}
	}
	// Lint offers the function for a typo; a variable cannot take its name.
	if _, err := engine.CompileExpr(`basenam("x")`, map[string]bool{}); err == nil || !strings.Contains(err.Error(), `unknown function "basenam" (did you mean "basename"?)`) {
		t.Errorf("typo: %v", err)
	}
	if !engine.IsBuiltin("joinpath") {
		t.Error("joinpath is not reserved")
	}
}
