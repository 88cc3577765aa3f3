#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the procevent selftests on one installed kernel, inside QEMU (TCG).
#
#   selftests/vm/run.sh [options] KVER
#   selftests/vm/run.sh [options] --kernel IMAGE --kdir DIR [--name NAME]
#   selftests/vm/run.sh [options] --kernel IMAGE --ko FILE --name NAME
#
# KVER is a kernel release with both /boot/vmlinuz-KVER and
# /usr/src/linux-headers-KVER; a kernel that is not installed (the debug
# kernel of scripts/debug-kernel.sh) is given by its image and build tree
# instead, and named NAME (default: its release) in the results.  The
# script
#   1. builds procevent.ko against those headers in build/vm/KVER/module
#      (test case "build-KVER": fails on any compiler or modpost warning);
#   2. packs an initramfs: busybox, /procevent.ko, the test programs in
#      /tests, the tools in /usr/local/bin and a generated /init;
#   3. boots it with qemu-system-x86_64 -accel tcg; /init loads the module,
#      runs every test program in turn and powers off;
#   4. judges the console log (build/vm/KVER/console.log): any kernel
#      splat, a missing result token (timeout, panic) or a warning taint
#      fails test case "vm-KVER"; each TAP result becomes a test case
#      "KVER/<program>/<test>".
# Results go to build/vm/KVER/summary: one "PASS|FAIL|SKIP name" line per
# test case, then "KVER: N passed, N failed, N skipped".
#
# Options:
#   --ko FILE     use this procevent.ko instead of building one
#   --tests DIR   test programs (default: selftests/, as built by
#                 "make -C selftests")
#   --tools DIR   tools to install in /usr/local/bin (default:
#                 build/tools/bin, as built by "make -C tools")
#   --tool-tests DIR  more test programs, run after the selftests
#                 (default: build/tools/tests, as built by "make -C tools")
#   --out DIR     results directory (default: build/vm/KVER)
#   --kernel IMAGE  boot this kernel image instead of /boot/vmlinuz-KVER
#   --kdir DIR    build the module against this tree instead of
#                 /usr/src/linux-headers-KVER (not needed with --kernel
#                 when --ko and --name are given)
#   --name NAME   the kernel's name in test cases and the results directory
#   --modules DIR  the kernel's module tree, where fuse.ko is looked for
#                 (default /lib/modules/KVER; scripts/kernels-7x.sh gives
#                 one for kernels that are not installed)
#   --root DIR    a tree copied over the initramfs root as it is (e.g. a
#                 dynamic program with its libraries and loader)
#
# Environment:
#   PROCEVENT_VM_TIMEOUT   hard limit for the VM run in seconds (default 600)
#   PROCEVENT_VM_SMP       virtual CPUs (default 2)
#   PROCEVENT_VM_TCG_THREAD  multi (default: one host thread per virtual
#                          CPU) or single (the CPUs take turns in one host
#                          thread; see stress/run.sh)
#   PROCEVENT_VM_MEM       memory (default 1G)
#   PROCEVENT_VM_APPEND    extra kernel command line
#   PROCEVENT_VM_VERBOSE   1: copy the console to stdout while it runs
#   PROCEVENT_VM_KMEMLEAK  on a kernel with kmemleak, which leak reports
#                          fail the run: "all" (default) or "procevent"
#                          (only objects whose allocation trace passes
#                          through the module, or through code unloaded
#                          by then: /init unloads it before the scan)
#   PROCEVENT_VM_KMEMLEAK_REQUIRED  1: fail the run when the kernel gives
#                          no kmemleak report (not built in, or disabled)
#   PROCEVENT_TESTS        test programs to run, in order (default: the
#                          selftests Makefile's TEST_GEN_PROGS, else every
#                          executable in the test directory)
#
# Exit status: 0 all passed (or skipped), 1 something failed, 2 usage or
# setup error.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/selftests/vm

ko=
tests_dir=$root/selftests
tools_dir=$root/build/tools/bin
tool_tests_dir=$root/build/tools/tests
out=
extra_root=
kernel=
kdir=
name=
moddir=

usage() {
	sed -n '4,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--ko) ko=$2; shift 2 ;;
	--tests) tests_dir=$2; shift 2 ;;
	--tools) tools_dir=$2; shift 2 ;;
	--tool-tests) tool_tests_dir=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--root) extra_root=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--kdir) kdir=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--modules) moddir=$2; shift 2 ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
if [[ -n $kernel || -n $kdir ]]; then
	[[ -n $kernel && $# -eq 0 ]] || usage
	[[ -n $kdir || ( -n $ko && -n $name ) ]] || usage
	kver=$name
	if [[ -z $kver ]]; then
		kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' \
			"$kdir/include/generated/utsrelease.h" 2>/dev/null || true)
	fi
	[[ -n $kver ]] || { echo "run.sh: no --name and no release in $kdir" >&2; exit 2; }
else
	[[ $# -eq 1 ]] || usage
	kver=$1
	kernel=/boot/vmlinuz-$kver
	kdir=/usr/src/linux-headers-$kver
fi

timeout_s=${PROCEVENT_VM_TIMEOUT:-600}
smp=${PROCEVENT_VM_SMP:-2}
tcg_thread=${PROCEVENT_VM_TCG_THREAD:-multi}
mem=${PROCEVENT_VM_MEM:-1G}

if [[ ! -r $kernel || ( -z $ko && ! -f $kdir/Makefile ) ]]; then
	echo "run.sh: kernel $kver needs $kernel and $kdir; installed:" >&2
	for k in /boot/vmlinuz-*; do
		r=${k#/boot/vmlinuz-}
		[[ -d /usr/src/linux-headers-$r ]] && echo "  $r" >&2
	done
	exit 2
fi
for tool in qemu-system-x86_64 cpio gzip timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "run.sh: $tool not found (run scripts/deps.sh)" >&2
		exit 2
	fi
done

out=${out:-$root/build/vm/$kver}
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary=$out/summary
console=$out/console.log
rm -f "$summary" "$console" "$out/failures" "$out/splats" "$out/kmemleak" \
	"$out"/kcsan-*
: >"$out/cases"

# Record one test case: result (PASS, FAIL or SKIP) and name.
record() {
	echo "$1 $2" >>"$out/cases"
}

finish() {
	local pass fail skip
	pass=$(grep -c '^PASS ' "$out/cases" || true)
	fail=$(grep -c '^FAIL ' "$out/cases" || true)
	skip=$(grep -c '^SKIP ' "$out/cases" || true)
	{
		cat "$out/cases"
		echo "$kver: $pass passed, $fail failed, $skip skipped"
	} >"$summary"
	if [[ $fail -gt 0 ]]; then
		echo "run.sh: $kver: failed:"
		sed -n 's/^FAIL /  /p' "$out/cases"
	fi
	echo "$kver: $pass passed, $fail failed, $skip skipped"
	[[ $fail -eq 0 ]]
}

# --- 1. the module ----------------------------------------------------------

if [[ -z $ko ]]; then
	echo "run.sh: $kver: building procevent.ko"
	if ! "$root/scripts/build-module.sh" "$kdir" "$out/module"; then
		record FAIL "build-$kver"
		finish || exit 1
	fi
	if [[ -s $out/module/warnings.log ]]; then
		record FAIL "build-$kver"
	else
		record PASS "build-$kver"
	fi
	ko=$out/module/procevent.ko
elif [[ ! -f $ko ]]; then
	echo "run.sh: $ko not found" >&2
	exit 2
fi

# --- 2. the initramfs -------------------------------------------------------

is_elf() {
	[[ -f $1 && -x $1 && "$(head -c 4 "$1" | od -An -c | tr -d ' ')" == '177ELF' ]]
}

is_static() {
	! readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

is_sh_script() {
	[[ -f $1 && -x $1 && "$(head -c 9 "$1")" == '#!/bin/sh' ]]
}

busybox=$(command -v busybox || true)
if [[ -z $busybox ]] || ! is_static "$busybox"; then
	echo "run.sh: a static busybox is needed (apt-get install busybox-static)" >&2
	exit 2
fi

stage=$out/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,root,tests,usr/local/bin}
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[[ $applet == busybox ]] && continue
	ln -sf busybox "$stage/bin/$applet"
done
cp "$ko" "$stage/procevent.ko"
# FUSE, for the tests that stall an exit on a FLUSH (procevent_fuse.h):
# where the kernel has it as a module (6.1; 6.12 has it built in), its
# fuse.ko goes in as /lib/fuse.ko, and the tests load it when /dev/fuse
# is missing.
fuse_ko=${moddir:-/lib/modules/$kver}/kernel/fs/fuse/fuse.ko
if [[ -f $fuse_ko ]]; then
	mkdir -p "$stage/lib"
	cp "$fuse_ko" "$stage/lib/fuse.ko"
elif [[ -f $fuse_ko.xz ]]; then
	mkdir -p "$stage/lib"
	if ! xz -dc "$fuse_ko.xz" >"$stage/lib/fuse.ko"; then
		echo "run.sh: warning: cannot decompress $fuse_ko.xz; the FUSE tests will skip" >&2
		rm -f "$stage/lib/fuse.ko"
	fi
fi
if [[ -n $extra_root ]]; then
	cp -a "$extra_root"/. "$stage"/
fi

# Test programs and their helpers: every static executable (or /bin/sh
# script) in the test directory.
progs=()
if [[ -d $tests_dir ]]; then
	for f in "$tests_dir"/*; do
		if is_elf "$f"; then
			if ! is_static "$f"; then
				echo "run.sh: $f is dynamically linked; the VM has no libc (link it with -static)" >&2
				exit 2
			fi
		elif ! is_sh_script "$f"; then
			continue
		fi
		cp "$f" "$stage/tests/"
		progs+=("${f##*/}")
	done
fi
if [[ -d $tools_dir ]]; then
	for f in "$tools_dir"/*; do
		if is_elf "$f"; then
			if ! is_static "$f"; then
				echo "run.sh: $f is dynamically linked; the VM has no libc (link it with -static)" >&2
				exit 2
			fi
		elif ! is_sh_script "$f"; then
			continue
		fi
		cp "$f" "$stage/usr/local/bin/"
	done
fi

# Which programs are tests, in which order: PROCEVENT_TESTS, else the
# selftests Makefile's TEST_GEN_PROGS (helpers built as
# TEST_GEN_PROGS_EXTENDED are copied but not run), else all of them.
run_list=()
if [[ -n ${PROCEVENT_TESTS:-} ]]; then
	read -r -a run_list <<<"$PROCEVENT_TESTS"
elif [[ $tests_dir -ef $root/selftests && -f $root/selftests/Makefile ]]; then
	gen=$(make -s -C "$root/selftests" -pn 2>/dev/null |
		sed -n 's/^TEST_GEN_PROGS :\{0,2\}= *//p' | tail -n 1 || true)
	for p in $gen; do
		run_list+=("${p##*/}")
	done
fi
if [[ ${#run_list[@]} -eq 0 ]]; then
	run_list=(${progs[@]+"${progs[@]}"})
fi
# The tools' tests (static programs in tool_tests_dir) join the run unless
# PROCEVENT_TESTS chose the list; they are copied either way.
if [[ -d $tool_tests_dir ]]; then
	for f in "$tool_tests_dir"/*; do
		is_elf "$f" || continue
		if ! is_static "$f"; then
			echo "run.sh: $f is dynamically linked; the VM has no libc (link it with -static)" >&2
			exit 2
		fi
		cp "$f" "$stage/tests/"
		[[ -n ${PROCEVENT_TESTS:-} ]] || run_list+=("${f##*/}")
	done
fi
# Tests that unload the module run last: they rmmod/insmod it.
ordered=()
for p in ${run_list[@]+"${run_list[@]}"}; do
	[[ $p == *unload* ]] || ordered+=("$p")
done
for p in ${run_list[@]+"${run_list[@]}"}; do
	[[ $p == *unload* ]] && ordered+=("$p")
done
# A listed program that was not built fails as one case; the rest still run.
present=()
for p in ${ordered[@]+"${ordered[@]}"}; do
	if [[ -e $stage/tests/$p ]]; then
		present+=("$p")
	else
		echo "run.sh: test program $p not found in $tests_dir (make -C selftests?)" >&2
		record FAIL "$kver/$p/(not built)"
	fi
done
ordered=(${present[@]+"${present[@]}"})
if [[ ${#ordered[@]} -eq 0 ]]; then
	echo "run.sh: warning: no test programs in $tests_dir; only loading the module" >&2
fi

sed -e "s|@TESTS@|${ordered[*]+${ordered[*]}}|" "$here/init.sh" >"$stage/init"
chmod 755 "$stage/init"

# One newc header for a file with no data (device node or trailer).
newc_entry() {
	local name=$1 mode=$2 major=$3 minor=$4 ino=$5
	local namesize=$((${#name} + 1))
	local pad=$(((4 - (110 + namesize) % 4) % 4))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$ino" "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$namesize" 0
	printf '%s\0' "$name"
	head -c "$pad" /dev/zero
}

# The kernel opens /dev/console for /init before devtmpfs is mounted, so
# the archive carries that node.  It is written by hand, appended as a
# second archive, so that building the image needs no mknod privilege.
initramfs=$out/initramfs.cpio.gz
{
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet)
	newc_entry dev/console $((0020600)) 5 1 1
	newc_entry 'TRAILER!!!' 0 0 0 0
} | gzip -1 >"$initramfs"

# --- 3. the boot ------------------------------------------------------------

append="console=ttyS0 printk.time=1 quiet loglevel=5 panic=-1 oops=panic"
append+=" hung_task_timeout_secs=30 softlockup_panic=0 watchdog_thresh=30"
append+=" rcupdate.rcu_cpu_stall_timeout=60"
# Widen race windows and catch memory misuse that a stock kernel would let
# pass: full preemption, slab poisoning and red zones, frequent KFENCE
# samples (6.12).
append+=" preempt=full slub_debug=FZP kfence.sample_interval=10"
append+=" ${PROCEVENT_VM_APPEND:-}"

echo "run.sh: $kver: booting (smp $smp, tcg $tcg_thread, limit ${timeout_s}s;" \
	"${#ordered[@]} test program(s): ${ordered[*]+${ordered[*]}})"
start=$SECONDS
qemu_rc=0
set +e
if [[ ${PROCEVENT_VM_VERBOSE:-0} == 1 ]]; then
	timeout -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg,thread="$tcg_thread" -m "$mem" -smp "$smp" -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$initramfs" -append "$append" \
		</dev/null 2>&1 | tr -d '\r' | tee "$console"
else
	timeout -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg,thread="$tcg_thread" -m "$mem" -smp "$smp" -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$initramfs" -append "$append" \
		</dev/null 2>&1 | tr -d '\r' >"$console"
fi
qemu_rc=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))
echo "run.sh: $kver: VM ran ${elapsed}s (qemu exit $qemu_rc), console in $console"

# --- 4. the verdict ---------------------------------------------------------

vm_ok=1

# Kernel messages carry a printk timestamp; matching only those keeps test
# output that happens to contain such words from counting as a splat.
splat='BUG:|WARNING:|Oops|KASAN|UBSAN|possible circular locking'
splat+='|sleeping function called from invalid context|hung task'
splat+='|blocked for more than|Call Trace|general protection'
splat+='|[Kk]ernel panic|detected stall|possible recursive locking'
splat+='|inconsistent lock state|suspicious RCU usage|list_(add|del) corruption'
splat+='|BUG [^ ]+ \([^)]*\): |scheduling while atomic'
# A kernel's complaint about the module's own use of an API (7.x: "work
# func pe_hooks_gc [procevent] enqueued on deprecated workqueue").
splat+='|deprecated.*\[procevent\]'
# KCSAN (the KCSAN kernel of scripts/debug-kernel.sh --kcsan): a report
# runs from "BUG: KCSAN:" to the next line of "=" signs.  One with a frame
# in the module ("[procevent]", or a bare address: code unloaded since)
# is a splat like any other and goes to kcsan-module; one whose stacks
# are core kernel code only goes to kcsan-core, is listed, and does not
# fail the run (the kernel's own data races are not the module's to fix).
awk -v mod="$out/kcsan-module" -v core="$out/kcsan-core" -v skip="$out/kcsan-skip" '
	function done() {
		if (!inblk) return
		print blk >>(mine ? mod : core)
		if (!mine) print head >>skip
		inblk = 0
	}
	/\[ *[0-9]+\.[0-9]+\] BUG: KCSAN:/ { done(); inblk = 1; mine = 0; head = NR; blk = $0; next }
	!inblk { next }
	{ blk = blk "\n" $0 }
	/\[procevent\]|\] 0x[0-9a-f]+$/ { mine = 1 }
	/==============================/ { done() }
	END { done() }' "$console"
if [[ -s $out/kcsan-core ]]; then
	echo "run.sh: $kver: KCSAN: $(grep -c 'BUG: KCSAN:' "$out/kcsan-core") report(s) in core" \
		"kernel code only, listed and not counted ($out/kcsan-core):"
	grep -o 'BUG: KCSAN: .*' "$out/kcsan-core" | sort | uniq -c | sed 's/^/  /'
fi
if grep -nE "\[ *[0-9]+\.[0-9]+\].*($splat)" "$console" |
		awk -F: -v skip="$out/kcsan-skip" '
			BEGIN { while ((getline l <skip) > 0) core[l] = 1 }
			!($1 in core)' >"$out/splats" && [[ -s $out/splats ]]; then
	vm_ok=0
	echo "run.sh: $kver: kernel problems on the console:"
	# Headlines first; a bare "Call Trace" (dump_stack) with what precedes it.
	if grep -qv 'Call Trace' "$out/splats"; then
		grep -v 'Call Trace' "$out/splats" | head -n 40 | sed 's/^/  /'
	else
		grep -B 5 -m 3 'Call Trace' "$console" | sed 's/^/  /'
	fi
	echo "  ($(wc -l <"$out/splats") matching lines: $out/splats)"
fi

if grep -q '^PROCEVENT-VM-INSMOD-FAILED' "$console"; then
	vm_ok=0
	echo "run.sh: $kver: insmod /procevent.ko failed in the VM:"
	grep -B 5 '^PROCEVENT-VM-INSMOD-FAILED' "$console" | sed 's/^/  /'
fi

if grep -q '^PROCEVENT-VM-RMMOD-FAILED' "$console"; then
	vm_ok=0
	echo "run.sh: $kver: rmmod procevent failed after the last test"
fi

# kmemleak: the "unreferenced object" blocks of the report at the end.
# Objects allocated by start_kernel() are the kernel's own, from before
# any module or process existed (ACPI's caches on the debug kernel, a
# known false positive): they are listed but do not count.  Any other
# object leaked while the tests ran and by default fails the run, whoever
# allocated it.
sed -n '/^PROCEVENT-VM-KMEMLEAK-BEGIN/,/^PROCEVENT-VM-KMEMLEAK-END/p' \
	"$console" | grep -v '^PROCEVENT-VM-KMEMLEAK' >"$out/kmemleak" || true
if grep -q 'unreferenced object' "$out/kmemleak"; then
	read -r boot leaks mine < <(awk '
		function done() {
			if (!inblk) return
			if (boot) nboot++; else { n++; if (pe) npe++ }
		}
		/unreferenced object/ { done(); inblk = 1; boot = 0; pe = 0; next }
		/start_kernel\+/ { boot = 1 }
		# A frame in the module, or in module code unloaded since.
		/\[procevent\]|\] 0x[0-9a-f]+$/ { pe = 1 }
		END { done(); print nboot + 0, n + 0, npe + 0 }' "$out/kmemleak")
	[[ ${PROCEVENT_VM_KMEMLEAK:-all} == procevent ]] && leaks=$mine
	[[ $boot -eq 0 ]] ||
		echo "run.sh: $kver: kmemleak: $boot object(s) from boot (start_kernel) not counted"
	if [[ $leaks -gt 0 ]]; then
		vm_ok=0
		echo "run.sh: $kver: kmemleak reports $leaks unreferenced object(s)" \
			"($mine allocated through procevent):"
		awk '/unreferenced object/ { if (blk != "" && !boot) print blk;
				blk = $0; boot = 0; next }
			/start_kernel\+/ { boot = 1 }
			{ blk = blk "\n" $0 }
			END { if (blk != "" && !boot) print blk }' "$out/kmemleak" |
			head -n 60 | sed 's/^/  /'
	else
		echo "run.sh: $kver: kmemleak: no leaks from the test run"
	fi
elif grep -q '^PROCEVENT-VM-KMEMLEAK-BEGIN' "$console"; then
	echo "run.sh: $kver: kmemleak: no leaks"
elif [[ ${PROCEVENT_VM_KMEMLEAK_REQUIRED:-0} == 1 ]]; then
	vm_ok=0
	echo "run.sh: $kver: no kmemleak report (kmemleak missing or disabled)"
fi

done_line=$(grep -aoE 'PROCEVENT-VM-DONE rc=[0-9]+' "$console" | tail -n 1 || true)
if [[ -z $done_line ]]; then
	vm_ok=0
	if [[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]]; then
		echo "run.sh: $kver: no result token: VM timed out after ${timeout_s}s"
	else
		echo "run.sh: $kver: no result token (qemu exit $qemu_rc)"
	fi
	last=$(grep -aE '^(PROCEVENT-VM-TEST |# +RUN )' "$console" | tail -n 1 || true)
	[[ -z $last ]] || echo "  last started: $last"
	echo "  console tail:"
	tail -n 30 "$console" | sed 's/^/  | /'
fi

# Taint bits that mean the kernel went wrong: forced rmmod (3), machine
# check (4), bad page (5), oops (7), warning (9), soft lockup (14).
taint=$(sed -n 's/^PROCEVENT-VM-TAINT \([0-9]*\)$/\1/p' "$console" | tail -n 1)
if [[ -n $taint ]] && (((taint & 17080) != 0)); then
	vm_ok=0
	echo "run.sh: $kver: kernel tainted ($taint) by a warning, oops or lockup"
fi

if [[ $vm_ok -eq 1 ]]; then
	record PASS "vm-$kver"
else
	record FAIL "vm-$kver"
fi

# TAP: each program's "ok"/"not ok" lines, between the markers /init
# prints around it.  The 6.1 harness prints no name on "ok N # SKIP", so
# the name comes from the preceding "#  RUN" line.
awk -v kver="$kver" -v results="$out/cases" -v failures="$out/failures" '
function emit(res, name) {
	print res " " kver "/" prog "/" name >>results
	n++
}
/^PROCEVENT-VM-TEST / {
	prog = $2; n = 0; bad = 0; skipall = 0; runname = ""; block = ""
	next
}
/^PROCEVENT-VM-TEST-END / {
	rc = $3; sub(/^rc=/, "", rc)
	if (skipall && n == 0)
		emit("SKIP", "(all)")
	else if (n == 0)
		emit("FAIL", "(no results, exit " rc ")")
	else if (rc != 0 && rc != 4 && !bad)
		emit("FAIL", "(exit " rc ")")
	prog = ""
	next
}
prog == "" { next }
{ block = block "\n    " $0 }
/^# +RUN / {
	runname = $3; block = "\n    " $0
	next
}
/^1\.\.0 # SKIP/ { skipall = 1; next }
/^(not )?ok [0-9]+/ {
	line = $0
	res = "PASS"
	if (line ~ /^not ok/) {
		res = "FAIL"; sub(/^not ok [0-9]+ */, "", line)
	} else {
		sub(/^ok [0-9]+ */, "", line)
	}
	name = line
	if (line ~ /^# *SKIP/ || line ~ / # *SKIP/) {
		res = "SKIP"
		if (line ~ /^# *SKIP/)
			name = runname
		else
			sub(/ # *SKIP.*/, "", name)
	} else if (line ~ /^# *XFAIL/ || line ~ / # *XFAIL/) {
		if (line ~ /^# *XFAIL/)
			name = runname
		else
			sub(/ # *XFAIL.*/, "", name)
	} else {
		sub(/ # .*/, "", name)
	}
	if (name == "")
		name = "test" $0
	if (res == "FAIL") {
		bad = 1
		print "--- " kver "/" prog "/" name ":" block >>failures
	}
	emit(res, name)
	runname = ""; block = ""
}
END {
	if (prog != "")
		emit("FAIL", "(did not finish)")
}
' "$console"

if [[ -s $out/failures ]] && grep -q "^FAIL $kver/" "$out/cases"; then
	echo "run.sh: $kver: output of the failing tests:"
	cat "$out/failures"
fi
rm -f "$out/failures"

finish
