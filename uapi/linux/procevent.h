/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * procevent: synchronous process events for privileged services.
 *
 * A subscriber opens /dev/procevent, chooses the events it wants with
 * PROCEVENT_IOC_SET_MASK, and then receives one struct procevent_event per
 * event (PROCEVENT_IOC_RECV or read(2)).  The task the event is about stays
 * held until the subscriber acknowledges the event (PROCEVENT_IOC_ACK or
 * write(2) of struct procevent_ack records); the next subscriber in
 * subscription order sees the event only after that.  PROCEVENT_IOC_ACK_RECV
 * acknowledges one event and receives the next in one call.
 */
#ifndef _UAPI_LINUX_PROCEVENT_H
#define _UAPI_LINUX_PROCEVENT_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Event types, one bit each: the mask of SET_MASK and the type of an event. */
#define PROCEVENT_EXIT		0x1u	/* the last thread of a process exits */
#define PROCEVENT_SIGNAL	0x2u	/* a thread is about to run a handler */
#define PROCEVENT_FORK		0x4u	/* a new process, held before it runs */
#define PROCEVENT_EXEC		0x8u	/* a new program, held before it runs */

/* Sizes are fixed: the module pins them with BUILD_BUG_ON. */
#define PROCEVENT_EVENT_SIZE_VER0	96
#define PROCEVENT_ACK_SIZE		16
#define PROCEVENT_SCOPE_SIZE		16
#define PROCEVENT_ACK_RECV_SIZE_VER0	120

struct procevent_event {
	__u32 size;		/* bytes of this record, as written */
	__u32 type;		/* exactly one PROCEVENT_* bit */
	__u64 id;		/* cookie for the ack; increases strictly */
	__s32 pid;		/* held thread, in the reader's pid ns (0: not visible) */
	__s32 tgid;		/* its process */
	__s32 ppid;		/* its parent process */
	__u32 uid;		/* its real uid, in the reader's user ns */
	__s32 status;		/* EXIT: wait(2) status */
	__s32 signo;		/* SIGNAL: signal number; EXIT: 0 */
	__s32 si_code;		/* SIGNAL: si_code */
	__s32 sender_pid;	/* SIGNAL: sending process, else 0 */
	__u32 sender_uid;	/* SIGNAL: sender's uid when known, else 0 */
	__u32 flags;		/* PROCEVENT_F_*; other bits 0 */
	__u64 start_time_ns;	/* process start, boot-based clock */
	__u64 time_ns;		/* CLOCK_MONOTONIC when the event was raised */
	__u64 cgroup_id;	/* cgroup v2 id of the task, 0 if none */
	char comm[16];		/* NUL-terminated */
};

/*
 * Event flag: sender_pid and sender_uid are what the sender claimed
 * (rt_sigqueueinfo and the like: SI_QUEUE, SI_MESGQ, SI_TIMER, ...), as
 * written, not checked by the kernel.  Base no decision on them.
 */
#define PROCEVENT_F_SENDER_UNVERIFIED	0x1u

struct procevent_ack {
	__u64 id;		/* id of a received event */
	__u32 flags;		/* 0 or PROCEVENT_ACK_KILL */
	__u32 reserved;		/* must be 0 */
};

/* Ack flag: release the task with SIGKILL pending (not for EXIT events). */
#define PROCEVENT_ACK_KILL	0x1u

/* PROCEVENT_IOC_SET_SCOPE: which tasks' events reach the handle. */
#define PROCEVENT_SCOPE_ALL	0	/* every task (the default) */
#define PROCEVENT_SCOPE_CGROUP	1	/* tasks in cgroup v2 dir fd, or below */
#define PROCEVENT_SCOPE_PIDNS	2	/* tasks visible in the caller's pid ns */

struct procevent_scope {
	__u32 kind;		/* PROCEVENT_SCOPE_* */
	__s32 fd;		/* CGROUP: a cgroup v2 directory; PIDNS: -1 */
	__u64 reserved;		/* must be 0 */
};

/*
 * PROCEVENT_IOC_GET_INFO: what the running module supports, for a program
 * that must know before it relies on a feature.  Sized for growth: the
 * size is part of the ioctl number, the module serves any size, fills what
 * it knows (zeroing the rest) and says in .size how much it filled.
 */
struct procevent_info {
	__u32 size;		/* out: bytes the module filled in */
	__u32 version;		/* (major << 16) | (minor << 8) | patch */
	__u32 types;		/* event types it raises (PROCEVENT_EXIT...) */
	__u32 ack_flags;	/* ack flags it accepts (PROCEVENT_ACK_KILL) */
	__u32 scope_kinds;	/* (1 << PROCEVENT_SCOPE_*) it accepts */
	__u32 event_flags;	/* PROCEVENT_F_* it may set in an event */
	__u32 max_subscribers;	/* the max_subscribers parameter */
	__u32 pool_size;	/* the pool_size parameter */
	__u32 last_ioctl;	/* highest PROCEVENT_IOC_* number it serves */
	__u32 features;		/* PROCEVENT_FEATURE_*; 0 before 0.4 */
	__u64 reserved[3];	/* 0 */
};

#define PROCEVENT_INFO_SIZE_VER0	64

/* procevent_info.features: calls beyond those of 0.3. */
#define PROCEVENT_FEATURE_ACK_RECV	0x1u	/* PROCEVENT_IOC_ACK_RECV (0.4) */

/*
 * PROCEVENT_IOC_ACK_RECV: acknowledge one event and receive the next in
 * one call, as MINIX's sendrec() answered and received.  In order:
 *  1. the ack, exactly as PROCEVENT_IOC_ACK does it, with its errors
 *     (ENOENT, EINVAL, EPERM); ack.id 0 (no event has it) means no ack,
 *     and then ack.flags and ack.reserved must be 0 too (EINVAL);
 *  2. only when the ack succeeded (or there was none): the receive, as
 *     PROCEVENT_IOC_RECV does it (blocking unless the handle is
 *     O_NONBLOCK or flags has PROCEVENT_ACK_RECV_NONBLOCK; EAGAIN,
 *     ENOMSG, EFAULT with the event kept queued).
 * .acked says whether step 1 took effect: the module zeroes .acked and
 * .event before it acks anything (EFAULT then, and nothing was done, when
 * they cannot be written), and sets .acked to 1 when the ack took effect,
 * whatever happens after it.  A signal during the wait after an ack ends
 * the call with EINTR, never restarted (a restart would ack again).
 * Sized for growth like GET_INFO: the size in the ioctl number may be
 * larger than this struct (a larger event record); the rest is zeroed.
 */
struct procevent_ack_recv {
	struct procevent_ack ack;	/* in: as PROCEVENT_IOC_ACK; id 0: none */
	__u32 flags;			/* in: PROCEVENT_ACK_RECV_* */
	__u32 acked;			/* out: 1 when the ack took effect, else 0 */
	struct procevent_event event;	/* out: the event received */
};

/* Ack-recv flag: do not wait for an event, as if the handle were O_NONBLOCK. */
#define PROCEVENT_ACK_RECV_NONBLOCK	0x1u

#define PROCEVENT_IOC_MAGIC		0xB9
#define PROCEVENT_IOC_SET_MASK		_IOW(PROCEVENT_IOC_MAGIC, 1, __u32)
#define PROCEVENT_IOC_RECV		_IOR(PROCEVENT_IOC_MAGIC, 2, struct procevent_event)
#define PROCEVENT_IOC_ACK		_IOW(PROCEVENT_IOC_MAGIC, 3, struct procevent_ack)
#define PROCEVENT_IOC_SET_TIMEOUT	_IOW(PROCEVENT_IOC_MAGIC, 4, __u64)
#define PROCEVENT_IOC_SET_SCOPE		_IOW(PROCEVENT_IOC_MAGIC, 5, struct procevent_scope)
#define PROCEVENT_IOC_GET_INFO		_IOR(PROCEVENT_IOC_MAGIC, 6, struct procevent_info)
#define PROCEVENT_IOC_ACK_RECV		_IOWR(PROCEVENT_IOC_MAGIC, 7, struct procevent_ack_recv)

#endif /* _UAPI_LINUX_PROCEVENT_H */
