//go:build unix

package report

import (
	"syscall"
	"testing"
	"time"
)

// cpuPerOp starts counting the process's CPU time; the function it returns
// reports it per operation as cpu-s/op.
func cpuPerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		if b.N > 0 {
			b.ReportMetric((cpu()-start).Seconds()/float64(b.N), "cpu-s/op")
		}
	}
}
