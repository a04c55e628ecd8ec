package gpt2

import "unsafe"

// Weights live outside the Go heap where the system allows (see
// alloc_linux.go): in anonymous mappings asked to use huge pages, so that
// streaming them takes fewer TLB misses and the hardware prefetcher is not
// stopped at every 4 KiB page; the garbage collector never sees them and
// Close gives them back at once.

// arena hands out weight memory, carved from large blocks (a block per
// allocation would round each up to a whole huge page, resident once
// touched); its blocks are freed together.
type arena struct {
	blocks [][]byte
	cur    []byte // the unused rest of the last block
}

// arenaBlock is the size of the blocks the arena maps (bigger requests
// get their own).
const arenaBlock = 32 << 20

// bytes returns n zeroed bytes, 64-byte aligned. A nil arena takes them
// from the Go heap.
func (a *arena) bytes(n int) []byte {
	if n == 0 {
		return nil
	}
	n64 := (n + 63) &^ 63
	if a != nil {
		if len(a.cur) < n64 {
			if b := sysAlloc(max(n64, arenaBlock)); b != nil {
				a.blocks = append(a.blocks, b)
				a.cur = b
			}
		}
		if len(a.cur) >= n64 {
			b := a.cur[:n:n]
			a.cur = a.cur[n64:]
			return b
		}
	}
	b := make([]byte, n+64)
	off := (64 - int(uintptr(unsafe.Pointer(&b[0]))&63)) & 63
	return b[off : off+n : off+n]
}

// reserve makes room for n more bytes in one block, so that requests
// adding up to n (each rounded up to 64 bytes) take no further block:
// every block ends in a partly used huge page, resident as a whole.
func (a *arena) reserve(n int) {
	if a != nil && len(a.cur) < n {
		if b := sysAlloc(n); b != nil {
			a.blocks = append(a.blocks, b)
			a.cur = b
		}
	}
}

func (a *arena) f32(n int) []float32 {
	b := a.bytes(4 * n)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}

func (a *arena) i8(n int) []int8 {
	b := a.bytes(n)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(&b[0])), n)
}

func (a *arena) u16(n int) []uint16 {
	b := a.bytes(2 * n)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n)
}

// free releases every block; no slice from the arena may be used after.
func (a *arena) free() {
	if a == nil {
		return
	}
	for _, b := range a.blocks {
		sysFree(b)
	}
	a.blocks, a.cur = nil, nil
}
