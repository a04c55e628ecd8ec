//go:build !unix && !windows

package gpt2

import (
	"fmt"
	"io"
	"os"
)

// mapFile reads the whole of f into memory where there is no mmap.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, fmt.Errorf("cannot read %d bytes", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), b); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return b, func() error { return nil }, nil
}
