package gpt2

import (
	"os"
	"runtime"
	"testing"
)

// On this Linux machine every CPU is its own core (lscpu: 1 thread per
// core) unless sysfs says siblings exist: PhysicalCores must agree with
// the count of distinct core ids, and never exceed the CPUs.
func TestPhysicalCores(t *testing.T) {
	n := PhysicalCores()
	if n < 1 || n > runtime.NumCPU() {
		t.Fatalf("PhysicalCores %d outside 1..%d", n, runtime.NumCPU())
	}
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/sys/devices/system/cpu/cpu0/topology/core_id"); err == nil && physicalCores() == 0 {
			t.Fatal("physicalCores found no cores though sysfs has topology")
		}
	}
	if got := newPool(0).size(); got != n {
		t.Fatalf("default threads %d, want PhysicalCores %d", got, n)
	}
	t.Logf("physical cores %d of %d CPUs", n, runtime.NumCPU())
}
