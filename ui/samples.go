package ui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// DocumentsDir is the user's documents folder: $XDG_DOCUMENTS_DIR, else the
// XDG_DOCUMENTS_DIR line of ~/.config/user-dirs.dirs (what xdg-user-dirs
// writes, localized: ~/Dokumente, ~/文档), else ~/Documents. On Windows it
// is %USERPROFILE%\Documents.
func DocumentsDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder for the documents folder: %w", err)
	}
	if runtime.GOOS != "windows" {
		if d := os.Getenv("XDG_DOCUMENTS_DIR"); filepath.IsAbs(d) {
			return d, nil
		}
		cfg := os.Getenv("XDG_CONFIG_HOME")
		if !filepath.IsAbs(cfg) {
			cfg = filepath.Join(home, ".config")
		}
		if d := userDirsDocuments(filepath.Join(cfg, "user-dirs.dirs"), home); d != "" {
			return d, nil
		}
	}
	return filepath.Join(home, "Documents"), nil
}

// userDirsDocuments reads XDG_DOCUMENTS_DIR="$HOME/..." from a
// user-dirs.dirs file; "" when the file or the line is missing, or the line
// names the home folder itself (xdg-user-dirs' way of saying "disabled").
func userDirsDocuments(file, home string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		v, ok := strings.CutPrefix(line, "XDG_DOCUMENTS_DIR=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		if rest, ok := strings.CutPrefix(v, "$HOME"); ok {
			v = home + rest
		}
		if !filepath.IsAbs(v) || filepath.Clean(v) == filepath.Clean(home) {
			return ""
		}
		return filepath.Clean(v)
	}
	return ""
}

// SamplesWorkDir is where an installed Deskbot's samples are copied to be
// opened and run: DOCUMENTS/Deskbot/samples.
func SamplesWorkDir() (string, error) {
	docs, err := DocumentsDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(docs, "Deskbot", "samples"), nil
}

// CopySamples copies the samples folder src (flows, their data and pictures)
// into dst. Files already in dst are kept as they are: a sample the user
// changed, or its outputs, are never overwritten. Links and other special
// files are skipped.
func CopySamples(src, dst string) error {
	if src == "" {
		return errors.New("no samples folder: this Deskbot was installed without its samples")
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("samples folder: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("samples folder %s is not a folder", src)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading the samples: %w", err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(to, 0o755); err != nil {
				return fmt.Errorf("copying the samples to %s: %w", dst, err)
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		if _, err := os.Lstat(to); err == nil {
			return nil
		}
		if err := copyFile(p, to); err != nil {
			return fmt.Errorf("copying the samples to %s: %w", dst, err)
		}
		return nil
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	return out.Close()
}

// samplePath is the flow to open for the sample at path: path itself, or,
// when the studio has a SamplesWorkDir (an installed Deskbot), its copy
// there, made on first open so that the sample's data and outputs live in
// the user's documents and never in the install folder.
func (s *Studio) samplePath(path string) (string, error) {
	if s.opts.SamplesWorkDir == "" {
		return path, nil
	}
	rel, err := filepath.Rel(s.opts.SamplesDir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path, nil
	}
	if err := CopySamples(s.opts.SamplesDir, s.opts.SamplesWorkDir); err != nil {
		return "", err
	}
	return filepath.Join(s.opts.SamplesWorkDir, rel), nil
}

// OpenSample opens a sample from the start page (its copy, see samplePath).
func (s *Studio) OpenSample(path string) error {
	p, err := s.samplePath(path)
	if err != nil {
		return err
	}
	return s.OpenFile(p)
}
