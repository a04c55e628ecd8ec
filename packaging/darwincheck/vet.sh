#!/bin/sh
# vet.sh: type-checks engine/desktop/robot for macOS (robot.go and
# robot_darwin.go) on Linux. robotgo needs cgo and macOS's SDK, so a
# throw-away go.work replaces it with the stub module in robotgo/, which
# declares the API the robot package uses. Run by `make lint-platforms`.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d -t deskbot-darwin.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf 'go 1.26.0\n\nuse %s\n\nreplace github.com/go-vgo/robotgo v0.110.8 => %s/robotgo\n' "$root" "$here" >"$work/go.work"
cd "$root"
GOWORK="$work/go.work" GOOS=darwin CGO_ENABLED=0 go vet ./engine/desktop/robot/
echo "GOOS=darwin go vet (robotgo stubbed): deskbot/engine/desktop/robot"
