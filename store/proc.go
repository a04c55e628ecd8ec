package store

import (
	"crypto/rand"
	"encoding/hex"
	"os"
)

// selfProc identifies this process beyond its pid: its start time where
// the system tells it, else a random token.
var selfProc = func() string {
	if st, ok := procStart(os.Getpid()); ok {
		return "start:" + st
	}
	var b [8]byte
	rand.Read(b[:])
	return "token:" + hex.EncodeToString(b[:])
}()
