//go:build !linux

package main

// trimExecutable does nothing here (see trim_linux.go).
func trimExecutable() {}
