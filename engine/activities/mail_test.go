package activities_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"deskbot/engine"
	"deskbot/engine/cred"
)

const (
	mailUser   = "robot@example.test"
	mailSecret = "Pa55-wörd-for-mail"
)

// parsed is a received message taken apart with go-message.
type parsed struct {
	subject, text, html string
	files               map[string][]byte
	header              mail.Header
}

func parseMail(t *testing.T, raw []byte) parsed {
	t.Helper()
	// The standard library parses it too.
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail: %v\n%s", err, raw)
	}
	if _, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("subject: %v", err)
	}
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{files: map[string][]byte{}, header: r.Header}
	p.subject, _ = r.Header.Subject()
	if ct, _, _ := r.Header.ContentType(); ct != "multipart/mixed" {
		t.Errorf("content type %q, want multipart/mixed", ct)
	}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part.Body)
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			ct, params, _ := h.ContentType()
			if params["charset"] != "utf-8" {
				t.Errorf("%s charset %q", ct, params["charset"])
			}
			if ct == "text/plain" {
				p.text = string(b)
			} else if ct == "text/html" {
				p.html = string(b)
			}
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			if enc := h.Get("Content-Transfer-Encoding"); enc != "base64" {
				t.Errorf("attachment %s: encoding %q", name, enc)
			}
			p.files[name] = b
		}
	}
	return p
}

func TestMailSendSTARTTLS(t *testing.T) {
	be := startSMTP(t, "starttls", mailUser, mailSecret)
	port, ca := be.Port, be.CAFile
	store := credStore(t, cred.Credential{Name: "office", User: mailUser, Secret: mailSecret})
	dir := t.TempDir()
	bin := make([]byte, 70000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	os.WriteFile(filepath.Join(dir, "订单 summary.xlsx"), bin, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("plain\r\nlines\n"), 0o644)
	params := map[string]any{
		"host": "127.0.0.1", "port": float64(port), "tls": "starttls", "credential": "office", "ca_file": ca,
		"from": "机器人 <robot@example.test>", "to": []any{"Boss <boss@example.test>", "a@example.test, b@example.test"},
		"cc": []any{"cc@example.test"}, "bcc": []any{"hidden@example.test"},
		"subject": "月度报表：订单 {{ 1 + 1 }}", "body": "Hello,\nthe report is attached.\n", "html": "<p>Hello, <b>报表</b></p>",
		"attachments": []any{"订单 summary.xlsx", "notes.txt"},
	}
	if _, err := runWith(t, dir, "mail.send", params, store); err != nil {
		t.Fatal(err)
	}
	got := be.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	r := got[0]
	if !r.TLS || r.User != mailUser || r.From != "robot@example.test" {
		t.Errorf("tls %v, user %q, from %q", r.TLS, r.User, r.From)
	}
	if strings.Join(r.To, " ") != "boss@example.test a@example.test b@example.test cc@example.test hidden@example.test" {
		t.Errorf("recipients %v", r.To)
	}
	p := parseMail(t, r.Data)
	if p.subject != "月度报表：订单 2" {
		t.Errorf("subject %q", p.subject)
	}
	if p.text != "Hello,\nthe report is attached.\n" && p.text != "Hello,\r\nthe report is attached.\r\n" {
		t.Errorf("text %q", p.text)
	}
	if p.html != "<p>Hello, <b>报表</b></p>" {
		t.Errorf("html %q", p.html)
	}
	if !bytes.Equal(p.files["订单 summary.xlsx"], bin) || string(p.files["notes.txt"]) != "plain\r\nlines\n" || len(p.files) != 2 {
		t.Errorf("attachments: %d files, %d bytes of the workbook", len(p.files), len(p.files["订单 summary.xlsx"]))
	}
	if p.header.Get("Bcc") != "" || bytes.Contains(r.Data, []byte("hidden@")) {
		t.Error("the Bcc recipient is in the message")
	}
	from, _ := p.header.AddressList("From")
	if len(from) != 1 || from[0].Name != "机器人" {
		t.Errorf("from %v", from)
	}
	if bytes.Contains(r.Data, []byte(mailSecret)) {
		t.Error("the message holds the password")
	}
}

func TestMailSendImplicitTLSAndPlain(t *testing.T) {
	be := startSMTP(t, "tls", mailUser, mailSecret)
	port, ca := be.Port, be.CAFile
	store := credStore(t, cred.Credential{Name: "office", User: mailUser, Secret: mailSecret})
	dir := t.TempDir()
	if _, err := runWith(t, dir, "mail.send", map[string]any{"host": "localhost", "port": float64(port), "tls": "tls", "credential": "office",
		"ca_file": ca, "from": "robot@example.test", "to": []any{"x@example.test"}, "subject": "plain ascii", "html": "<i>only html</i>"}, store); err != nil {
		t.Fatal(err)
	}
	// No login, no TLS: a relay on this machine.
	open := startSMTP(t, "none", "", "")
	port2 := open.Port
	if _, err := runWith(t, dir, "mail.send", map[string]any{"host": "{{ '127.0.0.1:' + string(" + strconv.Itoa(port2) + ") }}", "tls": "none",
		"from": "robot@example.test", "to": []any{"y@example.test"}, "body": "hi"}, nil); err != nil {
		t.Fatal(err)
	}
	a, b := be.Messages(), open.Messages()
	if len(a) != 1 || !a[0].TLS || len(b) != 1 || b[0].TLS {
		t.Fatalf("implicit TLS %d, plain %d", len(a), len(b))
	}
	if p := parseMail(t, a[0].Data); p.html != "<i>only html</i>" || p.text != "" || p.subject != "plain ascii" {
		t.Errorf("html only: %+v", p)
	}
	if p := parseMail(t, b[0].Data); p.text != "hi" || p.html != "" {
		t.Errorf("text only: %+v", p)
	}
}

func TestMailSendErrors(t *testing.T) {
	be := startSMTP(t, "starttls", mailUser, mailSecret)
	port, ca := be.Port, be.CAFile
	store := credStore(t, cred.Credential{Name: "office", User: mailUser, Secret: mailSecret},
		cred.Credential{Name: "wrong", User: mailUser, Secret: "not-the-password-1"},
		cred.Credential{Name: "nouser", Secret: "whatever-secret"})
	dir := t.TempDir()
	base := func(kv ...any) map[string]any {
		m := map[string]any{"host": "127.0.0.1", "port": float64(port), "tls": "starttls", "credential": "office", "ca_file": ca,
			"from": "robot@example.test", "to": []any{"x@example.test"}, "body": "b"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// A server that accepts and never says a word.
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	mute := strconv.Itoa(silent.Addr().(*net.TCPAddr).Port)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cases := []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"wrong password", base("credential", "wrong"), []string{`node "n"`, "SMTP server " + addr, `user "robot@example.test"`, `credential "wrong"`, "login refused"}},
		{"refused", base("port", float64(closed)), []string{"connect to SMTP server 127.0.0.1:" + strconv.Itoa(closed), "refused"}},
		{"untrusted certificate", base("ca_file", nil), []string{"TLS with SMTP server " + addr, "certificate", "ca_file"}},
		{"implicit TLS to a STARTTLS port", base("tls", "tls", "timeout", "5s"), []string{"TLS with SMTP server " + addr}},
		{"password in clear to another host", base("tls", "none", "host", "192.0.2.1"), []string{"in clear", `credential "office"`}},
		{"unknown credential", base("credential", "nope"), []string{"credential", `"nope"`, "deskbot cred set nope"}},
		{"credential without user", base("credential", "nouser"), []string{"no user name", "--user"}},
		{"silent server, starttls", base("host", "127.0.0.1:"+mute, "port", nil, "timeout", "300ms"), []string{"SMTP server 127.0.0.1:" + mute, "no answer within 300ms"}},
		{"silent server, plain", base("host", "127.0.0.1:"+mute, "port", nil, "tls", "none", "credential", nil, "timeout", "300ms"), []string{"SMTP server 127.0.0.1:" + mute, "no answer within 300ms"}},
		{"port twice", base("host", "127.0.0.1:1"), []string{"host:", `"127.0.0.1:1" names port 1`}},
		{"bad from", base("from", "not an address"), []string{"from:", "not an email address"}},
		{"bad to", base("to", []any{"ok@example.test", "a@@b"}), []string{"to item 2"}},
		{"missing attachment", base("attachments", []any{"nope.pdf"}), []string{"attachments item 1", "nope.pdf"}},
	}
	for _, c := range cases {
		_, err := runWith(t, dir, "mail.send", c.params, store)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		t.Logf("%s: %v", c.name, err)
		if strings.Contains(err.Error(), mailSecret) || strings.Contains(err.Error(), "not-the-password-1") {
			t.Errorf("%s: the error holds a password: %v", c.name, err)
		}
	}
	if n := len(be.Messages()); n != 0 {
		t.Errorf("%d messages were sent", n)
	}
	// Lint catches what it can before a run.
	if _, err := runWith(t, dir, "mail.send", base("tls", "ssl"), store); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Errorf("bad tls mode: %v", err)
	}
	if _, err := runWith(t, dir, "mail.send", base("credential", "a b"), store); err == nil || !strings.Contains(err.Error(), "credential") {
		t.Errorf("bad credential name: %v", err)
	}
}

// Stopping a run while mail.send waits on a server that does not answer
// ends the step at once (its connection is closed), not after the timeout.
func TestMailSendStops(t *testing.T) {
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	hungUp := make(chan struct{})
	go func() {
		c, err := silent.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c) // until the client closes
		close(hungUp)
	}()
	f := engine.NewFlow("t")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "n", Type: "mail.send", Params: map[string]any{"host": silent.Addr().String(), "tls": "none",
		"from": "a@example.test", "to": []any{"b@example.test"}, "timeout": "1h"}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := engine.Run(ctx, f, engine.Options{})
		done <- err
	}()
	select {
	case <-hungUp:
	case <-time.After(time.Minute):
		t.Fatal("the step still holds its connection a minute after the stop")
	}
	if err := <-done; err == nil {
		t.Fatal("no error")
	}
}

type logCatcher struct {
	mu   sync.Mutex
	logs []string
}

func (l *logCatcher) Event(e engine.Event) {
	if e.Kind == engine.EventLog {
		l.mu.Lock()
		l.logs = append(l.logs, e.Message)
		l.mu.Unlock()
	}
}

// A dry run builds the message (bad input still fails) and says what it
// would send; it sends nothing and reads no credential. mail.read's
// variable becomes an empty table.
func TestMailDryRun(t *testing.T) {
	srv := startSMTP(t, "none", "", "")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("x"), 0o644)
	run := func(typ string, params map[string]any) (*engine.Result, []string, error) {
		f := engine.NewFlow("t")
		f.Nodes = append(f.Nodes, &engine.Node{ID: "n", Type: typ, Params: params})
		f.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
		lc := &logCatcher{}
		opts := engine.Options{BaseDir: dir, DryRun: true, Observer: lc}
		cred.Use(&opts, failingGetter{t})
		res, err := engine.Run(context.Background(), f, opts)
		return res, lc.logs, err
	}
	send := map[string]any{"host": "127.0.0.1", "port": float64(srv.Port), "tls": "none", "credential": "office",
		"from": "a@example.test", "to": []any{"b@example.test"}, "subject": "Report", "attachments": []any{"a.txt"}}
	_, logs, err := run("mail.send", send)
	if err != nil || len(logs) != 1 || !strings.Contains(logs[0], `dry run: would send "Report"`) || !strings.Contains(logs[0], "1 attachments") ||
		!strings.Contains(logs[0], "b@example.test") || !strings.Contains(logs[0], `credential "office"`) {
		t.Fatalf("%v %q", err, logs)
	}
	send["attachments"] = []any{"missing.txt"}
	if _, _, err := run("mail.send", send); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing attachment in a dry run: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("a dry run sent %d messages", n)
	}
	res, logs, err := run("mail.read", map[string]any{"host": "127.0.0.1", "credential": "inbox", "folder": "Orders", "output": "m"})
	if err != nil || len(res.Vars["m"].([]any)) != 0 || len(logs) != 1 || !strings.Contains(logs[0], `would read folder "Orders"`) {
		t.Fatalf("read: %v %v %q", err, res.Vars, logs)
	}
}

type failingGetter struct{ t *testing.T }

func (g failingGetter) Get(name string) (cred.Credential, error) {
	g.t.Errorf("a dry run looked up credential %q", name)
	return cred.Credential{}, fmt.Errorf("no")
}
