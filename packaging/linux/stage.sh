#!/bin/sh
# stage.sh BINARY ROOT BINPATH: lays Deskbot out under ROOT, a PREFIX:
#   ROOT/bin/deskbot
#   ROOT/share/deskbot/flows/                     the samples and their data
#   ROOT/share/applications/deskbot.desktop       Exec=BINPATH
#   ROOT/share/icons/hicolor/NxN/apps/deskbot.png and scalable/apps/deskbot.svg
#   ROOT/share/metainfo/io.deskbot.studio.metainfo.xml
# Run from the source tree's root (make install, make dist). Files are made
# world-readable whatever the umask; outputs of sample runs (flows/out) are
# left out.
set -eu
bin=$1 root=$2 binpath=$3
version=$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
date=$(git log -1 --format=%cs 2>/dev/null || date +%F)

install -d "$root/bin" "$root/share/deskbot/flows" "$root/share/applications" "$root/share/metainfo" \
	"$root/share/icons/hicolor/scalable/apps"
install -m 755 "$bin" "$root/bin/deskbot"
tar -C assets/flows --exclude=./out -cf - . | tar -C "$root/share/deskbot/flows" --no-same-owner -xf -
sed "s|@BIN@|$binpath|" packaging/linux/deskbot.desktop >"$root/share/applications/deskbot.desktop"
sed -e "s|@VERSION@|$version|" -e "s|@DATE@|$date|" packaging/linux/io.deskbot.studio.metainfo.xml >"$root/share/metainfo/io.deskbot.studio.metainfo.xml"
for png in assets/icon/deskbot-*.png; do
	size=${png##*-}; size=${size%.png}
	install -d "$root/share/icons/hicolor/${size}x${size}/apps"
	install -m 644 "$png" "$root/share/icons/hicolor/${size}x${size}/apps/deskbot.png"
done
install -m 644 assets/icon/deskbot.svg "$root/share/icons/hicolor/scalable/apps/deskbot.svg"
chmod -R u+rwX,go+rX,go-w "$root/share/deskbot" "$root/share/applications/deskbot.desktop" \
	"$root/share/metainfo/io.deskbot.studio.metainfo.xml"
