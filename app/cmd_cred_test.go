package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func TestCLICred(t *testing.T) {
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_CRED_PASSPHRASE=cli pass phrase", "DESKBOT_CRED_BACKEND="}
	const secret = "cli-secret-value-77"
	r := runEnv(t, env, secret+"\n", "cred", "set", "office", "--user", "bot@example.test")
	if r.code != 0 || !strings.Contains(r.stdout, `stored credential "office" in the encrypted file`) || !strings.Contains(r.stdout, "DESKBOT_NO_KEYRING") {
		t.Fatalf("set: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	runEnv(t, env, "tok-2-abcdefgh", "cred", "set", "--store", "file", "api")
	r = runEnv(t, []string{"DESKBOT_DATA=" + data}, "", "cred", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "office") || !strings.Contains(r.stdout, "bot@example.test") || !strings.Contains(r.stdout, "api") ||
		strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("list (needs no passphrase): %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runEnv(t, env, "", "cred", "set", "empty"); r.code == 0 || !strings.Contains(r.stderr, "empty") {
		t.Errorf("empty secret: %d %s", r.code, r.stderr)
	}
	if r := runEnv(t, env, "x", "cred", "set", "bad name"); r.code != 2 || !strings.Contains(r.stderr, "may hold only") {
		t.Errorf("bad name: %d %s", r.code, r.stderr)
	}
	if r := runEnv(t, env, "x", "cred", "set", "k", "--store", "keyring"); r.code != 1 || !strings.Contains(r.stderr, "OS keyring") || !strings.Contains(r.stderr, "DESKBOT_CRED_BACKEND=file") {
		t.Errorf("keyring switched off: %d %s", r.code, r.stderr)
	}
	// A wrong passphrase: removing the file's entry needs it and says so.
	if r := runEnv(t, []string{"DESKBOT_DATA=" + data, "DESKBOT_CRED_PASSPHRASE=wrong"}, "", "cred", "rm", "office"); r.code != 1 || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Errorf("rm with a wrong passphrase: %d %s", r.code, r.stderr)
	}
	if r := runEnv(t, env, "", "cred", "rm", "office"); r.code != 0 {
		t.Errorf("rm: %d %s", r.code, r.stderr)
	}
	if r := runEnv(t, env, "", "cred", "rm", "office"); r.code != 1 || !strings.Contains(r.stderr, "no such credential") {
		t.Errorf("rm twice: %d %s", r.code, r.stderr)
	}
	r = runEnv(t, env, "", "cred", "list")
	if strings.Contains(r.stdout, "office") || !strings.Contains(r.stdout, "api") {
		t.Errorf("after rm: %s", r.stdout)
	}
}

// leakySMTP accepts user bot with password good and sends a mail; a wrong
// password is echoed in its error, as careless servers do.
type leakySMTP struct {
	good string
	mu   sync.Mutex
	n    int
}

func (b *leakySMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &leakySession{b: b}, nil }

type leakySession struct {
	b      *leakySMTP
	authed bool
}

func (s *leakySession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *leakySession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "bot" || pass != s.b.good {
			return fmt.Errorf("user %s password %s is wrong", user, pass)
		}
		s.authed = true
		return nil
	}), nil
}
func (s *leakySession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *leakySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *leakySession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	s.b.mu.Lock()
	s.b.n++
	s.b.mu.Unlock()
	return nil
}
func (s *leakySession) Reset()        {}
func (s *leakySession) Logout() error { return nil }

// A recorded `deskbot run` of a flow whose mail.send steps use stored
// credentials, one of them rejected by a server that echoes the password,
// and an http.request whose API answers with the token it was sent:
// neither secret is anywhere in the history database's files, the flow
// file, the run's output, or what `runs` and `show-run --vars` print.
func TestCLICredentialSecretsNeverLeak(t *testing.T) {
	const good, bad = "good-Secret-4f1a", "bad-Secret-9c2e"
	be := &leakySMTP{good: good}
	srv := smtp.NewServer(be)
	srv.AllowInsecureAuth = true
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	// An API that answers with the token it was sent (httpbin does).
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"you_sent": strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")})
	}))
	defer api.Close()

	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_CRED_PASSPHRASE=leak test pass"}
	for name, s := range map[string]string{"good": good, "bad": bad} {
		if r := runEnv(t, env, s, "cred", "set", name, "--user", "bot"); r.code != 0 {
			t.Fatalf("cred set: %s", r.stderr)
		}
	}
	send := func(id, credName string) string {
		return fmt.Sprintf(`{"id":%q,"type":"mail.send","params":{"host":"127.0.0.1","port":%d,"tls":"none","credential":%q,
		 "from":"bot@example.test","to":["x@example.test"],"subject":"s","body":"b"}`, id, port, credName)
	}
	flow := `{"format":"deskbot.flow","version":1,"name":"cred-leak",
	"nodes":[{"id":"start","type":"control.start"},
	 ` + send("first", "bad") + `,"error_var":"why"},
	 {"id":"say","type":"control.log","params":{"message":"first failed: {{ why }}"}},
	 ` + send("second", "good") + `},
	 {"id":"api","type":"http.request","params":{"url":"` + api.URL + `","credential":"good","output":"r"}},
	 {"id":"echo","type":"control.log","params":{"message":"the API saw {{ r.body.you_sent }}"}},
	 ` + send("third", "bad") + `}],
	"edges":[{"from":"start","port":"next","to":"first"},{"from":"first","port":"error","to":"say"},
	 {"from":"say","port":"next","to":"second"},{"from":"second","port":"next","to":"api"},
	 {"from":"api","port":"next","to":"echo"},{"from":"echo","port":"next","to":"third"}]}`
	dir := t.TempDir()
	path := filepath.Join(dir, "leak.json")
	os.WriteFile(path, []byte(flow), 0o644)

	var out strings.Builder
	r := runEnv(t, env, "", "run", path)
	out.WriteString(r.stdout + r.stderr)
	if r.code != 1 || !strings.Contains(r.stdout, "first failed") || !strings.Contains(r.stdout, "the API saw [redacted]") || !strings.Contains(r.stderr, "login refused") {
		t.Fatalf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	be.mu.Lock()
	sent := be.n
	be.mu.Unlock()
	if sent != 1 {
		t.Fatalf("%d messages delivered, want 1 (the good credential's)", sent)
	}
	rj := runEnv(t, env, "", "run", "--json", path)
	out.WriteString(rj.stdout + rj.stderr)
	runID := strings.TrimSuffix(strings.Fields(r.stdout)[1], ":")
	for _, args := range [][]string{{"show-run", "--vars", runID}, {"runs"}, {"cred", "list"}} {
		r := runEnv(t, env, "", args...)
		out.WriteString(r.stdout + r.stderr)
	}
	for _, s := range []string{good, bad} {
		if strings.Contains(out.String(), s) {
			t.Errorf("a secret was printed:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Errorf("the server's echo should show, masked:\n%s", out.String())
	}
	n := 0
	files := []string{path}
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		n++
		if strings.Contains(string(b), good) || strings.Contains(string(b), bad) {
			t.Errorf("%s holds a secret", p)
		}
	}
	if n < 4 || !hasFile(files, "deskbot.db") || !hasFile(files, "credentials.enc") {
		t.Fatalf("files checked: %v", files)
	}
}

func hasFile(files []string, base string) bool {
	for _, f := range files {
		if filepath.Base(f) == base {
			return true
		}
	}
	return false
}
