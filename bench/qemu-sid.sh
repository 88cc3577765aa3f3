#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A QEMU that boots several CPUs under -icount, for the smpicount clock of
# make bench:
#
#   bench/qemu-sid.sh      print the path of a qemu-system-x86_64 to run,
#                          making it first when it is not cached
#
# Debian 12's QEMU (7.2) hangs such a boot at "smp: Bringing up secondary
# CPUs": under -icount all vCPUs run in one thread, and the boot CPU spins
# waiting for the second without ever handing the thread over.  QEMU of
# Debian sid (11.x) boots them.  This script makes a sid root holding
# qemu-system-x86 with mmdebstrap (its own apt state: the machine's sources
# are not touched) and writes beside it a wrapper that runs that QEMU with
# the root's dynamic loader, libraries, modules and firmware, without a
# chroot, so that the kernel, initramfs and output paths stay the host's.
#
# Cached in /var/cache/procevent/qemu-sid/<hash>, <hash> naming the suite,
# the mirror and the package: change one and a new root is made.  Making
# it needs root (mmdebstrap).  PROCEVENT_DEBIAN_MIRROR names the mirror
# (default http://deb.debian.org/debian).

set -euo pipefail

suite=sid
mirror=${PROCEVENT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mirror=${mirror%/}
package=qemu-system-x86
cache=/var/cache/procevent/qemu-sid
hash=$(printf '%s\n' "v1" "$suite" "$mirror" "$package" | sha256sum | cut -c1-16)
dir=$cache/$hash
if [[ -x $dir/qemu-system-x86_64 && -f $dir/version ]]; then
	echo "$dir/qemu-system-x86_64"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "qemu-sid: making the sid root needs root (mmdebstrap)" >&2
	exit 2
fi
mkdir -p "$cache"
# One maker at a time; a second waits and then finds the cache made.
exec 9>"$cache/.lock"
flock 9
if [[ -x $dir/qemu-system-x86_64 && -f $dir/version ]]; then
	echo "$dir/qemu-system-x86_64"
	exit 0
fi
if ! command -v mmdebstrap >/dev/null; then
	echo "qemu-sid: installing mmdebstrap" >&2
	apt-get update -q >&2 || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends mmdebstrap >&2
fi
rm -rf "$cache"/build.*
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
echo "qemu-sid: making a $suite root with $package ($hash)" >&2
if ! mmdebstrap --variant=minbase --mode=root --quiet \
	--include="$package" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--aptopt='APT::Install-Recommends "false"' \
	--aptopt='Acquire::Retries "3"' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
	"$suite" "$tmp/root" "deb $mirror $suite main" >"$tmp/mmdebstrap.log" 2>&1; then
	echo "qemu-sid: mmdebstrap failed:" >&2
	tail -n 15 "$tmp/mmdebstrap.log" >&2
	exit 1
fi
# $dir, not $tmp: the wrapper runs from where the root ends up.
cat >"$tmp/qemu-system-x86_64" <<EOF
#!/bin/sh
# QEMU of Debian $suite from the root beside this file (bench/qemu-sid.sh).
r=$dir/root
QEMU_MODULE_DIR=\$r/usr/lib/x86_64-linux-gnu/qemu
export QEMU_MODULE_DIR
exec "\$r/lib64/ld-linux-x86-64.so.2" \\
	--library-path "\$r/usr/lib/x86_64-linux-gnu:\$r/lib/x86_64-linux-gnu" \\
	"\$r/usr/bin/qemu-system-x86_64" \\
	-L "\$r/usr/share/qemu" -L "\$r/usr/share/seabios" "\$@"
EOF
chmod 755 "$tmp/qemu-system-x86_64"
# mktemp made it 0700: users other than root run this QEMU too.
chmod 755 "$tmp"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
if ! "$dir/qemu-system-x86_64" --version >"$dir/version.tmp"; then
	echo "qemu-sid: the QEMU of the $suite root does not run here" >&2
	rm -rf "$dir"
	exit 1
fi
mv "$dir/version.tmp" "$dir/version"
echo "qemu-sid: $(head -n 1 "$dir/version") in $((SECONDS - start))s" >&2
echo "$dir/qemu-system-x86_64"
