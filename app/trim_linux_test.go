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
	trimExecutable()
	after := rssFileKB(t)
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
