//go:build !linux && !windows

package gpt2

// physicalCores is unknown here: PhysicalCores falls back to the CPUs.
func physicalCores() int { return 0 }
