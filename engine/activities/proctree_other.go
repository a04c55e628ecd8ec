//go:build unix && !linux

package activities

import (
	"os/exec"
	"strconv"
	"strings"
)

// procState is a process's state letter from ps(1) (R, S, Z...).
func procState(pid int) (string, bool) {
	out, err := exec.Command("ps", "-o", "state=", "-p", strconv.Itoa(pid)).Output()
	s := strings.TrimSpace(string(out))
	if err != nil || s == "" {
		return "", false
	}
	return s[:1], true
}

// children lists the pids whose parent is pid (from ps(1)).
func children(pid int) ([]int, error) {
	out, err := exec.Command("ps", "-A", "-o", "pid=,ppid=").Output()
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == strconv.Itoa(pid) {
			if c, err := strconv.Atoi(f[0]); err == nil && c != pid {
				kids = append(kids, c)
			}
		}
	}
	return kids, nil
}
