package activities

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"deskbot/engine"
	"deskbot/engine/cred"
)

// TLS modes of the mail activities.
const (
	tlsImplicit = "tls"
	tlsStart    = "starttls"
	tlsNone     = "none"
)

func init() {
	engine.Register(engine.Spec{
		Type: "mail.send", Title: "Send email", Category: "Email", SideEffects: true, Icon: "mailSend",
		Summary: "Sends an email over SMTP: text and HTML bodies, attachments, a password from a named credential.",
		Doc: "The message is MIME: `multipart/mixed` with the bodies as `multipart/alternative` and each attachment " +
			"base64-encoded with its file name; subjects and names in any language are encoded. " +
			"TLS mode `tls` is implicit TLS (port 465), `starttls` upgrades a plain connection (port 587), " +
			"`none` sends in clear and is only allowed with a password to a server on this machine (loopback). " +
			"The password comes from the credential named in `credential` (`deskbot cred set NAME --user USER`); " +
			"a flow never holds it. Bcc recipients get the message but are not in its header. " +
			"Each list item may hold several addresses separated by commas, or be a list.",
		Fields: append(serverFields(tlsStart, "587 for starttls, 465 for tls, 25 for none"),
			engine.Field{Name: "from", Title: "From", Kind: engine.KindText, Required: true, Help: "An address, e.g. Robot <bot@example.com>"},
			engine.Field{Name: "to", Title: "To", Kind: engine.KindList, Required: true},
			engine.Field{Name: "cc", Title: "Cc", Kind: engine.KindList},
			engine.Field{Name: "bcc", Title: "Bcc", Kind: engine.KindList},
			engine.Field{Name: "subject", Title: "Subject", Kind: engine.KindText},
			engine.Field{Name: "body", Title: "Text body", Kind: engine.KindMulti},
			engine.Field{Name: "html", Title: "HTML body", Kind: engine.KindMulti, Help: "Sent beside the text body; mail programs show one of them."},
			engine.Field{Name: "attachments", Title: "Attachments", Kind: engine.KindList, Help: "File paths; relative to the flow's folder."},
		),
		New: newSendMail,
	})
}

// serverFields are the connection fields of mail.send and mail.read.
func serverFields(defTLS, portHelp string) []engine.Field {
	return []engine.Field{
		{Name: "host", Title: "Server", Kind: engine.KindText, Required: true, Help: "Host name or address, e.g. smtp.example.com; HOST:PORT also works (e.g. {{ server }} with server = 127.0.0.1:2525)."},
		{Name: "port", Title: "Port", Kind: engine.KindInt, Default: 0.0, Help: "0 for the usual port: " + portHelp + "."},
		{Name: "tls", Title: "TLS", Kind: engine.KindSelect, Options: []string{tlsImplicit, tlsStart, tlsNone}, Default: defTLS},
		{Name: "credential", Title: "Credential", Kind: engine.KindString,
			Help: "Name of a stored credential (user name and password); empty for a server without login. See `deskbot cred`."},
		{Name: "ca_file", Title: "CA certificate", Kind: engine.KindPath, Advanced: true,
			Help: "PEM file of a certificate authority to trust besides the system's (a company or test server)."},
		{Name: "timeout", Title: "Timeout", Kind: engine.KindDur, Default: "1m", Advanced: true},
	}
}

// server is the parsed connection fields.
type server struct {
	host    *engine.Template
	port    int
	tls     string
	cred    string
	caFile  *engine.Template
	hasCA   bool
	timeout *engine.Template
	proto   string // SMTP or IMAP
	ports   map[string]int
}

func parseServer(p *engine.Params, proto string, ports map[string]int) *server {
	s := &server{host: p.Template("host"), port: p.Int("port"), tls: p.Select("tls"), cred: p.String("credential"),
		caFile: p.Template("ca_file"), hasCA: p.Has("ca_file"), timeout: p.Template("timeout"), proto: proto, ports: ports}
	if s.port < 0 || s.port > 65535 {
		p.Fail("port", "want 0 to 65535, got %d", s.port)
	}
	if s.cred != "" {
		if err := cred.ValidName(s.cred); err != nil {
			p.Fail("credential", "%v", err)
		}
	}
	return s
}

// conn is a resolved server: address, TLS config, credential.
type conn struct {
	addr    string
	host    string
	mode    string
	tlsConf *tls.Config
	user    string
	secret  string
	credNm  string
	timeout time.Duration
	proto   string
}

// who names the server and user for errors (never the secret).
func (c *conn) who() string {
	if c.credNm == "" {
		return fmt.Sprintf("%s server %s", c.proto, c.addr)
	}
	if c.user == "" {
		return fmt.Sprintf("%s server %s with credential %q", c.proto, c.addr, c.credNm)
	}
	return fmt.Sprintf("%s server %s as user %q (credential %q)", c.proto, c.addr, c.user, c.credNm)
}

func (s *server) resolve(c *engine.Call) (*conn, error) { return s.resolveCred(c, true) }

// resolveCred resolves the fields; a dry run leaves the credential alone
// (no keyring, no passphrase).
func (s *server) resolveCred(c *engine.Call, withCred bool) (*conn, error) {
	host, err := c.Text(s.host)
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	host = strings.TrimSpace(host)
	port := s.port
	if h, p, err := net.SplitHostPort(host); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("host: %q has a bad port", host)
		}
		if port != 0 && port != n {
			return nil, fmt.Errorf("host: %q names port %d, and the port field says %d", host, n, port)
		}
		host, port = h, n
	}
	if host == "" || strings.ContainsAny(host, " /\\") {
		return nil, fmt.Errorf("host: %q is not a host name or address", host)
	}
	d := time.Minute
	if ts, err := c.Text(s.timeout); err != nil {
		return nil, fmt.Errorf("timeout: %w", err)
	} else if ts != "" {
		if d, err = time.ParseDuration(ts); err != nil || d <= 0 {
			return nil, fmt.Errorf("timeout: want a duration such as 30s, got %q", ts)
		}
	}
	if port == 0 {
		port = s.ports[s.tls]
	}
	r := &conn{addr: net.JoinHostPort(host, strconv.Itoa(port)), host: host, mode: s.tls, timeout: d, proto: s.proto, credNm: s.cred}
	r.tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.hasCA {
		path, err := c.Path(s.caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: %s holds no PEM certificate", path)
		}
		r.tlsConf.RootCAs = pool
	}
	if s.cred != "" && withCred {
		cr, err := cred.Lookup(c, s.cred)
		if err != nil {
			return nil, fmt.Errorf("credential: %w", err)
		}
		r.user, r.secret = cr.User, cr.Secret
		if r.user == "" {
			return nil, fmt.Errorf("credential: %q has no user name; set it with `deskbot cred set %s --user NAME`", s.cred, s.cred)
		}
		if s.tls == tlsNone && !isLoopback(host) {
			return nil, fmt.Errorf("tls: %q would send the password of credential %q in clear to %s; use tls or starttls (none is only for a server on this machine)", tlsNone, s.cred, r.addr)
		}
	}
	return r, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dial connects (and for implicit TLS shakes hands) within the timeout.
func (c *conn) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.who(), cleanNetErr(err))
	}
	if c.mode != tlsImplicit {
		return nc, nil
	}
	tc := tls.Client(nc, c.tlsConf)
	hctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		nc.Close()
		if hctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("TLS with %s: no answer within %s", c.who(), c.timeout)
		}
		return nil, c.tlsErr(err)
	}
	return tc, nil
}

func (c *conn) tlsErr(err error) error {
	return fmt.Errorf("TLS with %s failed: %v (check the host name and port and the TLS mode; for a server whose certificate a company or test CA signed, set ca_file)", c.who(), err)
}

// cleanNetErr drops the repeated "dial tcp ADDR:" prefix.
func cleanNetErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// watch closes nc when ctx ends (a stopped run), until the returned func
// is called.
func watch(ctx context.Context, nc io.Closer) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			nc.Close()
		case <-done:
		}
	}()
	return func() { close(done) }
}

type sendMail struct {
	srv                       *server
	from, subject, body, html *engine.Template
	to, cc, bcc, attachments  []*engine.Template
	hasBody, hasHTML          bool
}

func newSendMail(p *engine.Params) (engine.Activity, error) {
	a := &sendMail{
		srv:  parseServer(p, "SMTP", map[string]int{tlsImplicit: 465, tlsStart: 587, tlsNone: 25}),
		from: p.Template("from"), subject: p.Template("subject"), body: p.Template("body"), html: p.Template("html"),
		to: p.List("to"), cc: p.List("cc"), bcc: p.List("bcc"), attachments: p.List("attachments"),
		hasBody: p.Has("body"), hasHTML: p.Has("html"),
	}
	return a, nil
}

// addresses evaluates a list field: items hold one address, several
// separated by commas, or a list of them.
func addresses(c *engine.Call, field string, ts []*engine.Template) ([]*mail.Address, error) {
	var out []*mail.Address
	add := func(i int, s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		l, err := netmail.ParseAddressList(s)
		if err != nil {
			return fmt.Errorf("%s item %d: %q is not an email address (or list of them): %v", field, i+1, s, err)
		}
		for _, a := range l {
			out = append(out, &mail.Address{Name: a.Name, Address: a.Address})
		}
		return nil
	}
	for i, t := range ts {
		v, err := c.Value(t)
		if err != nil {
			return nil, fmt.Errorf("%s item %d: %w", field, i+1, err)
		}
		if l, ok := v.([]any); ok {
			for _, x := range l {
				if err := add(i, engine.ToString(x)); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := add(i, engine.ToString(v)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// outMessage is a message to build.
type outMessage struct {
	From          *mail.Address
	To, Cc        []*mail.Address
	Subject       string
	Text, HTML    string
	HasText       bool
	HasHTML       bool
	Attachments   []attachment
	Date          time.Time
	MessageIDHost string
}

type attachment struct {
	Name string
	Data []byte
}

// buildMessage writes m as MIME: multipart/mixed holding a
// multipart/alternative of the bodies and the attachments (base64).
func buildMessage(m *outMessage) ([]byte, error) {
	var h mail.Header
	h.SetDate(m.Date)
	h.SetAddressList("From", []*mail.Address{m.From})
	h.SetAddressList("To", m.To)
	h.SetAddressList("Cc", m.Cc)
	h.SetSubject(m.Subject)
	if err := h.GenerateMessageIDWithHostname(m.MessageIDHost); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	iw, err := w.CreateInline()
	if err != nil {
		return nil, err
	}
	part := func(typ, s string) error {
		var ph mail.InlineHeader
		ph.SetContentType(typ, map[string]string{"charset": "utf-8"})
		pw, err := iw.CreatePart(ph)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, s); err != nil {
			return err
		}
		return pw.Close()
	}
	if m.HasText || !m.HasHTML {
		if err := part("text/plain", m.Text); err != nil {
			return nil, err
		}
	}
	if m.HasHTML {
		if err := part("text/html", m.HTML); err != nil {
			return nil, err
		}
	}
	if err := iw.Close(); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		var ah mail.AttachmentHeader
		typ := mime.TypeByExtension(strings.ToLower(filepath.Ext(a.Name)))
		if typ == "" {
			typ = "application/octet-stream"
		}
		mt, params, _ := mime.ParseMediaType(typ)
		params["name"] = a.Name
		ah.SetContentType(mt, params)
		ah.SetFilename(a.Name)
		aw, err := w.CreateAttachment(ah)
		if err != nil {
			return nil, err
		}
		if _, err := aw.Write(a.Data); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MaxAttachments bounds the attachments of one message together.
const MaxAttachments = 100 << 20

func (a *sendMail) message(c *engine.Call) (*outMessage, []string, error) {
	m := &outMessage{Date: time.Now(), HasText: a.hasBody, HasHTML: a.hasHTML}
	fromS, err := c.Text(a.from)
	if err != nil {
		return nil, nil, fmt.Errorf("from: %w", err)
	}
	from, err := netmail.ParseAddress(strings.TrimSpace(fromS))
	if err != nil {
		return nil, nil, fmt.Errorf("from: %q is not an email address: %v", fromS, err)
	}
	m.From = &mail.Address{Name: from.Name, Address: from.Address}
	if i := strings.LastIndexByte(from.Address, '@'); i >= 0 {
		m.MessageIDHost = from.Address[i+1:]
	}
	if m.To, err = addresses(c, "to", a.to); err != nil {
		return nil, nil, err
	}
	if m.Cc, err = addresses(c, "cc", a.cc); err != nil {
		return nil, nil, err
	}
	bcc, err := addresses(c, "bcc", a.bcc)
	if err != nil {
		return nil, nil, err
	}
	var rcpt []string
	for _, l := range [][]*mail.Address{m.To, m.Cc, bcc} {
		for _, x := range l {
			rcpt = append(rcpt, x.Address)
		}
	}
	if len(m.To) == 0 {
		return nil, nil, errors.New("to: no recipient")
	}
	if m.Subject, err = c.Text(a.subject); err != nil {
		return nil, nil, fmt.Errorf("subject: %w", err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		m.Subject = strings.Join(strings.Fields(m.Subject), " ")
	}
	if m.Text, err = c.Text(a.body); err != nil {
		return nil, nil, fmt.Errorf("body: %w", err)
	}
	if m.HTML, err = c.Text(a.html); err != nil {
		return nil, nil, fmt.Errorf("html: %w", err)
	}
	total := 0
	for i, t := range a.attachments {
		path, err := c.Path(t)
		if err != nil {
			return nil, nil, fmt.Errorf("attachments item %d: %w", i+1, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, nil, fmt.Errorf("attachments item %d: %w", i+1, err)
		}
		if fi.IsDir() {
			return nil, nil, fmt.Errorf("attachments item %d: %s is a folder; zip it first", i+1, path)
		}
		if total += int(fi.Size()); total > MaxAttachments {
			return nil, nil, fmt.Errorf("attachments item %d: the attachments are larger than %d MB together", i+1, MaxAttachments>>20)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("attachments item %d: %w", i+1, err)
		}
		m.Attachments = append(m.Attachments, attachment{Name: filepath.Base(path), Data: b})
	}
	return m, rcpt, nil
}

func (a *sendMail) Run(ctx context.Context, c *engine.Call) (string, error) {
	m, rcpt, err := a.message(c)
	if err != nil {
		return "", err
	}
	raw, err := buildMessage(m)
	if err != nil {
		return "", fmt.Errorf("build the message: %w", err)
	}
	srv, err := a.srv.resolve(c)
	if err != nil {
		return "", err
	}
	if err := srv.send(ctx, m.From.Address, rcpt, raw); err != nil {
		return "", cred.Scrub(err, srv.secret)
	}
	c.Output("recipients", len(rcpt))
	c.Output("bytes", len(raw))
	c.Logf("sent %q to %d recipients via %s", m.Subject, len(rcpt), srv.addr)
	return "", nil
}

// DryRun builds the message (checking addresses and attachments) and
// says what would be sent where.
func (a *sendMail) DryRun(_ context.Context, c *engine.Call) (string, error) {
	m, rcpt, err := a.message(c)
	if err != nil {
		return "", err
	}
	raw, err := buildMessage(m)
	if err != nil {
		return "", fmt.Errorf("build the message: %w", err)
	}
	srv, err := a.srv.resolveCred(c, false)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would send %q (%d bytes, %d attachments) to %s via %s", m.Subject, len(raw), len(m.Attachments), strings.Join(rcpt, ", "), srv.who())
	return "", nil
}

// send delivers raw over SMTP.
func (c *conn) send(ctx context.Context, from string, rcpt []string, raw []byte) error {
	nc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer nc.Close()
	defer watch(ctx, nc)()
	var cl *smtp.Client
	if c.mode == tlsStart {
		// The greeting and STARTTLS run before the timeouts below can be
		// set: a timer bounds them.
		timer := time.AfterFunc(c.timeout, func() { nc.Close() })
		cl, err = smtp.NewClientStartTLS(nc, c.tlsConf)
		if !timer.Stop() && ctx.Err() == nil {
			return fmt.Errorf("%s: no answer within %s", c.who(), c.timeout)
		}
		if err != nil {
			return c.ctxErr(ctx, c.smtpErr("STARTTLS", err))
		}
	} else {
		cl = smtp.NewClient(nc)
	}
	defer cl.Close()
	cl.CommandTimeout, cl.SubmissionTimeout = c.timeout, c.timeout
	if err := cl.Hello("localhost"); err != nil {
		return c.ctxErr(ctx, c.smtpErr("greeting", err))
	}
	if c.credNm != "" {
		var a sasl.Client
		switch {
		case cl.SupportsAuth("PLAIN"):
			a = sasl.NewPlainClient("", c.user, c.secret)
		case cl.SupportsAuth("LOGIN"):
			a = sasl.NewLoginClient(c.user, c.secret)
		default:
			_, mechs := cl.Extension("AUTH")
			return fmt.Errorf("%s offers no login this client knows (AUTH %q; want PLAIN or LOGIN)", c.who(), mechs)
		}
		if err := cl.Auth(a); err != nil {
			return c.ctxErr(ctx, fmt.Errorf("%s: login refused (wrong user name or password?): %v", c.who(), err))
		}
	}
	if err := cl.SendMail(from, rcpt, bytes.NewReader(raw)); err != nil {
		return c.ctxErr(ctx, c.smtpErr("sending", err))
	}
	if err := cl.Quit(); err != nil {
		return c.ctxErr(ctx, c.smtpErr("QUIT", err))
	}
	return nil
}

func (c *conn) smtpErr(stage string, err error) error {
	var te *tls.CertificateVerificationError
	var re tls.RecordHeaderError
	if errors.As(err, &te) || errors.As(err, &re) || strings.Contains(err.Error(), "tls:") {
		return c.tlsErr(err)
	}
	return fmt.Errorf("%s: %s failed: %v", c.who(), stage, err)
}

// ctxErr prefers the run's stop (or the timeout) to the closed
// connection's error it causes.
func (c *conn) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: stopped: %w", c.who(), context.Cause(ctx))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "i/o timeout") {
		return fmt.Errorf("%s: no answer within %s", c.who(), c.timeout)
	}
	return err
}
