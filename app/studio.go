package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"github.com/robotn/xgb"
	"github.com/robotn/xgb/xproto"

	"deskbot/assets/icon"
	"deskbot/engine/desktop/robot"
	"deskbot/model/gpt2"
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
	if runtime.GOOS == "linux" {
		if hint := glDriverHint(libDirs()); hint != "" {
			fmt.Fprintln(os.Stderr, "deskbot: warning:", hint)
		}
	}
	a := newFyneApp()
	if err := ui.SetupLanguage(a.Preferences().String(ui.PrefLanguage)); err != nil {
		fmt.Fprintln(os.Stderr, "deskbot: translations:", err)
	}
	dataDir, err := store.DataDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
	}
	samples, installed := samplesDir()
	opts := ui.Options{SamplesDir: samples, Prepare: wireServices, Version: versionLine(),
		LocalThreads: gpt2.PhysicalCores(), Quants: gpt2.QuantModes,
		OnLocalModel: func(lm ui.LocalModel) { setLocalModel(lm.Threads, lm.Quant) }}
	if installed {
		// An installed Deskbot opens its samples from a copy in the
		// user's documents, so that their outputs land there.
		if work, err := ui.SamplesWorkDir(); err != nil {
			fmt.Fprintln(os.Stderr, "deskbot: samples:", err)
		} else {
			opts.SamplesWorkDir = work
		}
	}
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
		// A broken file still opens the studio, with the error (its line
		// and column) in a dialog: double-clicking it must show something.
		if err := s.OpenFile(args[0]); err != nil {
			fmt.Fprintln(os.Stderr, "deskbot:", err)
			s.ShowOpenError(args[0], err)
		}
	}
	if p := os.Getenv("DESKBOT_DEBUG_STATE"); p != "" {
		s.StartDebugState(p) // tests driving the real window read it
	}
	s.StartAutosave()
	s.Win.SetMaster()
	s.Win.ShowAndRun()
	return 0
}

// newFyneApp is the studio's fyne app, with Deskbot's id (FyneApp.toml)
// and icon; the window takes the app's icon.
func newFyneApp() fyne.App {
	a := app.NewWithID(appID)
	setIcon(a)
	return a
}

// setIcon gives a Deskbot's icon; its windows take it.
func setIcon(a fyne.App) { a.SetIcon(icon.Resource) }

// appID is FyneApp.toml's ID: it names the preferences folder.
const appID = "io.deskbot.studio"

// checkDisplay says why the studio cannot open a window, before the GUI
// toolkit finds out by panicking: no X display set, one that does not
// answer, or one without OpenGL (GLX). Where a Debian package is missing,
// the error names it.
func checkDisplay() error {
	if runtime.GOOS != "linux" {
		return nil
	}
	disp := os.Getenv("DISPLAY")
	if disp == "" {
		if os.Getenv("WAYLAND_DISPLAY") != "" {
			return errors.New("the studio needs X11, and DISPLAY is not set in this Wayland session: install the Debian package xwayland (apt-get install xwayland) and log in again")
		}
		return errors.New("the studio needs a desktop session, and DISPLAY is not set (on a machine without a desktop, a virtual display works: apt-get install xvfb, then xvfb-run deskbot)")
	}
	c, err := xgb.NewConnDisplay(disp)
	if err != nil {
		return fmt.Errorf("cannot reach the X display %q: %v", disp, err)
	}
	defer robot.CloseX(c)
	ext, err := xproto.QueryExtension(c, uint16(len("GLX")), "GLX").Reply()
	if err != nil {
		return fmt.Errorf("the X display %q: %v", disp, err)
	}
	if !ext.Present {
		return fmt.Errorf("the X display %q has no OpenGL (its GLX extension is off), which the studio's window needs", disp)
	}
	return nil
}

// glDriverHint names the Debian packages of the OpenGL driver when none is
// in libDirs: libGL.so.1 (libgl1, a dependency of the binary) finds no
// vendor library, or Mesa finds no DRI driver, and the window cannot open.
// "" when a driver is there.
func glDriverHint(libDirs []string) string {
	has := func(pattern string) bool {
		for _, d := range libDirs {
			if m, _ := filepath.Glob(filepath.Join(d, pattern)); len(m) > 0 {
				return true
			}
		}
		return false
	}
	switch {
	case !has("libGLX_*.so.0"):
		return "no OpenGL driver found (libGLX_mesa.so.0): install the Debian packages libglx-mesa0 and libgl1-mesa-dri (apt-get install libglx-mesa0 libgl1-mesa-dri)"
	case has("libGLX_mesa.so.0") && !has("libGLX_nvidia.so.0") && !has("dri/*_dri.so"):
		return "no Mesa DRI driver found (dri/swrast_dri.so): install the Debian package libgl1-mesa-dri (apt-get install libgl1-mesa-dri)"
	}
	return ""
}

// libDirs are the folders the dynamic linker searches on Debian (multiarch
// first) and other distributions.
func libDirs() []string {
	dirs := filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))
	if m, _ := filepath.Glob("/usr/lib/*-linux-gnu"); len(m) > 0 {
		dirs = append(dirs, m...)
	}
	return append(dirs, "/usr/lib64", "/usr/lib", "/lib64", "/lib")
}
