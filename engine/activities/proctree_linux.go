package activities

import (
	"os"
	"strconv"
	"strings"
)

// procState is a process's state letter from /proc (R, S, Z...).
func procState(pid int) (string, bool) {
	f := statFields(pid)
	if len(f) < 1 {
		return "", false
	}
	return f[0], true
}

// statFields are /proc/PID/stat's fields after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// children lists the pids whose parent is pid (from /proc).
func children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(c); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, c)
		}
	}
	return out, nil
}
