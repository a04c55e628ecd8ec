//go:build !race

package gpt2

const raceOn = false
