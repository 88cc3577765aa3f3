#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the benchmark VM (busybox sh).  The benchmark is the only thing
# that runs: every process is an event source, and a busy VM would time
# itself.  run.sh reads the PEBENCH-* lines from the console.

export PATH=/bin:/sbin
export PROCEVENT_KO=/procevent.ko
# PEBENCH_REPS, PEBENCH_SCALE and PEBENCH_ONLY come from the kernel
# command line, which passes unknown name=value words to init's
# environment.

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp

/procevent_bench </dev/null
echo "PEBENCH-EXIT,$?"
# A profile boot (bench/profile/) names the addresses it counted.
if [ "${PEBENCH_PROFILE:-}" = 1 ]; then
	echo 0 >/proc/sys/kernel/kptr_restrict
	echo PEBENCH-KALLSYMS-BEGIN
	grep ' [tT] ' /proc/kallsyms
	echo PEBENCH-KALLSYMS-END
fi
poweroff -f
