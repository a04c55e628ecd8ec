package gpt2

import (
	"context"
	"runtime"
	"testing"
	"time"

	"deskbot/model"
)

// TestNoSpinWait: a bot and the programs it drives share the machine, so
// the kernels' helper goroutines wait without spinning.
//   - Between generations the model uses no CPU: helpers are parked.
//   - During one, two threads use about the CPU time of one: a helper that
//     spun at every step's barrier (two per layer, per token) would add
//     its waiting to the CPU time.
//
// Both are CPU-time measures (getrusage), not wall-clock speed.
func TestNoSpinWait(t *testing.T) {
	if runtime.GOOS == "windows" || processCPU() == 0 {
		t.Skip("process CPU time is not measured here")
	}
	if testing.Short() {
		t.Skip("loads a 4-layer model")
	}
	dir := t.TempDir()
	cfg := Config{NLayer: 4, NHead: 8, NEmbd: 512, NPositions: 256, VocabSize: 4096, LayerNormEpsilon: 1e-5,
		Activation: "gelu_new", EOSTokenID: 4095}
	if err := writeCheckpoint(dir, cfg); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	req := model.Request{PromptIDs: []int{1, 2, 3, 4}, MaxTokens: 120, IgnoreEOS: true}
	cpuOf := func(threads int) time.Duration {
		m.pool.threads = threads
		c0 := processCPU()
		if _, err := m.Generate(context.Background(), req, func(model.Token) error { return nil }); err != nil {
			t.Fatal(err)
		}
		return processCPU() - c0
	}
	cpuOf(2) // warm up: helpers started, memory touched
	var one, two time.Duration
	for i := 0; i < 3; i++ { // interleaved, so that a busy machine hurts both alike
		one += cpuOf(1)
		two += cpuOf(2)
	}
	t.Logf("CPU time for 3 x 120 tokens: 1 thread %v, 2 threads %v (ratio %.2f)", one, two, float64(two)/float64(one))
	if float64(two) > 1.6*float64(one) {
		t.Errorf("2 threads used %v of CPU against %v for 1: helpers spin while they wait", two, one)
	}
	// Idle: the parked helpers use nothing (the runtime's own background
	// work is a few milliseconds at most).
	c0 := processCPU()
	time.Sleep(300 * time.Millisecond)
	if d := processCPU() - c0; d > 30*time.Millisecond {
		t.Errorf("idle model used %v of CPU in 300 ms", d)
	}
}
