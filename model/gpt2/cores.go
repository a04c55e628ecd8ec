package gpt2

import (
	"runtime"
	"sync"
)

var physical struct {
	once sync.Once
	n    int
}

// PhysicalCores is the number of physical CPU cores this process may use
// (hyper-threads of one core count once), at least 1: the default thread
// count. The kernels stream weights from memory, and a second hyper-thread
// of a core adds no bandwidth, only contention.
func PhysicalCores() int {
	physical.once.Do(func() {
		n := physicalCores()
		if n <= 0 || n > runtime.NumCPU() {
			n = runtime.NumCPU()
		}
		physical.n = max(1, n)
	})
	return physical.n
}
