//go:build unix && !linux

package xvfbtest

import (
	"os/exec"
	"syscall"
)

// ownGroup starts c in its own process group (only Linux can also tie it
// to the test process's life).
func ownGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
