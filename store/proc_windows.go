//go:build windows

package store

import (
	"strconv"

	"golang.org/x/sys/windows"
)

// stillActive is GetExitCodeProcess's code for a process that runs.
const stillActive = 259

// pidAlive says whether a process with this pid runs: it can be opened and
// has no exit code yet.
func pidAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		// No such process; a process of another user that we may not
		// open still runs.
		return err == windows.ERROR_ACCESS_DENIED
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}

// procStart returns a process's creation time (in nanoseconds), which
// tells it from a later process that reuses the pid.
func procStart(pid int) (string, bool) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return "", false
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return "", false
	}
	return strconv.FormatInt(created.Nanoseconds(), 10), true
}
