package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
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

// trimExecutable drops the program's read-only pages that start-up
// touched (this test binary's are many MB), and the program goes on
// working: what it needs comes back from the file.
func TestTrimExecutable(t *testing.T) {
	before := rssFileKB(t)
	trimExecutable()
	after := rssFileKB(t)
	t.Logf("file-backed resident memory: %d kB before, %d kB after", before, after)
	if before-after < 10<<10 {
		t.Errorf("RssFile %d kB -> %d kB: not trimmed", before, after)
	}
	// code and constant data still work after the drop (relocated data
	// was left alone)
	var sb strings.Builder
	for i := range 1000 {
		sb.WriteString(strconv.Itoa(i))
	}
	if len(sb.String()) != 2890 || commands["generate"].run == nil {
		t.Error("the program does not run right after the trim")
	}
}
