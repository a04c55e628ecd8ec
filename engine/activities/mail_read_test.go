package activities_test

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"deskbot/engine/cred"
)

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return int64(l.Len()) }

// pdfBytes stands for an attachment: every byte value.
var pdfBytes = func() []byte {
	b := make([]byte, 3000)
	for i := range b {
		b[i] = byte(i * 13)
	}
	return b
}()

// The test's mailbox: three messages the test appends.
func testMessages() []string {
	b64 := base64.StdEncoding.EncodeToString(pdfBytes)
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
	}
	m1 := "From: Alice Example <alice@example.test>\r\nTo: robot@example.test\r\nSubject: Invoice 1\r\n" +
		"Date: Mon, 02 Nov 2026 10:00:00 +0100\r\nMessage-ID: <m1@example.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nThe caf=E9 invoice.\r\n" +
		"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrapped.String() +
		"--XX\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"../../evil.txt\"\r\n\r\nnot outside\r\n--XX--\r\n"
	m2 := "From: =?UTF-8?B?5byg5LiJ?= <bob@example.test>\r\nTo: robot@example.test, Boss <boss@example.test>\r\n" +
		"Subject: =?UTF-8?B?5pyI5bqm5oql6KGo?= Q3\r\nDate: Tue, 03 Nov 2026 09:30:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=YY\r\n\r\n" +
		"--YY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n月度报表 text\r\n" +
		"--YY\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>月度报表</p>\r\n--YY--\r\n"
	m3 := "From: alice@example.test\r\nTo: robot@example.test\r\nSubject: Lunch\r\nDate: Wed, 04 Nov 2026 12:00:00 +0000\r\n\r\nNoon?\r\n"
	return []string{m1, m2, m3}
}

// startIMAP serves IMAP on loopback (mode tls, starttls or none) with one
// user whose INBOX holds testMessages, the third one seen.
func startIMAP(t *testing.T, mode string, conf *tls.Config) int {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(mailUser, mailSecret)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for i, m := range testMessages() {
		var flags []imap.Flag
		if i == 2 {
			flags = []imap.Flag{imap.FlagSeen}
		}
		if _, err := u.Append("INBOX", literal{bytes.NewReader([]byte(m))}, &imap.AppendOptions{Flags: flags, Time: time.Date(2026, 11, 2+i, 8, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(u)
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger: log.New(os.Stderr, "imap test server: ", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "tls":
		ln = tls.NewListener(ln, conf)
	case "starttls":
		opts.TLSConfig = conf
	default:
		opts.InsecureAuth = true
	}
	srv := imapserver.New(opts)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestMailRead(t *testing.T) {
	ca, conf := testTLS(t)
	port := startIMAP(t, "tls", conf)
	store := credStore(t, cred.Credential{Name: "inbox", User: mailUser, Secret: mailSecret})
	dir := t.TempDir()
	read := func(kv ...any) []any {
		t.Helper()
		p := map[string]any{"host": "127.0.0.1", "port": float64(port), "credential": "inbox", "ca_file": ca, "limit": 0.0, "output": "m"}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i].(string)] = kv[i+1]
		}
		res, err := runWith(t, dir, "mail.read", p, store)
		if err != nil {
			t.Fatal(err)
		}
		return res.Vars["m"].([]any)
	}
	all := read()
	if len(all) != 3 {
		t.Fatalf("%d messages", len(all))
	}
	m1, m2, m3 := all[0].(map[string]any), all[1].(map[string]any), all[2].(map[string]any)
	if m1["from"] != "Alice Example <alice@example.test>" || m1["subject"] != "Invoice 1" || m1["text"] != "The café invoice." ||
		m1["date"] != "2026-11-02T10:00:00+01:00" || m1["uid"] != 1.0 {
		t.Errorf("message 1: %v", m1)
	}
	if a := m1["attachments"].([]any); len(a) != 2 || a[0] != "invoice.pdf" || a[1] != "evil.txt" {
		t.Errorf("attachments: %v", a)
	}
	if m2["from"] != "张三 <bob@example.test>" || m2["subject"] != "月度报表 Q3" || m2["html"] != "<p>月度报表</p>" ||
		m2["text"] != "月度报表 text" || m2["to"] != "robot@example.test, Boss <boss@example.test>" {
		t.Errorf("message 2: %v", m2)
	}
	if m3["subject"] != "Lunch" || m3["text"] != "Noon?\r\n" || len(m3["attachments"].([]any)) != 0 {
		t.Errorf("message 3: %v", m3)
	}
	subjects := func(l []any) string {
		var s []string
		for _, m := range l {
			s = append(s, m.(map[string]any)["subject"].(string))
		}
		return strings.Join(s, "|")
	}
	for _, c := range []struct {
		kv   []any
		want string
	}{
		{[]any{"unseen", true}, "Invoice 1|月度报表 Q3"},
		{[]any{"from", "alice"}, "Invoice 1|Lunch"},
		{[]any{"subject", "invoice"}, "Invoice 1"},
		{[]any{"since", "2026-11-03"}, "月度报表 Q3|Lunch"},
		{[]any{"since", "2030-01-01"}, ""},
		{[]any{"limit", 1.0}, "Lunch"},
		{[]any{"unseen", true, "from", "{{ 'alice' }}"}, "Invoice 1"},
	} {
		if got := subjects(read(c.kv...)); got != c.want {
			t.Errorf("%v: %q, want %q", c.kv, got, c.want)
		}
	}

	// Attachments saved: UID_NAME, bytes identical, nothing outside.
	out := filepath.Join(dir, "attachments")
	l := read("subject", "Invoice", "save_to", "attachments")
	files := l[0].(map[string]any)["files"].([]any)
	if len(files) != 2 || files[0] != filepath.Join(out, "1_invoice.pdf") || files[1] != filepath.Join(out, "1_evil.txt") {
		t.Fatalf("files %v", files)
	}
	if b, _ := os.ReadFile(files[0].(string)); !bytes.Equal(b, pdfBytes) {
		t.Errorf("the saved PDF has %d bytes, differs", len(b))
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "evil.txt")); err == nil {
		t.Error("an attachment escaped the folder")
	}

	// Marked seen: the unseen ones are gone from the next unseen read.
	if n := len(read("unseen", true, "mark_seen", true)); n != 2 {
		t.Fatalf("mark_seen read %d", n)
	}
	if n := len(read("unseen", true)); n != 0 {
		t.Errorf("%d unseen after mark_seen", n)
	}
}

func TestMailReadModesAndErrors(t *testing.T) {
	ca, conf := testTLS(t)
	store := credStore(t, cred.Credential{Name: "inbox", User: mailUser, Secret: mailSecret},
		cred.Credential{Name: "wrong", User: mailUser, Secret: "bad-password-77"})
	dir := t.TempDir()
	st := startIMAP(t, "starttls", conf)
	plain := startIMAP(t, "none", nil)
	for _, c := range []struct {
		mode string
		port int
	}{{"starttls", st}, {"none", plain}} {
		res, err := runWith(t, dir, "mail.read", map[string]any{"host": "127.0.0.1", "port": float64(c.port), "tls": c.mode,
			"credential": "inbox", "ca_file": ca, "output": "m"}, store)
		if err != nil || len(res.Vars["m"].([]any)) != 3 {
			t.Fatalf("%s: %v", c.mode, err)
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
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
	mute := float64(silent.Addr().(*net.TCPAddr).Port)
	addr := "127.0.0.1:" + strconv.Itoa(st)
	for _, c := range []struct {
		name string
		kv   []any
		want []string
	}{
		{"wrong password", []any{"credential", "wrong"}, []string{"IMAP server " + addr, `user "robot@example.test"`, `credential "wrong"`, "login refused"}},
		{"refused", []any{"port", float64(closed)}, []string{"connect to IMAP server 127.0.0.1:" + strconv.Itoa(closed), "refused"}},
		{"untrusted certificate", []any{"ca_file", ""}, []string{"TLS with IMAP server " + addr, "certificate"}},
		{"silent server", []any{"port", mute, "tls", "none", "timeout", "300ms"}, []string{"login: no answer within 300ms"}},
		{"silent server, TLS", []any{"port", mute, "tls", "tls", "timeout", "300ms"}, []string{"TLS with IMAP server", "no answer within 300ms"}},
		{"no such folder", []any{"folder", "Archive"}, []string{`opening folder "Archive"`, "IMAP server " + addr}},
		{"bad date", []any{"since", "yesterday"}, []string{"since", "yesterday"}},
	} {
		p := map[string]any{"host": "127.0.0.1", "port": float64(st), "tls": "starttls", "credential": "inbox", "ca_file": ca, "output": "m"}
		for i := 0; i < len(c.kv); i += 2 {
			p[c.kv[i].(string)] = c.kv[i+1]
		}
		_, err := runWith(t, dir, "mail.read", p, store)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), mailSecret) || strings.Contains(err.Error(), "bad-password-77") {
			t.Errorf("%s: the error holds a password", c.name)
		}
	}
	if _, err := runWith(t, dir, "mail.read", map[string]any{"host": "127.0.0.1", "output": "m"}, store); err == nil || !strings.Contains(err.Error(), "credential") {
		t.Errorf("no credential: %v", err)
	}
}
