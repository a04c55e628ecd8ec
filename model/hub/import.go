package hub

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Validate checks that dir looks like a Hugging Face GPT-2 checkpoint:
// the four files exist, config.json is a GPT-2 config, vocab.json is a
// JSON object and model.safetensors has a sound header. It reads no
// weights.
func Validate(dir string) error {
	for _, f := range Files {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			return fmt.Errorf("checkpoint %q: missing %s (a GPT-2 folder from Hugging Face has %v)", dir, f, Files)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("checkpoint %q: %s is not a file", dir, f)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	var cfg struct {
		ModelType string `json:"model_type"`
		NLayer    int    `json:"n_layer"`
		NHead     int    `json:"n_head"`
		NEmbd     int    `json:"n_embd"`
		Vocab     int    `json:"vocab_size"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("checkpoint %q: config.json: %w", dir, err)
	}
	if cfg.ModelType != "" && cfg.ModelType != "gpt2" {
		return fmt.Errorf("checkpoint %q: config.json says model_type %q; only gpt2 checkpoints run locally", dir, cfg.ModelType)
	}
	if cfg.NLayer <= 0 || cfg.NHead <= 0 || cfg.NEmbd <= 0 || cfg.Vocab <= 0 {
		return fmt.Errorf("checkpoint %q: config.json lacks n_layer, n_head, n_embd or vocab_size", dir)
	}
	vf, err := os.Open(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return err
	}
	var tok json.Token
	tok, err = json.NewDecoder(vf).Token()
	vf.Close()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return fmt.Errorf("checkpoint %q: vocab.json is not a JSON object", dir)
	}
	if err := checkSafetensors(filepath.Join(dir, "model.safetensors")); err != nil {
		return fmt.Errorf("checkpoint %q: %w", dir, err)
	}
	return nil
}

// maxHeader bounds a safetensors header (the format's own limit is 100 MB).
const maxHeader = 100 << 20

// checkSafetensors validates the header against the file size: every
// tensor's offsets lie inside the data section.
func checkSafetensors(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var n8 [8]byte
	if _, err := io.ReadFull(f, n8[:]); err != nil {
		return fmt.Errorf("model.safetensors: too short for a header (%d bytes)", st.Size())
	}
	n := binary.LittleEndian.Uint64(n8[:])
	if n == 0 || n > maxHeader || int64(n) > st.Size()-8 {
		return fmt.Errorf("model.safetensors: header length %d does not fit the file (%d bytes); the file is truncated or not safetensors", n, st.Size())
	}
	h := make([]byte, n)
	if _, err := io.ReadFull(f, h); err != nil {
		return fmt.Errorf("model.safetensors: %w", err)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(h, &hdr); err != nil {
		return fmt.Errorf("model.safetensors: bad header: %w", err)
	}
	data := st.Size() - 8 - int64(n)
	tensors := 0
	for name, raw := range hdr {
		if name == "__metadata__" {
			continue
		}
		var t struct {
			Offsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("model.safetensors: tensor %q: %w", name, err)
		}
		if t.Offsets[0] < 0 || t.Offsets[1] < t.Offsets[0] || t.Offsets[1] > data {
			return fmt.Errorf("model.safetensors: tensor %q lies outside the file (offsets %v, %d data bytes); the file is truncated", name, t.Offsets, data)
		}
		tensors++
	}
	if tensors == 0 {
		return errors.New("model.safetensors: no tensors")
	}
	return nil
}

var modelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Import validates a checkpoint folder and copies its files into the
// models folder as name (default: the folder's name). It refuses to
// replace an installed model unless replace is set.
func Import(src, name string, replace bool, progress Progress) (string, error) {
	if err := Validate(src); err != nil {
		return "", err
	}
	if name == "" {
		abs, err := filepath.Abs(src)
		if err != nil {
			return "", err
		}
		name = filepath.Base(abs)
	}
	if !modelName.MatchString(name) {
		return "", fmt.Errorf("model name %q: use letters, digits, '-', '_' or '.' (give one with --name)", name)
	}
	root, err := ModelsDir()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(root, name)
	if _, err := os.Stat(dst); err == nil && !replace {
		return "", fmt.Errorf("model %q is already installed (%s); choose another --name or pass --replace", name, dst)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, ".import-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	abs, _ := filepath.Abs(src)
	m := &Manifest{Name: name, Source: "import:" + abs}
	extra := []string{"generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}
	for _, f := range append(append([]string{}, Files...), extra...) {
		fi, err := copyFile(filepath.Join(src, f), filepath.Join(tmp, f), progress)
		if errors.Is(err, os.ErrNotExist) && !contains(Files, f) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("import %s: %w", src, err)
		}
		m.Files = append(m.Files, fi)
	}
	m.Installed = time.Now().UTC()
	if err := writeManifest(tmp, m); err != nil {
		return "", err
	}
	if replace {
		os.RemoveAll(dst)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("import %s: %w", src, err)
	}
	return dst, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func copyFile(src, dst string, progress Progress) (FileInfo, error) {
	in, err := os.Open(src)
	if err != nil {
		return FileInfo{}, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return FileInfo{}, err
	}
	out, err := os.Create(dst)
	if err != nil {
		return FileInfo{}, err
	}
	h := sha256.New()
	name := filepath.Base(src)
	pw := &progressWriter{w: io.MultiWriter(out, h), file: name, total: st.Size(), fn: progress}
	_, err = io.Copy(pw, in)
	pw.report(true)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("copy %s: %w", name, err)
	}
	return FileInfo{Name: name, Size: pw.done, SHA256: hex.EncodeToString(h.Sum(nil)), Check: "import"}, nil
}
