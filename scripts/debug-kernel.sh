#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a debug kernel that the VM tests boot besides the Debian kernels,
# or find it in the cache, and print its build directory.
#
#   scripts/debug-kernel.sh [--version V] [--kcsan] [--cached-only]
#                           [--module OUTDIR] [FRAGMENT]
#
# The kernel is configured as tinyconfig plus FRAGMENT (default
# selftests/vm/debug.config): KASAN, lockdep, kmemleak and the other
# checkers, and just enough to boot the test VM.  V is
#   6.1 (default), 6.12  linux-source-V of this machine (scripts/ksrc.sh),
#                        built with this machine's compiler;
#   7                    the newest linux-source-7.* of Debian sid, built
#                        inside the sid root of scripts/kernels-7x.sh with
#                        that root's compiler (gcc-16): the root gets the
#                        tools a kernel build needs (bison, flex, bc,
#                        libelf-dev) and the source package is taken at the
#                        version sid's package list names.
# --kcsan adds selftests/vm/kcsan.config after the fragment: KCSAN instead
# of KASAN, kmemleak and lockdep (they exclude each other or slow it too
# much), a build of its own.
# The kernel is built out of tree (O=) in
#
#   $PROCEVENT_CACHE/debug-kernel/<key>/          (6.1)
#   $PROCEVENT_CACHE/debug-kernel-V/<key>/        (any other V)
#   $PROCEVENT_CACHE/debug-kernel-V-kcsan/<key>/  (--kcsan)
#
# where <key> is a hash of the fragments and of the source package's
# version (for 7 also of the compiler's): a cached build is used as long
# as none changed, otherwise the kernel is built afresh (10 to 20 minutes
# on two cores) and older builds are removed.  The configuration must
# hold every option of the fragments with the value of its last line, or
# the script fails: Kconfig drops what it cannot take without a word.
# The directory holds arch/x86/boot/bzImage and is a complete build tree
# for external modules (Module.symvers, scripts): pass it as KDIR.  Only
# the path goes to stdout.
#
# --cached-only: use the kernel only when it is built already; otherwise
# exit with status 3 and build nothing.
#
# --module OUTDIR also builds procevent.ko against it, as
# scripts/build-module.sh does (OUTDIR/procevent.ko, build.log,
# warnings.log): for 7 inside the sid root, where its compiler is; the
# exit status is non-zero when that build fails (warnings are for the
# caller to judge).
#
# Environment:
#   PROCEVENT_CACHE   cache directory (default /var/cache/procevent)
#   PROCEVENT_JOBS    parallel jobs (default: CPUs + 1)

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
v=6.1
kcsan=0
modout=
cached_only=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--version) v=$2; shift 2 ;;
	--kcsan) kcsan=1; shift ;;
	--module) modout=$2; shift 2 ;;
	--cached-only) cached_only=1; shift ;;
	-*) echo "usage: $0 [--version V] [--kcsan] [--cached-only] [--module OUTDIR] [FRAGMENT]" >&2; exit 2 ;;
	*) break ;;
	esac
done
fragment=$(realpath "${1:-$root/selftests/vm/debug.config}")
fragments=("$fragment")
cache=${PROCEVENT_CACHE:-/var/cache/procevent}
base=$cache/debug-kernel
[[ $v == 6.1 ]] || base=$cache/debug-kernel-$v
if [[ $kcsan -eq 1 ]]; then
	fragments+=("$root/selftests/vm/kcsan.config")
	base=$base-kcsan
fi
jobs=${PROCEVENT_JOBS:-$(($(nproc 2>/dev/null || echo 1) + 1))}

log() {
	echo "debug-kernel: $*" >&2
}

# make for the kernel tree: here, or inside the sid root (7).
rootdir=
kmake=(make)
mounts=()
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
	done
	mounts=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What a newer tree needs besides the fragment: from 6.2 tinyconfig picks
# SLUB_TINY, which KASAN and SLUB_DEBUG exclude.
extra=
[[ $v == 6.1 ]] || extra='CONFIG_SLUB_TINY=n'

if [[ $v == 7 ]]; then
	if [[ $(id -u) -ne 0 ]]; then
		log "version 7 needs root (chroot, mount)"
		exit 2
	fi
	# The sid root (and sid's package list, refreshed by that script).
	k7x=$cache/k7x
	if ! list=$("$root/scripts/kernels-7x.sh" sid 2>"$cache/.debug-kernel-7x.log"); then
		log "scripts/kernels-7x.sh sid failed:"
		tail -n 10 "$cache/.debug-kernel-7x.log" >&2
		exit 1
	fi
	kdir7=$(head -n 1 <<<"$list" | cut -f 3)
	rootdir=${kdir7%/usr/src/*}
	if [[ -z $kdir7 || ! -d $rootdir/usr/bin ]]; then
		log "no sid root from scripts/kernels-7x.sh"
		exit 1
	fi
	lists=$(compgen -G "$k7x/apt/sid/state/lists/*_dists_sid_main_binary-amd64_Packages*" |
		head -n 1) || { log "no sid package list in $k7x/apt/sid"; exit 1; }
	read -r srcpkg srcver < <(/usr/lib/apt/apt-helper cat-file "$lists" | awk '
		/^Package: linux-source-7\.[0-9]+$/ { p = $2 }
		/^Version: / && p { print p, $2; p = "" }
		/^$/ { p = "" }' | sort -V | tail -n 1) ||
		{ log "sid has no linux-source-7.*"; exit 1; }
	cc=$(cd "$rootdir/usr/bin" && compgen -G 'gcc-[0-9]*' | grep -xE 'gcc-[0-9]+' |
		sort -V | tail -n 1) || { log "no gcc-N in $rootdir"; exit 1; }
	ccver=$(chroot "$rootdir" "$cc" -dumpfullversion)
	kmake=(chroot "$rootdir" make CC="$cc" HOSTCC="$cc")
	keyhead="$srcpkg $srcver $cc $ccver"
else
	ksrc=$(PROCEVENT_KSRC_VERSION=$v "$root/scripts/ksrc.sh")
	srcver=$(dpkg-query -W -f='${Version}' "linux-source-$v" 2>/dev/null || true)
	if [[ -z $srcver ]]; then
		# An extracted tree without the package (removed since): key
		# it by the tree's own version.
		srcver=$(make -s -C "$ksrc" kernelversion)
	fi
	keyhead="linux-source-$v $srcver"
fi
key=$({ echo "$keyhead"; cat "${fragments[@]}"; [[ -z $extra ]] || echo "$extra"; } |
	sha256sum | cut -c1-16)
dir=$base/$key
stamp=$dir/.procevent-built

# Inside the sid root the cache is seen at the same paths (a bind mount),
# and /proc is mounted (objtool reads it).
enter_root() {
	[[ -n $rootdir && ${#mounts[@]} -eq 0 ]] || return 0
	mkdir -p "$rootdir$base"
	mount --bind "$base" "$rootdir$base"
	mounts+=("$rootdir$base")
	mount -t proc proc "$rootdir/proc"
	mounts+=("$rootdir/proc")
}

# The module against the kernel in $dir, into $modout.
build_module() {
	local src=$dir.module rc=0
	if [[ -z $rootdir ]]; then
		"$root/scripts/build-module.sh" "$dir" "$modout"
		return
	fi
	mkdir -p "$modout"
	rm -f "$modout/procevent.ko"
	enter_root
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$root" --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.a' \
		--exclude='modules.order' --exclude='Module.symvers' \
		-cf - Kbuild module uapi | tar -C "$src" -xf -
	"${kmake[@]}" -C "$dir" M="$src" -j"$jobs" modules >"$modout/build.log" 2>&1 || rc=$?
	grep -iE 'warning:|^WARNING' "$modout/build.log" >"$modout/warnings.log" || true
	if [[ $rc -eq 0 && -f $src/procevent.ko ]]; then
		cp "$src/procevent.ko" "$modout/procevent.ko"
	else
		log "the module does not build against $dir (log $modout/build.log):"
		grep -E 'error|Error' "$modout/build.log" | head -n 30 >&2 || true
		rc=1
	fi
	rm -rf "$src"
	if [[ -s $modout/warnings.log ]]; then
		log "$(wc -l <"$modout/warnings.log") warning line(s) building the module:"
		cat "$modout/warnings.log" >&2
	fi
	return "$rc"
}

finish() {
	if [[ -n $modout ]] && ! build_module; then
		echo "$dir"
		exit 1
	fi
	echo "$dir"
	exit 0
}

mkdir -p "$base"
exec 9>"$base/.lock"
[[ -f $stamp ]] && { flock 9; finish; }
if [[ $cached_only -eq 1 ]]; then
	log "not built yet ($dir): --cached-only builds nothing"
	exit 3
fi
flock 9
[[ -f $stamp ]] && finish

start=$SECONDS
rm -rf "$dir" "$dir.src"
mkdir -p "$dir"
if [[ -n $rootdir ]]; then
	# The tools a kernel build needs, and the source package, from the
	# root's own apt (sid).
	enter_root
	apt_root=(chroot "$rootdir" env DEBIAN_FRONTEND=noninteractive apt-get -q
		-o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false)
	log "sid root $rootdir: build tools and $srcpkg $srcver"
	{
		"${apt_root[@]}" update &&
		"${apt_root[@]}" install -y --no-install-recommends \
			bison flex bc libelf-dev xz-utils &&
		chroot "$rootdir" sh -c "mkdir -p /tmp/procevent-src && cd /tmp/procevent-src &&
			rm -f ./*.deb && apt-get -q -o APT::Sandbox::User=root download $srcpkg=$srcver"
	} >"$dir/root.log" 2>&1 || {
		log "preparing the sid root failed (log $dir/root.log):"
		tail -n 15 "$dir/root.log" >&2
		exit 1
	}
	deb=$(compgen -G "$rootdir/tmp/procevent-src/${srcpkg}_*.deb" | head -n 1)
	mkdir -p "$dir.src"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$srcpkg.tar.xz" |
		tar -xJ -C "$dir.src"
	rm -rf "$rootdir/tmp/procevent-src"
	ksrc=$dir.src/$srcpkg
	[[ -f $ksrc/Makefile ]] || { log "no $srcpkg/ in $deb"; exit 1; }
	log "$srcpkg $srcver ($(make -s -C "$ksrc" kernelversion)) in $ksrc, $cc $ccver"
fi
log "building $keyhead with ${fragments[*]} in $dir (key $key)"
{ cat "${fragments[@]}"; [[ -z $extra ]] || echo "$extra"; } >"$dir/fragment.config"
fragment=$dir/fragment.config
{
	"${kmake[@]}" -C "$ksrc" O="$dir" tinyconfig
	"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$dir" "$dir/.config" "$fragment"
	"${kmake[@]}" -C "$ksrc" O="$dir" olddefconfig
} >"$dir/config.log" 2>&1 || {
	log "configuring failed:"
	tail -n 30 "$dir/config.log" >&2
	exit 1
}

# Kconfig drops an option whose dependencies are not met without a word:
# every option of the fragment must have made it into .config, with the
# value of its last line (a later fragment overrides an earlier one).
bad=0
declare -A want=()
order=()
while IFS= read -r line; do
	[[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]] || continue
	[[ -n ${want[${BASH_REMATCH[1]}]+x} ]] || order+=("${BASH_REMATCH[1]}")
	want[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done <"$fragment"
for opt in "${order[@]}"; do
	val=${want[$opt]}
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
done
if [[ $bad -ne 0 ]]; then
	log "the fragment does not apply to this kernel; fix ${fragments[*]}"
	exit 1
fi

# "modules" writes Module.symvers, which external module builds need.
if ! "${kmake[@]}" -C "$ksrc" O="$dir" -j"$jobs" bzImage modules >"$dir/build.log" 2>&1; then
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
echo "$keyhead" >"$stamp"
log "built $(cat "$dir/include/config/kernel.release") in $((SECONDS - start))s"

# Builds for an older fragment or source package are of no further use.
for old in "$base"/*/; do
	old=${old%/}
	[[ $old == "$dir" || $old == "$dir.src" ]] || rm -rf --one-file-system "$old"
done
finish
