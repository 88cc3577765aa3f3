#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# procevent under load, faults and hostile input, in QEMU (TCG).
#
#   stress/run.sh [--short | --table] [KVER... | debug]
#   stress/run.sh [--short] --kernel IMAGE --ko FILE --name NAME [--modules DIR]
#
# For each kernel (default: every installed generic amd64 kernel with
# headers, as make check picks them, plus the debug kernel when the VM
# runner has one) two boots of selftests/vm/run.sh:
#   1. 1 GB: pe_priv, pe_load (stress-ng, copied into the initramfs with
#      its libraries), pe_faults, pe_hold, pe_fuzz, pe_lifecycle;
#   2. 256 MB: pe_mem (memory pressure, pool resized under it), not in
#      the short form.
# The second form is one kernel that is not installed (the 7.x kernels
# of scripts/kernels-7x.sh), given with run.sh's options; pe_mem then
# boots it with the same module.
# Each TAP result is a test case, "stress-vm-R" fails on any console
# splat, taint or timeout.  The figures ("PE-FIG key value" lines) of all
# kernels become build/stress/table.md, the table of README.md's
# Robustness section.  --short is the quick form make check runs; --table
# only rebuilds the table from the consoles of the last run.
#
# The guests have two CPUs that take turns in one host thread
# (-accel tcg,thread=single): the fuzzer and the load/unload cycles patch
# kernel text (tracepoint static keys) constantly, and with one host
# thread per CPU the emulator twice let a 6.12 guest's second CPU run a
# breakpoint byte the patch had already replaced (Oops: int3 in
# kernel_clone(), the final bytes in memory).
#
# Environment: PROCEVENT_VM_TIMEOUT (default 1200, short 400) per boot;
# PE_STRESS_DEBUG=0 skips the debug kernel.
# Exit status 0 when every case passed.

set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scale=full
table_only=0
case ${1:-} in
--short) scale=short; shift ;;
--table) table_only=1; shift ;;
esac
kopts=()
kname=
while [[ $# -ge 2 ]]; do
	case $1 in
	--kernel|--kdir|--ko|--modules) kopts+=("$1" "$2"); shift 2 ;;
	--name) kname=$2; kopts+=("$1" "$2"); shift 2 ;;
	*) break ;;
	esac
done
out=$root/build/stress
bin=$out/bin
sroot=$out/root
mkdir -p "$out"

kernels=("$@")
debug_only=0
if [[ -n $kname ]]; then
	kernels=("$kname")
	PE_STRESS_DEBUG=0
elif [[ ${kernels[*]:-} == debug ]]; then
	debug_only=1	# stress/run.sh debug: the debug kernel alone
	kernels=()
elif [[ ${#kernels[@]} -eq 0 ]]; then
	mapfile -t kernels < <("$root/scripts/installed-kernels.sh" --generic)
fi
[[ $debug_only == 1 ]] && scale=full

if [[ $scale == full && $table_only == 0 ]]; then
	"$root/scripts/deps.sh" || exit 2
fi
[[ $table_only == 1 ]] || make -s -C "$root/stress" OUTPUT="$bin" || exit 2

# stress-ng is dynamic: give it its loader and libraries in the initramfs.
[[ $table_only == 1 ]] || rm -rf "$sroot"
if [[ $table_only == 1 ]]; then
	:
elif [[ -x /usr/bin/stress-ng ]]; then
	mkdir -p "$sroot/usr/bin"
	cp /usr/bin/stress-ng "$sroot/usr/bin/"
	for lib in $(ldd /usr/bin/stress-ng | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
		mkdir -p "$sroot$(dirname "$lib")"
		cp -L "$lib" "$sroot$lib"
	done
else
	echo "stress: /usr/bin/stress-ng missing (apt-get install stress-ng)" >&2
	mkdir -p "$sroot"
fi

empty=$out/empty
mkdir -p "$empty"
cases=$out/cases-$scale
[[ $table_only == 1 ]] || : >"$cases"
rc=0
timeout=${PROCEVENT_VM_TIMEOUT:-$([[ $scale == short ]] && echo 400 || echo 1200)}

# One boot; its cases go to $cases with the vm case renamed.
#   boot NAME OUTDIR "TESTS" MEM [run.sh kernel options...]
boot() {
	local name=$1 dir=$2 tests=$3 mem=$4 opts=()
	shift 4
	[[ $mem == 1G ]] && opts+=(--root "$sroot")
	opts+=("$@")
	PROCEVENT_TESTS=$tests PROCEVENT_VM_MEM=$mem \
	PROCEVENT_VM_TIMEOUT=$timeout PROCEVENT_VM_TCG_THREAD=single \
	PROCEVENT_VM_APPEND="PE_STRESS_SCALE=$scale ${PROCEVENT_VM_APPEND:-}" \
		"$root/selftests/vm/run.sh" --tests "$bin" --tool-tests "$empty" \
		--tools "$empty" --out "$dir" "${opts[@]}" || rc=1
	grep -E '^(PASS|FAIL|SKIP) ' "$dir/summary" 2>/dev/null |
		sed -e "s/ vm-$name\$/ stress-vm-$name/" \
		    -e "s| $name/| $name/stress/|" >>"$cases" ||
		echo "FAIL stress-vm-$name" >>"$cases"
}

all="pe_priv pe_load pe_faults pe_hold pe_fuzz pe_lifecycle"
names=()
for k in "${kernels[@]}"; do
	names+=("$k")
	[[ $table_only == 1 ]] && continue
	echo "=== stress ($scale) on $k"
	kargs=("$k")
	[[ -z $kname ]] || kargs=("${kopts[@]}")
	boot "$k" "$out/$k" "$all" 1G "${kargs[@]}"
	ko=$out/$k/module/procevent.ko
	if [[ $scale == short ]]; then
		:	# memory pressure only in the full run
	elif [[ -n $kname ]]; then
		boot "$k" "$out/$k-mem" "pe_mem" 256M "${kargs[@]}"
	elif [[ -f $ko ]]; then
		boot "$k" "$out/$k-mem" "pe_mem" 256M --ko "$ko" "$k"
	else
		echo "FAIL $k/stress/pe_mem/(no module)" >>"$cases"
	fi
done

# The debug kernel (KASAN, lockdep, kmemleak) of scripts/debug-kernel.sh,
# when it builds: the fuzzer, the privilege and the stuck-subscriber
# programs.  make check boots it with its own options; the short form
# leaves it to make check.
if [[ $table_only == 1 ]]; then
	for d in "$out"/*-procevent-debug; do
		[[ -f $d/console.log ]] && names+=("${d##*/}")
	done
elif [[ $scale == full && ${PE_STRESS_DEBUG:-1} == 1 ]] &&
   dbg=$("$root/scripts/debug-kernel.sh" 2>"$out/debug-kernel.log"); then
	dname=$(cat "$dbg/include/config/kernel.release")
	echo "=== stress ($scale) on the debug kernel $dname"
	PROCEVENT_VM_APPEND="panic_on_warn=1 hung_task_panic=1 ${PROCEVENT_VM_APPEND:-}" \
		boot "$dname" "$out/$dname" "pe_priv pe_hold pe_fuzz" 1G \
		--kernel "$dbg/arch/x86/boot/bzImage" --kdir "$dbg" --name "$dname"
	names+=("$dname")
elif [[ $scale == full && ${PE_STRESS_DEBUG:-1} == 1 ]]; then
	echo "stress: no debug kernel (see $out/debug-kernel.log)"
fi

# The table: one column per kernel, figures summed over its boots.
table=$out/table.md
fig() {	# name key...
	local n=$1
	shift
	cat "$out/$n/console.log" "$out/$n-mem/console.log" 2>/dev/null |
		tr -d '\r' | awk -v keys="$*" '
		BEGIN { nk = split(keys, k, " "); for (i = 1; i <= nk; i++) want[k[i]] = 1 }
		$1 == "PE-FIG" && ($2 in want) { s += $3; n++ }
		END { print n ? s : "-" }'
}
splats() {
	cat "$out/$1/splats" "$out/$1-mem/splats" 2>/dev/null | wc -l
}
row() {
	local label=$1 n
	shift
	printf '| %s |' "$label"
	for n in "${names[@]}"; do printf ' %s |' "$(fig "$n" "$@")"; done
	printf '\n'
}
{
	printf '| figure |'
	for n in "${names[@]}"; do printf ' %s |' "$n"; done
	printf '\n|---|'
	for n in "${names[@]}"; do printf -- '---:|'; done
	printf '\n'
	row "load: stress-ng seconds" load_seconds
	row "load: events raised" load_events
	row "load: deliveries to the 3 subscribers" load_deliveries
	row "load: acked" load_acked
	row "load: withdrawn (fatal signal during a hold)" load_withdrawn
	row "load: timed out (subscriber C)" load_timedout
	row "faults: events" faults_events
	row "faults: subscribers SIGKILLed" faults_kills
	row "... with events queued" faults_kills_queued
	row "... after RECV, before the ACK" faults_kills_received
	row "... between the acks of a batch" faults_kills_batch
	row "... from outside, at random times" faults_kills_external
	row "faults: deliveries ended by a close" faults_closed_moves
	row "faults: recorder violations" faults_violations
	row "stopped subscriber: holds ended by its timeout" sigstop_timeouts
	row "subscriber exit: events moved on" exit_queue_events
	row "lifecycle: load/unload cycles" lifecycle_cycles
	row "lifecycle: events acked" lifecycle_events_acked
	row "fuzz: calls" fuzz_calls
	row "fuzz: succeeded" fuzz_ok
	for e in EAGAIN EFAULT EINVAL ENOENT ENOMSG ENOSPC ENOTTY EBADF ENOTDIR EINTR other; do
		row "fuzz: $e" "fuzz_errno_$e"
	done
	row "fuzz: return values the interface does not allow" fuzz_unexpected
	row "memory pressure: events raised" mem_events
	row "memory pressure: lost (counted, task not held)" mem_lost
	row "lost without memory pressure" load_lost faults_lost fuzz_lost
	row "held tasks left (sum over programs)" held_left
	printf '| console splats |'
	for n in "${names[@]}"; do printf ' %s |' "$(splats "$n")"; done
	printf '\n'
} >"$table"

echo
cat "$table"
echo
pass=$(grep -c '^PASS ' "$cases")
fail=$(grep -c '^FAIL ' "$cases")
skip=$(grep -c '^SKIP ' "$cases")
if [[ $fail -gt 0 ]]; then
	echo "stress: failed:"
	sed -n 's/^FAIL /  /p' "$cases"
fi
echo "stress: $pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 && $rc -eq 0 ]]
