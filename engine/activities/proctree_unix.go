//go:build unix

package activities

import (
	"errors"
	"os/exec"
	"syscall"
)

// A process tree is a started program and the programs it starts: on Unix
// its own process group (Setpgid), ended with one signal to the group.

// prepareTree makes cmd start a process group of its own.
func prepareTree(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// tree is a started program's process group.
type tree struct{ pgid int }

// attachTree is called after cmd started.
func attachTree(cmd *exec.Cmd) (*tree, error) { return &tree{pgid: cmd.Process.Pid}, nil }

// kill ends every process of the tree.
func (t *tree) kill() error {
	if err := syscall.Kill(-t.pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// release frees what the tree holds (nothing on Unix).
func (t *tree) release() {}

// killPid ends one process that Deskbot did not start (its children are
// found by the caller).
func killPid(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// pidAlive reports whether a process with this pid exists and has not
// ended (a zombie waiting for its parent counts as ended).
func pidAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	st, ok := procState(pid)
	return !ok || st != "Z"
}
