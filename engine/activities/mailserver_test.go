package activities_test

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"deskbot/engine"
	"deskbot/engine/activities/mailtest"
	"deskbot/engine/cred"
)

// testTLS makes a CA and a server certificate for 127.0.0.1 and
// localhost signed by it. caFile is the CA's PEM file, for ca_file.
func testTLS(t *testing.T) (caFile string, conf *tls.Config) {
	t.Helper()
	c, caPEM, err := mailtest.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, caPEM, 0o644)
	return caFile, &tls.Config{Certificates: []tls.Certificate{c}}
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

// startSMTP serves SMTP on loopback: mode tls (implicit), starttls or
// none; with user set, sending needs that login.
func startSMTP(t *testing.T, mode, user, pass string) *mailtest.Server {
	t.Helper()
	srv, err := mailtest.NewSMTP(mailtest.Options{User: user, Password: pass, TLS: mode, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}
