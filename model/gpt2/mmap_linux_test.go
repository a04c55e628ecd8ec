package gpt2

import (
	"encoding/binary"
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dropAndReadSmall drops f's pages from the page cache and reads them back
// 4 KB at a time with read-ahead off, so that the page cache holds them in
// single pages.
func dropAndReadSmall(f *os.File) {
	fd := int(f.Fd())
	unix.Fdatasync(fd)
	unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
	unix.Fadvise(fd, 0, 0, unix.FADV_RANDOM)
	buf := make([]byte, 4096)
	for off := int64(0); ; off += 4096 {
		if _, err := f.ReadAt(buf, off); err == io.EOF || err != nil {
			return
		}
	}
}

// residentPages counts the pages of b mapped in this process
// (/proc/self/pagemap's present bit), -1 when that cannot be read.
func residentPages(b []byte) int {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return -1
	}
	defer f.Close()
	const page = 4096
	p := uintptr(unsafe.Pointer(&b[0])) / page
	n := (len(b) + page - 1) / page
	buf := make([]byte, 8*n)
	if _, err := f.ReadAt(buf, int64(p)*8); err != nil {
		return -1
	}
	c := 0
	for i := 0; i < n; i++ {
		if binary.LittleEndian.Uint64(buf[8*i:])>>63 != 0 {
			c++
		}
	}
	return c
}
