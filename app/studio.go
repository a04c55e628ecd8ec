package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"fyne.io/fyne/v2/app"
	"github.com/robotn/xgb"

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
	if err := checkDisplay(); err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		fmt.Fprintln(os.Stderr, "deskbot: the command line works without one: deskbot run FLOW.json (deskbot help)")
		return 1
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
		opts.Screen = openScreen       // "Indicate on screen" and "Test"
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

// checkDisplay says why the studio cannot open a window, before the GUI
// toolkit finds out by panicking: no X display set, or one that does not
// answer.
func checkDisplay() error {
	if runtime.GOOS != "linux" {
		return nil
	}
	disp := os.Getenv("DISPLAY")
	if disp == "" {
		if os.Getenv("WAYLAND_DISPLAY") != "" {
			return errors.New("the studio needs X11 (XWayland): DISPLAY is not set")
		}
		return errors.New("the studio needs a desktop session, and DISPLAY is not set")
	}
	c, err := xgb.NewConnDisplay(disp)
	if err != nil {
		return fmt.Errorf("cannot reach the X display %q: %v", disp, err)
	}
	c.Close()
	return nil
}
