package activities_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/engine/activities"
)

// runNode runs a one-node flow (start -> node) in dir and returns the result.
func runNode(t *testing.T, dir, typ string, params map[string]any, inputs map[string]any) (*engine.Result, error) {
	t.Helper()
	f := engine.NewFlow("t")
	for k := range inputs {
		f.Variables = append(f.Variables, engine.Variable{Name: k, Type: engine.TypeAny})
	}
	f.Nodes = append(f.Nodes, &engine.Node{ID: "n", Type: typ, Params: params})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		return nil, &lintErr{ps}
	}
	return engine.Run(context.Background(), f, engine.Options{BaseDir: dir, Inputs: inputs})
}

type lintErr struct{ ps []engine.Problem }

func (e *lintErr) Error() string {
	var s []string
	for _, p := range e.ps {
		s = append(s, p.String())
	}
	return strings.Join(s, "; ")
}

func TestTextFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := runNode(t, dir, "file.write_text", map[string]any{"path": "sub/a.txt", "text": "Hi {{ who }}\n"}, map[string]any{"who": "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := runNode(t, dir, "file.append_text", map[string]any{"path": "sub/a.txt", "text": "more"}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := runNode(t, dir, "file.read_text", map[string]any{"path": "sub/a.txt", "output": "got"}, nil)
	if err != nil || res.Vars["got"] != "Hi Ann\nmore" {
		t.Fatalf("read %q, %v", res.Vars["got"], err)
	}
	_, err = runNode(t, dir, "file.read_text", map[string]any{"path": "nope.txt"}, nil)
	if err == nil || !strings.Contains(err.Error(), `node "n"`) || !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("missing file: %v", err)
	}
}

func TestListCopyMoveDelete(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"in/a.csv", "in/b.txt", "in/deep/c.csv"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(p), 0o644)
	}
	res, err := runNode(t, dir, "file.list", map[string]any{"folder": "in", "pattern": "*.csv", "output": "l"}, nil)
	if err != nil || len(res.Vars["l"].([]any)) != 1 {
		t.Fatalf("list: %v %v", res.Vars["l"], err)
	}
	res, _ = runNode(t, dir, "file.list", map[string]any{"folder": "in", "pattern": "*.csv", "recursive": true, "output": "l"}, nil)
	if l := res.Vars["l"].([]any); len(l) != 2 || !strings.HasSuffix(l[1].(string), "deep/c.csv") {
		t.Fatalf("recursive list: %v", l)
	}
	if _, err := runNode(t, dir, "file.list", map[string]any{"folder": "in", "pattern": "[", "output": "l"}, nil); err == nil || !strings.Contains(err.Error(), "pattern") {
		t.Errorf("bad pattern: %v", err)
	}
	if _, err := runNode(t, dir, "file.copy", map[string]any{"from": "in/a.csv", "to": "out/"}, nil); err == nil {
		// "out/" does not exist yet, so it is taken as a file name.
		if _, err := os.Stat(filepath.Join(dir, "out")); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "dest"), 0o755)
	if _, err := runNode(t, dir, "file.copy", map[string]any{"from": "in/a.csv", "to": "dest"}, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "dest/a.csv")); string(b) != "in/a.csv" {
		t.Fatalf("copy into folder: %q", b)
	}
	_, err = runNode(t, dir, "file.copy", map[string]any{"from": "in/a.csv", "to": "dest"}, nil)
	if err == nil || !strings.Contains(err.Error(), "target exists") {
		t.Errorf("copy over existing: %v", err)
	}
	if _, err := runNode(t, dir, "file.move", map[string]any{"from": "in/b.txt", "to": "dest/b2.txt"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "in/b.txt")); !os.IsNotExist(err) {
		t.Error("move left the original")
	}
	if _, err := runNode(t, dir, "file.delete", map[string]any{"path": "dest/b2.txt"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := runNode(t, dir, "file.delete", map[string]any{"path": "dest/b2.txt"}, nil); err == nil {
		t.Error("deleting a missing file succeeded")
	}
	if _, err := runNode(t, dir, "file.delete", map[string]any{"path": "dest/b2.txt", "missing_ok": true}, nil); err != nil {
		t.Error(err)
	}
	if _, err := runNode(t, dir, "file.delete", map[string]any{"path": "dest"}, nil); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("delete folder: %v", err)
	}
}

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "semi.csv"), []byte("\xef\xbb\xbfname;qty\nÄpfel;3\n\"Birnen; gelb\";4\n"), 0o644)
	res, err := runNode(t, dir, "file.read_csv", map[string]any{"path": "semi.csv", "delimiter": ";", "output": "rows", "columns": "cols"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Vars["rows"].([]any)
	if len(rows) != 2 || rows[0].(map[string]any)["name"] != "Äpfel" || rows[1].(map[string]any)["name"] != "Birnen; gelb" {
		t.Fatalf("rows %v", rows)
	}
	if cols := res.Vars["cols"].([]any); len(cols) != 2 || cols[0] != "name" {
		t.Fatalf("cols %v", cols)
	}
	// Round trip through write_csv.
	_, err = runNode(t, dir, "file.write_csv", map[string]any{"path": "out.csv", "rows": "rows", "columns": []any{"qty", "name"}}, map[string]any{"rows": rows})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out.csv"))
	if string(b) != "qty,name\n3,Äpfel\n4,Birnen; gelb\n" {
		t.Fatalf("written %q", b)
	}
	_, err = runNode(t, dir, "file.write_csv", map[string]any{"path": "out.csv", "rows": "rows", "append": true}, map[string]any{"rows": []any{map[string]any{"name": "Kiwi", "qty": 1.0}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "out.csv"))
	if !strings.HasSuffix(string(b), "Birnen; gelb\nKiwi,1\n") || strings.Count(string(b), "name") != 1 {
		t.Fatalf("append %q", b)
	}
	// Errors name the line.
	for name, c := range map[string]struct{ data, want string }{
		"ragged":  {"a,b\n1,2\n3\n", "line 3: 1 fields, but the header has 2"},
		"dupe":    {"a,a\n1,2\n", `header column "a" appears twice`},
		"quote":   {"a,b\n\"1,2\n", "line 2"},
		"emptyhd": {"a,\n1,2\n", "header column 2 is empty"},
	} {
		os.WriteFile(filepath.Join(dir, name+".csv"), []byte(c.data), 0o644)
		_, err := runNode(t, dir, "file.read_csv", map[string]any{"path": name + ".csv"}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name+".csv") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := runNode(t, dir, "file.read_csv", map[string]any{"path": "x.csv", "delimiter": ";;"}, nil); err == nil || !strings.Contains(err.Error(), `field "delimiter"`) {
		t.Errorf("bad delimiter: %v", err)
	}
	rows2, _, err := activities.ParseCSV([]byte("1,2\n3,4\n"), ',', false)
	if err != nil || len(rows2) != 2 || rows2[1].([]any)[1] != "4" {
		t.Errorf("no header: %v %v", rows2, err)
	}
}

func TestRunProgram(t *testing.T) {
	dir := t.TempDir()
	res, err := runNode(t, dir, "process.run", map[string]any{"program": "sh", "args": []any{"-c", "pwd; cat"}, "stdin": "from {{ who }}", "dir": "."}, map[string]any{"who": "stdin"})
	if err != nil {
		t.Fatal(err)
	}
	if out := res.Vars["stdout"].(string); !strings.Contains(out, dir) || !strings.HasSuffix(out, "from stdin") {
		t.Errorf("stdout %q", out)
	}
	// A timeout kills the whole process group: the shell, its foreground
	// sleep, and a background sleep that holds no pipe of ours. Checked by
	// every process of the group being gone (they carry a tag in their
	// command lines), not by how long it took: a loaded machine may be slow.
	// The wait for the run is bounded only so that a group left alive fails
	// the test instead of hanging it.
	tag := fmt.Sprintf(".%09d", time.Now().UnixNano()%1e9)
	ended := make(chan error, 1)
	go func() {
		_, err := runNode(t, dir, "process.run", map[string]any{"program": "sh", "args": []any{"-c",
			"sleep 600" + tag + " >/dev/null 2>&1 </dev/null & sleep 300" + tag}, "timeout": "200ms"}, nil)
		ended <- err
	}()
	select {
	case err = <-ended:
	case <-time.After(60 * time.Second):
		t.Fatal("process.run still going 60s after its 200ms timeout: the process group was not killed")
	}
	if err == nil || !strings.Contains(err.Error(), "killed after timeout 200ms") {
		t.Errorf("timeout: %v", err)
	}
	if left := waitNoProcess(tag, 60*time.Second); left != "" {
		t.Errorf("a process of the group outlived the timeout: %s", left)
	}
	_, err = runNode(t, dir, "process.run", map[string]any{"program": "no-such-program-xyz"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no-such-program-xyz") {
		t.Errorf("missing program: %v", err)
	}
}

// FuzzParseCSV: any bytes parse to rows or an error, never a panic.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"), true)
	f.Add([]byte("\"x\"\"y\",2\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, header bool) {
		rows, cols, err := activities.ParseCSV(b, ',', header)
		if err == nil && header && len(rows) > 0 && len(cols) == 0 {
			t.Fatal("rows without columns")
		}
	})
}

// waitNoProcess waits up to d until no live process (zombies do not count)
// has tag in its command line; it returns one that still has, or "".
func waitNoProcess(tag string, d time.Duration) string {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		left := ""
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range dirs {
			cmd, err := os.ReadFile(filepath.Join(p, "cmdline"))
			if err != nil || !strings.Contains(string(cmd), tag) {
				continue
			}
			st, err := os.ReadFile(filepath.Join(p, "stat"))
			if i := strings.LastIndexByte(string(st), ')'); err != nil || (i >= 0 && i+2 < len(st) && (st[i+2] == 'Z' || st[i+2] == 'X')) {
				continue // gone meanwhile, or dead and not yet reaped
			}
			left = p + ": " + strings.ReplaceAll(string(cmd), "\x00", " ")
			break
		}
		if left == "" || time.Now().After(end) {
			return left
		}
	}
}
