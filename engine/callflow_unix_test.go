//go:build unix

package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"deskbot/engine"
)

// Lint reads called flows once each, only regular files, with a size limit:
// a call to /dev/zero or to a FIFO hung lint or ran it out of memory.
func TestLintCalledFlowFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, engine.MaxFlowFileSize+1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ target, want string }{
		{"/dev/zero", "not a regular file"},
		{fifo, "not a regular file"},
		{big, "64 MB"},
		{dir, "is a folder"},
	} {
		f := engine.NewFlow("caller")
		f.Nodes = append(f.Nodes, &engine.Node{ID: "call", Type: "control.call_flow", Params: map[string]any{"flow": c.target}})
		f.Edges = append(f.Edges, engine.Edge{From: "start", Port: "next", To: "call"})
		done := make(chan []engine.Problem)
		go func() { done <- engine.Lint(f, nil, dir) }()
		select {
		case ps := <-done:
			if len(ps) != 1 || ps[0].Field != "flow" || !strings.Contains(ps[0].Msg, c.want) || !strings.Contains(ps[0].Msg, c.target) {
				t.Errorf("lint of a call to %s: %v", c.target, ps)
			}
		case <-time.After(time.Minute): // a hang, not a speed limit
			t.Fatalf("lint of a call to %s hangs", c.target)
		}
		if _, err := engine.LoadFile(c.target); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadFile(%s): %v", c.target, err)
		}
	}
}
