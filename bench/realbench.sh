#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# procevent against the process observers people run today, on real
# workloads, in QEMU (make realbench).  Not part of make check.
#
#   bench/realbench.sh [--out DIR] [--report] [KVER...]
#
# KVER defaults to every installed generic amd64 kernel with headers.  The
# VM boots the host's /boot/vmlinuz-KVER with a Debian 12 root as its
# initramfs (bench/realbench/root.sh: mmdebstrap, cached under
# /var/cache/procevent/realbench-root/) plus an overlay with procevent.ko
# built for KVER, the programs of bench/realbench/ and the workloads:
#   pv      pv from its Debian source package (apt-get source through a
#           private apt state, bench/realbench/sources.sh): ./configure
#           and make, about a thousand short processes
#   gzip    gzip's test suite (make check, shell scripts; all tests but
#           list-big) in a tree configured and built on the host
#   storm   10 000 fork/exec/wait of a static program (RB_STORM_N)
# each with no observer, then with each observer:
#   procevent  pe_sub: one libprocevent subscriber for EXIT|SIGNAL|FORK|EXEC
#              acking at once, read/write batches of 64
#   forkstat   the proc connector (forkstat -l -e fork,exec,exit)
#   bpftrace   sched_process_{fork,exec,exit} and signal:signal_deliver
#              (bench/realbench/realbench.bt), one line per event
#   strace     strace -f on the workload, its output read and dropped
#   audit      auditd, rules on execve and exit_group, records to a plugin
# The observers' output is read by bench/realbench/lnchk.c, which counts
# events, takes the loss counters and checks every process exit the
# moment user space reads it: "late" when /proc/<pid> is already gone,
# that is when the parent's wait had returned first.
#
# Three boots per kernel, side by side: icount (-icount shift=0,sleep=off
# -smp 1, as make bench: the guest clock counts instructions, so a ratio
# is a ratio of path lengths whatever the host does; the headline), plain
# TCG (-smp 1, host time, noisy) and plain TCG with two CPUs (tcg2: -smp 2,
# host time; an asynchronous observer's reader can run beside the
# workload there, as on a real machine with an idle CPU).  The TCG boots
# measure host time: side by side they slow each other, so on a small
# host run them one at a time (RB_MODES=tcg2, then RB_MODES=tcg) with
# the same --out: a run replaces the results of the boots it makes (mode,
# and workload with RB_SPLIT) and reports them with the others kept there.
# Results, in DIR (build/realbench):
#   realbench.csv   one row per kernel, workload and observer
#   table.txt       the table printed at the end
#   realbench.png   wall time against no observer, per workload
#   KVER/MODE/console.log
#
# Environment: RB_MODES (default "icount tcg tcg2"), RB_SPLIT (1: one boot
# per workload, side by side; RB_TCG_WORKLOADS then limits the TCG and tcg2
# boots to some workloads), RB_WORKLOADS and
# RB_OBSERVERS (comma lists), RB_STORM_N (10000), RB_GZIP_TESTS (comma
# list), RB_PV_MAKE (0: configure pv only), RB_TIMEOUT (per boot, seconds,
# 3600), RB_MEM (guest memory, 3G).
# Under TCG a run of the storm takes about 15 ms per process, with strace
# or auditd five times that: RB_STORM_N=2000 keeps a boot under half an
# hour.
#
# Exit status: 0 when every boot finished, 1 when one failed, 2 on a usage
# or setup error.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here=$root/bench/realbench
out=$root/build/realbench
report_only=0

usage() {
	sed -n '4,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--report) report_only=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "realbench: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done

modes=${RB_MODES:-icount tcg tcg2}
timeout_s=${RB_TIMEOUT:-3600}
mem=${RB_MEM:-3G}
cmdline_env="RB_STORM_N=${RB_STORM_N:-10000}"
[[ -n ${RB_GZIP_TESTS:-} ]] && cmdline_env+=" RB_GZIP_TESTS=$RB_GZIP_TESTS"
[[ -n ${RB_PV_MAKE:-} ]] && cmdline_env+=" RB_PV_MAKE=$RB_PV_MAKE"
[[ -n ${RB_WORKLOADS:-} ]] && cmdline_env+=" RB_WORKLOADS=$RB_WORKLOADS"
[[ -n ${RB_OBSERVERS:-} ]] && cmdline_env+=" RB_OBSERVERS=$RB_OBSERVERS"

kernels=("$@")
if [[ ${#kernels[@]} -eq 0 ]]; then
	mapfile -t kernels < <("$root/scripts/installed-kernels.sh" --generic)
	if [[ ${#kernels[@]} -eq 0 ]]; then
		echo "realbench: no kernel with /boot/vmlinuz-R and /usr/src/linux-headers-R" >&2
		exit 2
	fi
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)

step() {
	local what=$1 t=$SECONDS
	shift
	"$@"
	echo "realbench: $what took $((SECONDS - t))s"
}

# --- the root, the programs, the sources --------------------------------------

build_gzip() {
	# gzip, configured and built here once (its test suite is the
	# workload, not its build), at a path the VM copies it back to.
	local src=$out/src/gzip v
	v=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
	gzip_dir=/var/cache/procevent/realbench-src/build/gzip-$v
	[[ -e $gzip_dir/.built ]] && return 0
	rm -rf "$gzip_dir"
	mkdir -p "$(dirname "$gzip_dir")"
	cp -a "$src" "$gzip_dir"
	(cd "$gzip_dir" && ./configure -q && make -s MAKEINFO=true) >"$out/gzip-build.log" 2>&1 || {
		echo "realbench: building gzip failed (see $out/gzip-build.log)" >&2
		return 1
	}
	touch "$gzip_dir/.built"
}

# The overlay: /init, /rb/... and procevent.ko for one kernel.
pack() {
	local k=$1 dir=$out/$1 stage
	"$root/scripts/build-module.sh" "/usr/src/linux-headers-$k" "$dir/module" >"$dir/module.log" 2>&1 || {
		echo "realbench: $k: building procevent.ko failed (see $dir/module.log)" >&2
		return 1
	}
	if [[ -s $dir/module/warnings.log ]]; then
		echo "realbench: $k: warnings building procevent.ko:" >&2
		cat "$dir/module/warnings.log" >&2
		return 1
	fi
	stage=$dir/overlay
	rm -rf "$stage"
	mkdir -p "$stage/rb/bin" "$stage/rb/src"
	cp "$here/vm-init.sh" "$stage/init"
	cp "$out/bin/pe_sub" "$out/bin/lnchk" "$out/bin/storm" "$stage/rb/bin/"
	cp "$here/realbench.bt" "$stage/rb/"
	cp -a "$here/wl" "$stage/rb/wl"
	cp "$dir/module/procevent.ko" "$stage/rb/procevent.ko"
	cp -a "$out/src/pv" "$stage/rb/src/pv"
	cp -a "$gzip_dir" "$stage/rb/src/gzip"
	echo "$gzip_dir" >"$stage/rb/gzip.path"
	(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$dir/overlay.cpio"
	cat "$rootfs" "$dir/overlay.cpio" >"$dir/initrd.cpio"
	rm -rf "$stage"
}

# boot KVER MODE [WORKLOAD]: with a workload, a boot of its own
# (KVER/MODE-WORKLOAD/).
boot() {
	local k=$1 mode=$2 w=${3:-} dir=$out/$1/$2${3:+-$3} accel env=$cmdline_env
	[[ -n $w ]] && env+=" RB_WORKLOADS=$w"
	mkdir -p "$dir"
	case $mode in
	icount) accel=(-accel tcg -icount shift=0,sleep=off -smp 1) ;;
	tcg) accel=(-accel tcg -smp 1) ;;
	tcg2) accel=(-accel tcg -smp 2) ;;
	*) echo "realbench: unknown mode $mode" >&2; return 2 ;;
	esac
	local start=$SECONDS rc=0
	timeout -k 10 "$timeout_s" qemu-system-x86_64 "${accel[@]}" -m "$mem" \
		-nodefaults -no-user-config -display none -serial stdio \
		-no-reboot -kernel "/boot/vmlinuz-$k" \
		-initrd "$out/$k/initrd.cpio" \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic rdinit=/init $env" \
		</dev/null 2>&1 | stdbuf -oL tr -d '\r' >"$dir/console.log" || rc=$?
	echo "realbench: $k $mode $w: VM ran $((SECONDS - start))s"
	if ! grep -q '^RB-DONE' "$dir/console.log"; then
		echo "realbench: $k $mode $w: the run did not finish (rc $rc):" >&2
		tail -n 20 "$dir/console.log" | sed 's/^/  | /' >&2
		return 1
	fi
	if grep -E -q 'BUG:|WARNING:|Oops|KASAN|circular locking|invalid context|blocked for more than' "$dir/console.log"; then
		echo "realbench: $k $mode $w: the kernel complained:" >&2
		grep -E -m 5 'BUG:|WARNING:|Oops|KASAN|circular locking|invalid context|blocked for more than' "$dir/console.log" >&2
		return 1
	fi
}

failed=0
if [[ $report_only -eq 0 ]]; then
	t=$SECONDS
	rootfs=$("$here/root.sh")
	echo "realbench: the Debian root took $((SECONDS - t))s"
	make -s -C "$here" OUTPUT="$out/bin"
	step "the sources" "$here/sources.sh" "$out/src"
	step "gzip's build" build_gzip
	for k in "${kernels[@]}"; do
		mkdir -p "$out/$k"
		step "$k: module and overlay" pack "$k"
	done
	# icount boots count guest instructions, not host time, so they
	# may share the host with the plain TCG boots; the TCG figures are
	# host time and noisy either way.
	pids=()
	for k in "${kernels[@]}"; do
		for m in $modes; do
			# What this run boots replaces earlier results; other
			# modes and workloads stay for the report.
			rm -rf "${out:?}/$k/$m"
			if [[ -z ${RB_SPLIT:-} ]]; then
				rm -rf "${out:?}/$k/$m"-*
				echo "realbench: $k $m: booting"
				boot "$k" "$m" &
				pids+=($!)
				continue
			fi
			ws=${RB_WORKLOADS:-pv,gzip,storm}
			[[ $m == tcg* && -n ${RB_TCG_WORKLOADS:-} ]] && ws=$RB_TCG_WORKLOADS
			for w in ${ws//,/ }; do
				rm -rf "${out:?}/$k/$m-$w"
				echo "realbench: $k $m $w: booting"
				boot "$k" "$m" "$w" &
				pids+=($!)
			done
		done
	done
	for p in "${pids[@]}"; do
		wait "$p" || failed=1
	done
	for k in "${kernels[@]}"; do
		rm -f "$out/$k/initrd.cpio"
	done
fi

# --- the report -------------------------------------------------------------

"$here/report.sh" "$out" "${kernels[@]}" || failed=1
exit $failed
