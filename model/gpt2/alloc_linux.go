package gpt2

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

const hugePage = 2 << 20

// sysAlloc maps n bytes (rounded up to whole huge pages) of anonymous
// memory aligned to a huge page and asks for transparent huge pages; nil
// when n is small or the mapping fails (the caller uses the Go heap).
func sysAlloc(n int) []byte {
	if n < 256<<10 {
		return nil
	}
	size := (n + hugePage - 1) &^ (hugePage - 1)
	// Over-map by a huge page so the start can be aligned to one.
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size+hugePage), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil
	}
	off := (hugePage - uintptr(p)%hugePage) % hugePage
	if off > 0 {
		unix.MunmapPtr(p, off)
	}
	if tail := hugePage - off; tail > 0 {
		unix.MunmapPtr(unsafe.Add(p, off+uintptr(size)), tail)
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, off)), size)
	unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b
}

func sysFree(b []byte) { unix.MunmapPtr(unsafe.Pointer(&b[:1][0]), uintptr(cap(b))) }

// dropPages gives back this process's pages of a shared file mapping that
// was just copied (the page cache keeps them): the copy's peak is one
// matrix, not the whole file.
func dropPages(b []byte) { advisePages(b, unix.MADV_DONTNEED) }

// populate maps the pages of a new buffer in one call (MADV_POPULATE_WRITE,
// Linux 5.14; older kernels refuse it and nothing changes) instead of one
// page fault at a time as a generation first writes them. The contents stay
// as they are. On this project's virtual machines a fault costs about 13 µs
// against under 1 µs a page populated, and a KV cache written a position at
// a time faults every token or two per layer.
func populate(s []float32) {
	if len(s) > 0 {
		advisePages(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s)), unix.MADV_POPULATE_WRITE)
	}
}

// advisePages gives advice for the whole pages inside b (the partial pages
// at its ends may hold other data).
func advisePages(b []byte, advice int) {
	const page = 4096
	if len(b) < page {
		return
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	lo := int((page - p%page) % page)
	hi := len(b) - int((p+uintptr(len(b)))%page)
	if hi > lo {
		unix.Madvise(b[lo:hi], advice)
	}
}
