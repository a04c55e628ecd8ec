# Deskbot. `make run` opens the studio with a sample flow; `make test` runs
# every test. Both install what they need first (`make deps`).

GO       ?= go
BIN      := bin/deskbot
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

# Debian packages that the build and the tests need. cgo: fyne (GL, X11),
# robotgo (XTest), go-sqlite3. Tests: Xvfb, a window manager, X tools,
# ImageMagick for screenshots, poppler for PDFs, NumPy for the reference model.
DEB_PKGS := gcc pkg-config libc6-dev libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev libxtst-dev libxkbcommon-dev libpng-dev \
	xvfb xauth jwm xdotool xclip xsel x11-utils zenity imagemagick poppler-utils python3 python3-numpy \
	fonts-dejavu-core fonts-wqy-microhei \
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
	$(GO) build -o $(BIN) ./app

## windows: bin/deskbot.exe, cross-compiled with cgo through mingw-w64
windows: deps
	$(WIN_ENV) $(GO) build -o $(WIN_EXE) ./app

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

## lint: go vet, gofmt, engine/ and model/ never import fyne, and the
## other systems' builds (lint-platforms)
lint: lint-platforms
	$(GO) vet ./...
	@out=$$(gofmt -l app engine ui store model report winetest); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@if $(GO) list -deps ./engine/... ./model/... | grep -q '^fyne.io/'; then \
		echo "engine/ or model/ imports fyne:"; $(GO) list -deps ./engine/... ./model/... | grep '^fyne.io/' | head; exit 1; fi

## lint-platforms: go vet for Windows (cgo through mingw-w64, every
## package), and for macOS every package that needs no cgo (macOS's cgo
## needs its SDK, which Debian lacks): the platform files compile there.
lint-platforms: deps
	$(WIN_ENV) $(GO) vet ./...
	@pkgs=$$(GOOS=darwin CGO_ENABLED=1 $(GO) list -deps -f '{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}' ./... | sort -u > $${TMPDIR:-/tmp}/deskbot-cgo-pkgs; \
		GOOS=darwin CGO_ENABLED=1 $(GO) list -f '{{.ImportPath}} {{join .Deps " "}}' ./... | \
		awk 'NR==FNR { cgo[$$1] = 1; next } { for (i = 1; i <= NF; i++) if ($$i in cgo) next; print $$1 }' \
			$${TMPDIR:-/tmp}/deskbot-cgo-pkgs -); \
	rm -f $${TMPDIR:-/tmp}/deskbot-cgo-pkgs; \
	echo "GOOS=darwin go vet:" $$pkgs; GOOS=darwin CGO_ENABLED=0 $(GO) vet $$pkgs

## docs: regenerate docs/activities.md from the activity specs
docs:
	$(GO) run ./app docs > docs/activities.md

clean-out:
	rm -rf assets/flows/out
