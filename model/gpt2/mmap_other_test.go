//go:build !linux

package gpt2

import "os"

func dropAndReadSmall(*os.File) {}
