//go:build race

package gpt2

// raceOn: the race detector makes the kernels 10-50x slower; tests that
// run the 124M-shaped model do less under it.
const raceOn = true
