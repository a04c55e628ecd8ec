// Package mailtest runs an SMTP server on loopback that keeps what it
// receives, for tests and sample flows of mail.send (as net/http/httptest
// does for HTTP). It can require a login and speak implicit TLS or STARTTLS
// with a certificate from a CA it makes itself (CAFile, for ca_file).
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server received.
type Message struct {
	From string
	To   []string // the envelope's recipients (Bcc included)
	Data []byte   // the raw message
	TLS  bool     // the connection was encrypted
	User string   // who logged in, or ""
}

// Options configure a server.
type Options struct {
	// User and Password, when User is set, are the only login accepted,
	// and sending needs it.
	User, Password string
	// TLS is "" or "none" (plain), "tls" (implicit) or "starttls".
	TLS string
	// Dir receives CAFile; "" means a new temporary folder (removed by
	// Close).
	Dir string
}

// Server is a running SMTP server.
type Server struct {
	// Port is the loopback port it listens on (host 127.0.0.1).
	Port int
	// CAFile is the PEM file of the CA that signed the server's
	// certificate (for 127.0.0.1 and localhost); "" without TLS.
	CAFile string

	o      Options
	srv    *smtp.Server
	tmp    string
	mu     sync.Mutex
	got    []Message
	closed bool
}

// NewSMTP starts a server on 127.0.0.1.
func NewSMTP(o Options) (*Server, error) {
	s := &Server{o: o}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = time.Minute, time.Minute
	s.srv.MaxMessageBytes = 200 << 20
	var conf *tls.Config
	if o.TLS == "tls" || o.TLS == "starttls" {
		dir := o.Dir
		if dir == "" {
			d, err := os.MkdirTemp("", "deskbot-mailtest-")
			if err != nil {
				return nil, err
			}
			dir, s.tmp = d, d
		}
		c, caPEM, err := Certificate()
		if err != nil {
			return nil, err
		}
		s.CAFile = filepath.Join(dir, "mailtest-ca.pem")
		if err := os.WriteFile(s.CAFile, caPEM, 0o644); err != nil {
			return nil, err
		}
		conf = &tls.Config{Certificates: []tls.Certificate{c}}
	}
	var ln net.Listener
	var err error
	switch o.TLS {
	case "tls":
		ln, err = tls.Listen("tcp", "127.0.0.1:0", conf)
	case "starttls":
		s.srv.TLSConfig = conf
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	case "", "none":
		s.srv.AllowInsecureAuth = true
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		return nil, fmt.Errorf("mailtest: TLS %q is not one of none, tls, starttls", o.TLS)
	}
	if err != nil {
		return nil, err
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go s.srv.Serve(ln)
	return s, nil
}

// Messages returns what the server has received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// Close stops the server and removes its temporary folder.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
	return err
}

// Certificate makes a CA and a server certificate signed by it for
// 127.0.0.1 and localhost, valid for a day; caPEM is the CA's certificate.
func Certificate() (cert tls.Certificate, caPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Deskbot mailtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return cert, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return cert, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return cert, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, tls: isTLS}, nil
}

type session struct {
	s    *Server
	tls  bool
	user string
	m    Message
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if x.s.o.User == "" || user != x.s.o.User || pass != x.s.o.Password {
			return errors.New("invalid user name or password")
		}
		x.user = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.o.User != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.m = Message{From: from, TLS: x.tls, User: x.user}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.m.To = append(x.m.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.m.Data = b
	x.s.mu.Lock()
	x.s.got = append(x.s.got, x.m)
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.m = Message{} }
func (x *session) Logout() error { return nil }
