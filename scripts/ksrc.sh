#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of an extracted linux-source-6.1 tree, extracting the
# Debian linux-source-6.1 tarball into a cache outside the checkout first
# when it is missing or older than the tarball.  The tree provides the
# kselftest harness headers and scripts/checkpatch.pl.
#
# Environment:
#   PROCEVENT_CACHE        cache directory (default /var/cache/procevent)
#   PROCEVENT_KSRC_VERSION the linux-source-V package (default 6.1; the
#                          6.12 debug kernel uses 6.12)
#   PROCEVENT_KSRC_TARBALL tarball to extract
#                          (default /usr/src/linux-source-V.tar.xz)
#
# Only the path goes to stdout, so callers can write KSRC=$(scripts/ksrc.sh).

set -euo pipefail

v=${PROCEVENT_KSRC_VERSION:-6.1}
tarball=${PROCEVENT_KSRC_TARBALL:-/usr/src/linux-source-$v.tar.xz}
cache=${PROCEVENT_CACHE:-/var/cache/procevent}
dest=$cache/linux-source-$v
stamp=$dest/.procevent-extracted

# The stamp records the tarball's size and mtime: a package upgrade may
# install a tarball whose mtime is older than the stamp, so compare the
# identity as well as the age.
tarball_id() {
	stat -c '%s %Y' "$tarball"
}

fresh() {
	[[ -f $stamp && ! $tarball -nt $stamp &&
	   "$(cat "$stamp")" == "$(tarball_id)" ]]
}

if [[ ! -f $tarball ]]; then
	if [[ -f $stamp ]]; then
		# The package was removed, but an extracted tree is still usable.
		echo "$dest"
		exit 0
	fi
	echo "ksrc: $tarball not found (run scripts/deps.sh)" >&2
	exit 1
fi

if fresh; then
	echo "$dest"
	exit 0
fi

mkdir -p "$cache"
# Serialise concurrent callers: only one extracts, the others wait for it.
exec 9>"$cache/.linux-source-$v.lock"
flock 9
if ! fresh; then
	echo "ksrc: extracting $tarball into $cache" >&2
	tmp=$(mktemp -d "$cache/.extract.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	tar -xJf "$tarball" -C "$tmp"
	if [[ ! -d $tmp/linux-source-$v ]]; then
		echo "ksrc: $tarball has no linux-source-$v/ directory" >&2
		exit 1
	fi
	rm -rf "$dest"
	mv "$tmp/linux-source-$v" "$dest"
	tarball_id >"$stamp"
fi
echo "$dest"
