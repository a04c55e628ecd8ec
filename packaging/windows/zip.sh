#!/bin/sh
# zip.sh EXE ZIP: the Windows zip, one folder deskbot-VERSION-windows-amd64/
# holding deskbot.exe, samples/ (the sample flows and their data; the
# studio finds them next to the exe and copies them into Documents\Deskbot
# when first opened) and README.txt. Run from the source tree's root.
set -eu
exe=$1 zip=$2
name=$(basename "$zip" .zip)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/$name/samples"
cp "$exe" "$tmp/$name/deskbot.exe"
tar -C assets/flows --exclude=./out -cf - . | tar -C "$tmp/$name/samples" --no-same-owner -xf -
cp assets/icon/deskbot.svg "$tmp/$name/deskbot.svg"
version=$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
printf '%s\r\n' "Deskbot $version for Windows (64-bit)" "" \
	"Unzip this folder anywhere (for example into C:\\Users\\YOU\\Apps) and double-click deskbot.exe." \
	"The samples open from Documents\\Deskbot\\samples, where Deskbot copies them the first time." \
	"The command line: deskbot.exe help" >"$tmp/$name/README.txt"
mkdir -p "$(dirname "$zip")"
rm -f "$zip"
abs=$(cd "$(dirname "$zip")" && pwd)/$(basename "$zip")
(cd "$tmp" && zip -qr -X "$abs" "$name")
echo "$zip"
