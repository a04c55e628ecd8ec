package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"deskbot/engine"
)

func init() {
	commands["lint"] = command{"check flows without running them", cmdLint}
	commands["fmt"] = command{"rewrite flow files in the canonical key order", cmdFmt}
	commands["docs"] = command{"print the activity reference (docs/activities.md)", cmdDocs}
}

func cmdLint(args []string) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(os.Stderr, "usage: deskbot lint FLOW.json..."); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	bad := false
	for _, path := range fs.Args() {
		f, err := engine.LoadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			bad = true
			continue
		}
		ps := engine.Lint(f, nil, filepath.Dir(path))
		for _, p := range ps {
			fmt.Printf("%s: %s\n", path, p)
		}
		if engine.HasErrors(ps) {
			bad = true
		} else if len(ps) == 0 {
			fmt.Printf("%s: ok (%d nodes)\n", path, len(f.Nodes))
		}
	}
	if bad {
		return 1
	}
	return 0
}

func cmdFmt(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: deskbot fmt FLOW.json...")
		return 2
	}
	rc := 0
	for _, path := range args {
		err := fmtFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			rc = 1
		}
	}
	return rc
}

// fmtFile rewrites one flow file in the canonical form, but only when the
// new text loads again: fmt never writes a file that does not load.
func fmtFile(path string) error {
	f, err := engine.LoadFile(path)
	if err != nil {
		return err
	}
	b, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	if _, err := engine.Parse(b); err != nil {
		return fmt.Errorf("fmt %s: not rewritten, the result would not load: %w", path, err)
	}
	return engine.WriteFileAtomic(path, b, 0o644)
}

func cmdDocs(args []string) int {
	os.Stdout.Write(engine.Markdown(engine.Default))
	return 0
}
