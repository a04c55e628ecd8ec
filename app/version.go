package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
)

// version and commit are set by the Makefile's -ldflags -X (the version from
// FyneApp.toml, the commit from git describe). A plain `go build` leaves them
// empty; then the commit comes from the VCS stamp Go writes into the binary.
var (
	version string
	commit  string
)

func init() {
	commands["version"] = command{"print the version and the commit it was built from", func(args []string) int {
		fmt.Println(versionLine())
		return 0
	}}
}

// versionLine is "deskbot VERSION (commit COMMIT, GOOS/GOARCH, GO)".
func versionLine() string {
	v, c := version, commit
	if v == "" {
		v = "devel"
	}
	if c == "" {
		c = vcsCommit()
	}
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("deskbot %s (commit %s, %s/%s, %s)", v, c, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// vcsCommit is the revision go build stamped (vcs.revision, shortened), with
// "-dirty" when the tree had changes.
func vcsCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && modified == "true" {
		rev += "-dirty"
	}
	return rev
}

// printVersion answers --version.
func printVersion() int {
	fmt.Fprintln(os.Stdout, versionLine())
	return 0
}
