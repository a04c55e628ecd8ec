package engine

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
)

// Path functions for expressions. Flows run on Linux, Windows and macOS
// and handle paths typed by people or read from files, so both / and \
// separate folders, whatever the system; joinpath writes the separator the
// parts already use.
//
// pathFuncs is also their documentation (docs/activities.md); each example
// is checked by TestPathFuncExamples.
var pathFuncs = []struct {
	name, args, doc string
	fn              func(args []string) string
	min, max        int // argument counts; max 0 means any number
	examples        [][2]string
}{
	{"basename", "(path)", "The last part of a path: the file (or folder) name.", func(a []string) string { return baseName(a[0]) }, 1, 1,
		[][2]string{{`basename("/data/in/orders.xlsx")`, "orders.xlsx"}, {`basename("C:\\Users\\ann\\orders.xlsx")`, "orders.xlsx"}, {`basename("reports/")`, "reports"}}},
	{"dirname", "(path)", "The folder part of a path, without the name; `.` for a bare name.", func(a []string) string { return dirName(a[0]) }, 1, 1,
		[][2]string{{`dirname("/data/in/orders.xlsx")`, "/data/in"}, {`dirname("C:\\Users\\ann\\orders.xlsx")`, "C:\\Users\\ann"}, {`dirname("orders.xlsx")`, "."}}},
	{"ext", "(path)", "The extension of the name, with its dot; empty when there is none (also for a name such as `.profile`).", func(a []string) string { return extName(a[0]) }, 1, 1,
		[][2]string{{`ext("orders.xlsx")`, ".xlsx"}, {`ext("D:\\backup.tar.gz")`, ".gz"}, {`ext("/home/ann/.profile")`, ""}}},
	{"joinpath", "(part, part, ...)", "Joins parts with one separator between them: `\\` when the parts use only backslashes, else `/`. Empty parts are left out.", joinPath, 1, 0,
		[][2]string{{`joinpath("/data", "out/", "summary.xlsx")`, "/data/out/summary.xlsx"}, {`joinpath("C:\\reports\\", "2026", "nov.xlsx")`, "C:\\reports\\2026\\nov.xlsx"}, {`joinpath(flow_dir, "out")`, "/flows/out"}}},
}

func isSep(c byte) bool { return c == '/' || c == '\\' }

// volumeLen is the length of a Windows drive prefix such as "C:".
func volumeLen(p string) int {
	if len(p) >= 2 && p[1] == ':' && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z') {
		return 2
	}
	return 0
}

// trimSeps drops trailing separators, keeping a root ("/", "C:\").
func trimSeps(p string) string {
	root := volumeLen(p) + 1
	for len(p) > root && isSep(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	return p
}

func lastSep(p string) int {
	for i := len(p) - 1; i >= 0; i-- {
		if isSep(p[i]) {
			return i
		}
	}
	return -1
}

func baseName(p string) string {
	p = trimSeps(p)
	i := lastSep(p)
	if i < 0 || i == len(p)-1 { // no folder, or only a root
		return p[volumeLen(p):]
	}
	return p[i+1:]
}

func dirName(p string) string {
	p = trimSeps(p)
	i := lastSep(p)
	if i < 0 {
		if v := volumeLen(p); v > 0 {
			return p[:v]
		}
		return "."
	}
	if i == len(p)-1 { // a root
		return p
	}
	d := p[:i]
	// Keep the root: "/a" -> "/", "C:\a" -> "C:\".
	for len(d) > 0 && isSep(d[len(d)-1]) {
		d = d[:len(d)-1]
	}
	if d == "" || len(d) == volumeLen(p) {
		return p[:i+1]
	}
	return d
}

func extName(p string) string {
	b := baseName(p)
	i := strings.LastIndexByte(b, '.')
	if i <= 0 || i == len(b)-1 && strings.Trim(b, ".") == "" {
		return ""
	}
	return b[i:]
}

func joinPath(parts []string) string {
	sep := "/"
	back := false
	for _, p := range parts {
		if strings.Contains(p, "/") {
			back = false
			break
		}
		if strings.Contains(p, "\\") {
			back = true
		}
	}
	if back {
		sep = "\\"
	}
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteString(p)
			continue
		}
		s := b.String()
		if !isSep(s[len(s)-1]) {
			b.WriteString(sep)
		}
		b.WriteString(strings.TrimLeft(p, "/\\"))
	}
	return b.String()
}

// pathFuncOptions are the expr options that define the path functions.
func pathFuncOptions() []expr.Option {
	var opts []expr.Option
	for _, f := range pathFuncs {
		opts = append(opts, expr.Function(f.name, func(params ...any) (any, error) {
			if len(params) < f.min || f.max > 0 && len(params) > f.max {
				want := fmt.Sprintf("%d", f.min)
				if f.max == 0 {
					want = fmt.Sprintf("at least %d", f.min)
				}
				return nil, fmt.Errorf("%s takes %s text arguments, got %d", f.name, want, len(params))
			}
			args := make([]string, len(params))
			for i, p := range params {
				s, ok := p.(string)
				if !ok {
					return nil, fmt.Errorf("%s: argument %d is %s, want a path (text)", f.name, i+1, describe(p))
				}
				args[i] = s
			}
			return f.fn(args), nil
		}))
	}
	return opts
}

// isPathFunc reports whether name is one of the path functions.
func isPathFunc(name string) bool { return slices.Contains(pathFuncNames(), name) }

// pathFuncNames lists the path functions, for did-you-mean.
func pathFuncNames() []string {
	var out []string
	for _, f := range pathFuncs {
		out = append(out, f.name)
	}
	return out
}

// pathFuncsMarkdown writes the "Path functions" section of the docs.
func pathFuncsMarkdown(b *bytes.Buffer) {
	b.WriteString("\n## Path functions\n\n")
	b.WriteString("Besides expr-lang's built-in functions, expressions and templates have these functions for file paths. " +
		"Both `/` and `\\` separate folders, on every system, so a Windows path read from a file works on Linux too.\n\n")
	b.WriteString("| Function | Gives | Examples |\n|---|---|---|\n")
	for _, f := range pathFuncs {
		var ex []string
		for _, e := range f.examples {
			ex = append(ex, PathExampleMarkdown(e[0], e[1]))
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s |\n", f.name, f.args, strings.ReplaceAll(f.doc, "|", "\\|"), strings.Join(ex, "<br>"))
	}
}

// PathExampleMarkdown renders one example of a path function for the docs.
func PathExampleMarkdown(src, result string) string {
	if result == "" {
		return fmt.Sprintf("`%s` → empty text", src)
	}
	return fmt.Sprintf("`%s` → `%s`", src, result)
}
