package gpt2

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFile maps the whole of f read-only and shared: the pages are the
// page cache's, counted once however many processes map the file, and
// loaded as they are first read. The mapping starts on a huge-page
// boundary, as the file's offset 0 is one, and asks for huge pages, so
// that the page cache's 2 MB folios (ext4 and others since Linux 6.x) are
// mapped whole (see mappedHuge). unmap releases the mapping.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, fmt.Errorf("cannot map %d bytes", size)
	}
	n := uintptr(size)
	// Reserve a huge page more than needed, then map the file over its
	// aligned part and give back the rest.
	res, err := unix.MmapPtr(-1, 0, nil, n+hugePage, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
	}
	lead := (hugePage - uintptr(res)%hugePage) % hugePage
	p, err := unix.MmapPtr(int(f.Fd()), 0, unsafe.Add(res, lead), n, unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED)
	if err != nil {
		unix.MunmapPtr(res, n+hugePage)
		return nil, nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
	}
	if lead > 0 {
		unix.MunmapPtr(res, lead)
	}
	if end := (lead + n + 4095) &^ 4095; end < n+hugePage {
		unix.MunmapPtr(unsafe.Add(res, end), n+hugePage-end)
	}
	b := unsafe.Slice((*byte)(p), int(n))
	unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b, func() error { return unix.MunmapPtr(p, n) }, nil
}

// mappedHuge is the part of the file mapping b that the kernel maps with
// huge pages (/proc/self/smaps: FilePmdMapped), from 0 to 1; -1 when that
// cannot be read.
func mappedHuge(b []byte) float64 {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return -1
	}
	defer f.Close()
	start := strconv.FormatUint(uint64(uintptr(unsafe.Pointer(&b[0]))), 16) + "-"
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, start) {
			in = true
			continue
		}
		if !in {
			continue
		}
		if v, ok := strings.CutPrefix(line, "FilePmdMapped:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return float64(kb<<10) / float64(len(b))
		}
		if fs := strings.Fields(line); len(fs) > 0 && isRange(fs[0]) {
			break // the next mapping: no FilePmdMapped line (an old kernel)
		}
	}
	return -1
}

// isRange tells smaps' first field of a mapping, "7f70-7f80".
func isRange(s string) bool {
	lo, hi, ok := strings.Cut(s, "-")
	_, err1 := strconv.ParseUint(lo, 16, 64)
	_, err2 := strconv.ParseUint(hi, 16, 64)
	return ok && err1 == nil && err2 == nil
}

// rereadHuge reads the pages of the file at path, mapped at b, into the
// page cache again, in huge folios: it drops this process's pages of b,
// writes the file's dirty pages and drops its pages from the page cache
// (those no other process maps), then reads b through the mapping, whose
// huge-page advice makes the kernel read ahead in 2 MB folios. A file
// just written sits in the page cache in the smaller folios its writes
// made, and stays so until evicted.
func rereadHuge(path string, b []byte) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	unix.Madvise(b, unix.MADV_DONTNEED)
	unix.Fdatasync(int(f.Fd()))
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	var s byte
	for o := 0; o < len(b); o += 4096 {
		s += b[o]
	}
	sink.Store(uint32(s)) // (so that the reads are not optimised away)
}

var sink atomic.Uint32

// hugeFiles says whether a file in dir that is read through a huge-page
// mapping gets mapped in huge pages: the page cache must hold it in 2 MB
// folios (ext4 since Linux 6.16, XFS since 5.18; not tmpfs without
// huge=, nor older kernels). It is probed once per kernel release, with
// an 8 MB file, and the answer kept in dir.
func hugeFiles(dir string) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	marker := filepath.Join(dir, hugeProbeName)
	if b, err := os.ReadFile(marker); err == nil {
		if r, v, ok := strings.Cut(strings.TrimSpace(string(b)), " "); ok && r == rel {
			return v == "yes"
		}
	}
	ok := probeHuge(dir)
	ans := "no"
	if ok {
		ans = "yes"
	}
	os.WriteFile(marker, []byte(rel+" "+ans+"\n"), 0o644)
	return ok
}

func probeHuge(dir string) bool {
	const size = 8 << 20
	f, err := os.CreateTemp(dir, "probe-*.tmp")
	if err != nil {
		return false
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, size))
	if err == nil {
		var b []byte
		var unmap func() error
		if b, unmap, err = mapFile(f, size); err == nil {
			rereadHuge(f.Name(), b)
			share := mappedHuge(b)
			unmap()
			f.Close()
			return share >= 0.9
		}
	}
	f.Close()
	return false
}
