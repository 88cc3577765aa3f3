#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the Debian packages with dpkg-buildpackage from a clean copy of the
# sources:
#   procevent-dkms    the module's sources for DKMS, the udev rule
#   libprocevent0     libprocevent.so.0
#   libprocevent-dev  headers, static library, .so link, pkg-config file,
#                     libprocevent(3) man pages
#   procevent-tools   proceventctl (dynamically linked), its man page,
#                     procevent(4), bash completion, modules-load.d and
#                     systemd unit examples
#
#   scripts/build-deb.sh [OUTDIR]     (default build/deb)
#
# scripts/deb-lintian.sh OUTDIR then checks them with lintian.
#
# dpkg-buildpackage writes its results next to the source directory, so the
# sources (what git tracks or would track, or everything but build/ and .git
# outside a git checkout) are copied to OUTDIR/procevent-<version>/ first and the
# .deb files end up in OUTDIR.  Needs debhelper, dh-dkms and libsystemd-dev
# (scripts/deps.sh installs them); no root.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build/deb}
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$root/dkms.conf")

mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/procevent-$version
rm -rf "$src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"

if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# The working tree as git sees it: tracked files (with uncommitted
	# edits) and new files that are not ignored; no build output.
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[[ -e $f ]] && printf '%s\0' "$f"
		done | tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$root" --exclude=./build --exclude=./.git -cf - . |
		tar -C "$src" -xf -
fi

echo "build-deb: dpkg-buildpackage in $src"
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
	echo "build-deb: dpkg-buildpackage failed:" >&2
	tail -n 40 "$out/build.log" >&2
	exit 1
}
ls "$out"/*.deb
