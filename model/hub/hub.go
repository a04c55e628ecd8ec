// Package hub manages Deskbot's local GPT-2 checkpoints: it downloads them
// from Hugging Face with resume and checksum checks, imports folders, lists
// what is installed and resolves a model name to its folder.
//
// Models live in the user cache folder (os.UserCacheDir()/deskbot/models/
// NAME, or $DESKBOT_MODELS/NAME). DESKBOT_HF_ENDPOINT replaces
// https://huggingface.co (a mirror, or a local server in tests).
package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Known is a model that `deskbot model pull` knows by name.
type Known struct {
	Name   string
	Repo   string // Hugging Face repository
	Params string // for the list
}

// KnownModels are the GPT-2 sizes Deskbot can pull.
var KnownModels = []Known{
	{"distilgpt2", "distilbert/distilgpt2", "82M"},
	{"gpt2", "openai-community/gpt2", "124M"},
	{"gpt2-medium", "openai-community/gpt2-medium", "355M"},
	{"gpt2-large", "openai-community/gpt2-large", "774M"},
	{"gpt2-xl", "openai-community/gpt2-xl", "1.5B"},
}

// Lookup returns the known model with this name.
func Lookup(name string) (Known, bool) {
	for _, k := range KnownModels {
		if k.Name == name {
			return k, true
		}
	}
	return Known{}, false
}

// KnownNames lists the names Pull accepts.
func KnownNames() []string {
	var n []string
	for _, k := range KnownModels {
		n = append(n, k.Name)
	}
	return n
}

// Files are what a GPT-2 checkpoint folder needs.
var Files = []string{"config.json", "vocab.json", "merges.txt", "model.safetensors"}

// ManifestName is the file Deskbot writes into each installed model folder.
const ManifestName = "deskbot-model.json"

// DefaultEndpoint is the Hugging Face host.
const DefaultEndpoint = "https://huggingface.co"

// Endpoint is $DESKBOT_HF_ENDPOINT or Hugging Face.
func Endpoint() string {
	if e := os.Getenv("DESKBOT_HF_ENDPOINT"); e != "" {
		return strings.TrimRight(e, "/")
	}
	return DefaultEndpoint
}

// ModelsDir is where installed models live: $DESKBOT_MODELS, else
// os.UserCacheDir()/deskbot/models.
func ModelsDir() (string, error) {
	if d := os.Getenv("DESKBOT_MODELS"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache folder (set DESKBOT_MODELS): %w", err)
	}
	return filepath.Join(d, "deskbot", "models"), nil
}

// FileInfo is one verified file of a model.
type FileInfo struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Check says how the file was verified against its source:
	// "sha256" (Hugging Face LFS), "git-sha1" (Hugging Face regular file),
	// "size" (only the size was known) or "import" (copied locally).
	Check string `json:"check"`
}

// Manifest describes an installed model.
type Manifest struct {
	Name      string     `json:"name"`
	Source    string     `json:"source"` // "huggingface:REPO" or "import:DIR"
	Revision  string     `json:"revision,omitempty"`
	Installed time.Time  `json:"installed"`
	Files     []FileInfo `json:"files"`
}

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return &m, nil
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write model manifest: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestName))
}

// Installed is one model in the models folder.
type Installed struct {
	Name     string
	Dir      string
	Size     int64  // bytes of all its files
	Source   string // from the manifest
	Complete bool   // all Files present and a manifest written
	Missing  []string
}

// List returns the models in the models folder, sorted by name. Folders
// left by an interrupted pull are listed as incomplete.
func List() ([]Installed, error) {
	root, err := ModelsDir()
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var out []Installed
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		in := Installed{Name: e.Name(), Dir: dir}
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if fi, err := f.Info(); err == nil && fi.Mode().IsRegular() {
				in.Size += fi.Size()
			}
		}
		for _, f := range Files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				in.Missing = append(in.Missing, f)
			}
		}
		m, err := readManifest(dir)
		if err == nil {
			in.Source = m.Source
		}
		in.Complete = err == nil && len(in.Missing) == 0
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Resolve turns a model argument into a checkpoint folder: a folder path
// (anything with a path separator, or an existing folder) is used as it
// is; otherwise it names an installed model.
func Resolve(name string) (string, error) {
	if name == "" {
		return "", errors.New("no model given (e.g. gpt2, or a checkpoint folder)")
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		if st, err := os.Stat(name); err != nil || !st.IsDir() {
			return "", fmt.Errorf("model folder %q: not found", name)
		}
		return name, nil
	}
	root, err := ModelsDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, name)
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		return dir, nil
	}
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return name, nil
	}
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("model %q is not completely installed (an interrupted pull?); run: deskbot model pull %s", name, name)
	}
	if _, ok := Lookup(name); ok {
		return "", fmt.Errorf("model %q is not installed; run: deskbot model pull %s", name, name)
	}
	return "", fmt.Errorf("model %q is not installed and is not a folder; pull one of %s, or import a folder with: deskbot model import DIR",
		name, strings.Join(KnownNames(), ", "))
}

// Remove deletes an installed model.
func Remove(name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("bad model name %q", name)
	}
	root, err := ModelsDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, name)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("model %q is not installed", name)
	}
	return os.RemoveAll(dir)
}
