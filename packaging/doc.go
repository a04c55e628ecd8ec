// Package packaging holds no code: its tests check what users install. They
// run the Makefile's install, dist-linux, deb and winres targets, install
// into temporary prefixes (and the .deb into the system, with dpkg), and run
// the installed binary on a clean HOME.
package packaging
