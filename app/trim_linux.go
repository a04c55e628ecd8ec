package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimExecutable drops the pages of this program's and its libraries'
// read-only mappings (code, constant data) from its page tables. Start-up
// touches most of them (the init of every package: studio, spreadsheets,
// PDF...) and the kernel maps whole 64 KB runs around each touch, 45 MB in
// all; a command that then only generates text needs a few MB of them. The
// pages stay in the page cache and come back on first use.
//
// Only mappings that cannot be written and hold no private copy of a page
// (smaps' Anonymous: 0 kB: relocated data such as the GOT is such a copy,
// and dropping it would lose the relocation) are dropped: their pages are
// exactly the file's.
func trimExecutable() {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	type span struct{ lo, hi uintptr }
	var spans []span
	var cur span
	clean := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fs[0], "-"); ok && len(fs) >= 5 {
			// 00406000-0147f000 r-xp 00006000 fe:00 9980344   /path/to/deskbot
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			clean = err1 == nil && err2 == nil && b > a && len(fs) >= 6 && strings.HasPrefix(fs[5], "/") &&
				!strings.Contains(fs[1], "w") && fs[4] != "0"
			cur = span{uintptr(a), uintptr(b)}
			continue
		}
		if fs[0] == "Anonymous:" && clean && len(fs) >= 2 && fs[1] == "0" {
			spans = append(spans, cur)
		}
	}
	f.Close()
	if sc.Err() != nil {
		return
	}
	for _, s := range spans {
		unix.Syscall(unix.SYS_MADVISE, s.lo, s.hi-s.lo, unix.MADV_DONTNEED)
	}
}
