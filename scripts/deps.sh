#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian 12 packages that building and testing procevent needs:
# the 6.1 and 6.12 kernels and their PREEMPT_RT flavours with headers (the
# VM boots them), the 6.1 and 6.12 sources (kselftest harness,
# checkpatch.pl, the debug kernels), QEMU, a static busybox for the VM's
# initramfs, sparse, the kernel build tools, DKMS, debhelper,
# libsystemd-dev and lintian for the packaging tests, and mmdebstrap and
# e2fsprogs for the system test (scripts/system-test.sh).
#
# Nothing is fetched when every package is already installed, so reruns
# cost a few dpkg-query calls.  Needs root (or sudo) only when something
# is missing.

set -euo pipefail

packages=(
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-image-rt-amd64 linux-headers-rt-amd64
	linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64
	linux-source-6.1 linux-source-6.12
	qemu-system-x86 busybox-static
	build-essential bc flex bison libelf-dev libssl-dev
	sparse perl cpio kmod xz-utils
	dkms debhelper dh-dkms dpkg-dev lintian libsystemd-dev pkgconf man-db
	stress-ng
	mmdebstrap e2fsprogs
)

installed() {
	[[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "deps: all ${#packages[@]} packages installed"
	exit 0
fi

# A kernel image and its headers must come from the same ABI: when one of
# a pair is missing, ask for both, so apt upgrades the other to match
# instead of leaving headers for a kernel that is not installed.
add_pair() {
	local a=$1 b=$2 m
	for m in "${missing[@]}"; do
		if [[ $m == "$a" || $m == "$b" ]]; then
			missing+=("$a" "$b")
			return
		fi
	done
}
add_pair linux-image-amd64 linux-headers-amd64
add_pair linux-image-6.12-amd64 linux-headers-6.12-amd64
add_pair linux-image-rt-amd64 linux-headers-rt-amd64
add_pair linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

as_root=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null; then
		echo "deps: missing ${missing[*]}; run this script as root" >&2
		exit 1
	fi
	as_root=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A source that cannot be reached fails the update but may not matter for
# these packages: go on, and let the install say what is really missing.
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update; then
	echo "deps: warning: apt-get update reported errors; trying the install anyway" >&2
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends "${missing[@]}"

for p in "${packages[@]}"; do
	if ! installed "$p"; then
		echo "deps: $p is still not installed" >&2
		exit 1
	fi
done
echo "deps: done"
