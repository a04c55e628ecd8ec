package xvfbtest

import "os/exec"

// ownGroup does nothing on Windows, which has no X server to start; New
// fails there because Xvfb is missing.
func ownGroup(c *exec.Cmd) {}

// signalGroup ends c (Windows has no signals to send).
func signalGroup(c *exec.Cmd, kill bool) { c.Process.Kill() }
