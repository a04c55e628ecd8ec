package gpt2

import (
	"io"
	"os"

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
