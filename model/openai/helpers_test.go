package openai

import "os"

var realGet, realSet = keyringGet, keyringSet

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
