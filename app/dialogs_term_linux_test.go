package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// askFlow asks yes/no, then a form, then a CSV file, and writes what it
// was told into told.txt.
const askFlow = `{"format":"deskbot.flow","version":1,"name":"ask",
 "variables":[{"name":"total","type":"number","default":42.5}],
 "nodes":[{"id":"start","type":"control.start"},
  {"id":"ok","type":"dialog.confirm","params":{"title":"Order","message":"The total is {{ total }} EUR. Send it?"}},
  {"id":"form","type":"dialog.input","params":{"title":"Details","fields":[
    "name | text | Your name | Ann",
    "amount | number | Amount",
    "pin | password | PIN",
    "size | choice: S, M, L | Size | M"]}},
  {"id":"pick","type":"dialog.pick_file","params":{"title":"Orders file","filter":[".csv"],"output":"file"}},
  {"id":"write","type":"file.write_text","params":{"path":"told.txt","text":"{{ name }}|{{ amount * 2 }}|{{ pin }}|{{ size }}|{{ file }}"}},
  {"id":"no","type":"file.write_text","params":{"path":"told.txt","text":"no"}}],
 "edges":[{"from":"start","port":"next","to":"ok"},{"from":"ok","port":"yes","to":"form"},{"from":"ok","port":"no","to":"no"},
  {"from":"form","port":"next","to":"pick"},{"from":"pick","port":"next","to":"write"}]}`

// ptyRun starts deskbot on a new terminal and collects its screen.
type ptyRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File
	slave  *os.File
	mu     sync.Mutex
	screen bytes.Buffer
	seen   int // how much of the screen expect has consumed
}

func startOnPTY(t *testing.T, env []string, args ...string) *ptyRun {
	return startOnPTYOut(t, nil, env, args...)
}

// startOnPTYOut is startOnPTY with standard output going to stdout instead
// of the terminal, when stdout is not nil.
func startOnPTYOut(t *testing.T, stdout io.Writer, env []string, args ...string) *ptyRun {
	t.Helper()
	master, slave := openPTY(t)
	t.Cleanup(func() { master.Close(); slave.Close() })
	cmd := exec.Command(deskbot(t), args...)
	cmd.Env = append(append(os.Environ(), "DESKBOT_NO_KEYRING=1"), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &ptyRun{t: t, cmd: cmd, master: master, slave: slave}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.screen.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

// expect waits until s shows on the screen after what was expected before.
func (p *ptyRun) expect(s string) {
	p.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		scr := p.screen.String()
		i := strings.Index(scr[p.seen:], s)
		if i >= 0 {
			p.seen += i + len(s)
		}
		p.mu.Unlock()
		if i >= 0 {
			return
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			p.t.Fatalf("%q did not show; screen:\n%s", s, scr)
		}
	}
}

// typeLine types s as a person would, one key at a time, then Enter.
func (p *ptyRun) typeLine(s string) {
	for _, c := range s {
		io.WriteString(p.master, string(c))
	}
	io.WriteString(p.master, "\r")
}

func (p *ptyRun) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.screen.String()
}

// `deskbot run` on a terminal asks each dialog there: wrong answers are
// asked again, defaults are taken on Enter, the password is not echoed,
// and the run goes on with the answers.
func TestCLIDialogsOnTerminal(t *testing.T) {
	dir := t.TempDir()
	flow := filepath.Join(dir, "ask.json")
	os.WriteFile(flow, []byte(askFlow), 0o644)
	orders := filepath.Join(dir, "orders.csv")
	os.WriteFile(orders, []byte("a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
	const pin = "pin-never-echoed-9312"
	p := startOnPTY(t, []string{"DESKBOT_DATA=" + t.TempDir()}, "run", flow)
	p.expect("== Order ==")
	p.expect("The total is 42.5 EUR. Send it?")
	p.expect("[y] Yes / [n] No? ")
	p.typeLine("maybe")
	p.expect("Please answer y (Yes) or n (No).")
	p.typeLine("y")
	p.expect("== Details ==")
	p.expect("Your name [Ann]: ")
	p.typeLine("") // the default
	p.expect("Amount: ")
	p.typeLine("lots")
	p.expect(`"lots" is not a number; try again.`)
	p.expect("Amount: ")
	p.typeLine("7.25")
	p.expect("PIN: ")
	p.typeLine(pin)
	p.expect("Size: 1) S  2) M  3) L")
	p.expect("Choose [M]: ")
	p.typeLine("3")
	p.expect("Path of the file to open, .csv: ")
	p.typeLine(filepath.Join(dir, "gone.csv"))
	p.expect("there is no file")
	p.typeLine(filepath.Join(dir, "notes.txt"))
	p.expect("notes.txt does not end in .csv; try again.")
	p.typeLine(orders)
	err := p.cmd.Wait()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, p.text())
	}
	got, _ := os.ReadFile(filepath.Join(dir, "told.txt"))
	if want := "Ann|14.5|" + pin + "|L|" + orders; string(got) != want {
		t.Errorf("told %q, want %q\n%s", got, want, p.text())
	}
	time.Sleep(100 * time.Millisecond) // the last of the screen
	if strings.Contains(p.text(), pin) {
		t.Errorf("the password was echoed:\n%s", p.text())
	}
}

// No terminal (a pipe, as under cron or CI): the dialog fails with an
// error that says where the flow can run, naming the node.
func TestCLIDialogsWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	flow := filepath.Join(dir, "ask.json")
	os.WriteFile(flow, []byte(askFlow), 0o644)
	r := runEnv(t, []string{"DESKBOT_DATA=" + t.TempDir()}, "y\n", "run", flow)
	if r.code != 1 || !strings.Contains(r.stderr, `node "ok" (dialog.confirm): question "The total is 42.5 EUR. Send it?": this flow asks the user`) ||
		!strings.Contains(r.stderr, "run it in the studio or on a terminal") {
		t.Fatalf("%d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "told.txt")); err == nil {
		t.Error("the flow went on")
	}
}

// Ctrl-C while a password is typed stops the run (130) and gives the
// terminal its echo back; end of input (Ctrl-D) closes the dialog.
func TestCLIDialogsCtrlCAndEndOfInput(t *testing.T) {
	dir := t.TempDir()
	flow := filepath.Join(dir, "ask.json")
	os.WriteFile(flow, []byte(askFlow), 0o644)
	p := startOnPTY(t, []string{"DESKBOT_DATA=" + t.TempDir()}, "run", flow)
	p.expect("[y] Yes / [n] No? ")
	p.typeLine("yes")
	p.expect("Your name [Ann]: ")
	p.typeLine("Bo")
	p.expect("Amount: ")
	p.typeLine("1")
	p.expect("PIN: ")
	io.WriteString(p.master, "half")
	io.WriteString(p.master, "\x03")
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\n%s", err, p.text())
	}
	if tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS); err != nil || tio.Lflag&unix.ECHO == 0 {
		t.Fatalf("echo is still off after Ctrl-C: %v", err)
	}

	p = startOnPTY(t, []string{"DESKBOT_DATA=" + t.TempDir()}, "run", flow)
	p.expect("[y] Yes / [n] No? ")
	io.WriteString(p.master, "\x04") // Ctrl-D at the start of a line
	err = p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(p.text(), "the dialog was closed without an answer") {
		t.Fatalf("end of input: %v\n%s", err, p.text())
	}
}

// With --json, standard output carries only the events: the questions go
// to standard error (here the terminal).
func TestCLIDialogsWithJSONAskOnStderr(t *testing.T) {
	dir := t.TempDir()
	flow := filepath.Join(dir, "ask.json")
	os.WriteFile(flow, []byte(askFlow), 0o644)
	var stdout bytes.Buffer
	p := startOnPTYOut(t, &stdout, []string{"DESKBOT_DATA=" + t.TempDir()}, "run", "--json", flow)
	p.expect("The total is 42.5 EUR. Send it?")
	p.expect("[y] Yes / [n] No? ")
	p.typeLine("n")
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, p.text())
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "told.txt")); string(got) != "no" {
		t.Errorf("told %q", got)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("stdout has a line that is no event: %q", l)
		}
	}
	if len(lines) < 4 || strings.Contains(stdout.String(), "[y] Yes") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}
