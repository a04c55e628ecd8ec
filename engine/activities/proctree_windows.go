//go:build windows

package activities

import (
	"fmt"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// A process tree is a started program and the programs it starts: on
// Windows a Job object that the program is put in right after it starts
// (children join their parent's job), ended with TerminateJobObject.

// prepareTree gives cmd its own console process group.
func prepareTree(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}

// tree is a started program's Job object.
type tree struct {
	job windows.Handle
	pid int
}

// attachTree puts the started program in a new Job object.
func attachTree(cmd *exec.Cmd) (*tree, error) {
	t := &tree{pid: cmd.Process.Pid}
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return t, fmt.Errorf("create a job object: %w", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(t.pid))
	if err != nil {
		windows.CloseHandle(job)
		return t, fmt.Errorf("open process %d: %w", t.pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return t, fmt.Errorf("put process %d in a job object: %w", t.pid, err)
	}
	t.job = job
	return t, nil
}

// kill ends every process of the tree; without a job (it could not be
// made), the process and the children it lists.
func (t *tree) kill() error {
	if t.job != 0 {
		if err := windows.TerminateJobObject(t.job, 1); err == nil {
			return nil
		}
	}
	return killTree(t.pid)
}

// release closes the job's handle; the processes go on.
func (t *tree) release() {
	if t.job != 0 {
		windows.CloseHandle(t.job)
		t.job = 0
	}
}

// killPid ends one process that Deskbot did not start.
func killPid(pid int) error {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		if !pidAlive(pid) {
			return nil
		}
		return fmt.Errorf("open process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.TerminateProcess(h, 1); err != nil && pidAlive(pid) {
		return err
	}
	return nil
}

// pidAlive reports whether a process with this pid runs.
func pidAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, 0)
	return err == nil && ev == uint32(windows.WAIT_TIMEOUT)
}

// children lists the pids whose parent is pid (a Toolhelp snapshot).
func children(pid int) ([]int, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	defer windows.CloseHandle(snap)
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	var out []int
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		if int(e.ParentProcessID) == pid && int(e.ProcessID) != pid {
			out = append(out, int(e.ProcessID))
		}
	}
	return out, nil
}
