//go:build !linux

package main

import "os"

// echoOff is not implemented here: keys typed on a terminal show.
func echoOff(fd int) func() { return nil }

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
