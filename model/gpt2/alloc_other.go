//go:build !linux

package gpt2

// sysAlloc has no huge-page mapping here: the weights stay on the Go heap.
func sysAlloc(n int) []byte { return nil }

func sysFree([]byte) {}

func dropPages([]byte) {}

// populate has nothing to do here: pages are mapped as they are written.
func populate([]float32) {}
