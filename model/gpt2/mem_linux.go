package gpt2

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// systemMemory is the machine's RAM (MemTotal), or the process's cgroup
// memory limit when that is lower; 0 when neither can be read.
func systemMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					total = kb << 10
				}
				break
			}
		}
		f.Close()
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64) // "max": no limit
		if err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}
