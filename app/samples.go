package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"deskbot/engine"
	"deskbot/ui"
)

func init() {
	commands["samples"] = command{"copy the sample flows and their data into your documents folder and list them", cmdSamples}
}

// samplesDir finds the sample flows and says whether they are installed
// ones (to be copied into the user's documents before use) or a source
// checkout's (used in place):
//   - $DESKBOT_SAMPLES: in place;
//   - assets/flows next to or above the binary (bin/deskbot in a checkout): in place;
//   - PREFIX/share/deskbot/flows for PREFIX/bin/deskbot (make install, the
//     .deb, the tarball): installed;
//   - samples next to the binary (the Windows zip): installed;
//   - assets/flows in the working directory: in place.
func samplesDir() (dir string, installed bool) {
	if d := os.Getenv("DESKBOT_SAMPLES"); d != "" {
		return d, false
	}
	type cand struct {
		dir       string
		installed bool
	}
	var cands []cand
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		dir := filepath.Dir(exe)
		cands = append(cands,
			cand{filepath.Join(dir, "assets", "flows"), false},
			cand{filepath.Join(dir, "..", "assets", "flows"), false},
			cand{filepath.Join(dir, "..", "share", "deskbot", "flows"), true},
			cand{filepath.Join(dir, "samples"), true})
	}
	cands = append(cands, cand{filepath.Join("assets", "flows"), false})
	for _, c := range cands {
		if st, err := os.Stat(c.dir); err == nil && st.IsDir() {
			abs, _ := filepath.Abs(c.dir)
			return abs, c.installed
		}
	}
	return "", false
}

// cmdSamples copies the samples into DOCUMENTS/Deskbot/samples (keeping
// files already there) and lists them.
func cmdSamples(args []string) int {
	fs := flag.NewFlagSet("samples", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(os.Stderr, "usage: deskbot samples") }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	src, _ := samplesDir()
	dst, err := ui.SamplesWorkDir()
	if err == nil {
		err = ui.CopySamples(src, dst)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	files, _ := filepath.Glob(filepath.Join(dst, "*.json"))
	sort.Strings(files)
	fmt.Printf("samples in %s:\n", dst)
	for _, p := range files {
		f, err := engine.LoadFile(p)
		if err != nil {
			continue
		}
		desc, _, _ := strings.Cut(f.Description, "\n")
		fmt.Printf("  %-28s %s: %s\n", filepath.Base(p), f.Name, desc)
	}
	if len(files) > 0 {
		fmt.Printf("run one: deskbot run %s\n", files[0])
	}
	return 0
}

// installedSampleCopy is, for a flow inside an installed samples folder,
// the path of its copy in the user's documents (made if missing): a sample
// run from the install folder would write its outputs there. "" for any
// other flow.
func installedSampleCopy(path string) (string, error) {
	dir, installed := samplesDir()
	if !installed {
		return "", nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", nil
	}
	dst, err := ui.SamplesWorkDir()
	if err != nil {
		return "", err
	}
	if err := ui.CopySamples(dir, dst); err != nil {
		return "", err
	}
	return filepath.Join(dst, rel), nil
}
