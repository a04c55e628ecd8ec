//go:build unix && !linux

package gpt2

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the whole of f read-only and shared: the pages are the
// page cache's, counted once however many processes map the file, and
// loaded as they are first read. unmap releases the mapping.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, fmt.Errorf("cannot map %d bytes", size)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
	}
	return b, func() error { return unix.Munmap(b) }, nil
}
