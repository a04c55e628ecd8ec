package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimExecutable gives back the pages of this program's and its shared
// libraries' file mappings (code, constant and initial data). Start-up
// touches most of them (the init of every package: studio, spreadsheets,
// PDF...); a command that then only generates text needs a few MB.
//
// Dropping them from the page tables alone (MADV_DONTNEED) is not enough
// on current kernels: the page cache holds the program in large folios (up
// to 2 MB on ext4 since Linux 6.16) and the next touch maps the whole
// folio again, so 25 faults brought back 24 MB. So each mapping is first
// told not to use huge pages (no 2 MB mappings) and not to read ahead
// (what comes back is read a page at a time, into small folios), then its
// pages are paged out (MADV_PAGEOUT): unmapped, and dropped from the page
// cache where no other process maps them. Nothing is lost: a page is read
// back from the file on its next use, and a page this process changed
// (relocated or written data) goes to swap, or stays where there is none.
// Measured with `deskbot generate --quant q8`: the program's resident file
// pages at the end of a generation were 31 MB with the old drop, 5 MB now.
//
// Pages that other processes map too (libc's code, shared by every
// program) are not paged out; they are only unmapped here (MADV_DONTNEED),
// in the mappings that cannot hold changed pages: not writable, and no
// anonymous (relocated) page in smaps. That took libc's 1 MB of code out
// of a generation's resident set.
//
// Only the program and its libraries are touched, never other mapped
// files (weights mapped with --map-weights must stay in the page cache).
// Kernels before 5.4 refuse MADV_PAGEOUT and nothing changes.
func trimExecutable() {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	exe, _ := os.Readlink("/proc/self/exe")
	// Read a line at a time into a fixed buffer: smaps is about 1 MB, and
	// at the first token whatever this allocates stays on the heap.
	r := bufio.NewReaderSize(f, 16<<10)
	var lo, hi uint64
	var fs [6][]byte
	ours, writable := false, false
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull { // a very long path: skip it
				_, err = r.ReadSlice('\n')
			}
			ours = false
			continue
		}
		if len(line) == 0 && err != nil {
			return
		}
		n := fields(line, &fs)
		// A mapping's first line:
		// 00406000-01477000 r-xp 00006000 fe:00 9980344   /path/to/deskbot
		// then "Key: value kB" lines.
		if n >= 5 && !bytes.HasSuffix(fs[0], []byte(":")) {
			ours = false
			if n < 6 || (string(fs[5]) != exe && !isSharedLib(string(fs[5]))) {
				continue
			}
			span, end, _ := bytes.Cut(fs[0], []byte("-"))
			l, err1 := strconv.ParseUint(string(span), 16, 64)
			h, err2 := strconv.ParseUint(string(end), 16, 64)
			if err1 != nil || err2 != nil || h <= l {
				continue
			}
			lo, hi, ours, writable = l, h, true, bytes.IndexByte(fs[1], 'w') >= 0
			for _, advice := range []uintptr{unix.MADV_NOHUGEPAGE, unix.MADV_RANDOM, unix.MADV_PAGEOUT} {
				unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), advice)
			}
			continue
		}
		// "Anonymous: 0 kB" comes after the mapping's first line: only
		// then is it known that nothing in it was written.
		if ours && !writable && n == 3 && string(fs[0]) == "Anonymous:" && string(fs[1]) == "0" {
			unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), unix.MADV_DONTNEED)
		}
	}
}

// fields splits line at spaces and tabs into up to len(fs) fields (the
// last taking the rest of the line, its newline cut) and says how many.
func fields(line []byte, fs *[6][]byte) int {
	line = bytes.TrimRight(line, "\n")
	n := 0
	for n < len(fs) {
		line = bytes.TrimLeft(line, " \t")
		if len(line) == 0 {
			break
		}
		i := bytes.IndexAny(line, " \t")
		if i < 0 || n == len(fs)-1 {
			fs[n] = bytes.TrimRight(line, " \t")
			n++
			break
		}
		fs[n], line = line[:i], line[i:]
		n++
	}
	return n
}

// isSharedLib tells a shared library's path (libc.so.6, libX11.so.6.4.0).
func isSharedLib(path string) bool {
	base := path[strings.LastIndexByte(path, '/')+1:]
	return strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.")
}
