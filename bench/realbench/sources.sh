#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the Debian source packages the realbench workloads run, with
# apt-get source through a private apt state holding one deb-src line for
# the mirror (the machine's own sources are not touched):
#
#   bench/realbench/sources.sh DIR     unpack them into DIR/<package>
#
# Cached in /var/cache/procevent/realbench-src/.

set -euo pipefail

out=$1
mirror=${REALBENCH_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
# pv: an autoconf package whose configure runs about a thousand short
# processes (a GNU package with gnulib, hello, runs five times as many:
# too slow under TCG); gzip: its test suite is shell scripts.
pkgs=(pv gzip)
cache=/var/cache/procevent/realbench-src
a=$cache/apt
mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial" "$a/empty" "$cache/dl"
echo "deb-src $mirror $suite main" >"$a/sources.list"
apt_private() {
	"$@" -o Dir::State="$a/state" -o Dir::Cache="$a/cache" \
		-o Dir::Etc::SourceList="$a/sources.list" \
		-o Dir::Etc::SourceParts="$a/empty" \
		-o Dir::Etc::Preferences="$a/empty/preferences" \
		-o Dir::Etc::PreferencesParts="$a/empty" \
		-o APT::Sandbox::User=root
}
need=0
for p in "${pkgs[@]}"; do
	compgen -G "$cache/dl/${p}_*.dsc" >/dev/null || need=1
done
if [[ $need -eq 1 ]]; then
	apt_private apt-get -q update >/dev/null
	for p in "${pkgs[@]}"; do
		compgen -G "$cache/dl/${p}_*.dsc" >/dev/null && continue
		(cd "$cache/dl" && apt_private apt-get -q --download-only source "$p" >&2)
	done
fi
mkdir -p "$out"
for p in "${pkgs[@]}"; do
	dsc=$(compgen -G "$cache/dl/${p}_*.dsc" | sort -V | tail -n 1)
	rm -rf "${out:?}/$p"
	dpkg-source --no-check -x "$dsc" "$out/$p" >/dev/null
	echo "realbench: $(basename "$dsc") unpacked" >&2
done
