#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn a profile boot of the benchmark into instructions per function.
#
#   bench/profile/report.sh CONSOLE_LOG PLUGIN_OUTPUT
#
# CONSOLE_LOG is the console of a PEBENCH_PROFILE=1 boot (bench/run.sh with
# PEBENCH_MODES=profile): its PEBENCH-PHASE lines name the phases and its
# kallsyms dump names the addresses.  PLUGIN_OUTPUT is what icount_prof.so
# wrote.  Printed, in guest instructions per iteration (per event for the
# bursts):
#   - per group of functions (scheduler, system call entry and exit,
#     procevent, seccomp, everything else), the added cost of a held exit
#     (fork_held - fork), a seccomp round trip (seccomp - getppid), a pipe
#     round trip, and a burst drained one event at a time and in batches;
#   - the functions that make the difference between a held exit and a
#     seccomp round trip, and between the two burst drains.

set -euo pipefail

if [[ $# -ne 2 ]]; then
	sed -n '4,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
fi
console=$1
counts=$2

{
	# Symbols: address, S, name (module functions as name[module]).
	awk '/^PEBENCH-KALLSYMS-BEGIN/ { on = 1; next }
	     /^PEBENCH-KALLSYMS-END/ { on = 0 }
	     on && ($2 == "t" || $2 == "T") { print $1, "S", $3 $4 }' "$console"
	# Blocks: address, B, instructions per phase.
	awk '!/^#/ {
		split($1, a, ":")
		addr = a[1]
		while (length(addr) < 16)
			addr = "0" addr
		$1 = addr " B"
		print
	}' "$counts"
} |
	LC_ALL=C sort -k1,1 -k2,2r |
	awk -v phases="$(grep '^PEBENCH-PHASE,' "$console" | cut -d, -f2- | tr '\n' ';')" '
function group(f) {
	if (f ~ /\[procevent\]$/) return "procevent"
	if (f ~ /seccomp/) return "seccomp"
	if (f ~ /^\[user\]$/) return "user space"
	if (f ~ /^(entry_SYSCALL|syscall_|do_syscall|x64_sys_call|__x64_sys_(ioctl|read|write)|ksys_(read|write)|do_vfs_ioctl|vfs_(read|write)|rw_verify_area|security_file|tomoyo_|apparmor_|__fget|__fdget|fdget|fsnotify|__fsnotify|exit_to_user_mode|syscall_exit|_copy_(to|from)_user|copy_user_|rep_movs|__check_object_size|check_stack_object|__x86_indirect|__x86_return)/) return "system call"
	if (f ~ /sched|psi_|load_avg|enqueue|dequeue|switch|wake|preempt|update_curr|pick_|vruntime|eligible|place_entity|set_next|put_prev|clear_buddies|update_rq_clock|rcu_note|finish_task|ttwu|cpuacct|check_spread|record_times|update_cfs|load_gs|load_tls|fpregs|fpu_return|cr3|_find_first_bit|__list_(add|del)|_raw_spin|prepare_to_wait|finish_wait|rseq|mem_cgroup_handle|blkcg|resched|hrtimeout|__cond_resched|reweight|newidle|yield|avg_vruntime|sched_clock/) return "scheduler"
	return "other"
}
BEGIN {
	n = split(phases, p, ";")
	for (i = 1; i <= n; i++) {
		if (p[i] == "") continue
		split(p[i], f, ",")
		idx[f[2]] = f[1] + 2	# field of the phase in a B line
		iters[f[2]] = f[3]
	}
	cur = "[user]"
}
$2 == "S" { cur = $3; next }
$2 == "B" {
	fn = (substr($1, 1, 4) == "ffff") ? cur : "[user]"
	fns[fn] = 1
	for (ph in idx)
		ins[fn, ph] += $(idx[ph] + 1)
}
function per(fn, ph) { return (ph in idx) ? ins[fn, ph] / iters[ph] : 0 }
function held(fn) { return per(fn, "fork_held") - per(fn, "fork") }
function secc(fn) { return per(fn, "seccomp") - per(fn, "getppid") }
END {
	split("held exit;seccomp;pipe;burst one;burst batch", col, ";")
	for (fn in fns) {
		g = group(fn)
		v[g, 1] += held(fn); v[g, 2] += secc(fn); v[g, 3] += per(fn, "pipe")
		v[g, 4] += per(fn, "burst_one"); v[g, 5] += per(fn, "burst_batch")
		groups[g] = 1
	}
	printf "%-14s", "instructions"
	for (c = 1; c <= 5; c++) printf " %11s", col[c]
	printf "\n"
	split("scheduler;system call;procevent;seccomp;user space;other", order, ";")
	for (i = 1; i <= 6; i++) {
		g = order[i]
		printf "%-14s", g
		for (c = 1; c <= 5; c++) { printf " %11.0f", v[g, c]; t[c] += v[g, c] }
		printf "\n"
	}
	printf "%-14s", "total"
	for (c = 1; c <= 5; c++) printf " %11.0f", t[c]
	printf "\n\nheld exit against seccomp round trip, by function (|difference| >= 40):\n"
	printf "%9s %9s %9s  %s\n", "held exit", "seccomp", "diff", "function"
	for (fn in fns) {
		d = held(fn) - secc(fn)
		if (d >= 40 || d <= -40)
			printf "%9.0f %9.0f %9.0f  %s\n", held(fn), secc(fn), d, fn | "sort -k3,3nr"
	}
	close("sort -k3,3nr")
	printf "\nburst drain per event, one at a time against batches (|difference| >= 20):\n"
	printf "%9s %9s %9s  %s\n", "one", "batch", "diff", "function"
	for (fn in fns) {
		d = per(fn, "burst_one") - per(fn, "burst_batch")
		if (d >= 20 || d <= -20 || per(fn, "burst_batch") >= 40)
			printf "%9.0f %9.0f %9.0f  %s\n", per(fn, "burst_one"), per(fn, "burst_batch"), d, fn | "sort -k2,2nr"
	}
	close("sort -k2,2nr")
}'
