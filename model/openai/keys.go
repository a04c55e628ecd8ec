package openai

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name of Deskbot's keyring entries.
const keyringService = "deskbot"

// The keyring calls are variables so tests can replace them; on Linux the
// real keyring needs a D-Bus secret service, which CI does not have.
var (
	keyringGet    = keyring.Get
	keyringSet    = keyring.Set
	keyringDelete = keyring.Delete
)

// EnvName is the environment variable holding the key of a profile:
// DESKBOT_API_KEY_ and the profile name in capitals with other characters
// turned into '_'.
func EnvName(profile string) string {
	var b strings.Builder
	b.WriteString("DESKBOT_API_KEY_")
	for _, r := range strings.ToUpper(profile) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func keyringOff() bool { return os.Getenv("DESKBOT_NO_KEYRING") != "" }

// APIKey finds the key of a profile: $DESKBOT_API_KEY_<PROFILE>, then the OS
// keyring, then $OPENAI_API_KEY. source says where it came from (never the
// key itself). No key at all gives "" and source "none": local servers such
// as Ollama need none.
func APIKey(profile string) (key, source string) {
	env := EnvName(profile)
	if k := os.Getenv(env); k != "" {
		return k, "env " + env
	}
	if !keyringOff() {
		if k, err := keyringLookup(profile); err == nil && k != "" {
			return k, "keyring"
		}
	}
	if k := os.Getenv("OPENAI_API_KEY"); k != "" {
		return k, "env OPENAI_API_KEY"
	}
	return "", "none"
}

// keyringTimeout bounds a keyring lookup: with a D-Bus session but no
// secret service, a call can hang for its full D-Bus timeout.
var keyringTimeout = 3 * time.Second

func keyringLookup(profile string) (string, error) {
	type answer struct {
		key string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		k, err := keyringGet(keyringService, "api:"+profile)
		ch <- answer{k, err}
	}()
	select {
	case a := <-ch:
		return a.key, a.err
	case <-time.After(keyringTimeout):
		return "", fmt.Errorf("the OS keyring did not answer within %s", keyringTimeout)
	}
}

// SetAPIKey stores a profile's key in the OS keyring. Without a keyring it
// says to use the environment variable instead.
func SetAPIKey(profile, key string) error {
	if keyringOff() {
		return fmt.Errorf("the keyring is switched off (DESKBOT_NO_KEYRING); set %s instead", EnvName(profile))
	}
	if err := keyringSet(keyringService, "api:"+profile, key); err != nil {
		return fmt.Errorf("store the key of %q in the OS keyring: %v; set the environment variable %s instead", profile, err, EnvName(profile))
	}
	return nil
}

// DeleteAPIKey removes a profile's key from the keyring; a missing entry
// is not an error.
func DeleteAPIKey(profile string) error {
	if keyringOff() {
		return nil
	}
	err := keyringDelete(keyringService, "api:"+profile)
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("remove the key of %q from the OS keyring: %w", profile, err)
}
