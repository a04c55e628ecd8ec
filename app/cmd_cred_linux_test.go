package main

import (
	"strings"
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
	p := startOnPTY(t, []string{"DESKBOT_DATA=" + data, cred.EnvPassphrase + "=", cred.EnvBackend + "="}, "cred", "set", "office", "--user", "bot")
	p.expect(`Secret of "office": `)
	p.typeLine(secret)
	p.expect("Passphrase of the credentials file: ")
	p.typeLine(pass)
	p.expect("The same passphrase again: ")
	p.typeLine(pass)
	err := p.cmd.Wait()
	time.Sleep(100 * time.Millisecond) // the last of the screen
	out := p.text()
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
