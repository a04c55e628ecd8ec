package cred

import (
	"fmt"
	"strings"
	"sync"

	"deskbot/engine"
	"deskbot/engine/redact"
)

// Getter looks credentials up by name (a *Store).
type Getter interface {
	Get(name string) (Credential, error)
}

type serviceKey struct{}

// Use gives a run's activities the credentials of g.
func Use(opts *engine.Options, g Getter) {
	if opts.Services == nil {
		opts.Services = map[any]any{}
	}
	opts.Services[serviceKey{}] = g
}

var (
	defaultOnce  sync.Once
	defaultStore *Store
	defaultErr   error
)

// Lookup returns the named credential for an activity of c's run: from the
// store that Use gave the run, else from the default store (the data
// folder, the passphrase from $DESKBOT_CRED_PASSPHRASE). The secret is
// registered with package redact, so that it is masked wherever it would
// reach an event, the history or a log (secrets shorter than redact.MinLen
// are not: activities must keep them out of their errors themselves, see
// Scrub).
func Lookup(c *engine.Call, name string) (Credential, error) {
	g, _ := c.Service(serviceKey{}).(Getter)
	if g == nil {
		defaultOnce.Do(func() { defaultStore, defaultErr = Open(Options{}) })
		if defaultErr != nil {
			return Credential{}, defaultErr
		}
		g = defaultStore
	}
	cr, err := g.Get(name)
	if err != nil {
		return Credential{}, err
	}
	redact.Add(cr.Secret)
	return cr, nil
}

// Scrub returns err with every occurrence of secret replaced by
// redact.Mask, whatever the secret's length; nil stays nil.
func Scrub(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg := err.Error()
	if r := strings.ReplaceAll(msg, secret, redact.Mask); r != msg {
		return &scrubbed{msg: r, err: err}
	}
	return err
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// String is for messages: the credential's name and user, never the
// secret.
func (c Credential) String() string {
	if c.User == "" {
		return fmt.Sprintf("credential %q", c.Name)
	}
	return fmt.Sprintf("credential %q (user %q)", c.Name, c.User)
}

// GoString keeps the secret out of %#v too.
func (c Credential) GoString() string { return "cred." + c.String() }
