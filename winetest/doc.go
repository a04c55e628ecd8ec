// Package winetest is Deskbot's Windows test stage: it runs bin/deskbot.exe
// under Wine on a throwaway Xvfb display with jwm, in a fresh Wine prefix.
// It checks the command line (lint, run, runs, show-run, with Windows paths
// and a real SQLite file under folders with non-ASCII names), the desktop
// activities against Wine's own notepad driven by the exe, and that the
// studio opens its window.
//
// `make test-windows` (part of `make test`) builds the exe and sets
// DESKBOT_WINE_EXE; without it the tests say so and skip. Wine 8.0 lacks
// bcryptprimitives.dll, whose ProcessPrng Go's runtime imports: the stage
// builds a stand-in from testdata/ with mingw into the prefix's system32.
// That DLL is a test fixture only, never shipped.
package winetest
