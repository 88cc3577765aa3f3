#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel that the VM tests boot besides the Debian kernels,
# or find it in the cache, and print its build directory.
#
#   scripts/debug-kernel.sh [--version V] [FRAGMENT]
#
# The kernel is linux-source-V (default 6.1; 6.12 too; scripts/ksrc.sh)
# configured as tinyconfig plus FRAGMENT (default selftests/vm/debug.config):
# KASAN, lockdep, kmemleak and the other checkers, and just enough to boot
# the test VM.  It is built out of tree (O=) in
#
#   $PROCEVENT_CACHE/debug-kernel/<key>/        (6.1)
#   $PROCEVENT_CACHE/debug-kernel-V/<key>/      (any other V)
#
# where <key> is a hash of the fragment and of the linux-source-V package
# version: a cached build is used as long as neither changed, otherwise the
# kernel is built afresh (a few minutes on two cores) and older builds are
# removed.  The directory holds arch/x86/boot/bzImage and is a complete
# build tree for external modules (Module.symvers, scripts): pass it as
# KDIR.  Only the path goes to stdout.
#
# Environment:
#   PROCEVENT_CACHE   cache directory (default /var/cache/procevent)
#   PROCEVENT_JOBS    parallel jobs (default: CPUs + 1)

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
v=6.1
if [[ ${1:-} == --version ]]; then
	v=$2
	shift 2
fi
fragment=$(realpath "${1:-$root/selftests/vm/debug.config}")
cache=${PROCEVENT_CACHE:-/var/cache/procevent}
base=$cache/debug-kernel
[[ $v == 6.1 ]] || base=$cache/debug-kernel-$v
jobs=${PROCEVENT_JOBS:-$(($(nproc 2>/dev/null || echo 1) + 1))}

log() {
	echo "debug-kernel: $*" >&2
}

ksrc=$(PROCEVENT_KSRC_VERSION=$v "$root/scripts/ksrc.sh")
srcver=$(dpkg-query -W -f='${Version}' "linux-source-$v" 2>/dev/null || true)
if [[ -z $srcver ]]; then
	# An extracted tree without the package (removed since): key it by
	# the tree's own version.
	srcver=$(make -s -C "$ksrc" kernelversion)
fi
# What a newer tree needs besides the fragment: from 6.2 tinyconfig picks
# SLUB_TINY, which KASAN and SLUB_DEBUG exclude.
extra=
[[ $v == 6.1 ]] || extra='CONFIG_SLUB_TINY=n'
key=$({ echo "linux-source-$v $srcver"; cat "$fragment"; [[ -z $extra ]] || echo "$extra"; } |
	sha256sum | cut -c1-16)
dir=$base/$key
stamp=$dir/.procevent-built

if [[ -f $stamp ]]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$base"
exec 9>"$base/.lock"
flock 9
if [[ -f $stamp ]]; then
	echo "$dir"
	exit 0
fi

log "building linux-source-$v $srcver with $fragment in $dir (key $key)"
start=$SECONDS
rm -rf "$dir"
mkdir -p "$dir"
{ cat "$fragment"; [[ -z $extra ]] || echo "$extra"; } >"$dir/fragment.config"
fragment=$dir/fragment.config
{
	make -C "$ksrc" O="$dir" tinyconfig
	"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$dir" "$dir/.config" "$fragment"
	make -C "$ksrc" O="$dir" olddefconfig
} >"$dir/config.log" 2>&1 || {
	log "configuring failed:"
	tail -n 30 "$dir/config.log" >&2
	exit 1
}

# Kconfig drops an option whose dependencies are not met without a word:
# every line of the fragment must have made it into .config.
bad=0
while IFS= read -r line; do
	[[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]] || continue
	opt=${BASH_REMATCH[1]}
	val=${BASH_REMATCH[2]}
	if [[ $val == n ]]; then
		if grep -q "^$opt=" "$dir/.config"; then
			log "$opt=n in the fragment, but .config has $(grep "^$opt=" "$dir/.config")"
			bad=1
		fi
	elif ! grep -qxF "$opt=$val" "$dir/.config"; then
		log "$opt=$val in the fragment, but .config has:" \
			"$(grep -E "^$opt=|^# $opt is not set" "$dir/.config" || echo nothing)"
		bad=1
	fi
done <"$fragment"
if [[ $bad -ne 0 ]]; then
	log "the fragment does not apply to this kernel; fix $fragment"
	exit 1
fi

# "modules" writes Module.symvers, which external module builds need.
if ! make -C "$ksrc" O="$dir" -j"$jobs" bzImage modules >"$dir/build.log" 2>&1; then
	log "build failed (log: $dir/build.log):"
	grep -E 'error|Error' "$dir/build.log" | head -n 30 >&2 || true
	exit 1
fi
for f in arch/x86/boot/bzImage Module.symvers include/generated/utsrelease.h; do
	if [[ ! -f $dir/$f ]]; then
		log "no $f after the build (log: $dir/build.log)"
		exit 1
	fi
done
echo "$srcver" >"$stamp"
log "built $(cat "$dir/include/config/kernel.release") in $((SECONDS - start))s"

# Builds for an older fragment or source package are of no further use.
for old in "$base"/*/; do
	old=${old%/}
	[[ $old == "$dir" ]] || rm -rf "$old"
done
echo "$dir"
