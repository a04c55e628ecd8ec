//go:build !linux

package main

// echoOff is not implemented here: keys typed on a terminal show.
func echoOff(fd int) func() { return nil }
