//go:build sqlite_fts5 || fts5

package store_test

// builtWithFTS5 says whether this test binary has SQLite's FTS5 (the
// sqlite_fts5 build tag, which the Makefile passes).
const builtWithFTS5 = true
