#!/bin/sh
# scripts/mkdeb.sh: build the Debian packages carpd and syncd.
#
# dpkg-buildpackage writes its results beside the source tree and leaves
# build files inside it, so it runs in a copy of the tree in a temporary
# directory; the .deb files (and .buildinfo, .changes) are moved to OUTDIR
# and their paths printed. The copy is removed, also on failure.
#
# usage: scripts/mkdeb.sh OUTDIR
set -u
[ $# -eq 1 ] || { echo "usage: scripts/mkdeb.sh outdir" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1" || exit 1
out=$(cd "$1" && pwd)
for c in dpkg-buildpackage dh; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "mkdeb: $c not found (make deps installs it)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/carpd-deb.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The files of the tree: those git knows (tracked, or new and not ignored),
# else everything but build trees and built binaries.
mkdir "$tmp/src"
cd "$top" || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -co --exclude-standard | while IFS= read -r f; do
		[ -e "$f" ] && printf '%s\n' "$f"
	done | tar -c --verbatim-files-from -T - -f - | \
	    tar -x -C "$tmp/src" -f - || exit 1
else
	tar -c --exclude='./build' --exclude='./build-*' \
	    --exclude='./carpd/carpd' --exclude='./syncd/syncd' \
	    --exclude='./debian/build' --exclude='./debian/tmp' \
	    --exclude='./debian/.debhelper' -f - . | \
	    tar -x -C "$tmp/src" -f - || exit 1
fi

echo "mkdeb: building in $tmp/src"
cd "$tmp/src" || exit 1
if ! dpkg-buildpackage -us -uc -b -Jauto >"$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log" >&2
	echo "mkdeb: dpkg-buildpackage failed" >&2
	exit 1
fi
cd "$tmp" || exit 1
n=0
for f in *.deb *.ddeb *.buildinfo *.changes; do
	[ -f "$f" ] || continue
	mv -f "$f" "$out/" || exit 1
	case "$f" in *.deb) echo "$out/$f"; n=$((n + 1)) ;; esac
done
[ "$n" -gt 0 ] || { echo "mkdeb: no package was built" >&2; exit 1; }
echo "mkdeb: $n packages in $out"
