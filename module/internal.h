/* SPDX-License-Identifier: GPL-2.0 */
/*
 * procevent internals shared by the module's files.
 *
 * Design
 * ------
 * A probe on a tracepoint (hooks.c) sees a process event in the context of
 * the task it is about, with preemption disabled (before 7.0).  It takes a
 * preallocated struct pe_event from a pool (no slab, no sleeping lock:
 * safe on PREEMPT_RT), or when the pool is empty allocates one atomically
 * where the probe may (event.c).  It records what only the tracepoint
 * knows (signal number, sender) and queues the event as task work on the
 * task.  The task work runs in the task's own context, where it may sleep:
 * it hands the event to the first interested subscriber and holds the
 * task until the event has visited every interested subscriber in list
 * order (event.c).
 *
 * Whoever causes a transition moves the event on, under pe_lock: the
 * subscriber that acks it, the closing of a handle, the held task itself on
 * a timeout or a fatal signal.  The held task is woken only when its event
 * is done or its deadline changed.  When the reader it hands the event to
 * is blocked on the same CPU (or runnable there, preempted before its next
 * receive), the held task yields to it and stays runnable, so a prompt
 * ack finds it awake and does not wake it (event.c: pe_event_kick()): one
 * subscriber costs one sleep and one wake-up of the reader per event, as a
 * pipe or seccomp round trip does.
 *
 * Event states (enum pe_state) and who moves an event between them:
 *
 *   FREE ----probe----> RAISED ----task work----> QUEUED or DONE
 *   QUEUED --RECV/read/ACK_RECV--> RECEIVED --EFAULT on copy-out--> QUEUED
 *   QUEUED/RECEIVED --ack, close, owner exit, timeout--> QUEUED (next
 *                    handle) or DONE
 *   QUEUED/RECEIVED --fatal signal (all but EXIT)--> DONE (withdrawn)
 *   RECEIVED --ack with PROCEVENT_ACK_KILL--> DONE (task killed)
 *   DONE ----held task leaves the hold----> FREE (pool or kfree)
 *   RAISED --module unload before the task work ran--> orphaned: the
 *            task work becomes kfree() of the event (event.c)
 *
 * An event is in exactly one place: the pool, nowhere (RAISED: owned
 * by the task's task work list), one handle's queue, or one handle's
 * received list and the ack table (event.c).  Every event taken from the
 * pool is also on the live list until it is freed.  The held task frees
 * its event after DONE.  An event's id is taken when it is first queued
 * (SPEC 9.1).
 *
 * Locks, outermost first:
 *   pe_hooks_mutex   probe registration (hooks.c), subscriber owners'
 *                    pidfd wait entries (sub.c)
 *   pe_lock          subscriber list, every event in a queue, counters
 *                    (sub.c); wait-queue locks, a task's siglock, the
 *                    scheduler's locks (wake_up_process) and the timer
 *                    and workqueue locks (the hold watchdog's arming)
 *                    nest inside it
 * and, never nested with the above:
 *   pe_pool_lock     raw: the free pool and the live list (event.c, taken
 *                    by probes); a claim bucket's lock nests inside it
 *                    at unload only, never the other way
 *   pe_claim_hash[].lock  raw: exit claims (hooks.c, taken by probes)
 *   pe_vfork_lock    raw: vfork marks (hooks.c, taken by probes)
 * No lock is held while sleeping, and probes take only the raw locks.
 */
#ifndef PE_INTERNAL_H
#define PE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/procevent.h>

/* The module's version: dkms.conf's PACKAGE_VERSION says the same. */
#define PE_VERSION		"0.6.0"
#define PE_VERSION_CODE		(0 << 16 | 6 << 8 | 0)

#define PE_ALL_TYPES	(PROCEVENT_EXIT | PROCEVENT_SIGNAL | PROCEVENT_FORK | \
			 PROCEVENT_EXEC)
#define PE_NR_TYPES	4
#define PE_MAX_SUBSCRIBERS_LIMIT 64

/* pe_event.started: who got the RAISED event first. */
enum pe_start {
	PE_START_NOT,		/* on the task's work list */
	PE_START_RAN,		/* the task work runs it */
	PE_START_ORPHANED,	/* module unload took it (event.c) */
};

enum pe_state {
	PE_EV_FREE,
	PE_EV_RAISED,
	PE_EV_QUEUED,
	PE_EV_RECEIVED,
	PE_EV_DONE,
};

struct pe_sub;

struct pe_event {
	/* First: an orphaned task work is kfree() of this address. */
	struct callback_head twork;	/* RAISED: on the task's work list */
	/*
	 * (pe_pool_lock) in the pool while free, on the live list once
	 * taken: hlists, which the kernel's list checks do not cost.
	 */
	struct hlist_node pool_node;
	struct list_head node;		/* its handle's lists */
	atomic_t started;		/* enum pe_start: work ran or orphaned */
	struct hlist_node ack_node;	/* RECEIVED: in pe_acks by id */
	struct pe_sub *sub;		/* QUEUED/RECEIVED: handle it waits on */
	struct task_struct *task;	/* the held task (current of the work) */
	enum pe_state state;		/* protected by pe_lock after RAISED */
	u32 type;
	u64 id;
	u64 deadline;			/* CLOCK_MONOTONIC ns, 0: none */
	bool kill;			/* vetoed: SIGKILL when released */
	bool warned;			/* (L) the long hold was logged */
	bool asleep;			/* (L) the held task sleeps in its hold */

	/* Exit claims (hooks.c), before 6.16: see "Exit claims" there. */
	/* (claim bucket lock) claim; (pe_vfork_lock) a vfork mark */
	struct hlist_node claim_node;
	struct signal_struct *claim_sig; /* compared only, never followed */
	bool claim;			/* a multi-threaded group's claim */

	/* Payload, written before the event is first queued. */
	s32 status;
	s32 signo;
	s32 si_code;
	struct pid *sender;		/* reference, or NULL */
	kuid_t sender_uid;
	u32 flags;			/* PROCEVENT_F_* */
	s32 claimed_pid;		/* F_SENDER_UNVERIFIED: as written */
	u32 claimed_uid;		/* F_SENDER_UNVERIFIED: as written */
	u64 time_ns;
	u64 start_time_ns;
	u64 cgroup_id;
	char comm[TASK_COMM_LEN];
};

/* One open /dev/procevent.  Fields marked (L) are protected by pe_lock. */
struct pe_sub {
	struct list_head node;		/* (L) in pe_subs while listed */
	bool listed;			/* (L) */
	int slot;			/* (L) index in pe_owners while listed */
	u32 mask;			/* (L) */
	struct list_head queue;		/* (L) QUEUED events, oldest first */
	struct list_head received;	/* (L) RECEIVED events, oldest first */
	unsigned int nr_queued;		/* (L) */
	unsigned int nr_received;	/* (L) */
	u64 nr_acked;			/* (L) */
	u64 nr_timeouts;		/* (L) */
	u64 timeout_ns;			/* (L) ack deadline, 0: none */
	/* (L) the last process to set a non-zero mask: exempt while listed */
	struct pid *owner;
	/* (pe_hooks_mutex) the pid whose pidfd wait queue has owner_wait */
	struct pid *owner_watched;
	struct wait_queue_entry owner_wait; /* wakes at the owner's exit */
	u32 scope;			/* (L) PROCEVENT_SCOPE_* */
	struct cgroup *scope_cgrp;	/* (L) SCOPE_CGROUP: reference */
	struct pid_namespace *scope_ns;	/* (L) SCOPE_PIDNS: reference */
	struct pid *opener;		/* process that opened the handle */
	char opener_comm[TASK_COMM_LEN];
	struct hlist_head readers;	/* (L) blocked in RECV or read() */
	wait_queue_head_t wq;		/* poll and epoll */
};

/* Counters per event type, (L) except the two the probes update. */
struct pe_stats {
	atomic64_t raised;
	atomic64_t lost;
	u64 delivered;
	u64 acked;
	u64 withdrawn;
	u64 timedout;
	u64 moved;		/* deliveries ended by the handle's close */
	u64 released;		/* raised events whose task went on */
};

extern spinlock_t pe_lock;
extern struct list_head pe_subs;
extern struct pe_stats pe_stats[PE_NR_TYPES];
extern unsigned int pe_nr_held;
extern unsigned int pe_max_subscribers;
extern unsigned int pe_want;
extern struct pid **pe_owners;

static inline unsigned int pe_type_idx(u32 type)
{
	return __ffs(type);
}

/* sub.c: the ordered subscriber list */
int pe_sub_set_mask(struct pe_sub *sub, u32 mask);
void pe_sub_leave_if_idle(struct pe_sub *sub);
bool pe_task_is_subscriber(struct task_struct *task);
void pe_sub_release(struct pe_sub *sub);
void pe_sub_owners_exit(void);
int pe_sub_set_scope(struct pe_sub *sub, const struct procevent_scope *sc);
bool __pe_sub_in_scope(struct pe_sub *sub, struct task_struct *task);
unsigned int pe_sub_position(struct pe_sub *sub);

/* (L) Most handles see every task: those cost no call per delivery. */
static inline bool pe_sub_in_scope(struct pe_sub *sub,
				   struct task_struct *task)
{
	return sub->scope == PROCEVENT_SCOPE_ALL ||
	       __pe_sub_in_scope(sub, task);
}

/* event.c: the event life cycle */
int pe_pool_init(void);
unsigned int pe_pool_size_now(void);
unsigned int pe_pool_free_now(void);
extern atomic64_t pe_pool_misses;
void pe_pool_exit(void);
struct pe_event *pe_pool_take(void);
void pe_pool_give(struct pe_event *ev);
struct pe_event *__pe_event_get(u32 type, struct task_struct *task,
				bool count);
struct pe_event *pe_event_get(u32 type, struct task_struct *task);
void pe_event_unget(struct pe_event *ev);
bool pe_event_raise(struct pe_event *ev);
void pe_event_deliver(struct pe_event *ev, struct list_head *pos);
void pe_acks_remove(struct pe_event *ev);
void pe_sub_wake(struct pe_sub *sub);
void pe_sub_pass_own_events(struct pe_sub *sub);
int pe_event_recv(struct pe_sub *sub, struct procevent_event *rec,
		  bool nonblock);
int pe_event_recv_many(struct pe_sub *sub, struct procevent_event *recs,
		       unsigned int max, bool nonblock);
void pe_event_unrecv(struct pe_sub *sub, const struct procevent_event *recs,
		     unsigned int n);
int pe_event_ack(struct pe_sub *sub, const struct procevent_ack *ack);
unsigned int pe_event_ack_many(struct pe_sub *sub,
			       const struct procevent_ack *acks,
			       unsigned int n, int *err);
int pe_event_ack_recv(struct pe_sub *sub, const struct procevent_ack *ack,
		      struct procevent_event *rec, bool nonblock, bool *acked);
void pe_events_wait_idle(void);
extern bool pe_unloading;

/* hooks.c: tracepoint probes */
int pe_hooks_init(void);
int pe_hooks_update(unsigned int want);
void pe_hooks_exit(void);
void pe_hooks_free(void);
void pe_claim_settle(struct pe_event *ev);
void pe_claim_unlink(struct pe_event *ev);
extern struct mutex pe_hooks_mutex;

/* introspect.c: /proc/procevent and fdinfo */
int pe_introspect_init(void);
void pe_introspect_exit(void);
void pe_show_fdinfo(struct seq_file *m, struct file *file);

#endif /* PE_INTERNAL_H */
