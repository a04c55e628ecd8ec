//go:build !linux

package gpt2

// systemMemory is unknown here: Load then checks tensor sizes against
// config.json and the file, but not against the machine's memory.
func systemMemory() int64 { return 0 }
