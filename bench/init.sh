#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the benchmark VM (busybox sh).  The benchmark is the only thing
# that runs: every process is an event source, and a busy VM would time
# itself.  run.sh reads the PEBENCH-* lines from the console.

export PATH=/bin:/sbin
export PROCEVENT_KO=/procevent.ko
export PEBENCH_REPS=@REPS@
export PEBENCH_SCALE=@SCALE@
export PEBENCH_ONLY=@ONLY@

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp

/procevent_bench </dev/null
echo "PEBENCH-EXIT,$?"
poweroff -f
