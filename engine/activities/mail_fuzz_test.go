package activities

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A server can send anything as a message: taking it apart never panics,
// and saved attachments stay inside the folder.
func FuzzMessageRow(f *testing.F) {
	f.Add([]byte("From: a@b.c\r\nSubject: =?UTF-8?B?5pyI?=\r\n\r\nhi\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Disposition: attachment; filename=\"../../x\"\r\n\r\ny\r\n--X--\r\n"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=\"\"\r\n\r\n--\r\n"))
	f.Add([]byte("Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		dir := t.TempDir()
		row, err := messageRow(raw, 7, time.Time{}, dir)
		if err != nil {
			return
		}
		for _, p := range row["files"].([]any) {
			rel, err := filepath.Rel(dir, p.(string))
			if err != nil || strings.HasPrefix(rel, "..") || strings.ContainsRune(rel, os.PathSeparator) {
				t.Fatalf("saved outside the folder: %s", p)
			}
		}
	})
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{"../../evil.txt": "evil.txt", `C:\x\y.pdf`: "y.pdf", "": "attachment-3", "..": "attachment-3",
		"a\x00b?.txt": "a_b_.txt", "报表.xlsx": "报表.xlsx"} {
		if got := safeName(in, 2); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
	if n := safeName(strings.Repeat("长", 100)+".pdf", 0); len(n) > 200 || !strings.HasSuffix(n, ".pdf") {
		t.Errorf("long name: %d bytes", len(n))
	}
}
