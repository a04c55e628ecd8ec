package activities

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "file.read_text", Title: "Read text file", Category: "Files", Icon: "fileText",
		Summary: "Reads a whole text file into a variable.",
		Fields: []engine.Field{
			{Name: "path", Title: "File", Kind: engine.KindPath, Required: true},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "text"},
		},
		New: func(p *engine.Params) (engine.Activity, error) {
			path, out := p.Template("path"), p.Var("output")
			return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
				name, err := c.Path(path)
				if err != nil {
					return "", fmt.Errorf("path: %w", err)
				}
				b, err := os.ReadFile(name)
				if err != nil {
					return "", fmt.Errorf("read %q: %w", name, err)
				}
				c.Output("path", name)
				c.Output("bytes", len(b))
				return "", c.Set(out, string(b))
			}), nil
		},
	})
	for _, mode := range []struct {
		typ, title, summary, icon string
		flags                     int
	}{
		{"file.write_text", "Write text file", "Writes text to a file, replacing it. Folders are created as needed.", "documentCreate", os.O_CREATE | os.O_TRUNC | os.O_WRONLY},
		{"file.append_text", "Append to text file", "Adds text to the end of a file, creating it if needed.", "fileText", os.O_CREATE | os.O_APPEND | os.O_WRONLY},
	} {
		mode := mode
		engine.Register(engine.Spec{
			Type: mode.typ, Title: mode.title, Category: "Files", Summary: mode.summary, SideEffects: true, Icon: mode.icon,
			Fields: []engine.Field{
				{Name: "path", Title: "File", Kind: engine.KindPath, Required: true},
				{Name: "text", Title: "Text", Kind: engine.KindMulti, Required: true, Help: "Use {{ variable }} to insert values."},
			},
			New: func(p *engine.Params) (engine.Activity, error) {
				return &writeText{path: p.Template("path"), text: p.Template("text"), flags: mode.flags}, nil
			},
		})
	}
	engine.Register(engine.Spec{
		Type: "file.list", Title: "List folder", Category: "Files", Icon: "folderOpen",
		Summary: "Lists the files in a folder that match a pattern, sorted by name.",
		Fields: []engine.Field{
			{Name: "folder", Title: "Folder", Kind: engine.KindPath, Required: true},
			{Name: "pattern", Title: "Pattern", Kind: engine.KindString, Default: "*", Help: "Shell pattern such as *.csv"},
			{Name: "recursive", Title: "Include subfolders", Kind: engine.KindBool, Default: false},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "files"},
		},
		New: newList,
	})
	for _, op := range []struct{ typ, title, summary, icon string }{
		{"file.copy", "Copy file", "Copies a file. The target folder is created as needed.", "contentCopy"},
		{"file.move", "Move file", "Moves or renames a file. The target folder is created as needed.", "contentCut"},
	} {
		op := op
		engine.Register(engine.Spec{
			Type: op.typ, Title: op.title, Category: "Files", Summary: op.summary, SideEffects: true, Icon: op.icon,
			Fields: []engine.Field{
				{Name: "from", Title: "From", Kind: engine.KindPath, Required: true},
				{Name: "to", Title: "To", Kind: engine.KindPath, Required: true, Help: "A file path, or an existing folder to put the file in."},
				{Name: "overwrite", Title: "Overwrite", Kind: engine.KindBool, Default: false},
			},
			New: func(p *engine.Params) (engine.Activity, error) {
				return &copyMove{move: op.typ == "file.move", from: p.Template("from"), to: p.Template("to"), overwrite: p.Bool("overwrite")}, nil
			},
		})
	}
	engine.Register(engine.Spec{
		Type: "file.delete", Title: "Delete file", Category: "Files", SideEffects: true, Icon: "delete",
		Summary: "Deletes a file (not a folder).",
		Fields: []engine.Field{
			{Name: "path", Title: "File", Kind: engine.KindPath, Required: true},
			{Name: "missing_ok", Title: "OK if missing", Kind: engine.KindBool, Default: false},
		},
		New: func(p *engine.Params) (engine.Activity, error) {
			return &deleteFile{path: p.Template("path"), missingOK: p.Bool("missing_ok")}, nil
		},
	})
}

type deleteFile struct {
	path      *engine.Template
	missingOK bool
}

func (a *deleteFile) DryRun(_ context.Context, c *engine.Call) (string, error) {
	name, err := c.Path(a.path)
	if err != nil {
		return "", fmt.Errorf("path: %w", err)
	}
	c.Logf("dry run: would delete %s", name)
	return "", nil
}

func (a *deleteFile) Run(_ context.Context, c *engine.Call) (string, error) {
	path, missingOK := a.path, a.missingOK
	name, err := c.Path(path)
	if err != nil {
		return "", fmt.Errorf("path: %w", err)
	}
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return "", fmt.Errorf("delete %q: is a folder", name)
	}
	err = os.Remove(name)
	if err != nil && !(missingOK && os.IsNotExist(err)) {
		return "", fmt.Errorf("delete %q: %w", name, err)
	}
	c.Output("path", name)
	return "", nil
}

type writeText struct {
	path, text *engine.Template
	flags      int
}

func (a *writeText) eval(c *engine.Call) (string, string, error) {
	name, err := c.Path(a.path)
	if err != nil {
		return "", "", fmt.Errorf("path: %w", err)
	}
	text, err := c.Text(a.text)
	if err != nil {
		return "", "", fmt.Errorf("text: %w", err)
	}
	return name, text, nil
}

func (a *writeText) Run(_ context.Context, c *engine.Call) (string, error) {
	name, text, err := a.eval(c)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return "", fmt.Errorf("create folder for %q: %w", name, err)
	}
	if a.flags&os.O_TRUNC != 0 {
		if err := engine.WriteFileAtomic(name, []byte(text), 0o644); err != nil {
			return "", fmt.Errorf("write %q: %w", name, err)
		}
	} else {
		f, err := os.OpenFile(name, a.flags, 0o644)
		if err != nil {
			return "", fmt.Errorf("open %q: %w", name, err)
		}
		_, err = io.WriteString(f, text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("append to %q: %w", name, err)
		}
	}
	c.Output("path", name)
	c.Output("bytes", len(text))
	return "", nil
}

func (a *writeText) DryRun(_ context.Context, c *engine.Call) (string, error) {
	name, text, err := a.eval(c)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would write %d bytes to %s", len(text), name)
	return "", nil
}

func newList(p *engine.Params) (engine.Activity, error) {
	folder, pattern, rec, out := p.Template("folder"), p.String("pattern"), p.Bool("recursive"), p.Var("output")
	if _, err := filepath.Match(pattern, ""); err != nil {
		p.Fail("pattern", "bad pattern %q: %v", pattern, err)
	}
	return engine.ActivityFunc(func(_ context.Context, c *engine.Call) (string, error) {
		dir, err := c.Path(folder)
		if err != nil {
			return "", fmt.Errorf("folder: %w", err)
		}
		var files []string
		walk := func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != dir && !rec {
					return filepath.SkipDir
				}
				return nil
			}
			if ok, _ := filepath.Match(pattern, d.Name()); ok {
				files = append(files, path)
			}
			return nil
		}
		if err := filepath.WalkDir(dir, walk); err != nil {
			return "", fmt.Errorf("list %q: %w", dir, err)
		}
		sort.Strings(files)
		l := make([]any, len(files))
		for i, f := range files {
			l[i] = f
		}
		c.Output("count", len(l))
		return "", c.Set(out, l)
	}), nil
}

type copyMove struct {
	move      bool
	from, to  *engine.Template
	overwrite bool
}

func (a *copyMove) paths(c *engine.Call) (string, string, error) {
	src, err := c.Path(a.from)
	if err != nil {
		return "", "", fmt.Errorf("from: %w", err)
	}
	dst, err := c.Path(a.to)
	if err != nil {
		return "", "", fmt.Errorf("to: %w", err)
	}
	if st, err := os.Stat(dst); err == nil && st.IsDir() {
		dst = filepath.Join(dst, filepath.Base(src))
	}
	return src, dst, nil
}

func (a *copyMove) verb() string {
	if a.move {
		return "move"
	}
	return "copy"
}

func (a *copyMove) Run(_ context.Context, c *engine.Call) (string, error) {
	src, dst, err := a.paths(c)
	if err != nil {
		return "", err
	}
	if !a.overwrite {
		if _, err := os.Stat(dst); err == nil {
			return "", fmt.Errorf("%s %q to %q: target exists (set overwrite to replace it)", a.verb(), src, dst)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("create folder for %q: %w", dst, err)
	}
	if a.move {
		if err := os.Rename(src, dst); err == nil {
			c.Output("path", dst)
			return "", nil
		} else if !strings.Contains(err.Error(), "cross-device") {
			return "", fmt.Errorf("move %q to %q: %w", src, dst, err)
		}
	}
	if err := copyFile(src, dst); err != nil {
		return "", fmt.Errorf("%s %q to %q: %w", a.verb(), src, dst, err)
	}
	if a.move {
		if err := os.Remove(src); err != nil {
			return "", fmt.Errorf("move %q: copied, but removing the original failed: %w", src, err)
		}
	}
	c.Output("path", dst)
	return "", nil
}

func (a *copyMove) DryRun(_ context.Context, c *engine.Call) (string, error) {
	src, dst, err := a.paths(c)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would %s %s to %s", a.verb(), src, dst)
	return "", nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%q is a folder", src)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
