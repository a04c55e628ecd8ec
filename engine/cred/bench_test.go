package cred

import "testing"

// The cost a run pays on its first credential from the encrypted file
// (Argon2id, 64 MiB, 3 passes, then AES-GCM), against the same lookup
// from a store that has the file open (the baseline: every later lookup).
func BenchmarkGetFromFile(b *testing.B) {
	dir := b.TempDir()
	s, _ := Open(Options{Dir: dir, Backend: StoreFile, Passphrase: passFn("bench")})
	if _, err := s.Set(Credential{Name: "x", User: "u", Secret: "bench-secret-1"}); err != nil {
		b.Fatal(err)
	}
	b.Run("first-lookup", func(b *testing.B) {
		for b.Loop() {
			s, _ := Open(Options{Dir: dir, Passphrase: passFn("bench")})
			if _, err := s.Get("x"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-open-store", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get("x"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
