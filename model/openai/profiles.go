// Package openai talks to any OpenAI-compatible chat API (OpenAI, Azure
// OpenAI, Ollama, a llama.cpp server, vLLM) through
// github.com/sashabaranov/go-openai, behind model.Generator.
//
// Profiles (base URL, model, organisation, timeouts) live in a JSON file in
// Deskbot's data folder; API keys never do. A key comes from the
// environment (DESKBOT_API_KEY_<PROFILE>, then OPENAI_API_KEY) or from the
// OS keyring, and is never written to flows, logs or the database.
package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// DataDir is Deskbot's data folder: $DESKBOT_DATA, else the user config
// folder's deskbot subfolder. It is the same rule as store.DataDir.
func DataDir() (string, error) {
	if d := os.Getenv("DESKBOT_DATA"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the data folder (set DESKBOT_DATA): %w", err)
	}
	return filepath.Join(d, "deskbot"), nil
}

// ProfilesPath is the file holding the API profiles.
func ProfilesPath() (string, error) {
	d, err := DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "providers.json"), nil
}

// Duration is a time.Duration written as "30s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return fmt.Errorf("bad duration %q (want e.g. 30s, 2m)", s)
		}
		*d = Duration(v)
		return nil
	}
	var sec float64
	if err := json.Unmarshal(b, &sec); err != nil || sec < 0 {
		return fmt.Errorf("bad duration %s (want e.g. \"30s\")", b)
	}
	*d = Duration(sec * float64(time.Second))
	return nil
}

// API types.
const (
	TypeOpenAI = "openai" // OpenAI and every compatible server
	TypeAzure  = "azure"  // Azure OpenAI: model is the deployment name
)

// Profile is one configured API endpoint. It holds no secrets.
type Profile struct {
	Name         string `json:"name"`
	BaseURL      string `json:"base_url"` // e.g. https://api.openai.com/v1 or http://localhost:11434/v1
	Model        string `json:"model"`
	Organization string `json:"organization,omitempty"`
	Type         string `json:"type,omitempty"`        // openai (default) or azure
	APIVersion   string `json:"api_version,omitempty"` // azure only
	// Timeouts and retries; zero means the default.
	ConnectTimeout   Duration `json:"connect_timeout,omitempty"`
	FirstByteTimeout Duration `json:"first_byte_timeout,omitempty"`
	IdleTimeout      Duration `json:"idle_timeout,omitempty"`
	Timeout          Duration `json:"timeout,omitempty"`
	MaxRetries       *int     `json:"max_retries,omitempty"`
	// Concurrency is the most requests sent at once; 0 means
	// DefaultConcurrency. After a 429 the client sends fewer for a while.
	Concurrency int `json:"concurrency,omitempty"`
}

var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate checks the profile's fields.
func (p *Profile) Validate() error {
	if !profileName.MatchString(p.Name) {
		return fmt.Errorf("profile name %q: use letters, digits, '-', '_' or '.', up to 64", p.Name)
	}
	u, err := url.Parse(p.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("profile %q: base URL %q is not an http(s) URL such as https://api.openai.com/v1", p.Name, p.BaseURL)
	}
	if u.User != nil {
		return fmt.Errorf("profile %q: put the API key in the keyring or environment, not in the base URL", p.Name)
	}
	if strings.TrimSpace(p.Model) == "" {
		return fmt.Errorf("profile %q: no model name (e.g. gpt-4o-mini, llama3.2)", p.Name)
	}
	if p.Concurrency < 0 || p.Concurrency > MaxConcurrency {
		return fmt.Errorf("profile %q: concurrency %d: want 1 to %d requests at once (0 = the default, %d)", p.Name, p.Concurrency, MaxConcurrency, DefaultConcurrency)
	}
	switch p.Type {
	case "", TypeOpenAI, TypeAzure:
	default:
		return fmt.Errorf("profile %q: type %q is not openai or azure", p.Name, p.Type)
	}
	return nil
}

// Profiles is the content of the profiles file.
type Profiles struct {
	Profiles []Profile `json:"profiles"`
}

// LoadProfiles reads the profiles file; a missing file is no profiles.
func LoadProfiles(path string) (*Profiles, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Profiles{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read API profiles: %w", err)
	}
	var ps Profiles
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("read API profiles %q: %w", path, err)
	}
	return &ps, nil
}

// Save writes the profiles file atomically.
func (ps *Profiles) Save(path string) error {
	sort.Slice(ps.Profiles, func(i, j int) bool { return ps.Profiles[i].Name < ps.Profiles[j].Name })
	b, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save API profiles: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save API profiles: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save API profiles: %w", err)
	}
	return nil
}

// Get returns the named profile.
func (ps *Profiles) Get(name string) (Profile, bool) {
	for _, p := range ps.Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// Set adds or replaces a profile after validating it.
func (ps *Profiles) Set(p Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	for i := range ps.Profiles {
		if ps.Profiles[i].Name == p.Name {
			ps.Profiles[i] = p
			return nil
		}
	}
	ps.Profiles = append(ps.Profiles, p)
	return nil
}

// Delete removes a profile; it reports whether it existed.
func (ps *Profiles) Delete(name string) bool {
	for i := range ps.Profiles {
		if ps.Profiles[i].Name == name {
			ps.Profiles = append(ps.Profiles[:i], ps.Profiles[i+1:]...)
			return true
		}
	}
	return false
}

// Names lists the profile names.
func (ps *Profiles) Names() []string {
	var n []string
	for _, p := range ps.Profiles {
		n = append(n, p.Name)
	}
	return n
}
