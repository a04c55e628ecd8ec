package cred

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func passFn(p string) func() (string, error) {
	return func() (string, error) { return p, nil }
}

// noBus points go-keyring's D-Bus connection at a socket that does not
// exist: the real OS keyring then fails as on a headless Linux.
func noBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
}

func TestFileStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	const secret = "s3cret-Pässword-42"
	s, err := Open(Options{Dir: dir, Backend: StoreFile, Passphrase: passFn("correct horse")})
	if err != nil {
		t.Fatal(err)
	}
	if where, err := s.Set(Credential{Name: "smtp", User: "bot@example.test", Secret: secret}); err != nil || where != StoreFile {
		t.Fatalf("set: %q %v", where, err)
	}
	if _, err := s.Set(Credential{Name: "api.token", Secret: "tok-123456789"}); err != nil {
		t.Fatal(err)
	}
	// A second store (another process) reads the file with the passphrase.
	asked := 0
	s2, _ := Open(Options{Dir: dir, Passphrase: func() (string, error) { asked++; return "correct horse", nil }})
	c, err := s2.Get("smtp")
	if err != nil || c.User != "bot@example.test" || c.Secret != secret {
		t.Fatalf("get: %+v %v", c.User, err)
	}
	if _, err := s2.Get("api.token"); err != nil || asked != 1 {
		t.Fatalf("second get: %v; passphrase asked %d times, want once", err, asked)
	}
	l, err := s2.List()
	if err != nil || len(l) != 2 || l[0].Name != "api.token" || l[1] != (Entry{Name: "smtp", User: "bot@example.test", Store: StoreFile}) {
		t.Fatalf("list: %+v %v", l, err)
	}
	// Neither file holds the secret in clear; both are private.
	for _, f := range []string{IndexFile, SealFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte("tok-123456789")) {
			t.Errorf("%s holds a secret in clear", f)
		}
		if fi, _ := os.Stat(filepath.Join(dir, f)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if err := s2.Delete("smtp"); err != nil {
		t.Fatal(err)
	}
	s3, _ := Open(Options{Dir: dir, Passphrase: passFn("correct horse")})
	if _, err := s3.Get("smtp"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "deskbot cred set smtp") {
		t.Errorf("deleted: %v", err)
	}
	if c, err := s3.Get("api.token"); err != nil || c.Secret != "tok-123456789" {
		t.Errorf("the other credential after a delete: %v", err)
	}
	if err := s3.Delete("smtp"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

func TestFileStoreErrors(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(Options{Dir: dir, Backend: StoreFile, Passphrase: passFn("right one")})
	if _, err := s.Set(Credential{Name: "db", User: "u", Secret: "hunter2-hunter2"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SealFile)
	good, _ := os.ReadFile(path)

	get := func(pass func() (string, error)) error {
		s, _ := Open(Options{Dir: dir, Passphrase: pass})
		_, err := s.Get("db")
		return err
	}
	err := get(passFn("wrong one"))
	if !errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), EnvPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	t.Setenv(EnvPassphrase, "")
	if err := get(nil); err == nil || !strings.Contains(err.Error(), "needs a passphrase") || !strings.Contains(err.Error(), EnvPassphrase) {
		t.Errorf("no passphrase: %v", err)
	}
	t.Setenv(EnvPassphrase, "right one")
	if err := get(nil); err != nil {
		t.Errorf("passphrase from %s: %v", EnvPassphrase, err)
	}
	if err := get(passFn("")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty passphrase: %v", err)
	}

	corrupt := map[string][]byte{
		"a byte of the ciphertext": func() []byte { b := bytes.Clone(good); b[len(b)-20] ^= 1; return b }(),
		"a byte of the header":     func() []byte { b := bytes.Clone(good); b[headerLen-1] ^= 1; return b }(),
		"cut short":                good[:headerLen+3],
		"empty":                    {},
		"another file":             []byte(`{"credentials": {}}`),
		"absurd cost":              func() []byte { b := bytes.Clone(good); b[13] = 0xff; return b }(),
	}
	for name, b := range corrupt {
		os.WriteFile(path, b, 0o600)
		err := get(passFn("right one"))
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "remove it") {
			t.Errorf("%s: %v", name, err)
		}
	}
	os.Remove(path)
	if err := get(passFn("right one")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}

	os.WriteFile(filepath.Join(dir, IndexFile), []byte("{"), 0o600)
	if err := get(passFn("right one")); err == nil || !strings.Contains(err.Error(), "index") || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged index: %v", err)
	}
}

func TestNamesAndSecretsChecked(t *testing.T) {
	s, _ := Open(Options{Dir: t.TempDir(), Backend: StoreFile, Passphrase: passFn("p")})
	for _, name := range []string{"", "a b", "x/y", strings.Repeat("n", 101)} {
		if _, err := s.Set(Credential{Name: name, Secret: "x"}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := s.Set(Credential{Name: "ok", Secret: ""}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty secret: %v", err)
	}
	if _, err := Open(Options{Backend: "vault"}); err == nil || !strings.Contains(err.Error(), "keyring, file") {
		t.Errorf("unknown backend: %v", err)
	}
	if s := (Credential{Name: "n", User: "u", Secret: "SECRET"}); strings.Contains(s.String()+s.GoString(), "SECRET") {
		t.Errorf("String shows the secret")
	}
}

// Without a secret service (no D-Bus session bus), the real keyring fails:
// by default credentials go to the encrypted file; asked for the keyring,
// the error says what failed and what to do.
func TestNoKeyringFallsBackToFile(t *testing.T) {
	noBus(t)
	t.Setenv(EnvBackend, "")
	dir := t.TempDir()
	s, _ := Open(Options{Dir: dir, Passphrase: passFn("pp")})
	if err := s.KeyringStatus(); err == nil {
		t.Fatal("the keyring answered without a D-Bus session")
	}
	if where, err := s.Set(Credential{Name: "mail", Secret: "abcdefgh1"}); err != nil || where != StoreFile {
		t.Fatalf("auto: %q %v", where, err)
	}
	k, _ := Open(Options{Dir: dir, Backend: StoreKeyring, Passphrase: passFn("pp")})
	_, err := k.Set(Credential{Name: "mail2", Secret: "abcdefgh2"})
	if err == nil || !strings.Contains(err.Error(), "OS keyring") || !strings.Contains(err.Error(), EnvBackend+"=file") || !strings.Contains(err.Error(), "mail2") {
		t.Errorf("keyring asked for, none there: %v", err)
	}
	// An entry the index puts in the keyring cannot be read now: the error
	// names the keyring and what to do.
	idx, _ := s.List()
	idx = append(idx, Entry{Name: "old", Store: StoreKeyring})
	s.writeIndex(idx)
	if _, err := s.Get("old"); err == nil || !strings.Contains(err.Error(), "OS keyring") || !strings.Contains(err.Error(), "start the keyring") {
		t.Errorf("keyring entry without keyring: %v", err)
	}
}

// The file parser is fed anything: no panic, and what it accepts keeps
// its header's bounds.
func FuzzParseSeal(f *testing.F) {
	key := deriveKey("fuzz", make([]byte, saltLen), 1, minArgonMemory, 1)
	good, _ := seal(&fileData{Credentials: map[string]fileCred{"a": {User: "u", Secret: "s"}}}, key)
	f.Add(good)
	f.Add(good[:headerLen])
	f.Add([]byte("DBCRED1\n"))
	f.Add([]byte(`{"credentials":{"x":{"secret":"y"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ct, err := parseSeal(b)
		if err == nil {
			if h.memory > maxArgonMemory || h.time > maxArgonTime || len(h.salt) != saltLen || len(ct) < 16 {
				t.Fatalf("accepted out-of-bounds header %+v", h)
			}
			// Decrypt with the fuzz key when the header matches it (cheap),
			// exercising the check, GCM and the JSON parser.
			if h.time == 1 && h.memory == minArgonMemory && h.threads == 1 && bytes.Equal(h.salt, key.salt) {
				openSeal(b, "fuzz", key)
			}
		}
		parsePlain(b)
		ParseIndex(b)
	})
}
