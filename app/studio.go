package main

import (
	"fmt"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	_ "deskbot/engine/activities"
	"deskbot/ui"
)

// openStudio opens the GUI: the start page, or the flow given as the only
// argument in a window titled "Deskbot — <flow name>".
func openStudio(args []string) int {
	if len(args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: deskbot [FLOW.json]")
		return 2
	}
	a := app.NewWithID("io.deskbot.studio")
	if err := ui.SetupLanguage(a.Preferences().String(ui.PrefLanguage)); err != nil {
		fmt.Fprintln(os.Stderr, "deskbot: translations:", err)
	}
	opts := ui.Options{SamplesDir: samplesDir(), DataDir: studioDataDir()}
	wireStudio(&opts)
	s := ui.NewStudio(a, opts)
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

// wireStudio connects the studio to the store and services; it is replaced
// as those land.
var wireStudio = func(*ui.Options) {}

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

func studioDataDir() string {
	if d := os.Getenv("DESKBOT_DATA"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "deskbot")
	}
	return ""
}

var _ fyne.App // keep the fyne import explicit for readers of this file
