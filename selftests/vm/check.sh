#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything "make check" verifies, as counted test cases:
#   kernel-K-installed  a kernel K (6.1, 6.12, 6.1-rt, 6.12-rt) is missing
#   dkms-add       "make dkms-src" and "dkms add" register the sources
#   dkms-build-R   "dkms build -k R" builds without a warning
#   dkms-install-R "dkms install -k R" puts the module in
#                  /lib/modules/R/updates/dkms and depmod finds it there
#   vm-R           kernel R ran the selftests without a splat, a leak or a
#                  timeout, loading the module DKMS installed for it
#   R/prog/test    each selftest result on kernel R (selftests/vm/run.sh)
#   debug-kernel-build, debug-kernel-build-V  the debug kernels
#                  (scripts/debug-kernel.sh) are built: linux-source-6.1
#                  (the first), 6.12 and sid's newest 7.x with KASAN,
#                  lockdep and kmemleak, and 6.12 with KCSAN (V: 6.12, 7,
#                  kcsan)
#   build-D, vm-D, D/prog/test  the same on the debug kernel D, with the
#                  module built against it by scripts/debug-kernel.sh
#                  --module (7.x: inside the sid root); the KCSAN kernel
#                  fails on a KCSAN report with a frame in the module
#                  (reports in core kernel code only are listed)
#   kernels-7x     scripts/kernels-7x.sh found the newest linux-headers-7.*
#                  of sid and of trixie-backports, generic and -rt, made
#                  their roots and got their images
#   build-X, dkms-build-X  the module builds for 7.x kernel X in that root,
#                  with plain kbuild and with "dkms build", without a
#                  warning (dkms-build-X is skipped when dkms did not
#                  install in the root)
#   group-dead-X   the build for X took the 6.16 sched_process_exit
#                  (PE_EXIT_TP_GROUP_DEAD defined)
#   vm-X, X/prog/test  kernel X's own image ran the selftests with that
#                  module (stress cases of X as for R)
#   selftests-build  the selftests compile
#   tools-build    libprocevent, proceventctl and their tests compile
#   lockd-build    the lock server example and its tests compile
#   tools-host-check  the library tests pass against libprocevent.so here
#   checkpatch     checkpatch.pl --strict is clean on the module and uapi
#   sparse         "make C=2" reports nothing (against the 6.1 headers)
#   compat-group-dead  the module builds for a sched_process_exit with
#                  group_dead (6.16), faked on the newest headers
#   deb-build      "make deb" builds procevent-dkms, procevent-tools,
#                  libprocevent0 and libprocevent-dev
#   deb-lintian    lintian -EvIL +pedantic reports no tag on them that is
#                  not overridden with a reason (scripts/deb-lintian.sh)
#   deb-install    apt-get install of the four .deb files succeeds
#   deb-dkms-R     after that, DKMS has installed the module for R
#   deb-tools      proceventctl (linked against libprocevent.so.0) runs; a
#                  program builds with pkg-config; the man pages and the
#                  bash completion are where man and bash look
#   deb-purge      apt-get purge leaves no module, source, DKMS state,
#                  library or header
#   system-R/NAME  the system test (scripts/system-test.sh, make
#                  system-test) on each generic kernel R: those .deb files
#                  installed with apt into a Debian 12 root of R (DKMS
#                  builds there), booted twice with systemd in QEMU:
#                  root, apt-install, dkms-image, boot-1, boot-2, and the
#                  checks inside (selftests/system/guest.sh): dkms-module,
#                  modprobe, dev-node, rmmod, monitor-start,
#                  monitor-status, monitor-acks, monitor-holds,
#                  monitor-restart, monitor-stop, modules-load,
#                  boot1-not-loaded, boot2-modules-load, boot2-monitor,
#                  boot2-dev-node, purge, purge-idle (first kernel) or
#                  purge-busy (the others), dmesg-clean-1, dmesg-clean-2
# R is every installed Debian amd64 kernel, generic or PREEMPT_RT, with
# both /boot/vmlinuz-R and /usr/src/linux-headers-R.  The DKMS and package
# tests change this machine (/usr/src, /var/lib/dkms, /lib/modules/R/
# updates/dkms) and undo it; they never load the module here.
#
# The last line is "N passed, N failed, N skipped"; the exit status is
# non-zero when anything failed, and the time taken is printed before it.
# Details are in build/check/ and build/vm/R/.
#
# PROCEVENT_CHECK_ONLY restricts the kernels to the groups it lists:
# "installed" (the Debian kernels R, with the DKMS and package tests, which
# change the machine), "debug-6.1", "debug-6.12", "debug-7", "kcsan"
# ("debug" is the four), "7x" (the kernels of kernels-7x.sh), "all".  The
# default is every group, but the 6.12 and 7.x debug kernels and KCSAN
# run only when their build is cached already (scripts/debug-kernel.sh
# --cached-only): built cold they take 15 to 60 minutes each on two cores,
# more than a fresh make check can spend; a kernel not built yet is a
# skipped case.  Naming a group builds its kernel, e.g.
# PROCEVENT_CHECK_ONLY=kcsan selftests/vm/check.sh.  The builds,
# checkpatch, sparse and compat run always.

set -uo pipefail

start=$SECONDS
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/build/check
rm -rf "$out"
mkdir -p "$out"
# Cases of check.sh itself; each kernel's go to cases-R, all of them to
# cases at the end.
other=$out/cases-other
: >"$other"

record() {
	echo "$1 $2" >>"$other"
}

# Each section's time, for the table at the end.
stage=
stage_start=$SECONDS
stage_times=()
section() {
	if [[ -n $stage ]]; then
		stage_times+=("$(printf '%6ds  %s' $((SECONDS - stage_start)) "$stage")")
	fi
	stage=$*
	stage_start=$SECONDS
	echo
	echo "=== $* ($((SECONDS - start))s)"
}

only=${PROCEVENT_CHECK_ONLY:-}
# By default the newer debug kernels run when they are built already.
debug_cached_only=0
if [[ -z $only ]]; then
	only="installed debug 7x"
	debug_cached_only=1
fi
# Whether the kernel group $1 runs (PROCEVENT_CHECK_ONLY).
wanted() {
	local w
	for w in $only; do
		[[ $w == all ]] && return 0
		[[ $w == "$1" ]] && return 0
		[[ $w == debug && ( $1 == debug-* || $1 == kcsan ) ]] && return 0
	done
	return 1
}

counts() {
	local file=$1
	printf '%s passed, %s failed, %s skipped' \
		"$(grep -c '^PASS ' "$file")" "$(grep -c '^FAIL ' "$file")" \
		"$(grep -c '^SKIP ' "$file")"
}

section "dependencies"
if ! "$root/scripts/deps.sh"; then
	echo "check: installing the dependencies failed" >&2
	exit 1
fi
if ! ksrc=$("$root/scripts/ksrc.sh"); then
	echo "check: no linux-source-6.1 tree" >&2
	exit 1
fi
echo "check: kernel source tree $ksrc"

section "selftests build"
if [[ -f $root/selftests/Makefile ]]; then
	if make -C "$root/selftests" KSRC="$ksrc" -j"$(nproc)" >"$out/selftests-build.log" 2>&1; then
		record PASS selftests-build
	else
		record FAIL selftests-build
		echo "check: the selftests do not build:"
		tail -n 40 "$out/selftests-build.log" | sed 's/^/  /'
	fi
else
	echo "check: no selftests/Makefile yet"
fi

section "tools build"
# libprocevent (static and shared), proceventctl and their tests; the VM
# runs go on without them if this fails (their tests then go missing).
if make -C "$root/tools" KSRC="$ksrc" -j"$(nproc)" >"$out/tools-build.log" 2>&1; then
	record PASS tools-build
else
	record FAIL tools-build
	echo "check: the tools do not build:"
	tail -n 40 "$out/tools-build.log" | sed 's/^/  /'
fi
# The library tests once more, linked against libprocevent.so through its
# pkg-config file, on this machine (the device tests skip here).
if make -C "$root/tools" KSRC="$ksrc" host-check >"$out/tools-host.log" 2>&1; then
	record PASS tools-host-check
else
	record FAIL tools-host-check
	tail -n 40 "$out/tools-host.log" | sed 's/^/  /'
fi

# examples/lockd: lockd and lockctl join the tools in the VM, its tests
# (lockd_robust, lockd_race in its short form) the tools' tests.
vm_opts=()
if make -C "$root/examples/lockd" KSRC="$ksrc" >"$out/lockd-build.log" 2>&1; then
	record PASS lockd-build
	rm -rf "$out/vm-tools" "$out/vm-tool-tests"
	mkdir -p "$out/vm-tools" "$out/vm-tool-tests"
	cp "$root"/build/tools/bin/* "$root"/build/lockd/bin/* "$out/vm-tools/" 2>/dev/null
	cp "$root"/build/tools/tests/* "$root"/build/lockd/tests/* "$out/vm-tool-tests/" 2>/dev/null
	vm_opts=(--tools "$out/vm-tools" --tool-tests "$out/vm-tool-tests")
else
	record FAIL lockd-build
	tail -n 40 "$out/lockd-build.log" | sed 's/^/  /'
fi

section "kernels"
# Every installed Debian kernel, generic and PREEMPT_RT, with its headers.
mapfile -t kernels < <("$root/scripts/installed-kernels.sh")
echo "check: kernels: ${kernels[*]:-none}"
# The ones booted (PROCEVENT_CHECK_ONLY).
vm_kernels=()
wanted installed && vm_kernels=(${kernels[@]+"${kernels[@]}"})
for want in 6.1 6.12 6.1-rt 6.12-rt; do
	found=0
	for r in ${kernels[@]+"${kernels[@]}"}; do
		case $want:$r in
		*-rt:"${want%-rt}".*-rt-amd64) found=1 ;;
		*-rt:*) ;;
		*:"$want".*-rt-amd64) ;;
		*:"$want".*) found=1 ;;
		esac
	done
	if [[ $found -eq 0 ]]; then
		echo "check: no $want kernel with headers installed"
		record FAIL "kernel-$want-installed"
	fi
done

section "dkms"
# The module goes through DKMS as an administrator would install it: its
# sources in /usr/src/procevent-<version> (make dkms-src), then dkms add,
# build and install for every kernel.  The VM runs below load the module
# DKMS installed in /lib/modules/R/updates/dkms.  Everything is removed
# again before the packages are tested, and on any exit.
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$root/dkms.conf")
dkms_dir=$out/dkms
mkdir -p "$dkms_dir"
dkms_mine=0
dkms_cleanup() {
	if [[ $dkms_mine -eq 1 ]]; then
		dkms remove "procevent/$version" --all >/dev/null 2>&1
		rm -rf "/usr/src/procevent-$version"
		dkms_mine=0
	fi
}
debs_pkgs=(procevent-dkms procevent-tools libprocevent0 libprocevent-dev)
pkg_cleanup() {
	if dpkg-query -W -f='${db:Status-Status}' "${debs_pkgs[@]}" \
			2>/dev/null | grep -q installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y \
			"${debs_pkgs[@]}" >/dev/null 2>&1
	fi
}
trap 'dkms_cleanup; [[ ${pkg_mine:-0} -eq 1 ]] && pkg_cleanup' EXIT

# The installed module file for kernel R, compressed or not.
installed_ko() {
	local f
	for f in "/lib/modules/$1/updates/dkms/procevent.ko"{,.xz,.zst,.gz}; do
		[[ -f $f ]] && { echo "$f"; return 0; }
	done
	return 1
}

declare -A dkms_ko=()
dkms_ok=1
if ! wanted installed; then
	dkms_ok=0
	echo "check: PROCEVENT_CHECK_ONLY=$only: no DKMS tests"
elif dpkg-query -W -f='${db:Status-Status}' procevent-dkms 2>/dev/null | grep -q installed; then
	echo "check: the procevent-dkms package is installed here; purge it to run the DKMS tests"
	record FAIL dkms-add
	dkms_ok=0
elif [[ -n $(dkms status -m procevent 2>/dev/null) ]]; then
	# Left over by an interrupted run.
	echo "check: removing a procevent registration left in DKMS"
	dkms status -m procevent 2>/dev/null | sed 's/^/  /'
	for v in $(dkms status -m procevent 2>/dev/null | sed -n 's|^procevent/\([^,:]*\).*|\1|p' | sort -u); do
		dkms remove "procevent/$v" --all >/dev/null
		rm -rf "/usr/src/procevent-$v"
	done
fi
if [[ $dkms_ok -eq 1 ]]; then
	dkms_mine=1
	if make -s -C "$root" dkms-src >"$dkms_dir/add.log" 2>&1 &&
			dkms add "procevent/$version" >>"$dkms_dir/add.log" 2>&1; then
		record PASS dkms-add
	else
		record FAIL dkms-add
		sed 's/^/  /' "$dkms_dir/add.log"
		dkms_ok=0
	fi
fi
for r in ${vm_kernels[@]+"${vm_kernels[@]}"}; do
	[[ $dkms_ok -eq 1 ]] || break
	log=$dkms_dir/$r.log
	echo "check: dkms build and install for $r"
	if ! dkms build "procevent/$version" -k "$r" >"$log" 2>&1; then
		record FAIL "dkms-build-$r"
		tail -n 30 "$log" | sed 's/^/  /'
		make_log=/var/lib/dkms/procevent/$version/build/make.log
		[[ -f $make_log ]] && grep -E 'error|warning' "$make_log" | head -n 20 | sed 's/^/  /'
		continue
	fi
	# A warning in the build fails it as it does the plain build.
	make_log=/var/lib/dkms/procevent/$version/$r/x86_64/log/make.log
	if [[ -f $make_log ]] && grep -iE 'warning:|^WARNING' "$make_log" >"$dkms_dir/$r.warnings"; then
		record FAIL "dkms-build-$r"
		sed 's/^/  /' "$dkms_dir/$r.warnings"
	else
		record PASS "dkms-build-$r"
	fi
	# Installed under updates/dkms, and depmod ran: modinfo finds the
	# module of that kernel by name there.
	if dkms install "procevent/$version" -k "$r" >>"$log" 2>&1 &&
			ko=$(installed_ko "$r") &&
			[[ $(modinfo -k "$r" -n procevent 2>/dev/null) == "$ko" ]] &&
			dkms status -m procevent -v "$version" -k "$r" 2>/dev/null | grep -q ': installed$'; then
		record PASS "dkms-install-$r"
		case $ko in
		*.xz) xz -dc "$ko" >"$dkms_dir/$r.ko" ;;
		*.zst) zstd -qdc "$ko" >"$dkms_dir/$r.ko" ;;
		*.gz) gzip -dc "$ko" >"$dkms_dir/$r.ko" ;;
		*) cp "$ko" "$dkms_dir/$r.ko" ;;
		esac
		dkms_ko[$r]=$dkms_dir/$r.ko
		echo "check: $r: $ko"
	else
		record FAIL "dkms-install-$r"
		tail -n 20 "$log" | sed 's/^/  /'
		echo "  installed: $(installed_ko "$r" || echo none);" \
			"modinfo: $(modinfo -k "$r" -n procevent 2>&1)"
	fi
done

vm_failed=0
runs=()
# One VM run: run.sh's arguments after the run's name.
# The emulator artifact of README "Robustness": with one host thread per
# virtual CPU, QEMU's TCG can run a breakpoint byte that a static-key
# patch on the other CPU has already replaced.  Its mark: an int3 Oops
# whose Code: line shows that memory no longer holds 0xcc before RIP.
tcg_int3_artifact() {
	local prev
	grep -q 'Oops: int3' "$1" 2>/dev/null || return 1
	prev=$(sed -n '/Oops: int3/,$p' "$1" | grep -m1 ' Code: ' |
		sed -n 's/.* \([0-9a-f][0-9a-f]\) <[0-9a-f][0-9a-f]>.*/\1/p')
	[[ -n $prev && $prev != cc ]]
}

vm_run() {
	local name=$1 rc summary console
	shift
	runs+=("$name")
	"$root/selftests/vm/run.sh" ${vm_opts[@]+"${vm_opts[@]}"} "$@"
	rc=$?
	console=$root/build/vm/$name/console.log
	if [[ $rc -ne 0 ]] && tcg_int3_artifact "$console"; then
		cp "$console" "$console.tcg-int3"
		echo "check: $name: the emulator ran an int3 that memory no longer holds (TCG artifact, console kept as $console.tcg-int3); booting it once more"
		"$root/selftests/vm/run.sh" ${vm_opts[@]+"${vm_opts[@]}"} "$@"
		rc=$?
	fi
	summary=$root/build/vm/$name/summary
	if [[ -f $summary ]]; then
		grep -E '^(PASS|FAIL|SKIP) ' "$summary" >"$out/cases-$name"
	else
		echo "FAIL vm-$name" >"$out/cases-$name"
	fi
	[[ $rc -eq 0 ]] || vm_failed=1
}

for r in ${vm_kernels[@]+"${vm_kernels[@]}"}; do
	section "kernel $r"
	if [[ -n ${dkms_ko[$r]:-} ]]; then
		echo "check: loading the module DKMS installed for $r"
		vm_run "$r" --ko "${dkms_ko[$r]}" "$r"
	else
		# No DKMS build (that failed above): test the plain build.
		vm_run "$r" "$r"
	fi
done

section "debug kernels"
# Kernels built from source with the checkers on, once, and cached outside
# the checkout (scripts/debug-kernel.sh; /var/cache/procevent/debug-kernel*):
#   debug-6.1   linux-source-6.1, tinyconfig plus selftests/vm/debug.config:
#               KASAN, lockdep, kmemleak, DEBUG_ATOMIC_SLEEP and friends
#   debug-6.12  the same from linux-source-6.12
#   debug-7     the same from sid's newest linux-source-7.*, built inside
#               the sid root of scripts/kernels-7x.sh with its gcc-16
#   kcsan       linux-source-6.12 with KCSAN instead of KASAN, kmemleak
#               and lockdep (selftests/vm/kcsan.config)
# The module is built against each (for debug-7 in the sid root) without
# a warning.  Any warning panics the KASAN kernels (panic_on_warn: the run
# then fails for want of a result token) and their kmemleak report at the
# end must be empty.  The KCSAN kernel boots without panic_on_warn (KCSAN
# panics on its first report then, the core kernel's too): run.sh fails
# the run on a KCSAN report with a frame in the module and lists the ones
# in core kernel code only.  Each but debug-6.1 runs the stress short form
# too, below.
dbg=()
declare -A dbg_args=() dbg_append=() dbg_kmemleak=()
kasan_append="panic_on_warn=1 hung_task_panic=1 PROCEVENT_SLOW=1"
# debug_kernel GROUP CASE APPEND KMEMLEAK [debug-kernel.sh options...]
debug_kernel() {
	local group=$1 case=$2 append=$3 kmemleak=$4 d rel mod t0=$SECONDS
	shift 4
	local rc=0 cached=()
	wanted "$group" || return 0
	[[ $debug_cached_only -eq 1 && $group != debug-6.1 ]] && cached=(--cached-only)
	mod=$out/$group-module
	d=$("$root/scripts/debug-kernel.sh" "$@" ${cached[@]+"${cached[@]}"} \
		--module "$mod" 2>"$out/$group.log") || rc=$?
	grep -E '^debug-kernel: (building|built) ' "$out/$group.log" | sed 's/^/  /'
	if [[ $rc -eq 3 ]]; then
		record SKIP "$case"
		echo "check: $group: not built yet, so not run (PROCEVENT_CHECK_ONLY=$group builds it: 15 to 60 minutes cold)"
		return 0
	fi
	if [[ -z $d || ! -f $d/arch/x86/boot/bzImage ]]; then
		record FAIL "$case"
		echo "check: $group: scripts/debug-kernel.sh $* failed:"
		tail -n 20 "$out/$group.log" | sed 's/^/  /'
		return 0
	fi
	record PASS "$case"
	rel=$(cat "$d/include/config/kernel.release")
	echo "check: $group: $rel in $d, ready in $((SECONDS - t0))s"
	if [[ -f $mod/procevent.ko && ! -s $mod/warnings.log ]]; then
		record PASS "build-$rel"
	else
		record FAIL "build-$rel"
		echo "check: $group: the module build against $rel (log $mod/build.log):"
		{ cat "$mod/warnings.log"; grep -E 'error|Error' "$mod/build.log"; } 2>/dev/null |
			head -n 30 | sed 's/^/  /'
		return 0
	fi
	dbg+=("$rel")
	dbg_args[$rel]="--kernel $d/arch/x86/boot/bzImage --ko $mod/procevent.ko --name $rel"
	dbg_append[$rel]=$append
	dbg_kmemleak[$rel]=$kmemleak
}
debug_kernel debug-6.1 debug-kernel-build "$kasan_append" 1
debug_kernel debug-6.12 debug-kernel-build-6.12 "$kasan_append" 1 --version 6.12
debug_kernel debug-7 debug-kernel-build-7 "$kasan_append" 1 --version 7
debug_kernel kcsan debug-kernel-build-kcsan "hung_task_panic=1 PROCEVENT_SLOW=1" 0 \
	--version 6.12 --kcsan
for r in ${dbg[@]+"${dbg[@]}"}; do
	section "kernel $r"
	# shellcheck disable=SC2086  # cache paths, no blanks
	PROCEVENT_VM_APPEND="${dbg_append[$r]} ${PROCEVENT_VM_APPEND:-}" \
	PROCEVENT_VM_TIMEOUT=${PROCEVENT_VM_TIMEOUT:-1200} \
	PROCEVENT_VM_KMEMLEAK_REQUIRED=${dbg_kmemleak[$r]} \
		vm_run "$r" ${dbg_args[$r]}
done

section "kernels 7.x"
# The newest 7.x of Debian sid and of trixie-backports, generic and
# PREEMPT_RT, which no Debian 12 machine can install: scripts/kernels-7x.sh
# resolves them when this runs (a private apt state; the machine's sources
# are untouched), builds the module for each in an mmdebstrap root of its
# suite with plain kbuild and with "dkms build", and extracts the image
# from linux-binary-<release>; roots, images and builds are cached under
# /var/cache/procevent/k7x (cold about 3 minutes, warm a few seconds).
# Each kernel then runs every test with the module built in its root.
k7x=()
declare -A k7x_args=()
t0=$SECONDS
: >"$out/kernels-7x.list"
: >"$out/kernels-7x.log"
if ! wanted 7x; then
	echo "check: PROCEVENT_CHECK_ONLY=$only: no 7.x kernels"
elif "$root/scripts/kernels-7x.sh" >"$out/kernels-7x.list" 2>"$out/kernels-7x.log"; then
	record PASS kernels-7x
else
	record FAIL kernels-7x
	grep -v -e '^Get:' -e '^Fetched' "$out/kernels-7x.log" | tail -n 20 | sed 's/^/  /'
fi
grep -e 'without it' -e ': root made' "$out/kernels-7x.log" | sed 's/^/  /'
echo "check: scripts/kernels-7x.sh took $((SECONDS - t0))s"
while IFS=$'\t' read -r r image kdir ko moddir res; do
	[[ -n $r ]] || continue
	echo "check: $r: image $image, headers $kdir"
	if [[ $(cat "$res/build" 2>/dev/null) == pass ]]; then
		record PASS "build-$r"
	else
		record FAIL "build-$r"
		echo "check: $r: the build in the root (log $res/build.log):"
		{ cat "$res/warnings.log"; grep -E 'error|Error' "$res/build.log"; } 2>/dev/null |
			head -n 30 | sed 's/^/  /'
	fi
	case $(cat "$res/dkms" 2>/dev/null) in
	pass) record PASS "dkms-build-$r" ;;
	none)
		record SKIP "dkms-build-$r"
		echo "check: $r: no dkms in the root (it did not install): plain kbuild only"
		;;
	*)
		record FAIL "dkms-build-$r"
		echo "check: $r: dkms build in the root (log $res/dkms.log):"
		{ cat "$res/dkms-warnings.log"; tail -n 10 "$res/dkms.log"; } 2>/dev/null | sed 's/^/  /'
		;;
	esac
	if [[ $(cat "$res/group_dead" 2>/dev/null) == yes ]]; then
		record PASS "group-dead-$r"
	else
		record FAIL "group-dead-$r"
	fi
	if [[ -f $ko ]]; then
		k7x+=("$r")
		k7x_args[$r]="--kernel $image --kdir $kdir --ko $ko --modules $moddir --name $r"
	fi
done <"$out/kernels-7x.list"
for r in ${k7x[@]+"${k7x[@]}"}; do
	section "kernel $r"
	# shellcheck disable=SC2086  # cache paths, no blanks
	vm_run "$r" ${k7x_args[$r]}
done

# The short form of make stress (stress/run.sh --short): its cases count
# with the others.
section "stress (short)"
# One kernel's stress run at a time.
stress_one() {
	local what=$1
	shift
	rm -f "$root/build/stress/cases-short"
	"$root/stress/run.sh" --short "$@" || vm_failed=1
	cat "$root/build/stress/cases-short" >>"$other" 2>/dev/null ||
		record FAIL "stress-short-$what"
}
for r in ${vm_kernels[@]+"${vm_kernels[@]}"}; do
	stress_one "$r" "$r"
done
if [[ ${#k7x[@]} -gt 0 ]]; then
	section "stress (short), 7.x"
fi
for r in ${k7x[@]+"${k7x[@]}"}; do
	# shellcheck disable=SC2086
	stress_one "$r" ${k7x_args[$r]}
done
# The debug kernels but 6.1 (its selftests run is the longest of all),
# with the options of their selftests run; a boot may take longer.
dbg_stress=()
for r in ${dbg[@]+"${dbg[@]}"}; do
	[[ $r == 6.1.* ]] || dbg_stress+=("$r")
done
if [[ ${#dbg_stress[@]} -gt 0 ]]; then
	section "stress (short), debug kernels"
fi
for r in ${dbg_stress[@]+"${dbg_stress[@]}"}; do
	# shellcheck disable=SC2086
	PROCEVENT_VM_APPEND="${dbg_append[$r]} ${PROCEVENT_VM_APPEND:-}" \
	PROCEVENT_VM_TIMEOUT=${PROCEVENT_VM_TIMEOUT:-1200} \
		stress_one "$r" ${dbg_args[$r]}
done

section "checkpatch"
files=()
for f in "$root"/module/*.c "$root"/module/*.h "$root"/uapi/linux/procevent.h; do
	[[ -f $f ]] && files+=("${f#"$root"/}")
done
if [[ ${#files[@]} -eq 0 ]]; then
	echo "check: no module sources to check"
	record FAIL checkpatch
elif (cd "$root" && perl "$ksrc/scripts/checkpatch.pl" --strict --no-tree \
		--no-summary --terse --show-types -f "${files[@]}") \
		>"$out/checkpatch.log" 2>&1; then
	record PASS checkpatch
	echo "check: checkpatch clean on ${#files[@]} files"
else
	record FAIL checkpatch
	sed 's/^/  /' "$out/checkpatch.log"
fi

section "sparse"
sparse_kernel=
for r in ${kernels[@]+"${kernels[@]}"}; do
	[[ $r == 6.1.* && $r != *-rt-amd64 ]] && sparse_kernel=$r
done
if [[ -z $sparse_kernel ]]; then
	echo "check: no 6.1 kernel headers for sparse"
	record FAIL sparse
elif "$root/scripts/build-module.sh" "/usr/src/linux-headers-$sparse_kernel" \
		"$out/sparse" C=2 2>/dev/null && [[ ! -s $out/sparse/warnings.log ]]; then
	record PASS sparse
	echo "check: sparse clean against $sparse_kernel"
else
	record FAIL sparse
	echo "check: sparse (C=2) against $sparse_kernel:"
	if [[ -s $out/sparse/warnings.log ]]; then
		sed 's/^/  /' "$out/sparse/warnings.log"
	else
		tail -n 20 "$out/sparse/build.log" | sed 's/^/  /'
	fi
fi

section "compat"
# From 6.16 sched_process_exit passes group_dead; Kbuild's probe step then
# defines PE_EXIT_TP_GROUP_DEAD and compat.h builds the other probe
# wrapper.  The 7.x kernels above build (group-dead-X) and run that path
# for real.  This build stays as a compile check only: it tries the
# group_dead wrapper with this machine's gcc-12 against the installed
# headers and needs no package from outside, so the path is still
# compiled when the 7.x stage cannot reach its suites.  The newest
# headers are copied (the common tree as symlinks) with that tracepoint
# declared the 6.16 way, and the module must build against them without
# a warning.
newest=
for r in ${kernels[@]+"${kernels[@]}"}; do
	[[ $r == *-rt-amd64 ]] || newest=$r
done
fake=$out/compat
if [[ -z $newest ]]; then
	record FAIL compat-group-dead
elif (
	set -e
	hdr=/usr/src/linux-headers-$newest
	common=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$hdr/Makefile")
	rm -rf "$fake"
	mkdir -p "$fake"
	cp -a "$hdr" "$fake/arch"
	cp -as "$(realpath "$common")" "$fake/common"
	for l in scripts tools; do
		[[ -L $hdr/$l ]] && ln -sfn "$(realpath "$hdr/$l")" "$fake/arch/$l"
	done
	echo "include $fake/common/Makefile" >"$fake/arch/Makefile"
	sched=$fake/common/include/trace/events/sched.h
	cp --remove-destination "$(realpath "$sched")" "$sched"
	sed -i '/sched_process_exit,$/,/TP_ARGS/{
		s/TP_PROTO(struct task_struct \*p)/TP_PROTO(struct task_struct *p, bool group_dead)/
		s/TP_ARGS(p)/TP_ARGS(p, group_dead)/
	}' "$sched"
	grep -A2 'sched_process_exit,$' "$sched" | grep -q group_dead
	"$root/scripts/build-module.sh" "$fake/arch" "$fake/module" V=1
	grep -q -- '-DPE_EXIT_TP_GROUP_DEAD' "$fake/module/build.log"
	[[ ! -s $fake/module/warnings.log ]]
) >"$out/compat.log" 2>&1; then
	record PASS compat-group-dead
	echo "check: builds against $newest headers with the 6.16 sched_process_exit"
else
	record FAIL compat-group-dead
	tail -n 20 "$out/compat.log" | sed 's/^/  /'
fi
rm -rf "$fake/common"

section "packages"
# The Debian packages as an administrator installs them: procevent-dkms
# must build and install the module for every kernel, procevent-tools,
# libprocevent0 and libprocevent-dev bring a working tool, library and
# headers, lintian find nothing unexplained, and a purge leave nothing.
if ! wanted installed; then
	echo "check: PROCEVENT_CHECK_ONLY=$only: no package tests"
else
	dkms_cleanup
	debs=$out/deb
	pkg_mine=0
	if "$root/scripts/build-deb.sh" "$debs" >"$out/deb-build.log" 2>&1; then
		record PASS deb-build
	else
		record FAIL deb-build
		tail -n 30 "$out/deb-build.log" | sed 's/^/  /'
	fi
	deb_files=()
	for p in "${debs_pkgs[@]}"; do
		f=$(compgen -G "$debs/${p}_*.deb" | head -n 1) && deb_files+=("$f")
	done
	if [[ ${#deb_files[@]} -ne ${#debs_pkgs[@]} ]]; then
		record FAIL deb-lintian
	elif "$root/scripts/deb-lintian.sh" "$debs" >"$out/deb-lintian.log" 2>&1; then
		record PASS deb-lintian
	else
		record FAIL deb-lintian
		grep -e '^[EWIPX]: ' -e '^deb-lintian:' "$out/deb-lintian.log" | sed 's/^/  /'
	fi
	if dpkg-query -W -f='${db:Status-Status}' "${debs_pkgs[@]}" \
			2>/dev/null | grep -q installed; then
		echo "check: procevent packages are installed here already; not touching them"
		record FAIL deb-install
	elif [[ ${#deb_files[@]} -eq ${#debs_pkgs[@]} ]]; then
		pkg_mine=1
		echo "check: apt-get install ${deb_files[*]##*/}"
		if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
				"${deb_files[@]}" >"$out/deb-install.log" 2>&1; then
			record PASS deb-install
		else
			record FAIL deb-install
			tail -n 30 "$out/deb-install.log" | sed 's/^/  /'
		fi
		dkms status -m procevent 2>/dev/null | sed 's/^/  dkms status: /'
		for r in ${kernels[@]+"${kernels[@]}"}; do
			if dkms status -m procevent -v "$version" -k "$r" 2>/dev/null | grep -q ': installed$' &&
					ko=$(installed_ko "$r") &&
					[[ $(modinfo -k "$r" -n procevent 2>/dev/null) == "$ko" ]]; then
				record PASS "deb-dkms-$r"
			else
				record FAIL "deb-dkms-$r"
			fi
		done
		# The tools and library packages: the tool, linked against the shared
		# library, runs; a program builds against the installed headers and
		# library through pkg-config; every man page of the tree is found by
		# man; bash completes proceventctl.
		man_ok=1
		: >"$out/deb-tools.log"
		for m in "$root"/tools/man/*.[0-9] "$root"/man/*.[0-9]; do
			[[ -f $m ]] || continue
			n=${m##*/}
			if ! man -w "${n##*.}" "${n%.*}" >>"$out/deb-tools.log" 2>&1; then
				echo "no man page ${n%.*}(${n##*.})" >>"$out/deb-tools.log"
				man_ok=0
			fi
		done
		if [[ $man_ok -eq 1 && -f /lib/udev/rules.d/60-procevent.rules ]] &&
				[[ -f /usr/share/bash-completion/completions/proceventctl ]] &&
				bash -n /usr/share/bash-completion/completions/proceventctl &&
				readelf -d /usr/bin/proceventctl | grep -q 'NEEDED.*\[libprocevent\.so\.0\]' &&
				/usr/bin/proceventctl --version >>"$out/deb-tools.log" 2>&1 &&
				printf '%s\n' '#include <procevent.h>' '#include <linux/procevent.h>' \
					'int main(void) { return procevent_set_timeout(-1, 0) == 0; }' |
				gcc -x c - -o "$out/deb-tools-test" \
					$(pkg-config --cflags --libs libprocevent) >>"$out/deb-tools.log" 2>&1 &&
				"$out/deb-tools-test"; then
			record PASS deb-tools
		else
			record FAIL deb-tools
			sed 's/^/  /' "$out/deb-tools.log"
		fi
		if DEBIAN_FRONTEND=noninteractive apt-get purge -y "${debs_pkgs[@]}" \
				>"$out/deb-purge.log" 2>&1; then
			pkg_mine=0
			left=$( {
				dkms status -m procevent
				ls -d /usr/src/procevent-* /var/lib/dkms/procevent \
					/lib/udev/rules.d/60-procevent.rules /usr/bin/proceventctl \
					/usr/lib/*/libprocevent.* /usr/include/procevent.h \
					/usr/include/linux/procevent.h
				ls /lib/modules/*/updates/dkms/procevent.ko*
				for r in ${kernels[@]+"${kernels[@]}"}; do
					modinfo -k "$r" -n procevent
				done
			} 2>/dev/null)
			if [[ -z $left ]]; then
				record PASS deb-purge
			else
				record FAIL deb-purge
				echo "check: left after the purge:"
				echo "$left" | sed 's/^/  /'
			fi
		else
			record FAIL deb-purge
			tail -n 30 "$out/deb-purge.log" | sed 's/^/  /'
		fi
	else
		record FAIL deb-install
	fi
fi

section "system test"
# The packages just built, on a real Debian 12 system of each generic
# kernel (its root cached in /var/cache/procevent/system-root): DKMS,
# udev, modules-load.d, the example service and the purge, as a user
# meets them.  Nothing on this machine changes but that cache.
if ! wanted installed; then
	echo "check: PROCEVENT_CHECK_ONLY=$only: no system test"
elif [[ ${#deb_files[@]} -eq ${#debs_pkgs[@]} ]]; then
	"$root/scripts/system-test.sh" --debs "$debs" --out "$out/system-test" ||
		vm_failed=1
	if [[ -s $out/system-test/cases ]]; then
		cp "$out/system-test/cases" "$out/cases-system"
	else
		echo "FAIL system-test" >"$out/cases-system"
	fi
else
	echo "FAIL system-test" >"$out/cases-system"
fi
wanted installed && runs+=(system)

section "results"
echo "stage times:"
printf '  %s\n' "${stage_times[@]}"
cases=$out/cases
: >"$cases"
for r in ${runs[@]+"${runs[@]}"}; do
	echo "  $r: $(counts "$out/cases-$r")"
	cat "$out/cases-$r" >>"$cases"
done
echo "  other: $(counts "$other")"
cat "$other" >>"$cases"
if grep -q '^FAIL ' "$cases"; then
	echo "failed:"
	sed -n 's/^FAIL /  /p' "$cases"
fi
elapsed=$((SECONDS - start))
echo "elapsed: ${elapsed}s ($((elapsed / 60))m $((elapsed % 60))s)"
counts "$cases"
echo

if grep -q '^FAIL ' "$cases" || [[ $vm_failed -ne 0 ]]; then
	exit 1
fi
exit 0
