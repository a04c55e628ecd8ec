// Package cred keeps named credentials: a name (what a flow refers to), a
// user name and a secret (a password or a token). Flows hold only the name;
// activities look the secret up when they run.
//
// Secrets live in the OS keyring (Windows Credential Manager, the macOS
// Keychain, the Secret Service on Linux) through github.com/zalando/go-keyring.
// Where no keyring answers (a headless Linux without a secret service) they
// live in an encrypted file, credentials.enc in the data folder, sealed with
// AES-256-GCM under a key that Argon2id derives from a passphrase
// ($DESKBOT_CRED_PASSPHRASE, or asked on the terminal by the CLI).
//
// A keyring cannot list its entries, so an index file, credentials.json in
// the data folder, keeps each credential's name, user name and store -- never
// a secret.
package cred

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/zalando/go-keyring"
)

// Service is the service name of Deskbot's keyring entries; each
// credential is the entry of account "cred:NAME".
const Service = "deskbot"

// Store names.
const (
	StoreKeyring = "keyring"
	StoreFile    = "file"
)

// File names in the data folder.
const (
	IndexFile = "credentials.json"
	SealFile  = "credentials.enc"
)

// EnvPassphrase holds the passphrase of the encrypted file.
const EnvPassphrase = "DESKBOT_CRED_PASSPHRASE"

// EnvBackend chooses the store for new credentials: "keyring", "file", or
// empty for the keyring when it answers, else the file. DESKBOT_NO_KEYRING
// (as for API keys) switches the keyring off.
const EnvBackend = "DESKBOT_CRED_BACKEND"

// Credential is one named credential.
type Credential struct {
	Name   string
	User   string
	Secret string
}

// Entry is what the index says about a credential: no secret.
type Entry struct {
	Name  string `json:"name"`
	User  string `json:"user,omitempty"`
	Store string `json:"store"`
}

// ErrNotFound is returned (wrapped) for a name that is not stored.
var ErrNotFound = errors.New("no such credential")

// Keyring is the OS keyring's interface (go-keyring's functions); tests of
// other packages may pass their own.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

type osKeyring struct{}

func (osKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (osKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (osKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

// Options configure Open.
type Options struct {
	// Dir is the folder of the index and the encrypted file; "" means
	// $DESKBOT_DATA, else the user config folder's deskbot subfolder.
	Dir string
	// Backend is "keyring", "file" or "" (auto); "" also reads
	// $DESKBOT_CRED_BACKEND.
	Backend string
	// Passphrase gives the encrypted file's passphrase; nil means
	// $DESKBOT_CRED_PASSPHRASE. It is called at most once per Store.
	Passphrase func() (string, error)
	// Keyring replaces the OS keyring (nil: the OS keyring).
	Keyring Keyring
	// KeyringTimeout bounds each keyring call (0: 5s): with a D-Bus session
	// but no secret service a call can hang for D-Bus's own long timeout.
	KeyringTimeout time.Duration
}

// Store is the credential store of one data folder. It is safe for
// concurrent use by one process; two processes writing at once may lose
// one write (the last file rename wins).
type Store struct {
	dir     string
	backend string
	pass    func() (string, error)
	ring    Keyring
	timeout time.Duration

	mu       sync.Mutex
	ringDone bool
	ringErr  error     // why the keyring is unavailable
	sealed   *fileData // the decrypted file, once read
	key      *sealKey  // the key the file was opened with
}

// DataDir is Deskbot's data folder: $DESKBOT_DATA, else the user config
// folder's deskbot subfolder (the history database's folder too).
func DataDir() (string, error) {
	if d := os.Getenv("DESKBOT_DATA"); d != "" {
		return d, nil
	}
	c, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the data folder for credentials (set DESKBOT_DATA): %w", err)
	}
	return filepath.Join(c, "deskbot"), nil
}

// Open returns the store of o.Dir. It reads nothing yet.
func Open(o Options) (*Store, error) {
	dir := o.Dir
	if dir == "" {
		d, err := DataDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	b := o.Backend
	if b == "" {
		b = os.Getenv(EnvBackend)
	}
	switch b {
	case "", "auto":
		b = ""
	case StoreKeyring, StoreFile:
	default:
		return nil, fmt.Errorf("credential store %q (from %s or --store) is not one of keyring, file", b, EnvBackend)
	}
	s := &Store{dir: dir, backend: b, pass: o.Passphrase, ring: o.Keyring, timeout: o.KeyringTimeout}
	if s.pass == nil {
		s.pass = EnvPassphraseFunc
	}
	if s.ring == nil {
		s.ring = osKeyring{}
	}
	if s.timeout <= 0 {
		s.timeout = 5 * time.Second
	}
	return s, nil
}

// EnvPassphraseFunc reads $DESKBOT_CRED_PASSPHRASE.
func EnvPassphraseFunc() (string, error) {
	if p := os.Getenv(EnvPassphrase); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("no passphrase: set %s (or run `deskbot cred list` on a terminal, which asks for it)", EnvPassphrase)
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

// ValidName checks a credential name: letters, digits, '.', '_', '-' and
// '@', 1 to 100 characters.
func ValidName(name string) error {
	if name == "" {
		return errors.New("the credential name is empty")
	}
	if len(name) > 100 {
		return fmt.Errorf("the credential name %.20q... is longer than 100 characters", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@", r) {
			return fmt.Errorf("the credential name %q may hold only letters, digits, '.', '_', '-' and '@'", name)
		}
	}
	return nil
}

// ring calls f with the keyring, bounded by the timeout.
func (s *Store) ringCall(f func(Keyring) (string, error)) (string, error) {
	type answer struct {
		v   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		v, err := f(s.ring)
		ch <- answer{v, err}
	}()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-t.C:
		return "", fmt.Errorf("the OS keyring did not answer within %s", s.timeout)
	}
}

// KeyringStatus probes the OS keyring once: nil when it answers.
func (s *Store) KeyringStatus() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probeLocked()
}

func (s *Store) probeLocked() error {
	if s.ringDone {
		return s.ringErr
	}
	s.ringDone = true
	if os.Getenv("DESKBOT_NO_KEYRING") != "" {
		s.ringErr = errors.New("it is switched off (DESKBOT_NO_KEYRING is set)")
		return s.ringErr
	}
	_, err := s.ringCall(func(k Keyring) (string, error) { return k.Get(Service, "probe:deskbot") })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		s.ringErr = err
	}
	return s.ringErr
}

// Where says which store a new credential goes to, and why.
func (s *Store) Where() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.whereLocked()
}

func (s *Store) whereLocked() (string, error) {
	switch s.backend {
	case StoreFile:
		return StoreFile, nil
	case StoreKeyring:
		if err := s.probeLocked(); err != nil {
			return "", s.ringFailed(err)
		}
		return StoreKeyring, nil
	}
	if s.probeLocked() != nil {
		return StoreFile, nil
	}
	return StoreKeyring, nil
}

func (s *Store) ringFailed(err error) error {
	return fmt.Errorf("the OS keyring (%s) failed: %v; start a keyring (on Linux a Secret Service such as gnome-keyring in a D-Bus session), or use the encrypted file: %s=file with a passphrase in %s",
		keyringKind(), err, EnvBackend, EnvPassphrase)
}

// List returns the stored credentials' names, user names and stores,
// sorted by name. It needs neither the keyring nor the passphrase.
func (s *Store) List() ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readIndex()
}

// Get returns the named credential with its secret.
func (s *Store) Get(name string) (Credential, error) {
	if err := ValidName(name); err != nil {
		return Credential{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.readIndex()
	if err != nil {
		return Credential{}, err
	}
	e, ok := find(idx, name)
	if !ok {
		return Credential{}, fmt.Errorf("credential %q: %w in %s; add it with `deskbot cred set %s`", name, ErrNotFound, s.dir, name)
	}
	c := Credential{Name: name, User: e.User}
	switch e.Store {
	case StoreKeyring:
		sec, err := s.ringCall(func(k Keyring) (string, error) { return k.Get(Service, "cred:"+name) })
		if errors.Is(err, keyring.ErrNotFound) {
			return c, fmt.Errorf("credential %q: the index says it is in the OS keyring (%s), but the keyring has no entry %q of service %q; set it again with `deskbot cred set %s`", name, keyringKind(), "cred:"+name, Service, name)
		}
		if err != nil {
			return c, fmt.Errorf("credential %q is in the OS keyring (%s), which failed: %v; start the keyring (on Linux a Secret Service such as gnome-keyring in a D-Bus session) and try again", name, keyringKind(), err)
		}
		c.Secret = sec
	case StoreFile:
		d, err := s.openSealLocked(false)
		if err != nil {
			return c, fmt.Errorf("credential %q: %w", name, err)
		}
		fc, ok := d.Credentials[name]
		if !ok {
			return c, fmt.Errorf("credential %q: the index says it is in %s, but that file has no such entry; set it again with `deskbot cred set %s`", name, s.sealPath(), name)
		}
		c.Secret = fc.Secret
	default:
		return c, fmt.Errorf("credential %q: the index %s names an unknown store %q", name, s.indexPath(), e.Store)
	}
	return c, nil
}

// Set stores c (replacing a credential of the same name, wherever it was)
// and returns the store it went to.
func (s *Store) Set(c Credential) (string, error) {
	if err := ValidName(c.Name); err != nil {
		return "", err
	}
	if c.Secret == "" {
		return "", fmt.Errorf("credential %q: the secret is empty", c.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.readIndex()
	if err != nil {
		return "", err
	}
	where, err := s.whereLocked()
	if err != nil {
		return "", fmt.Errorf("store credential %q: %w", c.Name, err)
	}
	old, had := find(idx, c.Name)
	switch where {
	case StoreKeyring:
		if _, err := s.ringCall(func(k Keyring) (string, error) { return "", k.Set(Service, "cred:"+c.Name, c.Secret) }); err != nil {
			return "", fmt.Errorf("store credential %q: %w", c.Name, s.ringFailed(err))
		}
	case StoreFile:
		d, err := s.openSealLocked(true)
		if err != nil {
			return "", fmt.Errorf("store credential %q: %w", c.Name, err)
		}
		d.Credentials[c.Name] = fileCred{User: c.User, Secret: c.Secret}
		if err := s.writeSealLocked(d); err != nil {
			return "", fmt.Errorf("store credential %q: %w", c.Name, err)
		}
	}
	if had && old.Store != where {
		// It moved: the old copy goes (a failure here leaves a stale copy
		// that the index no longer names).
		s.deleteFrom(old)
	}
	idx = put(idx, Entry{Name: c.Name, User: c.User, Store: where})
	if err := s.writeIndex(idx); err != nil {
		return "", err
	}
	return where, nil
}

// Delete removes the named credential.
func (s *Store) Delete(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	e, ok := find(idx, name)
	if !ok {
		return fmt.Errorf("credential %q: %w in %s", name, ErrNotFound, s.dir)
	}
	if err := s.deleteFrom(e); err != nil {
		return err
	}
	var rest []Entry
	for _, x := range idx {
		if x.Name != name {
			rest = append(rest, x)
		}
	}
	return s.writeIndex(rest)
}

func (s *Store) deleteFrom(e Entry) error {
	switch e.Store {
	case StoreKeyring:
		_, err := s.ringCall(func(k Keyring) (string, error) { return "", k.Delete(Service, "cred:"+e.Name) })
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return fmt.Errorf("remove credential %q from the OS keyring (%s): %v", e.Name, keyringKind(), err)
		}
	case StoreFile:
		d, err := s.openSealLocked(false)
		if err != nil {
			return fmt.Errorf("remove credential %q: %w", e.Name, err)
		}
		if _, ok := d.Credentials[e.Name]; ok {
			delete(d.Credentials, e.Name)
			if err := s.writeSealLocked(d); err != nil {
				return fmt.Errorf("remove credential %q: %w", e.Name, err)
			}
		}
	}
	return nil
}

func (s *Store) indexPath() string { return filepath.Join(s.dir, IndexFile) }
func (s *Store) sealPath() string  { return filepath.Join(s.dir, SealFile) }

type indexFile struct {
	Format      string  `json:"format"`
	Credentials []Entry `json:"credentials"`
}

const indexFormat = "deskbot.credentials.index/1"

func (s *Store) readIndex() ([]Entry, error) {
	b, err := os.ReadFile(s.indexPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the credentials index: %w", err)
	}
	idx, err := ParseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("the credentials index %s is damaged: %v; remove it and set the credentials again", s.indexPath(), err)
	}
	return idx, nil
}

// ParseIndex parses an index file's bytes.
func ParseIndex(b []byte) ([]Entry, error) {
	var f indexFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Format != indexFormat {
		return nil, fmt.Errorf("format %q is not %q", f.Format, indexFormat)
	}
	seen := map[string]bool{}
	for _, e := range f.Credentials {
		if err := ValidName(e.Name); err != nil {
			return nil, err
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("credential %q appears twice", e.Name)
		}
		seen[e.Name] = true
		if e.Store != StoreKeyring && e.Store != StoreFile {
			return nil, fmt.Errorf("credential %q: unknown store %q", e.Name, e.Store)
		}
	}
	sort.Slice(f.Credentials, func(i, j int) bool { return f.Credentials[i].Name < f.Credentials[j].Name })
	return f.Credentials, nil
}

func (s *Store) writeIndex(idx []Entry) error {
	if idx == nil {
		idx = []Entry{}
	}
	b, err := json.MarshalIndent(indexFile{Format: indexFormat, Credentials: idx}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(s.indexPath(), append(b, '\n')); err != nil {
		return fmt.Errorf("write the credentials index: %w", err)
	}
	return nil
}

func find(idx []Entry, name string) (Entry, bool) {
	for _, e := range idx {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

func put(idx []Entry, e Entry) []Entry {
	for i := range idx {
		if idx[i].Name == e.Name {
			idx[i] = e
			return idx
		}
	}
	idx = append(idx, e)
	sort.Slice(idx, func(i, j int) bool { return idx[i].Name < idx[j].Name })
	return idx
}

// writeAtomic writes b to path through a temporary file and a rename, with
// mode 0600, creating the folder.
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// keyringKind names the platform's keyring for messages.
func keyringKind() string {
	switch runtime.GOOS {
	case "windows":
		return "Windows Credential Manager"
	case "darwin":
		return "macOS Keychain"
	}
	return "Secret Service over D-Bus"
}
