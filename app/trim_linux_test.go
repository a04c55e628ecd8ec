package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func rssFileKB(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// trimExecutable gives back the program's pages that start-up touched
// (this test binary's are many MB), the program goes on working, and
// running code afterwards brings back only what it uses: not whole large
// folios of the page cache, which a plain MADV_DONTNEED let come back (on
// Linux 6.18, ext4: most of the dropped pages within milliseconds).
func TestTrimExecutable(t *testing.T) {
	// The test binary was just written: its dirty pages cannot be paged
	// out until they are on disk. (An installed program's are.)
	if exe, err := os.Open("/proc/self/exe"); err == nil {
		exe.Sync()
		exe.Close()
	}
	before := rssFileKB(t)
	libc := libcCodeKB(t)
	trimExecutable()
	after := rssFileKB(t)
	// libc's code is shared with every other program: paging out skips
	// it, so it is unmapped (nothing in it was written)
	if libc > 256 {
		now := libcCodeKB(t)
		t.Logf("libc's code: %d kB resident before, %d kB after", libc, now)
		if now > libc/4 {
			t.Errorf("libc's code: %d kB resident before, %d kB after", libc, now)
		}
	}
	t.Logf("file-backed resident memory: %d kB before, %d kB after", before, after)
	if before-after < 10<<10 || after > before/3 {
		t.Errorf("RssFile %d kB -> %d kB: not trimmed", before, after)
	}
	// code and constant data still work after the drop, and relocated or
	// written data is intact
	var sb strings.Builder
	for i := range 1000 {
		sb.WriteString(strconv.Itoa(i))
	}
	if len(sb.String()) != 2890 || commands["generate"].run == nil {
		t.Error("the program does not run right after the trim")
	}
	// some work over many packages: what comes back stays a fraction of
	// what went
	for _, name := range []string{"generate", "run", "lint"} {
		if c, ok := commands[name]; !ok || c.run == nil {
			t.Errorf("command %q lost after the trim", name)
		}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(map[string]any{"a": []float64{1.5, 2}, "b": time.Now().Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	back := rssFileKB(t)
	t.Logf("after some work: %d kB", back)
	if back-after > (before-after)/4 {
		t.Errorf("RssFile came back from %d to %d kB (of %d kB dropped): whole folios are mapped again", after, back, before-after)
	}
}

// libcCodeKB is the resident part of libc's executable mappings (0 when
// the program does not map libc).
func libcCodeKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	in, kb := false, 0
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 5 && !strings.HasSuffix(f[0], ":"):
			in = len(f) >= 6 && strings.Contains(f[5], "/libc.so") && strings.Contains(f[1], "x")
		case in && len(f) >= 2 && f[0] == "Rss:":
			n, _ := strconv.Atoi(f[1])
			kb += n
		}
	}
	return kb
}

// fields splits smaps lines as strings.Fields would, the sixth field
// keeping the rest of the line.
func TestTrimFields(t *testing.T) {
	var fs [6][]byte
	for _, c := range []struct {
		line string
		want []string
	}{
		{"00406000-01477000 r-xp 00006000 fe:00 9980344   /path/to/deskbot\n", []string{"00406000-01477000", "r-xp", "00006000", "fe:00", "9980344", "/path/to/deskbot"}},
		{"7f00-7f10 rw-p 00000000 00:00 0 \n", []string{"7f00-7f10", "rw-p", "00000000", "00:00", "0"}},
		{"7f00-7f10 r--p 0 fe:00 12   /a dir/lib x.so.6\n", []string{"7f00-7f10", "r--p", "0", "fe:00", "12", "/a dir/lib x.so.6"}},
		{"Anonymous:             0 kB\n", []string{"Anonymous:", "0", "kB"}},
		{"\n", nil},
	} {
		n := fields([]byte(c.line), &fs)
		got := []string{}
		for _, f := range fs[:n] {
			got = append(got, string(f))
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: %q, want %q", c.line, got, c.want)
		}
	}
}
