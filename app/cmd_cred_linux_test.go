package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"deskbot/engine/cred"
)

// `deskbot cred set` on a real terminal without a keyring: the secret is
// typed without echo, then the new encrypted file's passphrase twice, also
// without echo; the file then opens with that passphrase and holds the
// secret.
func TestCLICredSetOnTerminal(t *testing.T) {
	const secret, pass = "typed-Secret-5521", "typed passphrase 9"
	data := t.TempDir()
	master, slave := openPTY(t)
	defer master.Close()
	cmd := exec.Command(deskbot(t), "cred", "set", "office", "--user", "bot")
	cmd.Env = append(os.Environ(), "DESKBOT_NO_KEYRING=1", "DESKBOT_DATA="+data, cred.EnvPassphrase+"=", cred.EnvBackend+"=")
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
			if err != nil {
				return
			}
		}
	}()
	waitFor := func(s string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			mu.Lock()
			ok := strings.Contains(screen.String(), s)
			mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no %q; screen: %q", s, screen.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	typeLine := func(s string) {
		for _, c := range s {
			io.WriteString(master, string(c))
		}
		io.WriteString(master, "\r")
	}
	waitFor(`Secret of "office": `)
	typeLine(secret)
	waitFor("Passphrase of the credentials file: ")
	typeLine(pass)
	waitFor("The same passphrase again: ")
	typeLine(pass)
	err := cmd.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	mu.Lock()
	out := screen.String()
	mu.Unlock()
	if err != nil || !strings.Contains(out, `stored credential "office" in the encrypted file`) {
		t.Fatalf("%v\n%q", err, out)
	}
	if strings.Contains(out, secret) || strings.Contains(out, pass) {
		t.Fatalf("echoed on the terminal: %q", out)
	}
	s, _ := cred.Open(cred.Options{Dir: data, Passphrase: func() (string, error) { return pass, nil }})
	if c, err := s.Get("office"); err != nil || c.Secret != secret || c.User != "bot" {
		t.Fatalf("the stored credential: %v", err)
	}
}
