#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian 12 root of make realbench, as an uncompressed newc cpio
# archive the kernel unpacks as its initramfs (no disk, no root mounts):
#
#   bench/realbench/root.sh        print the path of the archive, building
#                                  it first when it is not cached
#
# Cached in /var/cache/procevent/realbench-root/<hash>/root.cpio, <hash>
# naming the suite, the mirror and the package list below: change one and
# a new root is built.  mmdebstrap runs as root (the archive keeps owners).

set -euo pipefail

suite=bookworm
mirror=${REALBENCH_MIRROR:-http://deb.debian.org/debian}
# The observers, what the workloads need to build and run (less: gzip's
# help-version test runs zless), and little else.
packages=(
	bash coreutils findutils grep sed gawk diffutils patch file
	gcc make libc6-dev
	kmod procps util-linux psmisc
	less
	forkstat auditd bpftrace strace
)
cache=/var/cache/procevent/realbench-root
hash=$(printf '%s\n' "v1" "$suite" "$mirror" "${packages[@]}" | sha256sum | cut -c1-16)
dir=$cache/$hash
if [[ -s $dir/root.cpio ]]; then
	echo "$dir/root.cpio"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "realbench: building the root needs root (mmdebstrap)" >&2
	exit 2
fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
echo "realbench: building the $suite root ($hash) with mmdebstrap" >&2
mmdebstrap --variant=minbase --mode=root --quiet \
	--include="$(IFS=,; echo "${packages[*]}")" \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--aptopt='Acquire::Retries "3"' \
	--customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
	"$suite" "$tmp/root" "deb $mirror $suite main" >&2
(cd "$tmp/root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet) >"$tmp/root.cpio"
printf '%s\n' "${packages[@]}" >"$tmp/packages"
chroot "$tmp/root" dpkg-query -W >"$tmp/versions" 2>/dev/null || true
rm -rf "$tmp/root"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "realbench: root built in $((SECONDS - start))s: $(du -h "$dir/root.cpio" | cut -f1)" >&2
echo "$dir/root.cpio"
