#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM (busybox sh); run.sh fills in the test list.
#
# Every process in this VM is an event source for the module under test,
# so this script stays quiet: no polling, no background jobs.  It runs the
# tests one after another in the foreground and reboots (which ends QEMU).
# Its one trap, a no-op for SIGUSR2, lets a test make pid 1 raise a SIGNAL
# event (procevent_edge: the veto of init); nothing else sends SIGUSR2 to
# pid 1, and the shell goes on waiting for the running test afterwards.
# run.sh reads these lines from the console:
#   PROCEVENT-VM-TEST <prog>            before a test program starts
#   PROCEVENT-VM-TEST-END <prog> rc=<n> after it exited with status n
#   PROCEVENT-VM-INSMOD-FAILED          the module did not load
#   PROCEVENT-VM-RMMOD-FAILED           rmmod after the last test failed
#   PROCEVENT-VM-KMEMLEAK-BEGIN/-END    around the kmemleak report, if any
#   PROCEVENT-VM-KMEMLEAK-OFF           kmemleak is built in but disabled
#   PROCEVENT-VM-TAINT <n>              /proc/sys/kernel/tainted at the end
#   PROCEVENT-VM-DONE rc=<n>            the end (n: failed programs)

export PATH=/usr/local/bin:/bin:/sbin:/tests
export HOME=/root
export TMPDIR=/tmp
export PROCEVENT_KO=/procevent.ko

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

echo "PROCEVENT-VM-KERNEL $(uname -r) cpus $(grep -c ^processor /proc/cpuinfo)"

# A caught signal with a handler that runs no process (see above).
trap ':' USR2

rc=0
if insmod /procevent.ko; then
	cd /tests
	for t in @TESTS@; do
		echo "PROCEVENT-VM-TEST $t"
		# Shell builtins only between tests: no extra processes.
		read -r start _ </proc/uptime
		./"$t" </dev/null
		r=$?
		read -r end _ </proc/uptime
		echo "PROCEVENT-VM-TEST-END $t rc=$r time=$((${end%%.*} - ${start%%.*}))s"
		case $r in
		0|4) ;;
		*) rc=$((rc + 1)) ;;
		esac
	done
	cd /
else
	echo "PROCEVENT-VM-INSMOD-FAILED"
	rc=1
fi

# The module must leave after the whole suite, and leave nothing behind.
if grep -q '^procevent ' /proc/modules && ! rmmod procevent; then
	echo "PROCEVENT-VM-RMMOD-FAILED"
	rc=$((rc + 1))
fi

# kmemleak (debug kernel): objects count as leaks only once they have been
# unreferenced for 5 s, and a scan can miss a pointer that is moving: scan,
# wait, scan again, then report.
# A kmemleak that turned itself off refuses the scan.
if [ -e /sys/kernel/debug/kmemleak ]; then
	if echo scan >/sys/kernel/debug/kmemleak && sleep 6 &&
	   echo scan >/sys/kernel/debug/kmemleak; then
		echo "PROCEVENT-VM-KMEMLEAK-BEGIN"
		cat /sys/kernel/debug/kmemleak
		echo "PROCEVENT-VM-KMEMLEAK-END"
	else
		echo "PROCEVENT-VM-KMEMLEAK-OFF"
	fi
fi

# Not the read builtin: it reads a byte at a time, and sysctl files
# answer only a read from offset 0.
echo "PROCEVENT-VM-TAINT $(cat /proc/sys/kernel/tainted)"
echo "PROCEVENT-VM-DONE rc=$rc"
# run.sh starts QEMU with -no-reboot, so a reboot ends it; unlike poweroff
# this needs no ACPI (the debug kernel has none).
reboot -f
