package gpt2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestCacheHitPeakRSS loads q8 weights from the cache in a process of its
// own and compares its peak resident memory (VmHWM) during Load with the
// weights: at most the weights plus 15 % and 12 MB (the copy's 8 MB piece,
// the small tensors, the heap). Reading the small tensors (biases, norms,
// positions) after the mapped file's pages had been given back brought
// back large runs of the page cache around each: 65 MB for GPT-2 124M.
func TestCacheHitPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 60 MB checkpoint")
	}
	ckpt := t.TempDir()
	cache := t.TempDir()
	cfg := Config{NLayer: 12, NHead: 6, NEmbd: 384, NPositions: 256, VocabSize: 4096, LayerNormEpsilon: 1e-5}
	if err := writeCheckpoint(ckpt, cfg); err != nil {
		t.Fatal(err)
	}
	m, err := Load(ckpt, Options{Threads: 1, Quant: "q8", CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := m.Cache(); st != "miss" {
		t.Fatalf("first load: cache %s", st)
	}
	m.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCacheRSSChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GPT2_RSS_CHILD="+ckpt, cacheEnvName+"="+cache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	i := bytes.Index(out, []byte("RESULT "))
	if i < 0 {
		t.Fatalf("child printed no result:\n%s", out)
	}
	var r struct{ Base, Peak, Weights int64 }
	line := out[i+len("RESULT "):]
	if err := json.Unmarshal(line[:bytes.IndexByte(line, '\n')], &r); err != nil {
		t.Fatal(err)
	}
	grew, limit := r.Peak-r.Base, r.Weights*115/100+12<<20
	t.Logf("weights %.1f MB; resident before Load %.1f MB, peak %.1f MB: Load added %.1f MB (limit %.1f)",
		mb(r.Weights), mb(r.Base), mb(r.Peak), mb(grew), mb(limit))
	if grew > limit {
		t.Errorf("loading %.1f MB of weights from the cache raised the peak resident memory by %.1f MB", mb(r.Weights), mb(grew))
	}
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// TestCacheRSSChild is TestCacheHitPeakRSS's child process.
func TestCacheRSSChild(t *testing.T) {
	ckpt := os.Getenv("GPT2_RSS_CHILD")
	if ckpt == "" {
		t.Skip("run by TestCacheHitPeakRSS")
	}
	if _, err := BuiltinTokenizer(); err != nil { // its tables are not weights
		t.Fatal(err)
	}
	base := procStatus(t, "VmRSS")
	m, err := Load(ckpt, Options{Threads: 1, Quant: "q8"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if st, note := m.Cache(); st != "hit" {
		t.Fatalf("cache %s (%s)", st, note)
	}
	peak := procStatus(t, "VmHWM")
	var w int64
	m.eachMatrix(func(x *matrix) { w += int64(4*len(x.f) + len(x.q) + 2*len(x.s)) })
	fmt.Printf("RESULT {\"Base\":%d,\"Peak\":%d,\"Weights\":%d}\n", base, peak, w)
}

// procStatus is a field of /proc/self/status in bytes.
func procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field+":" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
