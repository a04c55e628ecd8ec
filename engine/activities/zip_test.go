package activities_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"deskbot/engine/activities"
)

// tree lists the files under dir (relative, slash-separated) with their
// contents; links are listed with a "->" marker.
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			out[filepath.ToSlash(rel)] = "->link"
		case d.IsDir():
			out[filepath.ToSlash(rel)+"/"] = ""
		default:
			b, _ := os.ReadFile(p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	return out
}

func TestZipUnzip(t *testing.T) {
	dir := t.TempDir()
	for p, s := range map[string]string{"in/report/a.txt": "A", "in/report/sub/b.csv": "x,y\n1,2\n", "in/note.txt": "note"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "in/report/link"))
	res, err := runNode(t, dir, "file.zip", map[string]any{"sources": []any{"in/report", "in/note.txt"}, "to": "out/pack.zip"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = res
	_, err = runNode(t, dir, "file.zip", map[string]any{"sources": []any{"in/note.txt"}, "to": "out/pack.zip"}, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("zip over an archive: %v", err)
	}
	_, err = runNode(t, dir, "file.zip", map[string]any{"sources": []any{"in/note.txt", "in/report/../note.txt"}, "to": "out/dup.zip"}, nil)
	if err == nil || !strings.Contains(err.Error(), `would both be "note.txt"`) {
		t.Errorf("two sources, one name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/dup.zip")); err == nil {
		t.Error("a failed zip left an archive")
	}
	res, err = runNode(t, dir, "file.unzip", map[string]any{"path": "out/pack.zip", "to": "back", "output": "files"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"report/": "", "report/a.txt": "A", "report/sub/": "", "report/sub/b.csv": "x,y\n1,2\n", "note.txt": "note"}
	if got := tree(t, filepath.Join(dir, "back")); !reflect.DeepEqual(got, want) {
		t.Errorf("unzipped %v, want %v (links stay out)", got, want)
	}
	if files := res.Vars["files"].([]any); len(files) != 3 {
		t.Errorf("file list %v", files)
	}
	_, err = runNode(t, dir, "file.unzip", map[string]any{"path": "out/pack.zip", "to": "back"}, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists (set overwrite)") {
		t.Errorf("unzip over files: %v", err)
	}
	if _, err := runNode(t, dir, "file.unzip", map[string]any{"path": "out/pack.zip", "to": "back", "overwrite": true}, nil); err != nil {
		t.Errorf("overwrite: %v", err)
	}
}

type entry struct {
	name string
	body string
	mode fs.FileMode
}

func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	zw.Close()
	return buf.Bytes()
}

// lyingZip has one entry that claims 10 bytes but unpacks to n.
func lyingZip(t testing.TB, n int) []byte {
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(make([]byte, n))
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "small.txt", Method: zip.Deflate, CompressedSize64: uint64(comp.Len()), UncompressedSize64: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return buf.Bytes()
}

func TestUnzipHostile(t *testing.T) {
	outside := t.TempDir()
	bomb := strings.Repeat("\x00", 3<<20)
	for _, tc := range []struct {
		name    string
		zip     []byte
		want    string
		prepare func(dir string)
	}{
		{"dot-dot", makeZip(t, entry{name: "ok.txt", body: "ok"}, entry{name: "../evil.txt", body: "x"}), `unsafe entry "../evil.txt": it climbs out of the folder (..)`, nil},
		{"dot-dot inside", makeZip(t, entry{name: "a/../../evil.txt", body: "x"}), `unsafe entry "a/../../evil.txt"`, nil},
		{"backslash dot-dot", makeZip(t, entry{name: "a\\..\\..\\evil.txt", body: "x"}), `it climbs out of the folder`, nil},
		{"absolute", makeZip(t, entry{name: "/tmp/evil.txt", body: "x"}), `unsafe entry "/tmp/evil.txt": an absolute path`, nil},
		{"windows absolute", makeZip(t, entry{name: "C:\\evil.txt", body: "x"}), `an absolute path`, nil},
		{"windows root", makeZip(t, entry{name: "\\evil.txt", body: "x"}), `an absolute path`, nil},
		{"link entry", makeZip(t, entry{name: "ok.txt", body: "ok"}, entry{name: "passwd", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}), `unsafe entry "passwd": a link`, nil},
		{"bomb", makeZip(t, entry{name: "zeros.bin", body: bomb}), `entry "zeros.bin": the archive says it unpacks to more than the size limit of 1 MB`, nil},
		{"many small", makeZip(t, entry{name: "a.bin", body: bomb[:600<<10]}, entry{name: "b.bin", body: bomb[:600<<10]}), `entry "b.bin": the archive says it unpacks to more than`, nil},
		{"lying sizes", lyingZip(t, 3<<20), `entry "small.txt"`, nil},
		{"too many entries", makeZip(t, entry{name: "1"}, entry{name: "2"}, entry{name: "3"}, entry{name: "4"}), `4 entries, more than the limit of 3`, nil},
		{"through a link in the folder", makeZip(t, entry{name: "out/evil.txt", body: "x"}), `is a link or a file, not a folder`, func(dir string) { os.Symlink(outside, filepath.Join(dir, "out")) }},
		{"not a zip", []byte("PK not really"), `not a readable zip archive`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "hostile.zip"), tc.zip, 0o644)
			dest := filepath.Join(dir, "dest")
			if tc.prepare != nil {
				os.MkdirAll(dest, 0o755)
				tc.prepare(dest)
			}
			before := tree(t, dest)
			_, err := runNode(t, dir, "file.unzip", map[string]any{"path": "hostile.zip", "to": "dest", "max_mb": 1, "max_files": 3}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "unzip hostile.zip") {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if got := tree(t, dest); !reflect.DeepEqual(got, before) {
				t.Errorf("the folder changed: %v", got)
			}
			if got := tree(t, outside); len(got) != 0 || fileExists(filepath.Join(dir, "evil.txt")) {
				t.Errorf("wrote outside: %v", got)
			}
		})
	}
}

func fileExists(p string) bool { _, err := os.Lstat(p); return err == nil }

// FuzzUnzip: any bytes unpack inside the folder or fail; never a panic,
// never a file or link outside it.
func FuzzUnzip(f *testing.F) {
	f.Add(makeZip(f, entry{name: "a/b.txt", body: "hello"}, entry{name: "c/"}))
	f.Add(makeZip(f, entry{name: "../x", body: "x"}))
	f.Add(makeZip(f, entry{name: "l", body: "/etc", mode: fs.ModeSymlink | 0o777}))
	f.Add(lyingZip(f, 1000))
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "in")
		files, err := activities.Unzip(bytes.NewReader(b), int64(len(b)), dir, activities.UnzipLimits{MaxBytes: 1 << 20, MaxFiles: 50})
		if err != nil && len(files) != 0 {
			t.Fatalf("an error with files left: %v", files)
		}
		var names []string
		for name, v := range tree(t, root) {
			if !strings.HasPrefix(name, "in/") || v == "->link" {
				t.Fatalf("%q outside the folder or a link", name)
			}
			if !strings.HasSuffix(name, "/") {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		if err != nil && errors.Is(err, activities.ErrUnsafeEntry) && len(names) > 0 {
			t.Fatalf("an unsafe archive wrote %v", names)
		}
	})
}

// Zipping a folder into an archive inside it leaves the archive (and its
// temporary file) out of itself.
func TestZipIntoItsOwnFolder(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "work"), 0o755)
	os.WriteFile(filepath.Join(dir, "work/a.txt"), []byte("a"), 0o644)
	for i := 0; i < 2; i++ { // the second time over the first archive
		if _, err := runNode(t, dir, "file.zip", map[string]any{"sources": []any{"work"}, "to": "work/self.zip", "overwrite": true}, nil); err != nil {
			t.Fatal(err)
		}
	}
	zr, err := zip.OpenReader(filepath.Join(dir, "work/self.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !reflect.DeepEqual(names, []string{"work/", "work/a.txt"}) {
		t.Errorf("entries %v", names)
	}
}
