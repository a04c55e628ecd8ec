package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "process.start", Title: "Start program", Category: "Programs", SideEffects: true, Icon: "mediaPlay",
		Summary: "Starts a program in the background and puts its process id into a variable; the flow goes on at once.",
		Doc: "The program is looked up on PATH unless it is a path; no shell is involved. Its output (standard output " +
			"and errors) is kept in memory, up to 1 MiB each, for 'Wait for program' to put into variables, or written " +
			"to a file as it comes when 'Output file' is set. The program outlives the step; 'Stop program' ends it " +
			"with its children.",
		Fields: []engine.Field{
			{Name: "program", Title: "Program", Kind: engine.KindText, Required: true},
			{Name: "args", Title: "Arguments", Kind: engine.KindList},
			{Name: "dir", Title: "Working folder", Kind: engine.KindPath, Help: "Defaults to the flow's folder."},
			{Name: "output_file", Title: "Output file", Kind: engine.KindPath, Advanced: true,
				Help: "Standard output and errors go to this file (created or replaced) instead of memory."},
			{Name: "pid", Title: "Process id into", Kind: engine.KindVar, Default: "pid"},
		},
		New: newStart,
	})
	engine.Register(engine.Spec{
		Type: "process.wait", Title: "Wait for program", Category: "Programs", SideEffects: true, Icon: "mediaPause",
		Summary: "Waits until a program ends, by its process id, and puts its output and exit code into variables.",
		Doc: "The output and the exit code are known for programs that 'Start program' started in this process; for " +
			"another process the step only waits for its end (exit code -1). When the timeout passes, the step " +
			"follows `timeout`, or fails when that port is not connected; the program keeps running.",
		Fields: []engine.Field{
			{Name: "pid", Title: "Process id", Kind: engine.KindText, Required: true, Help: "e.g. {{ pid }}"},
			{Name: "timeout", Title: "Timeout", Kind: engine.KindDur, Default: "1m"},
			{Name: "stdout", Title: "Output into", Kind: engine.KindVar, Default: "stdout"},
			{Name: "stderr", Title: "Errors into", Kind: engine.KindVar, Default: "stderr"},
			{Name: "exit_code", Title: "Exit code into", Kind: engine.KindVar, Default: "exit_code"},
		},
		Ports: []string{engine.PortNext, "timeout"},
		New:   newWait,
	})
	engine.Register(engine.Spec{
		Type: "process.stop", Title: "Stop program", Category: "Programs", SideEffects: true, Icon: "mediaStop",
		Summary: "Ends a program by its process id, with every program it started.",
		Doc: "A program that 'Start program' started is ended with its whole tree (its process group on Linux and " +
			"macOS, its Job object on Windows); another process is ended with the children it has. A process that " +
			"has already ended is not an error.",
		Fields: []engine.Field{
			{Name: "pid", Title: "Process id", Kind: engine.KindText, Required: true, Help: "e.g. {{ pid }}"},
		},
		New: newStop,
	})
}

// outCap is how much of a background program's output is kept in memory,
// per stream.
const outCap = 1 << 20

// capped keeps the first n bytes written to it and counts the rest.
type capped struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if room := max(outCap-c.buf.Len(), 0); room < len(p) {
		c.dropped += int64(len(p) - room)
		p = p[:room]
	}
	c.buf.Write(p)
	return n, nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped > 0 {
		return c.buf.String() + fmt.Sprintf("\n[%d more bytes not kept]", c.dropped)
	}
	return c.buf.String()
}

// bgProc is a program that process.start started.
type bgProc struct {
	name           string
	tree           *tree
	done           chan struct{} // closed when it has ended
	code           int           // after done
	stdout, stderr *capped       // nil with an output file
	file           *os.File
}

var bg = struct {
	mu sync.Mutex
	m  map[int]*bgProc
}{m: map[int]*bgProc{}}

type startProgram struct {
	run  runProgram
	file *engine.Template
	pid  string
}

func newStart(p *engine.Params) (engine.Activity, error) {
	return &startProgram{
		run:  runProgram{program: p.Template("program"), args: p.List("args"), dir: p.Template("dir")},
		file: p.Template("output_file"), pid: p.Var("pid"),
	}, nil
}

func (a *startProgram) Run(ctx context.Context, c *engine.Call) (string, error) {
	prog, args, dir, err := a.run.command(c)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	bp := &bgProc{name: prog, done: make(chan struct{}), code: -1}
	if a.file.Source != "" {
		path, err := c.Path(a.file)
		if err != nil {
			return "", fmt.Errorf("output_file: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("output_file %s: %w", path, err)
		}
		if bp.file, err = os.Create(path); err != nil {
			return "", fmt.Errorf("output_file: %w", err)
		}
		cmd.Stdout, cmd.Stderr = bp.file, bp.file
	} else {
		bp.stdout, bp.stderr = &capped{}, &capped{}
		cmd.Stdout, cmd.Stderr = bp.stdout, bp.stderr
	}
	prepareTree(cmd)
	if err := cmd.Start(); err != nil {
		if bp.file != nil {
			bp.file.Close()
		}
		return "", fmt.Errorf("start %s: %w", prog, err)
	}
	bp.tree, _ = attachTree(cmd) // without a job, stop walks the children
	pid := cmd.Process.Pid
	bg.mu.Lock()
	bg.m[pid] = bp
	bg.mu.Unlock()
	go func() {
		err := cmd.Wait()
		if cmd.ProcessState != nil {
			bp.code = cmd.ProcessState.ExitCode()
		} else if err != nil {
			bp.code = -1
		}
		if bp.file != nil {
			bp.file.Close()
		}
		bp.tree.release()
		close(bp.done)
	}()
	c.Output("pid", pid)
	if a.pid != "" {
		if err := c.Set(a.pid, pid); err != nil {
			return "", err
		}
	}
	return "", nil
}

func (a *startProgram) DryRun(_ context.Context, c *engine.Call) (string, error) {
	prog, args, dir, err := a.run.command(c)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would start %s %s in %s", prog, strings.Join(args, " "), dir)
	if a.pid != "" {
		return "", c.Set(a.pid, 0)
	}
	return "", nil
}

// pidOf reads the pid field.
func pidOf(c *engine.Call, t *engine.Template) (int, error) {
	s, err := c.Text(t)
	if err != nil {
		return 0, fmt.Errorf("pid: %w", err)
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), ".0") // a number variable
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid: %q is not a process id", s)
	}
	return pid, nil
}

type waitProgram struct {
	pid, timeout             *engine.Template
	stdout, stderr, exitCode string
}

func newWait(p *engine.Params) (engine.Activity, error) {
	return &waitProgram{pid: p.Template("pid"), timeout: p.Template("timeout"),
		stdout: p.Var("stdout"), stderr: p.Var("stderr"), exitCode: p.Var("exit_code")}, nil
}

func (a *waitProgram) Run(ctx context.Context, c *engine.Call) (string, error) {
	pid, err := pidOf(c, a.pid)
	if err != nil {
		return "", err
	}
	timeout, err := engine.DurationOf(c, a.timeout)
	if err != nil {
		return "", fmt.Errorf("timeout: %w", err)
	}
	wctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	bg.mu.Lock()
	bp := bg.m[pid]
	bg.mu.Unlock()
	c.Waiting(fmt.Sprintf("the program with pid %d to end", pid))
	ended := make(chan struct{})
	if bp != nil {
		ended = bp.done
	} else if !pidAlive(pid) {
		close(ended)
	} else {
		go func() { // not ours: poll until it is gone
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for pidAlive(pid) {
				select {
				case <-wctx.Done():
					return
				case <-tick.C:
				}
			}
			close(ended)
		}()
	}
	select {
	case <-wctx.Done():
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		err := fmt.Errorf("the program with pid %d did not end within %s", pid, timeout)
		if c.Flow().Next(c.Node.ID, "timeout") != "" {
			c.Logf("%v", err)
			return "timeout", nil
		}
		return "", err
	case <-ended:
	}
	code, out, errOut := -1, "", ""
	if bp != nil {
		code = bp.code
		if bp.stdout != nil {
			out, errOut = bp.stdout.String(), bp.stderr.String()
		}
		bg.mu.Lock()
		delete(bg.m, pid)
		bg.mu.Unlock()
	}
	for _, kv := range []struct {
		name string
		v    any
	}{{a.stdout, out}, {a.stderr, errOut}, {a.exitCode, float64(code)}} {
		if kv.name != "" {
			if err := c.Set(kv.name, kv.v); err != nil {
				return "", err
			}
		}
	}
	c.Output("exit_code", code)
	return "", nil
}

func (a *waitProgram) DryRun(_ context.Context, c *engine.Call) (string, error) {
	s, err := c.Text(a.pid)
	if err != nil {
		return "", fmt.Errorf("pid: %w", err)
	}
	c.Logf("dry run: would wait for the program with pid %s", s)
	return "", nil
}

type stopProgram struct{ pid *engine.Template }

func newStop(p *engine.Params) (engine.Activity, error) {
	return &stopProgram{pid: p.Template("pid")}, nil
}

func (a *stopProgram) Run(ctx context.Context, c *engine.Call) (string, error) {
	pid, err := pidOf(c, a.pid)
	if err != nil {
		return "", err
	}
	bg.mu.Lock()
	bp := bg.m[pid]
	bg.mu.Unlock()
	if bp != nil {
		// Children first, while they can still be found by their parent,
		// then the whole group or job (which also holds re-parented ones).
		err := errors.Join(killTree(pid), bp.tree.kill())
		select {
		case <-bp.done:
			return "", nil
		case <-time.After(5 * time.Second):
			return "", fmt.Errorf("stop the program with pid %d: it did not end within 5s: %v", pid, err)
		}
	}
	if !pidAlive(pid) {
		c.Logf("the program with pid %d had already ended", pid)
		return "", nil
	}
	if err := killTree(pid); err != nil {
		return "", fmt.Errorf("stop the program with pid %d: %w", pid, err)
	}
	return "", nil
}

func (a *stopProgram) DryRun(_ context.Context, c *engine.Call) (string, error) {
	s, err := c.Text(a.pid)
	if err != nil {
		return "", fmt.Errorf("pid: %w", err)
	}
	c.Logf("dry run: would stop the program with pid %s and its children", s)
	return "", nil
}
