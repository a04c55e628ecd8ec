package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "process.run", Title: "Run program", Category: "Programs", SideEffects: true, Icon: "settings",
		Summary: "Runs a program with arguments and waits for it, capturing its output and exit code.",
		Doc: "The program is looked up on PATH unless it is a path. No shell is involved: pass each argument " +
			"separately. A non-zero exit code fails the step unless 'Fail on exit code' is off. When the " +
			"timeout passes, the program and its children are killed.",
		Fields: []engine.Field{
			{Name: "program", Title: "Program", Kind: engine.KindText, Required: true},
			{Name: "args", Title: "Arguments", Kind: engine.KindList},
			{Name: "dir", Title: "Working folder", Kind: engine.KindPath, Help: "Defaults to the flow's folder."},
			{Name: "stdin", Title: "Input", Kind: engine.KindMulti, Advanced: true},
			{Name: "timeout", Title: "Timeout", Kind: engine.KindDur, Default: "1m"},
			{Name: "fail_on_exit_code", Title: "Fail on exit code", Kind: engine.KindBool, Default: true},
			{Name: "stdout", Title: "Output into", Kind: engine.KindVar, Default: "stdout"},
			{Name: "stderr", Title: "Errors into", Kind: engine.KindVar, Default: "stderr"},
			{Name: "exit_code", Title: "Exit code into", Kind: engine.KindVar, Default: "exit_code"},
		},
		New: newRun,
	})
}

type runProgram struct {
	program, dir, stdin, timeout *engine.Template
	args                         []*engine.Template
	fail                         bool
	stdout, stderr, exitCode     string
}

func newRun(p *engine.Params) (engine.Activity, error) {
	return &runProgram{
		program: p.Template("program"), args: p.List("args"), dir: p.Template("dir"),
		stdin: p.Template("stdin"), timeout: p.Template("timeout"), fail: p.Bool("fail_on_exit_code"),
		stdout: p.Var("stdout"), stderr: p.Var("stderr"), exitCode: p.Var("exit_code"),
	}, nil
}

func (a *runProgram) command(c *engine.Call) (prog string, args []string, dir string, err error) {
	prog, err = c.Text(a.program)
	if err != nil {
		return "", nil, "", fmt.Errorf("program: %w", err)
	}
	if strings.TrimSpace(prog) == "" {
		return "", nil, "", fmt.Errorf("program: empty")
	}
	for i, t := range a.args {
		s, err := c.Text(t)
		if err != nil {
			return "", nil, "", fmt.Errorf("argument %d: %w", i+1, err)
		}
		args = append(args, s)
	}
	dir = c.BaseDir()
	if a.dir.Source != "" {
		if dir, err = c.Path(a.dir); err != nil {
			return "", nil, "", fmt.Errorf("dir: %w", err)
		}
	}
	return prog, args, dir, nil
}

func (a *runProgram) Run(ctx context.Context, c *engine.Call) (string, error) {
	prog, args, dir, err := a.command(c)
	if err != nil {
		return "", err
	}
	timeout, err := engine.DurationOf(c, a.timeout)
	if err != nil {
		return "", fmt.Errorf("timeout: %w", err)
	}
	stdin, err := c.Text(a.stdin)
	if err != nil {
		return "", fmt.Errorf("stdin: %w", err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	// Kill the whole process tree, so children of the program die too.
	prepareTree(cmd)
	var tr atomic.Pointer[tree]
	cmd.Cancel = func() error {
		if t := tr.Load(); t != nil {
			return t.kill()
		}
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 2 * time.Second
	c.Waiting(fmt.Sprintf("the program %s to exit", strings.Join(append([]string{prog}, args...), " ")))
	runErr := cmd.Start()
	if runErr == nil {
		t, _ := attachTree(cmd) // it always returns a tree; without a job, kill walks the children
		tr.Store(t)
		defer t.release()
		runErr = cmd.Wait()
	}
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	for _, kv := range []struct {
		name string
		v    any
	}{{a.stdout, out.String()}, {a.stderr, errOut.String()}, {a.exitCode, float64(code)}} {
		if kv.name != "" {
			if err := c.Set(kv.name, kv.v); err != nil {
				return "", err
			}
		}
	}
	c.Output("exit_code", code)
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && timeout > 0:
		return "", fmt.Errorf("%s: killed after timeout %s", prog, timeout)
	case ctx.Err() != nil:
		return "", context.Cause(ctx)
	}
	var exitErr *exec.ExitError
	if errors.As(runErr, &exitErr) {
		if a.fail {
			return "", fmt.Errorf("%s exited with code %d: %s", prog, code, lastLine(errOut.String()))
		}
		return "", nil
	}
	if runErr != nil {
		return "", fmt.Errorf("run %s: %w", prog, runErr)
	}
	return "", nil
}

func (a *runProgram) DryRun(_ context.Context, c *engine.Call) (string, error) {
	prog, args, dir, err := a.command(c)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would run %s %s in %s", prog, strings.Join(args, " "), dir)
	return "", nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(no error output)"
	}
	return s
}
