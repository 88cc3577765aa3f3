#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The newest Linux 7.x of Debian sid and of trixie-backports, generic and
# PREEMPT_RT, ready to boot, with procevent built for each the way DKMS
# builds it on such a system.
#
#   scripts/kernels-7x.sh [SUITE...]      (default: sid trixie-backports)
#   scripts/kernels-7x.sh --args KERNEL   run.sh's options for one kernel
#
# KERNEL is SUITE (its generic kernel), SUITE-rt or a release, e.g.
#   selftests/vm/run.sh $(scripts/kernels-7x.sh --args trixie-backports-rt)
#
# Bookworm has neither the compiler these kernels were built with (gcc-16
# for sid, gcc-14 for trixie) nor the glibc their kbuild tools need, so
# for each suite:
#   1. a private apt state (never the machine's own sources) is updated
#      from the mirror the machine's sources name for its own release,
#      and the newest linux-headers-7.*-amd64 of the suite is picked;
#   2. a root is made with mmdebstrap (sid; trixie plus trixie-backports)
#      holding make, gcc-N (N from the headers' gcc-N-for-host), libc6-dev,
#      kmod, dkms and the generic and -rt headers (without dkms when it
#      does not install: its line says so);
#   3. with /proc mounted in the root (objtool reads it), the module is
#      built there with plain kbuild (V=1: the log shows whether
#      PE_EXIT_TP_GROUP_DEAD was defined) and with "dkms build";
#   4. the kernel's own vmlinuz is taken from linux-binary-<release> and,
#      when fuse is a module of that kernel, fuse.ko from
#      linux-modules-<release>.
# Everything is cached in $PROCEVENT_CACHE/k7x (default
# /var/cache/procevent): roots by suite and ABI, images by release, builds
# by release and a hash of the module sources, so a second run only
# refreshes the package lists.  Roots, images and builds of releases that
# are no longer the newest are removed.
#
# Stdout: one line per kernel, tab-separated:
#   RELEASE  IMAGE  KDIR  KO  MODDIR  RESULTS
# KDIR is the headers tree inside the root, MODDIR a /lib/modules/RELEASE
# tree with the modules the tests need (run.sh --modules), RESULTS a
# directory with build.log, warnings.log, dkms.log, dkms-warnings.log and
# the words in "build" (pass, warn, fail), "dkms" (pass, warn, fail,
# none) and "group_dead" (yes, no).  Progress goes to stderr.
# Exit status: 0 when every suite gave its two kernels (whatever the
# builds said), 1 otherwise.
#
# Environment: PROCEVENT_CACHE, PROCEVENT_DEBIAN_MIRROR (default: from
# /etc/apt/sources.list{,.d}), PROCEVENT_JOBS (default 2).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${PROCEVENT_CACHE:-/var/cache/procevent}/k7x
jobs=${PROCEVENT_JOBS:-2}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
want=
if [[ ${1:-} == --args ]]; then
	[[ $# -eq 2 ]] || { echo "usage: $0 --args SUITE[-rt]|RELEASE" >&2; exit 2; }
	want=$2
	shift 2
	case $want in
	7.*) ;;
	*) set -- "${want%-rt}" ;;
	esac
fi
suites=("$@")
prune=0
if [[ ${#suites[@]} -eq 0 ]]; then
	suites=(sid trixie-backports)
	prune=1
fi

log() {
	echo "kernels-7x: $*" >&2
}

if [[ $(id -u) -ne 0 ]]; then
	log "needs root (mmdebstrap, chroot, mount)"
	exit 2
fi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# The mirror this machine's own release comes from.
mirror_of_host() {
	local codename f
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		sed -n -E "s/^deb +(\[[^]]*\] +)?([^ ]+) +$codename +.*/\2/p" "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk -v c="$codename" 'BEGIN { RS = "" }
			{
				uri = ""; hit = 0
				n = split($0, l, "\n")
				for (i = 1; i <= n; i++) {
					if (l[i] ~ /^URIs:/) { split(l[i], w, " "); uri = w[2] }
					if (l[i] ~ /^Suites:/) {
						m = split(l[i], s, " ")
						for (j = 2; j <= m; j++) if (s[j] == c) hit = 1
					}
				}
				if (hit && uri != "") print uri
			}' "$f"
	done
}
mirror=${PROCEVENT_DEBIAN_MIRROR:-$(mirror_of_host | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
log "mirror $mirror"

# The apt sources of a suite's root (and of its private apt state).
sources_of() {
	local s
	case $1 in
	*-backports) s="${1%-backports} $1" ;;
	*) s=$1 ;;
	esac
	for s in $s; do
		echo "deb [signed-by=$keyring] $mirror $s main"
	done
}

# apt-get/apt-cache with the private state of a suite.
apt_private() {
	local tool=$1 suite=$2 a=$cache/apt/$2
	shift 2
	"$tool" -o Dir::State="$a/state" -o Dir::Cache="$a/cache" \
		-o Dir::Etc::SourceList="$a/sources.list" \
		-o Dir::Etc::SourceParts="$a/empty" \
		-o Dir::Etc::Preferences="$a/empty/preferences" \
		-o Dir::Etc::PreferencesParts="$a/empty" \
		-o Acquire::Check-Valid-Until=false -o APT::Architectures=amd64 \
		-o APT::Sandbox::User=root -o Debug::NoLocking=false "$@"
}

# Fields of one package in a suite's package list: pkg_field SUITE PKG FIELD
packages_of() {
	local f
	f=$(compgen -G "$cache/apt/$1/state/lists/*_dists_$1_main_binary-amd64_Packages*" | head -n 1) ||
		return 1
	/usr/lib/apt/apt-helper cat-file "$f"
}
pkg_field() {
	packages_of "$1" | awk -v p="$2" -v f="$3:" '
		$0 == "Package: " p { in_p = 1; next }
		/^$/ { in_p = 0 }
		in_p && $1 == f { sub(/^[^:]*: */, ""); print; exit }'
}

if ! command -v mmdebstrap >/dev/null; then
	log "installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		mmdebstrap >&2
fi

# The module's sources: their hash keys the builds.
srckey=$(cd "$root" && tar --sort=name --mtime=@0 --owner=0 --group=0 \
	--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='modules.order' --exclude='Module.symvers' \
	-cf - Kbuild module uapi dkms.conf | sha256sum | cut -c1-12)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$root/dkms.conf")

mounted=
cleanup() {
	if [[ -n $mounted ]]; then
		umount "$mounted" 2>/dev/null || umount -l "$mounted" 2>/dev/null || true
		mounted=
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A package's .deb in the download cache, fetched when missing.
fetch_deb() {
	local suite=$1 pkg=$2 d=$cache/debs f
	mkdir -p "$d"
	f=$(compgen -G "$d/${pkg}_*.deb" | head -n 1) && { echo "$f"; return 0; }
	(cd "$d" && apt_private apt-get "$suite" download "$pkg" >&2) || return 1
	compgen -G "$d/${pkg}_*.deb" | head -n 1
}

# The bootable image and the modules the tests need of one release.
kernel_files() {
	local suite=$1 rel=$2 rootdir=$3 k=$cache/kernels/$2 deb fuse f
	[[ -f $k/.done ]] && return 0
	rm -rf "$k"
	mkdir -p "$k/modules"
	log "$rel: vmlinuz from linux-binary-$rel"
	deb=$(fetch_deb "$suite" "linux-binary-$rel") || return 1
	# /usr/lib/modules/REL/vmlinuz (7.x), /boot/vmlinuz-REL before.
	mkdir -p "$k/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -C "$k/x" -x --wildcards \
		"*/modules/$rel/vmlinuz" "*/vmlinuz-$rel" 2>/dev/null || true
	f=$(find "$k/x" -type f -name 'vmlinuz*' | head -n 1)
	[[ -n $f ]] || { log "no vmlinuz in $deb"; return 1; }
	mv "$f" "$k/vmlinuz"
	rm -rf "$k/x"
	rm -f "$deb"
	if grep -qx 'CONFIG_FUSE_FS=m' "$rootdir/usr/src/linux-headers-$rel/.config"; then
		log "$rel: fuse.ko from linux-modules-$rel"
		deb=$(fetch_deb "$suite" "linux-modules-$rel") || return 1
		mkdir -p "$k/x" "$k/modules/kernel/fs/fuse"
		dpkg-deb --fsys-tarfile "$deb" |
			tar -C "$k/x" -x --wildcards '*/kernel/fs/fuse/fuse.ko*'
		fuse=$(find "$k/x" -name 'fuse.ko*' | head -n 1)
		[[ -n $fuse ]] || { log "no fuse.ko in $deb"; return 1; }
		mv "$fuse" "$k/modules/kernel/fs/fuse/"
		rm -rf "$k/x"
		rm -f "$deb"
	fi
	touch "$k/.done"
}

# Build the module for REL in ROOTDIR, plain kbuild and DKMS, into RES.
build_in_root() {
	local rootdir=$1 rel=$2 res=$3 bdir=/tmp/procevent-build/$2 rc=0
	rm -rf "$res" "$rootdir$bdir"
	mkdir -p "$res" "$rootdir$bdir"
	tar -C "$root" --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='modules.order' \
		--exclude='Module.symvers' -cf - Kbuild module uapi |
		tar -C "$rootdir$bdir" -xf -
	log "$rel: building the module in the root"
	chroot "$rootdir" make -C "/usr/src/linux-headers-$rel" M="$bdir" V=1 \
		-j"$jobs" modules >"$res/build.log" 2>&1 || rc=$?
	grep -iE 'warning:|^WARNING' "$res/build.log" >"$res/warnings.log" || true
	if grep -q -- '-DPE_EXIT_TP_GROUP_DEAD' "$res/build.log"; then
		echo yes >"$res/group_dead"
	else
		echo no >"$res/group_dead"
	fi
	if [[ $rc -eq 0 && -f $rootdir$bdir/procevent.ko ]]; then
		cp "$rootdir$bdir/procevent.ko" "$res/procevent.ko"
		if [[ -s $res/warnings.log ]]; then echo warn; else echo pass; fi >"$res/build"
	else
		echo fail >"$res/build"
	fi
	rm -rf "$rootdir$bdir"

	# DKMS as a user of that system runs it; nothing is installed.
	: >"$res/dkms-warnings.log"
	if ! chroot "$rootdir" sh -c 'command -v dkms' >/dev/null 2>&1; then
		echo none >"$res/dkms"
		echo "dkms is not installed in this root" >"$res/dkms.log"
		return 0
	fi
	local src=/usr/src/procevent-$version mlog
	mlog=/var/lib/dkms/procevent/$version/$rel/x86_64/log/make.log
	chroot "$rootdir" sh -c "dkms remove procevent/$version --all; rm -rf $src /var/lib/dkms/procevent" \
		>/dev/null 2>&1 || true
	mkdir -p "$rootdir$src"
	tar -C "$root" --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' -cf - Kbuild module uapi dkms.conf |
		tar -C "$rootdir$src" -xf -
	log "$rel: dkms build in the root"
	if chroot "$rootdir" sh -c "dkms add procevent/$version && dkms build procevent/$version -k $rel" \
			>"$res/dkms.log" 2>&1; then
		if [[ -f $rootdir$mlog ]]; then
			cp "$rootdir$mlog" "$res/dkms-make.log"
			grep -iE 'warning:|^WARNING' "$res/dkms-make.log" >"$res/dkms-warnings.log" || true
		fi
		if [[ -s $res/dkms-warnings.log ]]; then echo warn; else echo pass; fi >"$res/dkms"
	else
		[[ -f $rootdir$mlog ]] && cp "$rootdir$mlog" "$res/dkms-make.log"
		echo fail >"$res/dkms"
	fi
	chroot "$rootdir" sh -c "dkms remove procevent/$version --all; rm -rf $src /var/lib/dkms/procevent" \
		>/dev/null 2>&1 || true
}

status=0
found=0
keep=()
for suite in "${suites[@]}"; do
	a=$cache/apt/$suite
	mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial" "$a/empty"
	sources_of "$suite" >"$a/sources.list"
	log "$suite: updating the private package lists"
	if ! apt_private apt-get "$suite" -q update >"$a/update.log" 2>&1; then
		log "$suite: apt-get update failed; using the lists of the last run"
		tail -n 5 "$a/update.log" >&2
	fi
	gen=$(packages_of "$suite" 2>/dev/null |
		sed -n -E 's/^Package: linux-headers-(7\.[0-9.]+\+[a-z0-9.]+-amd64)$/\1/p' |
		sort -V | tail -n 1 || true)
	if [[ -z $gen ]]; then
		log "$suite: no linux-headers-7.*-amd64"
		status=1
		continue
	fi
	abi=${gen%-amd64}
	rt=$abi-rt-amd64
	if [[ -z $(pkg_field "$suite" "linux-headers-$rt" Version) ]]; then
		log "$suite: linux-headers-$gen has no -rt counterpart"
		status=1
		rels=("$gen")
	else
		rels=("$gen" "$rt")
	fi
	cc=$(pkg_field "$suite" "linux-headers-$gen" Depends |
		grep -oE 'gcc-[0-9]+-for-host' | head -n 1 || true)
	cc=${cc%-for-host}
	cc=${cc:-gcc}
	log "$suite: ${rels[*]} ($cc)"

	# The root, by suite and ABI: made once.
	rootdir=$cache/roots/$suite-$abi
	keep+=("$rootdir")
	if [[ ! -f $rootdir/.procevent-root ]]; then
		rm -rf "$rootdir"
		mkdir -p "$cache/roots"
		hdrs=()
		for r in "${rels[@]}"; do hdrs+=("linux-headers-$r"); done
		mapfile -t srcs < <(sources_of "$suite")
		dkms_pkg=dkms
		for _ in 1 2; do
			log "$suite: mmdebstrap root in $rootdir (${dkms_pkg:-no dkms})"
			t0=$SECONDS
			if mmdebstrap --variant=minbase \
					--aptopt='Acquire::Check-Valid-Until "false"' \
					--aptopt='APT::Install-Recommends "false"' \
					--include="make,$cc,libc6-dev,kmod${dkms_pkg:+,$dkms_pkg},$(IFS=,; echo "${hdrs[*]}")" \
					"${suite%-backports}" "$rootdir" "${srcs[@]}" \
					>"$cache/roots/$suite-$abi.log" 2>&1; then
				echo "$suite $abi ${dkms_pkg:-nodkms} $((SECONDS - t0))s" >"$rootdir/.procevent-root"
				break
			fi
			rm -rf "$rootdir"
			if [[ -n $dkms_pkg ]]; then
				log "$suite: mmdebstrap with dkms failed; again without it (plain kbuild only):"
				grep -E '^E:|unmet|Depends:' "$cache/roots/$suite-$abi.log" | head -n 10 >&2 || true
				dkms_pkg=
			else
				log "$suite: mmdebstrap failed (log $cache/roots/$suite-$abi.log):"
				tail -n 15 "$cache/roots/$suite-$abi.log" >&2
			fi
		done
		if [[ ! -f $rootdir/.procevent-root ]]; then
			status=1
			continue
		fi
		log "$suite: root made: $(cat "$rootdir/.procevent-root")"
	fi

	for rel in "${rels[@]}"; do
		keep+=("$cache/kernels/$rel" "$cache/builds/$rel")
		if ! kernel_files "$suite" "$rel" "$rootdir"; then
			log "$rel: could not get the kernel image"
			status=1
			continue
		fi
		res=$cache/builds/$rel/$srckey
		if [[ ! -f $res/build ]]; then
			rm -rf "$cache/builds/$rel"
			mount -t proc proc "$rootdir/proc"
			mounted=$rootdir/proc
			build_in_root "$rootdir" "$rel" "$res"
			cleanup
		else
			log "$rel: module build cached ($srckey)"
		fi
		if [[ -z $want ]]; then
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rel" "$cache/kernels/$rel/vmlinuz" \
				"$rootdir/usr/src/linux-headers-$rel" "$res/procevent.ko" \
				"$cache/kernels/$rel/modules" "$res"
		elif [[ $want == "$rel" || ( $want == "$suite" && $rel == "$gen" ) ||
			( $want == "$suite-rt" && $rel == "$rt" ) ]]; then
			echo "--kernel $cache/kernels/$rel/vmlinuz" \
				"--kdir $rootdir/usr/src/linux-headers-$rel" \
				"--ko $res/procevent.ko --modules $cache/kernels/$rel/modules --name $rel"
			found=1
		fi
	done
done

if [[ -n $want && $found -eq 0 ]]; then
	log "no kernel $want"
	exit 1
fi
# What no longer belongs to a newest release goes (after a run over all
# the suites only).
[[ $prune -eq 1 && $status -eq 0 ]] || exit "$status"
for d in "$cache"/roots/*/ "$cache"/kernels/*/ "$cache"/builds/*/; do
	d=${d%/}
	[[ -d $d ]] || continue
	used=0
	for k in ${keep[@]+"${keep[@]}"}; do
		[[ $d == "$k" ]] && used=1
	done
	if [[ $used -eq 0 ]]; then
		log "removing $d (not a newest release)"
		umount "$d/proc" 2>/dev/null || true
		rm -rf --one-file-system "$d" "$d.log"
	fi
done
exit "$status"
