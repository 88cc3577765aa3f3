#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the realbench VM (the Debian root from root.sh plus the overlay
# realbench.sh packs).  For each workload, a run with no observer and one
# with each observer; one line per run on the console:
#   RB-RESULT,workload,observer,wall_us,rc,seen,exits,late,lost
# (seen, exits, late and lost as pe_sub.c and lnchk.c count them; "-" where
# the observer gives no such figure).  RB_WORKLOADS, RB_OBSERVERS,
# RB_STORM_N and RB_GZIP_TESTS come from the kernel command line.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run/lock /var/log/audit /tmp
chmod 1777 /tmp
ip link set lo up 2>/dev/null || true
hostname realbench

workloads=${RB_WORKLOADS:-pv,gzip,storm}
workloads=${workloads//,/ }
# none2: the run with no observer once more, once everything is warm (the
# baseline is the mean of the two); audit last, as it leaves the kernel's
# audit on (with no rules).
observers=${RB_OBSERVERS:-none,procevent,forkstat,bpftrace,strace,none2,audit}
observers=${observers//,/ }
export RB_STORM_N=${RB_STORM_N:-10000}


echo "RB-START,$(uname -r),$(nproc)"

wait_file() {
	local f=$1 n=$(($2 * 10))
	while [[ ! -e $f && $n -gt 0 ]]; do
		sleep 0.1
		n=$((n - 1))
	done
	[[ -e $f ]]
}

# The audit plugin: auditd hands every record to lnchk on its stdin.
cat >/etc/audit/plugins.d/realbench.conf <<EOC
active = yes
direction = out
path = /rb/bin/audit-plugin
type = always
format = string
EOC
printf '#!/bin/sh\nexec /rb/bin/lnchk audit /tmp/rb.ready /tmp/rb.sum\n' >/rb/bin/audit-plugin
chmod 755 /rb/bin/audit-plugin

audit_lost() { auditctl -s | awk '$1 == "lost" { print $2 }'; }

# start_OBS: start the observer, return once it sees events.
# stop_OBS: stop it; its summary is then in /tmp/rb.sum.
start_none() { :; }
stop_none() { echo "seen=- exits=- late=- lost=-" >/tmp/rb.sum; }
start_none2() { :; }
stop_none2() { stop_none; }

start_procevent() {
	insmod /rb/procevent.ko || return 1
	/rb/bin/pe_sub /tmp/rb.ready >/tmp/rb.sum 2>/tmp/rb.err &
	obs_pid=$!
	wait_file /tmp/rb.ready 120
}
stop_procevent() {
	kill -INT "$obs_pid"
	wait "$obs_pid"
	rmmod procevent
}

start_forkstat() {
	mkfifo /tmp/rb.fifo
	/rb/bin/lnchk forkstat /tmp/rb.ready /tmp/rb.sum </tmp/rb.fifo &
	chk_pid=$!
	forkstat -l -e fork,exec,exit >/tmp/rb.fifo 2>&1 &
	obs_pid=$!
	# The header, or the first event: make one until it shows.
	local n=600
	while [[ ! -e /tmp/rb.ready && $n -gt 0 ]]; do
		/bin/true
		sleep 0.2
		n=$((n - 1))
	done
	sleep 1
	[[ -e /tmp/rb.ready ]]
}
stop_forkstat() {
	sleep 1
	kill -INT "$obs_pid"
	wait "$obs_pid"
	wait "$chk_pid"
	rm -f /tmp/rb.fifo
}

start_bpftrace() {
	mkfifo /tmp/rb.fifo
	/rb/bin/lnchk bpftrace /tmp/rb.ready /tmp/rb.sum </tmp/rb.fifo &
	chk_pid=$!
	bpftrace -B line /rb/realbench.bt >/tmp/rb.fifo 2>&1 &
	obs_pid=$!
	wait_file /tmp/rb.ready 900
}
stop_bpftrace() {
	sleep 1
	kill -INT "$obs_pid"
	wait "$obs_pid"
	wait "$chk_pid"
	rm -f /tmp/rb.fifo
}

start_audit() {
	audit_lost0=$(audit_lost)
	auditd || return 1
	wait_file /run/auditd.pid 120 || return 1
	auditctl -D >/dev/null
	auditctl -b 8192 --backlog_wait_time 60000 >/dev/null
	auditctl -a always,exit -F arch=b64 -S execve -S exit_group >/dev/null
	auditctl -e 1 >/dev/null
	wait_file /tmp/rb.ready 120
}
stop_audit() {
	sleep 1
	local lost
	auditctl -D >/dev/null
	lost=$(($(audit_lost) - audit_lost0))
	kill -TERM "$(cat /run/auditd.pid)"
	local n=300
	while [[ -e /run/auditd.pid && $n -gt 0 ]]; do sleep 0.1; n=$((n - 1)); done
	wait_file /tmp/rb.sum 60
	sleep 0.5
	auditctl -e 0 >/dev/null
	sed -i "s/lost=[0-9]*/lost=$lost/" /tmp/rb.sum
}

# strace runs the workload itself; its output goes to lnchk, which keeps
# none of it.
start_strace() { :; }
stop_strace() { wait_file /tmp/rb.sum 60; }

for w in $workloads; do
	for o in $observers; do
		rm -f /tmp/rb.ready /tmp/rb.sum /tmp/rb.err /tmp/rb.fifo
		/rb/wl/prep-"$w".sh || { echo "RB-ERROR,$w,prep"; continue; }
		if ! "start_$o"; then
			echo "RB-ERROR,$w,$o,start"
			cat /tmp/rb.err 2>/dev/null
			continue
		fi
		wrap=()
		[[ $o == strace ]] &&
			wrap=(strace -f -o "|/rb/bin/lnchk strace /tmp/rb.ready /tmp/rb.sum")
		t0=$EPOCHREALTIME
		"${wrap[@]}" /rb/wl/run-"$w".sh >/tmp/rb.wl.log 2>&1
		rc=$?
		t1=$EPOCHREALTIME
		"stop_$o"
		sum=$(cat /tmp/rb.sum 2>/dev/null)
		get() { sed -n "s/.*\\<$1=\\([-0-9]*\\).*/\\1/p" <<<"$sum"; }
		us=$(( (${t1/./} - ${t0/./}) ))
		echo "RB-RESULT,$w,$o,$us,$rc,$(get seen),$(get exits),$(get late),$(get lost)"
		echo "RB-DETAIL,$w,$o,$sum"
		if [[ $rc -ne 0 ]]; then
			echo "RB-WLFAIL,$w,$o"
			grep -E '^(FAIL|ERROR):' /tmp/rb.wl.log
			tail -n 20 /tmp/rb.wl.log
		fi
	done
done
echo "RB-DONE"
echo o >/proc/sysrq-trigger
sleep 30
