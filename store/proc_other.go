//go:build !unix && !windows

package store

// pidAlive cannot tell on this system; a run of another live pid is kept
// running.
func pidAlive(pid int) bool { return true }

func procStart(pid int) (string, bool) { return "", false }
