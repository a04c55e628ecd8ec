package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2/app"

	"deskbot/store"
	"deskbot/ui"
)

// openStudio opens the GUI: the start page, or the flow given as the only
// argument in a window titled "Deskbot — <flow name>".
func openStudio(args []string) int {
	if len(args) > 1 || (len(args) == 1 && strings.HasPrefix(args[0], "-")) {
		fmt.Fprintln(os.Stderr, "usage: deskbot [FLOW.json]")
		return 2
	}
	a := app.NewWithID("io.deskbot.studio")
	if err := ui.SetupLanguage(a.Preferences().String(ui.PrefLanguage)); err != nil {
		fmt.Fprintln(os.Stderr, "deskbot: translations:", err)
	}
	dataDir, err := store.DataDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
	}
	opts := ui.Options{SamplesDir: samplesDir(), Prepare: wireServices}
	if os.Getenv("DISPLAY") != "" {
		opts.Minimize = minimizeStudio // the Run menu's "Minimize while running"
	}
	if dataDir != "" {
		opts.DataDir = dataDir
		if db, err := openStore(dataDir); err != nil {
			fmt.Fprintln(os.Stderr, "deskbot: run history is off:", err)
		} else {
			defer db.Close()
			ui.WireStore(&opts, db)
		}
	}
	s := ui.NewStudio(a, opts)
	loadReport = s.ShowLoadProgress
	if len(args) == 1 {
		if err := s.OpenFile(args[0]); err != nil {
			fmt.Fprintln(os.Stderr, "deskbot:", err)
			return 1
		}
	}
	s.StartAutosave()
	s.Win.SetMaster()
	s.Win.ShowAndRun()
	return 0
}

// samplesDir finds assets/flows next to the binary, above it, or in the
// working directory; DESKBOT_SAMPLES overrides.
func samplesDir() string {
	if d := os.Getenv("DESKBOT_SAMPLES"); d != "" {
		return d
	}
	var cands []string
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		cands = append(cands, filepath.Join(dir, "assets", "flows"), filepath.Join(dir, "..", "assets", "flows"),
			filepath.Join(dir, "..", "share", "deskbot", "flows"))
	}
	cands = append(cands, filepath.Join("assets", "flows"))
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			abs, _ := filepath.Abs(c)
			return abs
		}
	}
	return ""
}
