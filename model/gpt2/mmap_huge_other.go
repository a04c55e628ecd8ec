//go:build !linux

package gpt2

// mappedHuge is unknown here (see mmap_linux.go): the weights are copied.
func mappedHuge([]byte) float64 { return -1 }

func rereadHuge(string, []byte) {}

func hugeFiles(string) bool { return false }
