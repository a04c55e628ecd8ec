//go:build linux

package activities_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"deskbot/engine"
)

// runChain runs start -> nodes[0] -> nodes[1]... (port next), plus extra
// edges, in dir.
func runChain(t *testing.T, dir string, nodes []*engine.Node, extra ...engine.Edge) (*engine.Result, error) {
	t.Helper()
	f := engine.NewFlow("t")
	prev := "start"
	for _, n := range nodes {
		f.Nodes = append(f.Nodes, n)
		f.Edges = append(f.Edges, engine.Edge{From: prev, Port: "next", To: n.ID})
		prev = n.ID
	}
	f.Edges = append(f.Edges, extra...)
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		return nil, &lintErr{ps}
	}
	return engine.Run(context.Background(), f, engine.Options{BaseDir: dir})
}

func node(id, typ string, params map[string]any) *engine.Node {
	return &engine.Node{ID: id, Type: typ, Params: params}
}

// alive reports whether pid runs (a zombie counts as ended).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

// A program started in the background: the step returns at once with its
// pid, the flow goes on while it runs, and process.wait gives its output
// and exit code.
func TestStartAndWaitProgram(t *testing.T) {
	dir := t.TempDir()
	res, err := runChain(t, dir, []*engine.Node{
		node("start_it", "process.start", map[string]any{"program": "sh",
			"args": []any{"-c", "sleep 0.3; echo out: $0; echo err >&2; exit 3", "Grüße"}}),
		node("mark", "file.write_text", map[string]any{"path": "mark.txt", "text": "while it ran"}),
		node("wait_it", "process.wait", map[string]any{"pid": "{{ pid }}", "timeout": "20s"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["stdout"] != "out: Grüße\n" || res.Vars["stderr"] != "err\n" || res.Vars["exit_code"] != float64(3) {
		t.Fatalf("vars: %q %q %v", res.Vars["stdout"], res.Vars["stderr"], res.Vars["exit_code"])
	}
	pid, ok := res.Vars["pid"].(int)
	if !ok || pid <= 0 {
		t.Fatalf("pid: %#v", res.Vars["pid"])
	}
	// The file step ran before the program ended: its mtime is before the
	// end of the program's 0.3 s sleep.
	if _, err := os.Stat(filepath.Join(dir, "mark.txt")); err != nil {
		t.Fatal(err)
	}
}

// The output file gets the program's output as it comes.
func TestStartProgramOutputFile(t *testing.T) {
	dir := t.TempDir()
	_, err := runChain(t, dir, []*engine.Node{
		node("s", "process.start", map[string]any{"program": "sh", "args": []any{"-c", "echo one; echo two >&2"},
			"output_file": "logs/prog.log"}),
		node("w", "process.wait", map[string]any{"pid": "{{ pid }}"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "logs", "prog.log"))
	if err != nil || !strings.Contains(string(b), "one\n") || !strings.Contains(string(b), "two\n") {
		t.Fatalf("log: %q %v", b, err)
	}
}

// A wait that runs out follows the timeout port when it is connected, and
// fails with a clear error when not; process.stop then ends the program
// and the child it started (the whole tree), which a plain kill of the pid
// would leave running.
func TestWaitTimeoutAndStopTree(t *testing.T) {
	dir := t.TempDir()
	childFile := filepath.Join(dir, "child.pid")
	script := "sleep 300 & echo $! > " + childFile + "; wait"
	// With the timeout port connected.
	res, err := runChain(t, dir, []*engine.Node{
		node("s", "process.start", map[string]any{"program": "sh", "args": []any{"-c", script}}),
		node("w", "process.wait", map[string]any{"pid": "{{ pid }}", "timeout": "300ms"}),
		node("never", "file.write_text", map[string]any{"path": "never.txt", "text": "x"}),
		node("late", "file.write_text", map[string]any{"path": "late.txt", "text": "timed out"}),
	}, engine.Edge{From: "w", Port: "timeout", To: "late"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "late.txt")); err != nil {
		t.Fatalf("the timeout port was not followed: %v", err)
	}
	pid := res.Vars["pid"].(int)
	var child int
	for deadline := time.Now().Add(10 * time.Second); child == 0; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(childFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if time.Now().After(deadline) {
			t.Fatal("the child's pid was not written")
		}
	}
	if !alive(pid) || !alive(child) {
		t.Fatalf("before stop: program %v, child %v", alive(pid), alive(child))
	}
	if _, err := runChain(t, dir, []*engine.Node{
		node("stop", "process.stop", map[string]any{"pid": strconv.Itoa(pid)}),
	}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); alive(pid) || alive(child); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after stop: program alive %v, child alive %v", alive(pid), alive(child))
		}
	}
	// Stopping it again is no error: it has ended.
	if _, err := runChain(t, dir, []*engine.Node{node("stop", "process.stop", map[string]any{"pid": strconv.Itoa(pid)})}); err != nil {
		t.Fatalf("second stop: %v", err)
	}

	// Without the timeout port, the wait fails and says why.
	_, err = runChain(t, dir, []*engine.Node{
		node("s", "process.start", map[string]any{"program": "sleep", "args": []any{"30"}}),
		node("w", "process.wait", map[string]any{"pid": "{{ pid }}", "timeout": "200ms"}),
	})
	if err == nil || !strings.Contains(err.Error(), "did not end within 200ms") || !strings.Contains(err.Error(), `"w"`) {
		t.Fatalf("wait without timeout port: %v", err)
	}
}

// A process that Deskbot did not start: process.stop ends it and its
// children; process.wait waits for its end (exit code unknown).
func TestStopAndWaitForeignProcess(t *testing.T) {
	dir := t.TempDir()
	childFile := filepath.Join(dir, "child.pid")
	cmd := exec.Command("sh", "-c", "sleep 300 & echo $! > "+childFile+"; wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	var child int
	for deadline := time.Now().Add(10 * time.Second); child == 0; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(childFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if time.Now().After(deadline) {
			t.Fatal("the child's pid was not written")
		}
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	res, err := runChain(t, dir, []*engine.Node{
		node("stop", "process.stop", map[string]any{"pid": pid}),
		node("w", "process.wait", map[string]any{"pid": pid, "timeout": "10s"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["exit_code"] != float64(-1) {
		t.Errorf("exit code of a foreign process: %v", res.Vars["exit_code"])
	}
	for deadline := time.Now().Add(5 * time.Second); alive(child); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the foreign program's child survived process.stop")
		}
	}
}

// Bad pids are clear errors naming the field.
func TestProcessBadPid(t *testing.T) {
	for _, typ := range []string{"process.wait", "process.stop"} {
		_, err := runChain(t, t.TempDir(), []*engine.Node{node("n", typ, map[string]any{"pid": "abc"})})
		if err == nil || !strings.Contains(err.Error(), `pid: "abc" is not a process id`) {
			t.Errorf("%s: %v", typ, err)
		}
	}
	_, err := runChain(t, t.TempDir(), []*engine.Node{node("n", "process.start", map[string]any{"program": "no-such-program-here"})})
	if err == nil || !strings.Contains(err.Error(), "no-such-program-here") {
		t.Errorf("start of a missing program: %v", err)
	}
}
