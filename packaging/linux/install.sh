#!/bin/sh
# Installs Deskbot from this folder (the linux-amd64 tarball).
#   ./install.sh                  into /usr/local as root, else into ~/.local
#   ./install.sh PREFIX           into PREFIX (bin/, share/)
#   ./install.sh --uninstall [PREFIX]
# It names the Debian packages of any system library the binary misses.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
uninstall=
if [ "${1:-}" = --uninstall ]; then uninstall=1; shift; fi
if [ -n "${1:-}" ]; then prefix=$1
elif [ "$(id -u)" = 0 ]; then prefix=/usr/local
else prefix=$HOME/.local
fi

files="bin/deskbot share/applications/deskbot.desktop share/metainfo/io.deskbot.studio.metainfo.xml"
for d in "$here"/share/icons/hicolor/*/apps; do
	for f in "$d"/*; do files="$files ${f#"$here"/}"; done
done
# An icon cache that is there already is brought up to date (none is made:
# without one, the icons are found by looking).
update_icon_cache() {
	if [ -f "$prefix/share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null; then
		gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" 2>/dev/null || true
	fi
}

if [ -n "$uninstall" ]; then
	for f in $files; do rm -f "$prefix/$f"; done
	rm -rf "$prefix/share/deskbot"
	update_icon_cache
	echo "Deskbot removed from $prefix (your flows and ~/Documents/Deskbot are kept)"
	exit 0
fi

missing=$(ldd "$here/bin/deskbot" 2>/dev/null | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p')
if [ -n "$missing" ]; then
	pkgs=
	for lib in $missing; do
		case $lib in
		libGL.so.1) p=libgl1 ;;
		libX11.so.6) p=libx11-6 ;;
		libXtst.so.6) p=libxtst6 ;;
		libm.so.6|libc.so.6) p=libc6 ;;
		*) p="(the package with $lib)" ;;
		esac
		pkgs="$pkgs $p"
	done
	echo "install.sh: Deskbot needs system libraries that are missing:" $missing >&2
	echo "install.sh: on Debian or Ubuntu: sudo apt-get install$pkgs libglx-mesa0 libgl1-mesa-dri libxcursor1 libxrandr2 libxinerama1 libxi6 libxxf86vm1" >&2
	exit 1
fi

for f in $files; do
	install -d "$prefix/$(dirname "$f")"
	install -m "$( [ "$f" = bin/deskbot ] && echo 755 || echo 644)" "$here/$f" "$prefix/$f"
done
sed -i "s|^Exec=[^ ]*|Exec=$prefix/bin/deskbot|" "$prefix/share/applications/deskbot.desktop"
rm -rf "$prefix/share/deskbot"
install -d "$prefix/share/deskbot"
cp -R "$here/share/deskbot/flows" "$prefix/share/deskbot/flows"
chmod -R u+rwX,go+rX,go-w "$prefix/share/deskbot"
update_icon_cache
echo "Deskbot installed in $prefix: run $prefix/bin/deskbot (or find Deskbot in your menu)"
