#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The checks of scripts/system-test.sh, run inside the booted Debian system
# by procevent-system-test.service once multi-user.target is reached.  The
# kernel command line says which boot this is (systest.boot=1 or 2).
#
# Boot 1 (the packages were installed with apt; nothing enabled yet):
#   boot1-not-loaded  nothing loaded the module at boot (so boot 2 shows
#                     modules-load.d at work)
#   dkms-module      modinfo finds procevent.ko under /lib/modules/R/
#                    updates/dkms (R the running kernel), dkms status says
#                    installed for R
#   modprobe         modprobe procevent loads that very file (srcversion)
#   dev-node         /dev/procevent is 0600 root:root although a site rule
#                    (/etc/udev/rules.d/50-*) gives misc devices another
#                    group and mode: the package's udev rule wins
#   rmmod            modprobe -r unloads it with no handle open
#   monitor-start    the example procevent-monitor.service, copied to
#                    /etc/systemd/system and enabled --now as its comment
#                    says, with the module unloaded: active (Type=notify,
#                    so READY=1 came) on the first try, no restart, module
#                    loaded through modprobe@procevent.service
#   monitor-status   proceventctl status lists it as the one subscriber
#   monitor-acks     processes' exits are acknowledged by it (its acked
#                    counter grows, no timeout) and logged to the journal
#   monitor-holds    while it is stopped (SIGSTOP), an exiting process is
#                    held: /proc/procevent and proceventctl held show it
#                    waiting on the service; after SIGCONT it is acked
#   monitor-restart  systemctl restart: a new main process, active again,
#                    one subscriber (the new one) that acks
#   monitor-stop     systemctl stop releases every held task at once (none
#                    left held, none timed out, all reaped)
#   modules-load     the admin's /etc/modules-load.d/procevent.conf, copied
#                    from the example procevent-tools ships; the service
#                    disabled (it would load the module itself)
# Boot 2 (the same disk booted again):
#   boot2-modules-load  systemd-modules-load.service inserted procevent
#                    (the journal says so; the service did not run)
#   boot2-monitor    the service, enabled --now again, is up on the first
#                    try and the one subscriber
#   boot2-dev-node   /dev/procevent is 0600 root:root again
#   purge            apt-get purge of the four packages succeeds and, in the
#                    end, leaves no module (loaded or in any /lib/modules),
#                    DKMS state, sources, tool, library or udev rule
#   purge-idle       (systest.purge=idle) the service stopped first, the
#                    purge itself unloads the module
#   purge-busy       (systest.purge=busy) the service still running, the
#                    purge goes on, warns that the module stays loaded and
#                    leaves the service running; after stopping it,
#                    "rmmod procevent" unloads it
# Both boots:
#   dmesg-clean-N    no kernel warning, oops or lockdep report
#
# Each result goes to the console and to /var/lib/procevent-system-test/
# results-N as "SYSTEST PASS|FAIL boot-N/name"; the last line is
# "SYSTEST-DONE boot=N pass=P fail=F".  Then the machine powers off.

set -u
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin

boot=$(sed -n 's/.*systest\.boot=\([0-9]\).*/\1/p' /proc/cmdline)
boot=${boot:-1}
state=/var/lib/procevent-system-test
mkdir -p "$state"
results=$state/results-$boot
log=$state/log-$boot
: >"$results"
: >"$log"
exec 3>/dev/console
pass=0
fail=0

result() {
	local verdict=$1 name=$2
	shift 2
	echo "SYSTEST $verdict $name${*:+ ($*)}" >>"$results"
	echo "SYSTEST $verdict $name${*:+ ($*)}" >&3
	if [[ $verdict == PASS ]]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
}
# The time of a check, in ms since $1 (an $EPOCHREALTIME).
since() {
	local t=$EPOCHREALTIME
	echo "$(((${t/./} - ${1/./}) / 1000)) ms"
}
check() {
	local name=$1 t0=$EPOCHREALTIME
	shift
	note "$name"
	if "$@" >>"$log" 2>&1; then
		result PASS "$name" "$(since "$t0")"
	else
		result FAIL "$name" "$(since "$t0")"
		echo "--- $name failed; log:" >&3
		tail -n 30 "$log" | sed 's/^/  /' >&3
	fi
}
note() {
	echo "== $*" >>"$log"
}

kver=$(uname -r)
unit=procevent-monitor
# A delay that starts no process: while the monitor is stopped every
# exiting process waits for it, so polling loops use builtins only, and
# stay short of the unit's WatchdogSec= (10 s).
exec 8<> <(:)
pause() {
	read -r -t "$1" -u 8 _ || true
}

# /proc/procevent, read with builtins: "key" of the first line starting
# with "$1" (e.g. "held:", "events: type=exit").
# pe_held and pe_subs: its held tasks and subscribers.  No command
# substitution either: the subshell's own exit would wait.
pe_lines=()
pe_held=0
pe_subs=0
pe_read() {
	local l
	pe_lines=()
	pe_held=0
	pe_subs=0
	[[ -r /proc/procevent ]] && mapfile -t pe_lines </proc/procevent
	for l in "${pe_lines[@]}"; do
		case $l in
		held:*) pe_held=${l#held: } ;;
		subscriber:*) pe_subs=$((pe_subs + 1)) ;;
		esac
	done
}
# pe_field PREFIX KEY: KEY=value of the first line starting with PREFIX.
pe_field() {
	local l w
	for l in "${pe_lines[@]}"; do
		[[ $l == "$1"* ]] || continue
		for w in $l; do
			[[ $w == "$2="* ]] && { echo "${w#*=}"; return 0; }
		done
		return 1
	done
	return 1
}
# Is task $1 held, waiting on subscriber pid $2?
pe_holds() {
	local l
	for l in "${pe_lines[@]}"; do
		[[ $l == "held-task: pid=$1 "* && $l == *" sub_pid=$2 "* ]] && return 0
	done
	return 1
}

# modprobe@procevent.service ran in this boot and succeeded.
modprobe_unit_ran() {
	[[ $(systemctl show -P ExecMainExitTimestampMonotonic modprobe@procevent.service) != 0 &&
		$(systemctl show -P ExecMainStatus modprobe@procevent.service) == 0 ]]
}
main_pid() {
	systemctl show -P MainPID "$unit"
}
service_up() {
	[[ $(systemctl show -P ActiveState "$unit") == active &&
		$(systemctl show -P SubState "$unit") == running &&
		$(systemctl show -P NRestarts "$unit") == 0 &&
		$(main_pid) -gt 0 ]]
}
# The one subscriber is the service's main process.
one_subscriber() {
	local pid
	pid=$(main_pid)
	proceventctl status --json | tee -a "$log" |
		grep -q "\"subscribers\":\[{\"pos\":1,\"pid\":$pid,\"comm\":\"proceventctl\"[^]]*}\]"
}
ko_path() {
	modinfo -k "$kver" -n procevent 2>/dev/null
}

echo "SYSTEST-START boot=$boot kernel=$kver uptime=$(cut -d' ' -f1 /proc/uptime)s" | tee -a "$results" >&3

if [[ $boot == 1 ]]; then
	note "boot 1 on $kver"
	check boot1-not-loaded test ! -e /sys/module/procevent

	dkms_module() {
		local st
		st=$(dkms status -m procevent -k "$kver")
		echo "$st"
		ko_path
		[[ $(ko_path) == /lib/modules/$kver/updates/dkms/procevent.ko* ]] &&
			[[ $st == *': installed' ]]
	}
	check dkms-module dkms_module

	load() {
		modprobe procevent &&
			[[ -e /sys/module/procevent ]] &&
			[[ $(cat /sys/module/procevent/srcversion) == $(modinfo -F srcversion "$(ko_path)") ]]
	}
	# A site-wide rule for misc devices, as an administrator may have.
	printf '%s\n' '# a site rule for misc devices' \
		'SUBSYSTEM=="misc", GROUP="users", MODE="0666"' \
		>/etc/udev/rules.d/50-site-misc.rules
	udevadm control --reload
	check modprobe load

	dev_node() {
		udevadm settle
		ls -l /dev/procevent
		[[ $(stat -c '%a %U %G' /dev/procevent) == '600 root root' ]] &&
			[[ -f /lib/udev/rules.d/60-procevent.rules ]]
	}
	check dev-node dev_node

	check rmmod modprobe -r procevent

	monitor_start() {
		local ex=/usr/share/doc/procevent-tools/examples/procevent-monitor.service
		[[ ! -e /sys/module/procevent ]] || return 1
		cp "$ex" /etc/systemd/system/ &&
			systemctl daemon-reload &&
			systemctl enable --now "$unit" || return 1
		systemctl status --no-pager "$unit"
		service_up && [[ -e /sys/module/procevent ]] && modprobe_unit_ran

	}
	check monitor-start monitor_start

	check monitor-status one_subscriber

	monitor_acks() {
		local before after tmo_before tmo_after pid i
		pe_read
		before=$(pe_field subscriber: acked)
		tmo_before=$(pe_field subscriber: timeouts)
		for i in 1 2 3 4 5; do
			/bin/true
		done
		sh -c 'exit 7' &
		pid=$!
		wait "$pid"
		pause 1
		pe_read
		after=$(pe_field subscriber: acked)
		tmo_after=$(pe_field subscriber: timeouts)
		echo "acked $before -> $after, timeouts $tmo_before -> $tmo_after"
		((after >= before + 6)) && ((tmo_after == tmo_before)) || return 1
		for i in 1 2 3 4 5 6 7 8 9 10; do
			journalctl -u "$unit" --no-pager | grep -q "exit pid $pid .*status 7" && return 0
			sleep 0.5
		done
		journalctl -u "$unit" --no-pager | tail -n 20
		return 1
	}
	check monitor-acks monitor_acks

	# For the hold and the stop, the ack deadline is made long (a runtime
	# drop-in, gone at the next boot), so that a release cannot come from
	# the deadline instead.
	long_deadline() {
		mkdir -p /run/systemd/system/$unit.service.d
		printf '%s\n' '[Service]' 'ExecStart=' \
			'ExecStart=/usr/bin/proceventctl monitor --exit --timeout 60s' \
			>/run/systemd/system/$unit.service.d/deadline.conf
		systemctl daemon-reload && systemctl restart "$unit"
	}

	monitor_holds() {
		local mp p hp i acked0 tmo0 ok=1
		long_deadline || return 1
		mp=$(main_pid)
		pe_read
		acked0=$(pe_field subscriber: acked)
		tmo0=$(pe_field subscriber: timeouts)
		kill -STOP "$mp"
		sleep 0 &
		p=$!
		for ((i = 0; i < 50; i++)); do
			pe_read
			pe_holds "$p" "$mp" && break
			pause 0.1
		done
		pe_holds "$p" "$mp" || ok=0
		proceventctl held >"$state/held" &
		hp=$!
		for ((i = 0; i < 50; i++)); do
			[[ -s $state/held ]] && break
			pause 0.1
		done
		kill -CONT "$mp"
		wait "$p" "$hp"
		cat "$state/held"
		# PID TGID COMM TYPE ID HELD POS SUB_PID SUB_COMM STATE
		awk -v p="$p" -v s="$mp" '$1 == p && $4 == "exit" && $8 == s { f = 1 } END { exit !f }' \
			"$state/held" || ok=0
		pause 1
		pe_read
		echo "held task $p; acked $acked0 -> $(pe_field subscriber: acked), timeouts $tmo0 -> $(pe_field subscriber: timeouts)"
		(($(pe_field subscriber: acked) >= acked0 + 2)) || ok=0
		(($(pe_field subscriber: timeouts) == tmo0)) || ok=0
		# Not killed by its watchdog meanwhile.
		[[ $(systemctl show -P NRestarts "$unit") == 0 ]] || ok=0
		[[ $ok == 1 ]]
	}
	check monitor-holds monitor_holds

	monitor_restart() {
		local old new acked0
		old=$(main_pid)
		systemctl restart "$unit" || return 1
		new=$(main_pid)
		echo "main pid $old -> $new"
		[[ $new != "$old" ]] && service_up && one_subscriber || return 1
		pe_read
		acked0=$(pe_field subscriber: acked)
		/bin/true
		pause 0.5
		pe_read
		(($(pe_field subscriber: acked) > acked0))
	}
	check monitor-restart monitor_restart

	monitor_stop() {
		local mp i n=5 pids=() tmo0 t0 t1 held ok=1
		mp=$(main_pid)
		pe_read
		tmo0=$(pe_field 'events: type=exit' timedout)
		kill -STOP "$mp"
		for ((i = 0; i < n; i++)); do
			sleep 0 &
			pids+=($!)
		done
		for ((i = 0; i < 50; i++)); do
			pe_read
			((pe_held >= n)) && break
			pause 0.1
		done
		held=$pe_held
		t0=$EPOCHREALTIME
		systemctl stop "$unit" || ok=0
		wait "${pids[@]}"
		t1=$EPOCHREALTIME
		echo "held before the stop: $held"
		((held >= n)) || ok=0
		pe_read
		echo "after the stop: held $pe_held, subscribers $pe_subs," \
			"exit timeouts $tmo0 -> $(pe_field 'events: type=exit' timedout)," \
			"stop and reaping took $(((${t1/./} - ${t0/./}) / 1000)) ms"
		((pe_held == 0 && pe_subs == 0)) || ok=0
		(($(pe_field 'events: type=exit' timedout) == tmo0)) || ok=0
		[[ $(systemctl show -P ActiveState "$unit") == inactive ]] || ok=0
		rm -rf /run/systemd/system/$unit.service.d
		systemctl daemon-reload
		[[ $ok == 1 ]]
	}
	check monitor-stop monitor_stop

	# For the next boot the module is loaded through modules-load.d, as
	# the example's comment says; the service is disabled, so that its
	# modprobe@procevent.service does not load the module first.
	modules_load() {
		local ex=/usr/share/doc/procevent-tools/examples/procevent.modules-load.conf
		cp "$ex" /etc/modules-load.d/procevent.conf &&
			grep -qx procevent /etc/modules-load.d/procevent.conf &&
			systemctl disable "$unit"
	}
	check modules-load modules_load
else
	note "boot 2 on $kver"
	# Its message comes in through the kernel log (it runs before the
	# journal does), so without the unit's name: matched by identifier.
	boot2_modules_load() {
		journalctl -b -t systemd-modules-load --no-pager
		[[ -e /sys/module/procevent ]] &&
			journalctl -b -t systemd-modules-load --no-pager |
			grep -q "Inserted module 'procevent'" &&
			[[ $(systemctl show -P ActiveState "$unit") == inactive ]] &&
			! modprobe_unit_ran
	}
	check boot2-modules-load boot2_modules_load

	boot2_monitor() {
		systemctl enable --now "$unit" || return 1
		systemctl status --no-pager "$unit"
		service_up && one_subscriber
	}
	check boot2-monitor boot2_monitor

	boot2_dev_node() {
		ls -l /dev/procevent
		[[ $(stat -c '%a %U %G' /dev/procevent) == '600 root root' ]]
	}
	check boot2-dev-node boot2_dev_node

	# systest.purge=idle: the admin stops the service first, and the
	# package's prerm unloads the module; busy: the service still runs,
	# the removal goes on and says the module stays loaded, and stopping
	# the service then lets "rmmod procevent" (as it says) unload it.
	purge_mode=$(sed -n 's/.*systest\.purge=\([a-z]*\).*/\1/p' /proc/cmdline)
	purge_mode=${purge_mode:-idle}
	purge() {
		local left ok=1
		if [[ $purge_mode == idle ]]; then
			systemctl disable --now "$unit" || return 1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get purge -y \
			procevent-dkms procevent-tools libprocevent0 libprocevent-dev \
			>"$state/purge.out" 2>&1 || ok=0
		cat "$state/purge.out"
		if [[ $purge_mode == idle ]]; then
			grep -q 'procevent-dkms: unloaded the procevent module' "$state/purge.out" &&
				[[ ! -e /sys/module/procevent ]] || ok=0
			result "$([[ $ok == 1 ]] && echo PASS || echo FAIL)" purge-idle
		else
			grep -q 'procevent-dkms: warning: the procevent module is in use and stays loaded' \
				"$state/purge.out" &&
				[[ -e /sys/module/procevent ]] &&
				[[ $(systemctl show -P ActiveState "$unit") == active ]] || ok=0
			systemctl disable --now "$unit" && rmmod procevent || ok=0
			result "$([[ $ok == 1 ]] && echo PASS || echo FAIL)" purge-busy
		fi
		left=$( {
			dkms status -m procevent
			ls -d /usr/src/procevent-* /var/lib/dkms/procevent \
				/lib/udev/rules.d/60-procevent.rules /usr/bin/proceventctl \
				/usr/lib/*/libprocevent.* /usr/include/procevent.h \
				/usr/include/linux/procevent.h /sys/module/procevent
			find /lib/modules -name 'procevent.ko*'
			for k in /lib/modules/*/; do
				k=${k%/}
				modinfo -k "${k##*/}" -n procevent
			done
			dpkg -l 'procevent*' 'libprocevent*' | grep '^[a-z][a-z] '
		} 2>/dev/null)
		echo "left after the purge: ${left:-nothing}"
		[[ -z $left && $ok == 1 ]]
	}
	check purge purge
fi

dmesg_clean() {
	! dmesg | grep -E 'BUG:|WARNING:|Oops|KASAN|UBSAN|circular locking|invalid context|hung task|blocked for more than|Call Trace|general protection'
}
check "dmesg-clean-$boot" dmesg_clean

done_line="SYSTEST-DONE boot=$boot pass=$pass fail=$fail uptime=$(cut -d' ' -f1 /proc/uptime)s"
echo "$done_line" >>"$results"
sync
echo "$done_line" >&3
systemctl poweroff --no-block
