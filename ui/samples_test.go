package ui

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// copyTree copies the folder src to dst (for a stand-in install folder).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := CopySamples(src, dst); err != nil {
		t.Fatal(err)
	}
}

// listTree lists the files under dir with their sizes.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, fmt.Sprintf("%s %d", rel, info.Size()))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// buttons finds the buttons in a tree of canvas objects by their text.
func buttons(o fyne.CanvasObject) map[string]*widget.Button {
	found := map[string]*widget.Button{}
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Button:
			found[w.Text] = w
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(w.Content)
		}
	}
	walk(o)
	return found
}

// TestStartPageSamplesOpenFromDocuments: an installed studio (samples in a
// read-only install folder, a clean documents folder) lists the samples on
// its start page; opening one copies the samples with their data into the
// documents folder and opens the copy, and the install folder is left as it
// was. A sample the user has changed is not overwritten by a later open.
func TestStartPageSamplesOpenFromDocuments(t *testing.T) {
	install := filepath.Join(t.TempDir(), "share", "deskbot", "flows")
	copyTree(t, filepath.Join("..", "assets", "flows"), install)
	os.RemoveAll(filepath.Join(install, "out"))
	before := listTree(t, install)
	work := filepath.Join(t.TempDir(), "Documents", "Deskbot", "samples")

	a := test.NewApp()
	t.Cleanup(a.Quit)
	s := NewStudio(a, Options{DataDir: t.TempDir(), SamplesDir: install, SamplesWorkDir: work})
	bs := buttons(s.Win.Content())
	for _, name := range []string{"CSV to letters", "Invoice summary", "Tidy inbox folder"} {
		if bs[name] == nil {
			t.Errorf("the start page has no button for the sample %q; it has %v", name, buttonNames(bs))
		}
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Fatalf("the samples were copied before any was opened: %v", err)
	}
	b := bs["CSV to letters"]
	if b == nil {
		t.FailNow()
	}
	test.Tap(b)
	if want := filepath.Join(work, "csv-to-letters.json"); s.Doc.Path != want {
		t.Fatalf("opened %q, want the copy %q", s.Doc.Path, want)
	}
	if s.onStart {
		t.Error("the studio still shows the start page")
	}
	for _, f := range []string{"data/customers.csv", "data/inbox/notes.txt", "invoice-summary.json", "fill-form-name.png"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Errorf("the sample's %s was not copied: %v", f, err)
		}
	}
	if after := listTree(t, install); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the install folder changed:\n%v\n%v", before, after)
	}

	// The user edits the copy; opening the sample again keeps the edit.
	edited := filepath.Join(work, "data", "customers.csv")
	if err := os.WriteFile(edited, []byte("id,first_name\n1,Zoë\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.ShowStartPage()
	test.Tap(buttons(s.Win.Content())["CSV to letters"])
	if b, _ := os.ReadFile(edited); string(b) != "id,first_name\n1,Zoë\n" {
		t.Errorf("opening the sample again overwrote the user's data: %q", b)
	}
}

// TestStartPageSamplesInPlace: without a SamplesWorkDir (a source checkout)
// a sample opens where it is.
func TestStartPageSamplesInPlace(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "assets", "flows"))
	a := test.NewApp()
	t.Cleanup(a.Quit)
	s := NewStudio(a, Options{DataDir: t.TempDir(), SamplesDir: dir})
	b := buttons(s.Win.Content())["Tidy inbox folder"]
	if b == nil {
		t.Fatal(`no "Tidy inbox folder" sample on the start page`)
	}
	test.Tap(b)
	if want := filepath.Join(dir, "tidy-inbox.json"); s.Doc.Path != want {
		t.Errorf("opened %q, want %q", s.Doc.Path, want)
	}
}

func buttonNames(m map[string]*widget.Button) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestDocumentsDir: $XDG_DOCUMENTS_DIR, else xdg-user-dirs' file (localized
// names, $HOME expanded), else ~/Documents; a user-dirs line naming the home
// folder itself means "none" and falls back.
func TestDocumentsDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_DOCUMENTS_DIR", "")
	check := func(want string) {
		t.Helper()
		got, err := DocumentsDir()
		if err != nil || got != want {
			t.Errorf("DocumentsDir() = %q, %v; want %q", got, err, want)
		}
	}
	check(filepath.Join(home, "Documents"))
	os.MkdirAll(filepath.Join(home, ".config"), 0o755)
	dirs := filepath.Join(home, ".config", "user-dirs.dirs")
	os.WriteFile(dirs, []byte("# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Schreibtisch\"\nXDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n"), 0o644)
	check(filepath.Join(home, "Dokumente"))
	os.WriteFile(dirs, []byte("XDG_DOCUMENTS_DIR=\"$HOME/\"\n"), 0o644)
	check(filepath.Join(home, "Documents"))
	t.Setenv("XDG_DOCUMENTS_DIR", "/srv/docs")
	check("/srv/docs")
	if w, _ := SamplesWorkDir(); w != filepath.Join("/srv/docs", "Deskbot", "samples") {
		t.Errorf("SamplesWorkDir() = %q", w)
	}
}

// TestCopySamplesErrors: a missing samples folder is a clear error, not a
// crash, and names what is missing.
func TestCopySamplesErrors(t *testing.T) {
	if err := CopySamples("", t.TempDir()); err == nil || !strings.Contains(err.Error(), "without its samples") {
		t.Errorf("no samples folder: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if err := CopySamples(missing, t.TempDir()); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing samples folder: %v", err)
	}
	// A destination that cannot be made (a file in the way) is named.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	if err := CopySamples(filepath.Join("..", "assets", "flows"), filepath.Join(blocker, "samples")); err == nil || !strings.Contains(err.Error(), blocker) {
		t.Errorf("blocked destination: %v", err)
	}
}

// FuzzUserDirs: any user-dirs.dirs file gives no documents folder or an
// absolute one, never a crash.
func FuzzUserDirs(f *testing.F) {
	f.Add("XDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n")
	f.Add("XDG_DOCUMENTS_DIR=\"$HOME/\"\n")
	f.Add("XDG_DOCUMENTS_DIR=/abs/docs\nXDG_DOCUMENTS_DIR=relative\n")
	f.Add("XDG_DOCUMENTS_DIR=\"\"")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		file := filepath.Join(dir, "user-dirs.dirs")
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if d := userDirsDocuments(file, "/home/u"); d != "" && !filepath.IsAbs(d) {
			t.Errorf("%q gave the relative folder %q", content, d)
		}
	})
}
