package activities_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"deskbot/engine"
	"deskbot/engine/cred"
)

// testTLS makes a CA and a server certificate for 127.0.0.1 and
// localhost signed by it. caFile is the CA's PEM file, for ca_file.
func testTLS(t *testing.T) (caFile string, conf *tls.Config) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Deskbot test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	return caFile, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// credStore is a real credential store (the encrypted file) holding creds.
func credStore(t *testing.T, creds ...cred.Credential) *cred.Store {
	t.Helper()
	s, err := cred.Open(cred.Options{Dir: t.TempDir(), Backend: cred.StoreFile, Passphrase: func() (string, error) { return "test pass", nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range creds {
		if _, err := s.Set(c); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// runWith runs a one-node flow with the credential store g.
func runWith(t *testing.T, dir, typ string, params map[string]any, g cred.Getter) (*engine.Result, error) {
	t.Helper()
	f := engine.NewFlow("t")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "n", Type: typ, Params: params})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
	if ps := engine.Lint(f, nil, dir); engine.HasErrors(ps) {
		return nil, &lintErr{ps}
	}
	opts := engine.Options{BaseDir: dir}
	if g != nil {
		cred.Use(&opts, g)
	}
	return engine.Run(context.Background(), f, opts)
}

// smtpBackend records what a test SMTP server receives.
type smtpBackend struct {
	user, pass string
	mu         sync.Mutex
	got        []received
}

type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string
}

func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &smtpSession{b: b, tls: isTLS}, nil
}

func (b *smtpBackend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.got...)
}

type smtpSession struct {
	b      *smtpBackend
	tls    bool
	authed string
	r      received
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.b.user || pass != s.b.pass {
			return errors.New("invalid user name or password")
		}
		s.authed = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.r = received{from: from}
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.to = append(s.r.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.data, s.r.tls, s.r.authed = b, s.tls, s.authed
	s.b.mu.Lock()
	s.b.got = append(s.b.got, s.r)
	s.b.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// startSMTP serves SMTP on loopback: mode tls (implicit), starttls or
// none. It returns the port.
func startSMTP(t *testing.T, mode string, conf *tls.Config, be *smtpBackend) int {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 200 << 20
	var ln net.Listener
	var err error
	switch mode {
	case "tls":
		ln, err = tls.Listen("tcp", "127.0.0.1:0", conf)
	case "starttls":
		srv.TLSConfig = conf
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		srv.AllowInsecureAuth = true
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

var _ = bytes.Equal
