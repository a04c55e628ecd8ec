package xvfbtest

import (
	"os/exec"
	"syscall"
)

// ownGroup starts c in its own process group, killed when the test process
// dies (Pdeathsig is Linux's).
func ownGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
