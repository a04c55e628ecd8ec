//go:build windows

package gpt2

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapFile maps the whole of f read-only (CreateFileMapping and
// MapViewOfFile): the pages are the file cache's, loaded as they are first
// read. unmap releases the view.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, fmt.Errorf("cannot map %d bytes", size)
	}
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, windows.PAGE_READONLY, uint32(uint64(size)>>32), uint32(size), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("CreateFileMapping %s: %w", f.Name(), err)
	}
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_READ, 0, 0, uintptr(size))
	windows.CloseHandle(h) // the view keeps the mapping alive
	if err != nil {
		return nil, nil, fmt.Errorf("MapViewOfFile %s: %w", f.Name(), err)
	}
	// addr is memory outside Go's heap, valid until unmapped.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	b := unsafe.Slice((*byte)(p), int(size))
	return b, func() error { return windows.UnmapViewOfFile(addr) }, nil
}
