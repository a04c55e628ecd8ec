//go:build unix

package xvfbtest

import (
	"os/exec"
	"syscall"
)

// signalGroup sends TERM, or KILL, to c's process group.
func signalGroup(c *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-c.Process.Pid, sig)
}
