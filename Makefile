# Deskbot. `make run` opens the studio with a sample flow; `make test` runs
# every test. Both install what they need first (`make deps`).

GO       ?= go
BIN      := bin/deskbot
# The version is FyneApp.toml's; the commit is git's (a dirty tree says so).
# Both are stamped into the binary: deskbot --version.
VERSION  := $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
COMMIT   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
PREFIX   ?= /usr/local
DESTDIR  ?=
GOWINRES := bin/tools/go-winres
WIN_EXE  := bin/deskbot.exe
# The Windows build: cgo through Debian's mingw-w64 (fyne, robotgo's Windows
# backend, go-sqlite3). A cold build takes ~9 minutes on 2 cores; keep GOCACHE.
WIN_ENV  := GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++
SAMPLE   ?= assets/flows/csv-to-letters.json
# Fuzz budgets are counts, not durations: with a duration, Go 1.26's fuzz
# coordinator can fail a target with a bare "context deadline exceeded" when
# the time runs out while a worker is busy on a loaded machine
# (golang/go#75804, fixed in Go 1.27). 5000 inputs take 1-4 s a target here.
FUZZTIME ?= 5000x
export LANG ?= en_US.UTF-8
# SQLite's FTS5 (full-text search of the Generations tab) is compiled into
# go-sqlite3 only with this tag; every go build, test, vet and run below
# gets it through GOFLAGS, as would a cross-build (GOOS=windows make build).
# A binary built without it still works: it searches with LIKE (store.FullTextSearch).
export GOFLAGS += -tags=sqlite_fts5

# Debian packages that the build and the tests need. cgo: fyne (GL, X11),
# robotgo (XTest), go-sqlite3, Tesseract for OCR (C++, with its English and
# Simplified Chinese data). Tests: Xvfb, a window manager, X tools,
# ImageMagick for screenshots, poppler for PDFs, rsvg-convert (cairo) for a
# PDF another program writes, NumPy for the reference model, gnome-keyring and
# dbus-run-session (dbus-daemon) for the credential keyring test, Chromium
# to open the HTML report, WenQuanYi Micro Hei for Chinese in charts and PDFs.
DEB_PKGS := gcc g++ pkg-config libc6-dev libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev libxtst-dev libxkbcommon-dev libpng-dev \
	xvfb xauth jwm xdotool xclip xsel x11-utils zenity imagemagick poppler-utils librsvg2-bin python3 python3-numpy \
	fonts-dejavu-core fonts-wqy-microhei libtesseract-dev tesseract-ocr-eng tesseract-ocr-chi-sim \
	gnome-keyring dbus-daemon chromium \
	gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine wine64

.PHONY: deps build windows run test test-go test-windows fuzz bench lint lint-platforms docs clean-out

## deps: install missing Debian packages (idempotent; fast when all are present)
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## build: the deskbot binary in bin/
build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./app

## windows: bin/deskbot.exe, cross-compiled with cgo through mingw-w64
windows: deps winres
	$(WIN_ENV) $(GO) build -ldflags '$(LDFLAGS)' -o $(WIN_EXE) ./app

## run: open the studio on the sample flow
run: build
	@if [ -z "$$DISPLAY" ]; then echo "run: no X display (DISPLAY is unset); start one, or use: $(BIN) run $(SAMPLE)"; exit 1; fi
	$(BIN) $(SAMPLE)

## test: vet, the fyne import check, docs freshness, all Go tests, the
## Windows stage under Wine, then each fuzz target briefly
test: deps lint test-go test-windows fuzz

## test-go: every Go test, under the race detector (cgo packages included:
## the engine, the recorder, the studio, the desktop and the model all start
## goroutines, and the rest costs little more)
test-go:
	$(GO) test -race -count=1 -timeout 30m ./...

## test-windows: the Windows test stage: builds bin/deskbot.exe and runs it
## under Wine on Xvfb with jwm (package winetest: the CLI, notepad driven by
## the exe, the studio's window)
test-windows: windows
	DESKBOT_WINE_EXE=$(abspath $(WIN_EXE)) $(GO) test -count=1 -timeout 20m -v ./winetest/

## fuzz: run every Fuzz target for $(FUZZTIME). Targets are found in the
## sources (no extra build); a failure prints the target, the fuzzer's
## output with the failing input's file under testdata/fuzz, and how to
## rerun it.
fuzz:
	@set -e; log=$$(mktemp -t deskbot-fuzz.XXXXXX); trap 'rm -f "$$log"' EXIT; \
	for dir in $$($(GO) list -f '{{.Dir}}' ./...); do \
		for t in $$(cat $$dir/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p'); do \
			pkg=./$$(realpath --relative-to=. $$dir); \
			echo "fuzz $$pkg $$t"; \
			if ! $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg >"$$log" 2>&1; then \
				cat "$$log"; \
				echo "fuzz: $$t in $$pkg failed; its input is kept in $$pkg/testdata/fuzz/$$t/ (commit it as a regression case); rerun: $(GO) test -run '^$$t\$$' $$pkg"; \
				exit 1; \
			fi; \
		done; \
	done

## bench: Go benchmarks (engine steps/s, store, model)
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 2s -timeout 60m ./...

## lint: go vet, gofmt, engine/, model/ and report/ never import fyne, and
## the other systems' builds (lint-platforms)
lint: lint-platforms
	$(GO) vet ./...
	@out=$$(gofmt -l app engine ui store model report winetest packaging); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@if $(GO) list -deps ./engine/... ./model/... ./report/... | grep -q '^fyne.io/'; then \
		echo "engine/, model/ or report/ imports fyne:"; $(GO) list -deps ./engine/... ./model/... ./report/... | grep '^fyne.io/' | head; exit 1; fi

## lint-platforms: go vet for Windows (cgo through mingw-w64, every
## package), and for macOS every package that needs no cgo (macOS's cgo
## needs its SDK, which Debian lacks), plus the desktop robot's macOS files
## against a stub of robotgo: the platform files compile there.
lint-platforms: deps
	$(WIN_ENV) $(GO) vet ./...
	@pkgs=$$(GOOS=darwin CGO_ENABLED=1 $(GO) list -deps -f '{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}' ./... | sort -u > $${TMPDIR:-/tmp}/deskbot-cgo-pkgs; \
		GOOS=darwin CGO_ENABLED=1 $(GO) list -f '{{.ImportPath}} {{join .Deps " "}}' ./... | \
		awk 'NR==FNR { cgo[$$1] = 1; next } { for (i = 1; i <= NF; i++) if ($$i in cgo) next; print $$1 }' \
			$${TMPDIR:-/tmp}/deskbot-cgo-pkgs -); \
	rm -f $${TMPDIR:-/tmp}/deskbot-cgo-pkgs; \
	echo "GOOS=darwin go vet:" $$pkgs; GOOS=darwin CGO_ENABLED=0 $(GO) vet $$pkgs
	@# the robot package needs cgo (robotgo): vetted against a stub of robotgo
	sh packaging/darwincheck/vet.sh

## docs: regenerate docs/activities.md from the activity specs
docs:
	$(GO) run ./app docs > docs/activities.md

clean-out:
	rm -rf assets/flows/out

# Packaging (make icons, make dist) and its tests: rsvg-convert, the .desktop
# and AppStream validators, xz and zip, wrestool for the exe's resources
# (deps installs them with the others).
DEB_PKGS += librsvg2-bin desktop-file-utils appstream xz-utils zip icoutils

.PHONY: icons install dist dist-linux deb winres dist-windows

## icons: render the PNGs of the icon from its SVG (librsvg2-bin)
icons:
	for s in 16 24 32 48 64 128 256 512; do rsvg-convert -w $$s -h $$s assets/icon/deskbot.svg -o assets/icon/deskbot-$$s.png; done

## install: the binary, samples, .desktop file, icons and metainfo under
## $(DESTDIR)$(PREFIX) (default /usr/local)
install: build
	packaging/linux/stage.sh $(BIN) $(DESTDIR)$(PREFIX) $(PREFIX)/bin/deskbot

## dist: the three packages in dist/ (the Windows zip needs `make windows`)
dist: dist-linux deb dist-windows

LINUX_DIST := deskbot-$(VERSION)-linux-amd64
DEB        := dist/deskbot_$(VERSION)_amd64.deb
WIN_DIST   := deskbot-$(VERSION)-windows-amd64

## dist-linux: dist/deskbot-VERSION-linux-amd64.tar.xz, laid out like a
## PREFIX, with install.sh
dist-linux: build
	rm -rf dist/$(LINUX_DIST) && mkdir -p dist/$(LINUX_DIST)
	packaging/linux/stage.sh $(BIN) dist/$(LINUX_DIST) deskbot
	install -m 755 packaging/linux/install.sh dist/$(LINUX_DIST)/install.sh
	tar -C dist --owner=0 --group=0 -cJf dist/$(LINUX_DIST).tar.xz $(LINUX_DIST)
	rm -rf dist/$(LINUX_DIST)
	@echo dist/$(LINUX_DIST).tar.xz

## deb: dist/deskbot_VERSION_amd64.deb (installs into /usr)
deb: build
	rm -rf dist/deb && mkdir -p dist/deb/DEBIAN
	packaging/linux/stage.sh $(BIN) dist/deb/usr /usr/bin/deskbot
	sed -e 's/@VERSION@/$(VERSION)/' -e "s/@SIZE@/$$(du -sk dist/deb/usr | cut -f1)/" \
		packaging/debian/control.in >dist/deb/DEBIAN/control
	dpkg-deb --root-owner-group -Zxz --build dist/deb $(DEB) >/dev/null
	rm -rf dist/deb
	@echo $(DEB)

## winres: the Windows exe's icon, manifest and version resource
## (app/rsrc_windows_amd64.syso, linked by `make windows`), by go-winres
winres: $(GOWINRES)
	$(GOWINRES) simply --arch amd64 --out app/rsrc --manifest gui \
		--icon assets/icon/deskbot-256.png --product-name Deskbot \
		--file-description "Deskbot desktop RPA studio" --original-filename deskbot.exe \
		--product-version $(VERSION) --file-version $(VERSION).0 --copyright "Deskbot developers"

$(GOWINRES):
	GOBIN=$(CURDIR)/bin/tools $(GO) install github.com/tc-hib/go-winres@v0.3.3

## dist-windows: dist/deskbot-VERSION-windows-amd64.zip: deskbot.exe (with
## its icon and version resource) and the samples
dist-windows: winres
	$(MAKE) windows
	packaging/windows/zip.sh bin/deskbot.exe dist/$(WIN_DIST).zip
