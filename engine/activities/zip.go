package activities

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "file.zip", Title: "Zip files", Category: "Files", SideEffects: true, Icon: "storage",
		Summary: "Packs files and folders into a zip archive.",
		Doc: "A file goes in under its name, a folder with everything in it under the folder's name. Links are left " +
			"out. The archive is written under a temporary name and renamed when complete, so a failed zip leaves " +
			"no half archive.",
		Fields: []engine.Field{
			{Name: "sources", Title: "Files and folders", Kind: engine.KindList, Required: true},
			{Name: "to", Title: "Zip file", Kind: engine.KindPath, Required: true},
			{Name: "overwrite", Title: "Overwrite", Kind: engine.KindBool, Default: false},
		},
		New: newZip,
	})
	engine.Register(engine.Spec{
		Type: "file.unzip", Title: "Unzip", Category: "Files", SideEffects: true, Icon: "folderOpen",
		Summary: "Unpacks a zip archive into a folder, refusing entries that would land outside it.",
		Doc: "Before anything is written, every entry is checked: a name with `..`, an absolute name (`/etc/x`, " +
			"`C:\\x`), a link, more than max_files entries, or sizes over max_mb are refused, naming the entry, " +
			"and nothing is unpacked. The sizes are also counted while unpacking, whatever the archive claims, " +
			"so a zip bomb stops at the limit (and what it unpacked is removed). Existing files are an error " +
			"unless overwrite is set.",
		Fields: []engine.Field{
			{Name: "path", Title: "Zip file", Kind: engine.KindPath, Required: true},
			{Name: "to", Title: "Into folder", Kind: engine.KindPath, Required: true},
			{Name: "overwrite", Title: "Overwrite", Kind: engine.KindBool, Default: false},
			{Name: "max_mb", Title: "Size limit (MB)", Kind: engine.KindInt, Default: 1024.0, Advanced: true, Help: "The most the unpacked files may hold together."},
			{Name: "max_files", Title: "Most entries", Kind: engine.KindInt, Default: 100000.0, Advanced: true},
			{Name: "output", Title: "File list into", Kind: engine.KindVar, Default: "unzipped"},
		},
		New: newUnzip,
	})
}

func newZip(p *engine.Params) (engine.Activity, error) {
	sources, to, overwrite := p.List("sources"), p.Template("to"), p.Bool("overwrite")
	run := func(c *engine.Call, dry bool) (string, error) {
		var srcs []string
		for i, t := range sources {
			s, err := c.Path(t)
			if err != nil {
				return "", fmt.Errorf("sources: item %d: %w", i+1, err)
			}
			srcs = append(srcs, s)
		}
		if len(srcs) == 0 {
			return "", fmt.Errorf("sources: nothing to zip")
		}
		target, err := c.Path(to)
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		if dry {
			c.Logf("dry run: would zip %s into %s", strings.Join(srcs, ", "), target)
			return "", nil
		}
		if _, err := os.Stat(target); err == nil && !overwrite {
			return "", fmt.Errorf("to: %q already exists (set overwrite)", target)
		}
		n, err := ZipFiles(target, srcs)
		if err != nil {
			return "", err
		}
		c.Output("path", target)
		c.Output("files", n)
		return "", nil
	}
	return dryRunFunc{run}, nil
}

// ZipFiles writes the files and folders srcs into the zip archive target
// (replaced when complete) and returns the number of files.
func ZipFiles(target string, srcs []string) (int, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, fmt.Errorf("create folder for %q: %w", target, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".deskbot-zip-*")
	if err != nil {
		return 0, fmt.Errorf("zip %q: %w", target, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	zw := zip.NewWriter(tmp)
	seen := map[string]string{}
	files := 0
	add := func(path, name string) error {
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("zip %q: %s and %s would both be %q in the archive", target, prev, path, name)
		}
		seen[name] = path
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("zip %q: %w", target, err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("zip %q: %w", target, err)
		}
		h, err := zip.FileInfoHeader(st)
		if err != nil {
			return fmt.Errorf("zip %q: %s: %w", target, path, err)
		}
		h.Name, h.Method = name, zip.Deflate
		w, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("zip %q: %s: %w", target, path, err)
		}
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("zip %q: %s: %w", target, path, err)
		}
		files++
		return nil
	}
	absTarget, _ := filepath.Abs(target)
	for _, src := range srcs {
		st, err := os.Stat(src)
		if err != nil {
			tmp.Close()
			return 0, fmt.Errorf("zip %q: %w", target, err)
		}
		if !st.IsDir() {
			if err := add(src, filepath.Base(src)); err != nil {
				tmp.Close()
				return 0, err
			}
			continue
		}
		root := filepath.Dir(filepath.Clean(src))
		err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("zip %q: %w", target, err)
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			name := filepath.ToSlash(rel)
			switch {
			case d.IsDir():
				_, err := zw.Create(name + "/")
				return err
			case !d.Type().IsRegular():
				return nil // links and devices stay out
			}
			if abs, _ := filepath.Abs(path); abs == absTarget || filepath.Dir(abs) == filepath.Dir(absTarget) && strings.HasPrefix(filepath.Base(abs), ".deskbot-zip-") {
				return nil // the archive itself, when it is written inside a source folder
			}
			return add(path, name)
		})
		if err != nil {
			tmp.Close()
			return 0, err
		}
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("zip %q: %w", target, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("zip %q: %w", target, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, fmt.Errorf("zip %q: %w", target, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return 0, fmt.Errorf("zip %q: %w", target, err)
	}
	return files, nil
}

// UnzipLimits bound what an archive may unpack to.
type UnzipLimits struct {
	MaxBytes  int64
	MaxFiles  int
	Overwrite bool
}

// ErrUnsafeEntry marks an entry that would land outside the folder.
var ErrUnsafeEntry = errors.New("unsafe entry")

// entryPath checks an entry's name and returns its path relative to the
// target folder, with the system's separators. Both / and \ separate (zips
// made on Windows may use \).
func entryPath(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: an entry has no name", ErrUnsafeEntry)
	}
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%w %q: a NUL in the name", ErrUnsafeEntry, name)
	}
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || len(n) >= 2 && n[1] == ':' {
		return "", fmt.Errorf("%w %q: an absolute path", ErrUnsafeEntry, name)
	}
	var parts []string
	for _, part := range strings.Split(n, "/") {
		switch part {
		case "..":
			return "", fmt.Errorf("%w %q: it climbs out of the folder (..)", ErrUnsafeEntry, name)
		case "", ".":
			continue
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "", nil // the folder itself
	}
	return filepath.Join(parts...), nil
}

// countingWriter fails once more than limit bytes have been written in all.
type countingWriter struct {
	w     io.Writer
	total *int64
	limit int64
	entry string
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if *c.total+int64(len(p)) > c.limit {
		return 0, fmt.Errorf("%s: the unpacked files pass the size limit of %d MB (a zip bomb?)", c.entry, c.limit>>20)
	}
	n, err := c.w.Write(p)
	*c.total += int64(n)
	return n, err
}

// Unzip unpacks the archive r into dir and returns the files it wrote. A
// hostile archive (entries outside dir, links, too many or too large
// entries) is refused before anything is written; sizes are also counted
// while unpacking, and on an error the files written are removed.
func Unzip(r io.ReaderAt, size int64, dir string, lim UnzipLimits) (files []string, err error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a readable zip archive: %w", err)
	}
	if lim.MaxFiles > 0 && len(zr.File) > lim.MaxFiles {
		return nil, fmt.Errorf("%d entries, more than the limit of %d", len(zr.File), lim.MaxFiles)
	}
	type job struct {
		f   *zip.File
		rel string
	}
	var jobs []job
	var declared uint64
	seen := map[string]string{}
	for _, f := range zr.File {
		rel, err := entryPath(f.Name)
		if err != nil {
			return nil, err
		}
		mode := f.Mode()
		if mode&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%w %q: a link (links could point outside the folder)", ErrUnsafeEntry, f.Name)
		}
		if !mode.IsDir() && !mode.IsRegular() && !strings.HasSuffix(f.Name, "/") {
			return nil, fmt.Errorf("%w %q: not a file or folder (%s)", ErrUnsafeEntry, f.Name, mode.Type())
		}
		declared += f.UncompressedSize64
		if declared > uint64(lim.MaxBytes) {
			return nil, fmt.Errorf("entry %q: the archive says it unpacks to more than the size limit of %d MB", f.Name, lim.MaxBytes>>20)
		}
		if rel == "" {
			continue
		}
		key := strings.ToLower(rel) // case-insensitive systems would merge these
		if prev, dup := seen[key]; dup && !f.FileInfo().IsDir() {
			return nil, fmt.Errorf("entries %q and %q land on the same file", prev, f.Name)
		}
		seen[key] = f.Name
		jobs = append(jobs, job{f, rel})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !lim.Overwrite {
		for _, j := range jobs {
			if j.f.FileInfo().IsDir() {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, j.rel)); err == nil {
				return nil, fmt.Errorf("entry %q: %s already exists (set overwrite)", j.f.Name, filepath.Join(dir, j.rel))
			}
		}
	}
	defer func() {
		if err != nil {
			for _, f := range files {
				os.Remove(f)
			}
			files = nil
		}
	}()
	var total int64
	for _, j := range jobs {
		target := filepath.Join(dir, j.rel)
		if err := safeParents(dir, j.rel); err != nil {
			return files, fmt.Errorf("entry %q: %w", j.f.Name, err)
		}
		if j.f.FileInfo().IsDir() || strings.HasSuffix(j.f.Name, "/") || strings.HasSuffix(j.f.Name, "\\") {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return files, fmt.Errorf("entry %q: %w", j.f.Name, err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return files, fmt.Errorf("entry %q: %w", j.f.Name, err)
		}
		if st, err := os.Lstat(target); err == nil && !st.Mode().IsRegular() {
			return files, fmt.Errorf("entry %q: %s exists and is not a file", j.f.Name, target)
		}
		perm := fs.FileMode(0o644)
		if j.f.Mode()&0o100 != 0 {
			perm = 0o755
		}
		if err := unzipFile(j.f, target, perm, &countingWriter{total: &total, limit: lim.MaxBytes, entry: fmt.Sprintf("entry %q", j.f.Name)}); err != nil {
			os.Remove(target)
			return files, err
		}
		files = append(files, target)
	}
	return files, nil
}

// safeParents checks that no folder between dir and rel's file is a link,
// which would lead the write outside dir.
func safeParents(dir, rel string) error {
	p := dir
	parts := strings.Split(rel, string(filepath.Separator))
	for _, part := range parts[:len(parts)-1] {
		p = filepath.Join(p, part)
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 || !st.IsDir() {
			return fmt.Errorf("%w: %s is a link or a file, not a folder", ErrUnsafeEntry, p)
		}
	}
	return nil
}

func unzipFile(f *zip.File, target string, perm fs.FileMode, cw *countingWriter) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return fmt.Errorf("entry %q: %w", f.Name, err)
	}
	cw.w = out
	_, err = io.Copy(cw, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if strings.HasPrefix(err.Error(), "entry ") {
			return err
		}
		return fmt.Errorf("entry %q: %w", f.Name, err)
	}
	return nil
}

func newUnzip(p *engine.Params) (engine.Activity, error) {
	path, to, overwrite, out := p.Template("path"), p.Template("to"), p.Bool("overwrite"), p.Var("output")
	maxMB, maxFiles := p.Int("max_mb"), p.Int("max_files")
	if maxMB < 1 {
		p.Fail("max_mb", "must be at least 1")
	}
	if maxFiles < 1 {
		p.Fail("max_files", "must be at least 1")
	}
	run := func(c *engine.Call, dry bool) (string, error) {
		name, err := c.Path(path)
		if err != nil {
			return "", fmt.Errorf("path: %w", err)
		}
		dir, err := c.Path(to)
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		if dry {
			c.Logf("dry run: would unzip %s into %s", name, dir)
			return "", nil
		}
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("unzip %q: %w", name, err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return "", fmt.Errorf("unzip %q: %w", name, err)
		}
		files, err := Unzip(f, st.Size(), dir, UnzipLimits{MaxBytes: int64(maxMB) << 20, MaxFiles: maxFiles, Overwrite: overwrite})
		if err != nil {
			return "", fmt.Errorf("unzip %s: %w", filepath.Base(name), err)
		}
		c.Output("files", len(files))
		if out == "" {
			return "", nil
		}
		l := make([]any, len(files))
		for i, f := range files {
			l[i] = f
		}
		return "", c.Set(out, l)
	}
	return dryRunFunc{run}, nil
}
