package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master (what a terminal
// emulator holds) and the slave (the program's terminal).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// `deskbot model provider key` typed on a real terminal: the key does not
// show on the screen, is read (the keyring is off here, so the command
// says to use the variable instead), and echo is back on afterwards.
func TestCLIProviderKeyOnTerminalIsNotEchoed(t *testing.T) {
	const key = "sk-typed-on-a-terminal-7788"
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data}
	if r := runEnv(t, env, "", "model", "provider", "add", "tty", "--url", "http://127.0.0.1:1/v1", "--model", "m"); r.code != 0 {
		t.Fatalf("provider add: %s", r.stderr)
	}
	master, slave := openPTY(t)
	defer master.Close()
	cmd := exec.Command(deskbot(t), "model", "provider", "key", "tty")
	cmd.Env = append(append(os.Environ(), "DESKBOT_NO_KEYRING=1", "OPENAI_API_KEY="), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil { // EIO once the program has exited
				return
			}
		}
	}()
	seen := func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(screen.String(), s)
	}
	for deadline := time.Now().Add(30 * time.Second); !seen("API key for tty: "); {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no prompt; screen: %q", screen.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Typed as a person would, one key at a time, then Enter.
	for _, c := range key {
		io.WriteString(master, string(c))
	}
	io.WriteString(master, "\r")
	err := cmd.Wait()
	// The terminal's line discipline echoes what was typed before the
	// program reads it only when echo is on; collect what is left.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	mu.Lock()
	out := screen.String()
	mu.Unlock()
	if strings.Contains(out, key) || strings.Contains(out, key[:8]) {
		t.Fatalf("the key was echoed on the terminal: %q", out)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out, "DESKBOT_API_KEY_TTY") {
		t.Fatalf("the key should have been read and refused (no keyring): %v\n%q", err, out)
	}
}

// Ctrl-C while the key is being typed: the command ends (130) and the
// terminal has its echo back.
func TestCLIProviderKeyCtrlCRestoresEcho(t *testing.T) {
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data}
	if r := runEnv(t, env, "", "model", "provider", "add", "tty", "--url", "http://127.0.0.1:1/v1", "--model", "m"); r.code != 0 {
		t.Fatalf("provider add: %s", r.stderr)
	}
	master, slave := openPTY(t)
	defer master.Close()
	defer slave.Close() // kept open to read the terminal's settings afterwards
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil || before.Lflag&unix.ECHO == 0 {
		t.Fatalf("a new terminal echoes: %v", err)
	}
	cmd := exec.Command(deskbot(t), "model", "provider", "key", "tty")
	cmd.Env = append(append(os.Environ(), "DESKBOT_NO_KEYRING=1", "OPENAI_API_KEY="), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		ok := strings.Contains(screen.String(), "API key for tty: ")
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no prompt")
		}
	}
	io.WriteString(master, "sk-half")
	io.WriteString(master, "\x03") // Ctrl-C: the terminal sends SIGINT
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v", err)
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil || after.Lflag&unix.ECHO == 0 {
		t.Fatalf("echo is still off after Ctrl-C: %v", err)
	}
}
