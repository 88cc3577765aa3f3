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
		$1 = addr " B " a[2]
		print
	}' "$counts"
} |
	LC_ALL=C sort -k1,1 -k2,2r |
	awk -v phases="$(grep '^PEBENCH-PHASE,' "$console" | cut -d, -f2- | tr '\n' ';')" \
	    -v phase_ns="$(grep '^PEBENCH-PHASE-NS,' "$console" | cut -d, -f2- | tr '\n' ';')" \
	    -v events="$(grep '^# events ' "$counts" | cut -d' ' -f3- | tr '\n' ';')" '
function group(f) {
	if (f ~ /^(default_idle|do_idle|cpuidle_|arch_cpu_idle|native_safe_halt|default_idle_call|cpu_startup_entry|poll_idle|mwait_idle|schedule_idle|cpu_idle_poll)/) return "idle"
	# Timers and what the tick brings: the tick itself, timer interrupts
	# and softirqs, the grace periods of RCU, periodic load balancing,
	# and the stop and restart of the tick around idle.  Much of it
	# grows with the time an iteration takes (under plain TCG, host
	# time); some of it is per event: the hrtick timer a context switch
	# arms where the kernel uses it (7.x), the tick restart when a CPU
	# leaves idle.
	if (f ~ /newidle/) return "scheduler"
	if (f ~ /^(asm_sysvec_apic_timer|sysvec_apic_timer|__sysvec_apic_timer|hrtimer_|__hrtimer_|enqueue_hrtimer|__remove_hrtimer|tick_|__tick_|timekeeping_|update_wall_time|update_vsyscall|ktime_get_update_offsets|clockevents_|lapic_next|timerqueue_|__run_timers|run_timer_softirq|__get_next_timer|get_next_timer|__next_timer_interrupt|fetch_next_timer|timer_(expire|recalc|base|clear_idle)|tmigr_|run_posix_cpu_timers|rcu_(sched_clock_irq|core|gp_|do_batch|pending|report|accelerate|advance|segcblist|check_|needs_cpu|start_this|nocb|exp)|__note_gp_changes|note_gp_changes|handle_softirqs|__do_softirq|irq_exit|__irq_exit|raise_softirq|sched_balance_|run_rebalance|rebalance_domains|trigger_load_balance|nohz_run_idle_balance|update_blocked_averages|update_process_times|sched_tick|scheduler_tick|task_tick_fair|account_process_tick|account_idle_ticks|calc_global_load|irqtime_account|sched_clock_tick)/) return "timer, RCU"
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
		idx[f[2]] = f[1] + 4	# field of the phase in a B line
		iters[f[2]] = f[3]
		name[f[1]] = f[2]
	}
	n = split(phase_ns, p, ";")
	for (i = 1; i <= n; i++) {
		if (p[i] == "") continue
		split(p[i], f, ",")
		if (f[1] in name) gns[name[f[1]]] = f[2]
	}
	# per phase: cr3 invlpg hlt mem refill
	n = split(events, p, ";")
	for (i = 1; i <= n; i++) {
		if (p[i] == "") continue
		split(p[i], f, " ")
		if (!(f[1] in name)) continue
		ev[name[f[1]], "cr3"] = f[2]; ev[name[f[1]], "invlpg"] = f[3]
		ev[name[f[1]], "hlt"] = f[4]; ev[name[f[1]], "mem"] = f[5]
		ev[name[f[1]], "refill"] = f[6]
		have_events = 1
	}
	# Functions whose calls are counted (executions of their first block).
	split("switch_mm_irqs_off flush_tlb_mm_range flush_tlb_func native_flush_tlb_local native_flush_tlb_one_user native_flush_tlb_global hrtimer_interrupt native_smp_send_reschedule native_send_call_func_ipi native_send_call_func_single_ipi", w, " ")
	for (i in w) watch[w[i]] = 1
	cur = "[user]"
}
$2 == "S" { cur = $3; cur_addr = $1; next }
$2 == "B" {
	fn = (substr($1, 1, 4) == "ffff") ? cur : "[user]"
	fns[fn] = 1
	entry = ($1 == cur_addr && fn in watch)
	idle = (group(fn) == "idle")
	for (ph in idx) {
		ins[fn, ph] += $(idx[ph])
		if (entry && $3 > 0)
			calls[fn, ph] += $(idx[ph]) / $3
		if (!idle)
			tot[ph] += $(idx[ph])
	}
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
	split("scheduler;system call;procevent;seccomp;user space;timer, RCU;other", order, ";")
	for (i = 1; i <= 7; i++) {
		g = order[i]
		printf "%-14s", g
		for (c = 1; c <= 5; c++) { printf " %11.0f", v[g, c]; t[c] += v[g, c] }
		printf "\n"
	}
	printf "%-14s", "total"
	for (c = 1; c <= 5; c++) printf " %11.0f", t[c]
	printf "\n%-14s", "idle loop"
	for (c = 1; c <= 5; c++) printf " %11.0f", v["idle", c]
	printf "  (not in the total)\n"
	# The batch floor: what a batched drain pays per event beyond the
	# wake-up of the released task, which no batching removes.
	if (t[5] > 0 && v["scheduler", 5] > 0) {
		printf "\nbatched drain per event (read/write batches of 64):\n"
		printf "  %-44s %6.0f  target <= 300  %s\n", "procevent'"'"'s own code", v["procevent", 5], (v["procevent", 5] <= 300 ? "met" : "missed")
		printf "  %-44s %6.0f\n", "wake-up of the released task (scheduler)", v["scheduler", 5]
		printf "  %-44s %6.0f\n", "system calls (entry, exit, read, write)", v["system call", 5]
		printf "  %-44s %6.0f\n", "other (list checks, pid lookups, copies)", v["other", 5] + v["user space", 5]
		printf "  %-44s %6.0f\n", "timers, tick, RCU, softirqs", v["timer, RCU", 5]
		printf "  %-44s %6.0f\n", "total", t[5]
		printf "  %-44s %6.2f  target <= 1.1  %s\n", "total / wake-up floor", t[5] / v["scheduler", 5], (t[5] / v["scheduler", 5] <= 1.1 ? "met" : "missed")
	}
	printf "\nheld exit against seccomp round trip, by function (|difference| >= 40):\n"
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
	if (!have_events)
		exit
	# Events per iteration: what costs an emulator wall time beyond the
	# instructions.  Columns as above; the loops themselves for reference.
	printf "\nevents per iteration (what costs the emulator time beyond instructions):\n"
	split("fork;fork_held;pipe;seccomp;getppid;burst_one;burst_batch", lp, ";")
	printf "%-26s %10s %10s %10s %10s %10s %10s %10s %10s %10s\n", "per iteration", "held exit", "seccomp", "fork loop", "fork held", "pipe", "seccomp lp", "getppid", "burst one", "burst bat"
	row("guest instructions", "ins")
	row("idle loop instructions", "idleins")
	row("guest ns (icount)", "ns")
	row("idle ns skipped", "idle")
	row("idle entries (hlt)", "hlt")
	row("mm switches", "c:switch_mm_irqs_off")
	row("CR3 writes (TLB flushes)", "cr3")
	row("invlpg (one page)", "invlpg")
	row("flush_tlb_* calls", "tlbfn")
	row("timer interrupts", "c:hrtimer_interrupt")
	row("IPIs sent", "ipi")
	row("memory accesses", "mem")
	row("TLB refills (model)", "refill")
}
function val(ph, what,   v, fx) {
	if (!(ph in iters)) return 0
	if (what == "ins") v = tot[ph]
	else if (what == "ns") v = gns[ph]
	else if (what == "idle") v = (gns[ph] > tot[ph]) ? gns[ph] - tot[ph] : 0
	else if (what == "idleins") { v = 0; for (fx in fns) if (group(fx) == "idle") v += ins[fx, ph] }
	else if (what == "tlbfn") v = calls["flush_tlb_mm_range", ph] + calls["flush_tlb_func", ph] + calls["native_flush_tlb_local", ph] + calls["native_flush_tlb_one_user", ph] + calls["native_flush_tlb_global", ph]
	else if (what == "ipi") v = calls["native_smp_send_reschedule", ph] + calls["native_send_call_func_ipi", ph] + calls["native_send_call_func_single_ipi", ph]
	else if (substr(what, 1, 2) == "c:") v = calls[substr(what, 3), ph]
	else v = ev[ph, what]
	return v / iters[ph]
}
function row(label, what,   c) {
	printf "%-26s %10.1f %10.1f", label, val("fork_held", what) - val("fork", what), val("seccomp", what) - val("getppid", what)
	for (c = 1; c <= 7; c++) printf " %10.1f", val(lp[c], what)
	printf "\n"
}'
