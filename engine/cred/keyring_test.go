package cred

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

// keyringChildEnv makes the test binary run keyringChild instead of the
// tests: in a D-Bus session of its own with gnome-keyring's Secret Service.
const keyringChildEnv = "DESKBOT_CRED_KEYRING_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(keyringChildEnv); dir != "" {
		if err := keyringChild(dir); err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		fmt.Println("KEYRING OK")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The real Secret Service: gnome-keyring-daemon in a private D-Bus session
// (dbus-run-session), its login keyring made and unlocked with a test
// password, in a HOME of the test's own. The credentials go to the keyring,
// not the file, and another Store reads them back.
func TestOSKeyring(t *testing.T) {
	for _, bin := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is missing (Debian packages dbus-daemon and gnome-keyring; `make deps` installs them)", bin)
		}
	}
	home := t.TempDir()
	rt := filepath.Join(home, "run")
	os.Mkdir(rt, 0o700)
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c",
		`printf '%s' test-login | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$0" -test.run='^$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+rt, "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), keyringChildEnv+"="+filepath.Join(home, "deskbot"),
		EnvBackend+"=", EnvPassphrase+"=", "DESKBOT_NO_KEYRING=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "KEYRING OK") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func keyringChild(dir string) error {
	s, err := Open(Options{Dir: dir, Passphrase: func() (string, error) { return "", errors.New("the file must not be used") }})
	if err != nil {
		return err
	}
	if err := s.KeyringStatus(); err != nil {
		return fmt.Errorf("keyring status: %v", err)
	}
	const secret = "keyring-secret-Ünïcode-9f2"
	where, err := s.Set(Credential{Name: "mail", User: "bot", Secret: secret})
	if err != nil || where != StoreKeyring {
		return fmt.Errorf("set: %q %v", where, err)
	}
	if got, err := keyring.Get(Service, "cred:mail"); err != nil || got != secret {
		return fmt.Errorf("the keyring holds %d bytes, err %v", len(got), err)
	}
	s2, _ := Open(Options{Dir: dir})
	c, err := s2.Get("mail")
	if err != nil || c.Secret != secret || c.User != "bot" {
		return fmt.Errorf("get: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, SealFile)); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the encrypted file was made: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), `"keyring"`) {
		return fmt.Errorf("index: %s", b)
	}
	if err := s2.Delete("mail"); err != nil {
		return err
	}
	if _, err := keyring.Get(Service, "cred:mail"); !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("after delete: %v", err)
	}
	return nil
}
