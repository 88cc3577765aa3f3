// SPDX-License-Identifier: GPL-2.0
/*
 * The event life cycle: the pool the probes draw from, the hold in the
 * task's own context, serial delivery along the subscriber list, receive,
 * ack, timeout and withdrawal.  See internal.h for the states.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "compat.h"

/*
 * The pool of free events.  Probes cannot sleep (on PREEMPT_RT before 7.0
 * not even allocate with GFP_ATOMIC), so they take a preallocated event
 * here.  Refills, in process context: a work item on a high-priority
 * worker, kicked by the probe that takes the pool below half of
 * pool_size, so a burst of events raised before any of their task works
 * has run (many processes killed at once, whose exits wait in
 * exit_files()) finds the pool refilled behind it; and every task work
 * tops it up on its way (SPEC 9.7).  On a loaded machine the burst can
 * still outrun the worker (from 6.16 each exit frees its memory between
 * the probe and its task work): a probe that finds the pool empty then
 * allocates atomically where it may (pe_pool_alloc_atomic()).  Only when
 * that fails too, or cannot be done, is the event lost, counted per type.
 */
static DEFINE_RAW_SPINLOCK(pe_pool_lock);
static HLIST_HEAD(pe_pool);		/* protected by pe_pool_lock */
static unsigned int pe_pool_count;	/* (pe_pool_lock), peeked by the refill */
static unsigned int pe_pool_size = 256;
/* Events taken by the probes and not yet freed, for unload. */
static HLIST_HEAD(pe_live);		/* protected by pe_pool_lock */

/* Probes that found the pool empty (and allocated, where they may). */
atomic64_t pe_pool_misses = ATOMIC64_INIT(0);

/* Events taken from the pool and not yet freed: task works in flight. */
static atomic_t pe_inflight = ATOMIC_INIT(0);
/* Ids are taken under pe_lock, when an event is first queued. */
static u64 pe_last_id;			/* (L) */

/*
 * Set once the module's init has filled the pool: before that (parameters
 * are set while the module is still loading, and a load can fail after
 * that) the pool_size setter only records the size.
 */
static bool pe_pool_ready;	/* protected by the module's param lock */

#define PE_REFILL_BATCH	16

/*
 * The task work tops the pool up to pe_pool_size; a freed event goes back
 * to the pool while it holds fewer than pe_pool_size + PE_REFILL_BATCH.
 * The slack above the size keeps steady traffic (take one, free one) from
 * allocating and freeing an event each time, and the probes still find at
 * least pe_pool_size free events after the task works have run.
 */
static unsigned int pe_pool_cap(void)
{
	unsigned int size = READ_ONCE(pe_pool_size);

	return size ? size + PE_REFILL_BATCH : 0;
}

/* Allocate free events until the pool holds @target, at most @batch. */
static void pe_pool_fill_to(unsigned int target, unsigned int batch)
{
	struct pe_event *ev;
	unsigned long flags;
	bool full;

	while (batch--) {
		/* Racy peek: the pool is full nearly always. */
		if (READ_ONCE(pe_pool_count) >= target)
			return;
		raw_spin_lock_irqsave(&pe_pool_lock, flags);
		full = pe_pool_count >= target;
		raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
		if (full)
			return;
		ev = kzalloc(sizeof(*ev), GFP_KERNEL);
		if (!ev)
			return;
		raw_spin_lock_irqsave(&pe_pool_lock, flags);
		hlist_add_head(&ev->pool_node, &pe_pool);
		WRITE_ONCE(pe_pool_count, pe_pool_count + 1);
		raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
	}
}

static void pe_pool_fill(unsigned int batch)
{
	unsigned int size = READ_ONCE(pe_pool_size);

	/* Racy peek, here too: every task work calls this. */
	if (READ_ONCE(pe_pool_count) < size)
		pe_pool_fill_to(size, batch);
}

/*
 * Kicked when the probes took the pool below half its size, that is in a
 * burst: fill it to twice its size, ahead of the probes still to come.
 * The excess goes as events are freed (pe_pool_cap()).
 */
static void pe_pool_refill(struct work_struct *work)
{
	pe_pool_fill_to(2 * READ_ONCE(pe_pool_size), UINT_MAX);
}

static DECLARE_WORK(pe_pool_work, pe_pool_refill);

/* The first fill, at load: to pe_pool_size, no further (pe_pool_init()). */
static void pe_pool_first_fill(struct work_struct *work)
{
	pe_pool_fill(UINT_MAX);
}

static DECLARE_WORK(pe_pool_first_work, pe_pool_first_fill);
/*
 * Unbound and high-priority: the refill runs on whichever CPU is free
 * first, not behind the burst on the CPU that raised it.
 */
static struct workqueue_struct *pe_pool_wq;

/* Free what the pool holds beyond pe_pool_size. */
static void pe_pool_trim(void)
{
	struct hlist_node *tmp;
	struct pe_event *ev;
	unsigned long flags;
	HLIST_HEAD(excess);

	raw_spin_lock_irqsave(&pe_pool_lock, flags);
	while (pe_pool_count > READ_ONCE(pe_pool_size)) {
		ev = hlist_entry(pe_pool.first, struct pe_event, pool_node);
		hlist_del(&ev->pool_node);
		hlist_add_head(&ev->pool_node, &excess);
		WRITE_ONCE(pe_pool_count, pe_pool_count - 1);
	}
	raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
	hlist_for_each_entry_safe(ev, tmp, &excess, pool_node)
		kfree(ev);
}

#define PE_POOL_SIZE_MAX	65536

/* Set to stop parameter writes from refilling the pool during exit. */
static bool pe_pool_closed;	/* protected by the module's param lock */

static int pe_pool_size_set(const char *val, const struct kernel_param *kp)
{
	unsigned int size;
	int err;

	err = kstrtouint(val, 0, &size);
	if (err)
		return err;
	if (size > PE_POOL_SIZE_MAX)
		return -EINVAL;
	if (pe_pool_closed)
		return -EBUSY;
	WRITE_ONCE(pe_pool_size, size);
	if (pe_pool_ready) {
		pe_pool_trim();
		pe_pool_fill(UINT_MAX);
	}
	return 0;
}

static const struct kernel_param_ops pe_pool_size_ops = {
	.set = pe_pool_size_set,
	.get = param_get_uint,
};

module_param_cb(pool_size, &pe_pool_size_ops, &pe_pool_size, 0644);
MODULE_PARM_DESC(pool_size,
		 "Free events kept ready for the probes (default 256, at most 65536); refilled as they are used, an event is lost only when memory runs out");

unsigned int pe_pool_size_now(void)
{
	return READ_ONCE(pe_pool_size);
}

/* A snapshot for /proc/procevent: free events in the pool right now. */
unsigned int pe_pool_free_now(void)
{
	return READ_ONCE(pe_pool_count);
}

int pe_pool_init(void)
{
	pe_pool_wq = alloc_workqueue("procevent", WQ_UNBOUND | WQ_HIGHPRI, 0);
	if (!pe_pool_wq)
		return -ENOMEM;
	kernel_param_lock(THIS_MODULE);
	pe_pool_ready = true;
	kernel_param_unlock(THIS_MODULE);
	/*
	 * The first fill runs on the refill's workqueue, so that the pool
	 * has its worker before the first burst: starting one then, in a
	 * storm of exits and forks, took longer than the burst itself.  It
	 * fills to pool_size, not to twice that as a refill in a burst does:
	 * a pool above pe_pool_cap() frees each event given back, one
	 * kfree() per event until it is down to that cap.
	 */
	queue_work(pe_pool_wq, &pe_pool_first_work);
	flush_work(&pe_pool_first_work);
	if (READ_ONCE(pe_pool_size) && !pe_pool_count)
		return -ENOMEM;
	return 0;
}

static void pe_watchdog_stop(void);

/*
 * Module exit, and every failed load: free the whole pool, and stop the
 * hold watchdog (no task is held then; the parameter lock keeps the
 * hold_warn_secs setter from starting it again).
 */
void pe_pool_exit(void)
{
	kernel_param_lock(THIS_MODULE);
	pe_pool_closed = true;
	WRITE_ONCE(pe_pool_size, 0);
	kernel_param_unlock(THIS_MODULE);
	pe_watchdog_stop();
	if (pe_pool_wq) {
		/* Probes are gone: nothing queues the refill any more. */
		destroy_workqueue(pe_pool_wq);
		pe_pool_wq = NULL;
	}
	pe_pool_trim();
}

/*
 * Probe context, the pool empty: the refill has not had the CPU yet (a
 * burst of probes on a loaded machine, each task going on with its exit
 * meanwhile).  Where the probe may allocate, do it here without sleeping:
 * anywhere but PREEMPT_RT, and on PREEMPT_RT where the probe runs
 * preemptible (7.0 and later, no raw lock held).  NULL means the atomic
 * reserves are gone too, or pool_size is 0 (no event may be had).
 */
static struct pe_event *pe_pool_alloc_atomic(void)
{
	struct pe_event *ev;

	if (!READ_ONCE(pe_pool_size))
		return NULL;
	if (IS_ENABLED(CONFIG_PREEMPT_RT) && !preemptible())
		return NULL;
	return kzalloc(sizeof(*ev), GFP_ATOMIC | __GFP_NOWARN);
}

/*
 * Probe context: a free event, or NULL; on the live list when @live.
 * Kicks the refill when the pool runs low.
 */
static struct pe_event *__pe_pool_take(bool live)
{
	struct pe_event *ev = NULL;
	unsigned long flags;
	bool low;

	raw_spin_lock_irqsave(&pe_pool_lock, flags);
	if (!hlist_empty(&pe_pool)) {
		ev = hlist_entry(pe_pool.first, struct pe_event, pool_node);
		hlist_del_init(&ev->pool_node);
		WRITE_ONCE(pe_pool_count, pe_pool_count - 1);
		if (live)
			hlist_add_head(&ev->pool_node, &pe_live);
	}
	low = pe_pool_count < READ_ONCE(pe_pool_size) / 2;
	raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
	if (low)
		queue_work(pe_pool_wq, &pe_pool_work);
	if (ev)
		return ev;
	atomic64_inc(&pe_pool_misses);
	ev = pe_pool_alloc_atomic();
	if (ev && live) {
		raw_spin_lock_irqsave(&pe_pool_lock, flags);
		hlist_add_head(&ev->pool_node, &pe_live);
		raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
	}
	return ev;
}

/* Probe context: a free event for another use (vfork marks), or NULL. */
struct pe_event *pe_pool_take(void)
{
	return __pe_pool_take(false);
}

/* Put a clean event (no references, on no list) back in the pool. */
void pe_pool_give(struct pe_event *ev)
{
	unsigned long flags;

	memset(ev, 0, sizeof(*ev));
	raw_spin_lock_irqsave(&pe_pool_lock, flags);
	hlist_add_head(&ev->pool_node, &pe_pool);
	WRITE_ONCE(pe_pool_count, pe_pool_count + 1);
	raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
}

/*
 * Probe context: take a free event for @task (current, or a new child).
 * Returns NULL when the pool is empty, and counts the loss when @count.
 */
struct pe_event *__pe_event_get(u32 type, struct task_struct *task,
				bool count)
{
	struct pe_stats *st = &pe_stats[pe_type_idx(type)];
	struct pe_event *ev = __pe_pool_take(true);

	if (!ev) {
		if (count)
			atomic64_inc(&st->lost);
		return NULL;
	}
	atomic_inc(&pe_inflight);
	INIT_LIST_HEAD(&ev->node);
	INIT_HLIST_NODE(&ev->ack_node);
	INIT_HLIST_NODE(&ev->claim_node);
	ev->state = PE_EV_RAISED;
	ev->type = type;
	ev->task = task;
	ev->time_ns = ktime_get_ns();
	ev->sender_uid = INVALID_UID;
	return ev;
}

struct pe_event *pe_event_get(u32 type, struct task_struct *task)
{
	return __pe_event_get(type, task, true);
}

/* Probe context: give back an event that was not raised after all. */
void pe_event_unget(struct pe_event *ev)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&pe_pool_lock, flags);
	hlist_del(&ev->pool_node);
	raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
	pe_pool_give(ev);
	/* Probes are gone before module exit waits for zero: no wake-up. */
	atomic_dec(&pe_inflight);
}

static void pe_event_free(struct pe_event *ev)
{
	unsigned long flags;

	put_pid(ev->sender);
	raw_spin_lock_irqsave(&pe_pool_lock, flags);
	hlist_del(&ev->pool_node);
	if (pe_pool_count < pe_pool_cap()) {
		memset(ev, 0, sizeof(*ev));
		hlist_add_head(&ev->pool_node, &pe_pool);
		WRITE_ONCE(pe_pool_count, pe_pool_count + 1);
		ev = NULL;
	}
	raw_spin_unlock_irqrestore(&pe_pool_lock, flags);
	kfree(ev);
	if (atomic_dec_and_test(&pe_inflight))
		wake_up_var(&pe_inflight);
}

/* Set at module exit: claims stop waiting for the other threads. */
bool pe_unloading;

#define PE_ORPHAN_BATCH	32

/*
 * Module exit: take every event whose task work has not started away from
 * its task (one stuck between the probe and its task work, in
 * exit_files() on a dead NFS server, say): its work function becomes
 * kfree() of the event, which the task runs whenever it gets there, so
 * unloading does not wait for it.  The live list is only walked here.
 */
static void pe_events_orphan(void)
{
	struct pid *refs[PE_ORPHAN_BATCH];
	struct hlist_node *tmp;
	struct pe_event *ev;
	unsigned int n;
	bool again;

	if (!PE_CAN_ORPHAN)
		return;
	do {
		n = 0;
		raw_spin_lock_irq(&pe_pool_lock);
		hlist_for_each_entry_safe(ev, tmp, &pe_live, pool_node) {
			if (n == PE_ORPHAN_BATCH)
				break;
			if (atomic_cmpxchg(&ev->started, PE_START_NOT,
					   PE_START_ORPHANED) != PE_START_NOT)
				continue;
			hlist_del_init(&ev->pool_node);
			if (ev->claim)
				pe_claim_unlink(ev);
			refs[n++] = ev->sender;
			atomic_dec(&pe_inflight);
			/*
			 * The last access, ordered after every other: the
			 * task may free the event from here on.  A task that
			 * read the old function first waits for pe_pool_lock
			 * in pe_event_work().
			 */
			smp_store_release(&ev->twork.func, pe_orphan_func);
		}
		raw_spin_unlock_irq(&pe_pool_lock);
		again = n == PE_ORPHAN_BATCH;
		while (n)
			put_pid(refs[--n]);
	} while (again);
}

/* Module exit: wait until no task work of ours can run any more. */
void pe_events_wait_idle(void)
{
	WRITE_ONCE(pe_unloading, true);
	pe_events_orphan();
	/*
	 * What is left are task works that have started: with no handle
	 * open they deliver to nobody and finish at once.  Wait as
	 * TASK_IDLE all the same, so rmmod never looks hung.
	 */
	___wait_var_event(&pe_inflight, !atomic_read(&pe_inflight),
			  TASK_IDLE, 0, 0, schedule());
	pe_sync_module_text();
}

/* Payload that is only stable in the task's own context. */
static void pe_event_fill(struct pe_event *ev)
{
	struct task_struct *tsk = current;
	struct signal_struct *sig = tsk->signal;

	ev->start_time_ns = tsk->group_leader->start_boottime;
	/*
	 * The task's own context: only a write to its /proc comm file can
	 * change the name now, and a copy torn by one is still terminated
	 * when the record is built.  get_task_comm()'s lock and string copy
	 * cost more than the rest of this function on 6.12.
	 */
	data_race(memcpy(ev->comm, tsk->comm, sizeof(ev->comm)));
#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	ev->cgroup_id = cgroup_id(task_dfl_cgroup(tsk));
	rcu_read_unlock();
#endif
	/* What wait(2) will report: see wait_task_zombie(). */
	if (ev->type == PROCEVENT_EXIT)
		ev->status = (READ_ONCE(sig->flags) & SIGNAL_GROUP_EXIT) ?
			     READ_ONCE(sig->group_exit_code) :
			     READ_ONCE(tsk->group_leader->exit_code);
}

/*
 * RECEIVED events by id, for the ack, under pe_lock: one table for every
 * handle (a lookup checks the handle too).  Ids are unique and taken in
 * sequence, so their low bits spread them over the buckets: a chain holds
 * several events only when events received and not acked at once have
 * ids a multiple of PE_ACKS_SIZE apart, which takes at least that many
 * events in between.  Insert and remove cost a list operation, where
 * a tree by id cost a rebalance on each.
 */
#define PE_ACKS_SIZE	4096
static struct hlist_head pe_acks[PE_ACKS_SIZE];	/* (L) */

static struct hlist_head *pe_acks_head(u64 id)
{
	return &pe_acks[id & (PE_ACKS_SIZE - 1)];
}

static struct pe_event *pe_acks_find(struct pe_sub *sub, u64 id)
{
	struct pe_event *ev;

	lockdep_assert_held(&pe_lock);
	hlist_for_each_entry(ev, pe_acks_head(id), ack_node) {
		if (ev->id == id && ev->sub == sub)
			return ev;
	}
	return NULL;
}

static void pe_acks_insert(struct pe_event *ev)
{
	lockdep_assert_held(&pe_lock);
	hlist_add_head(&ev->ack_node, pe_acks_head(ev->id));
}

/* Off the table, if on it. */
void pe_acks_remove(struct pe_event *ev)
{
	lockdep_assert_held(&pe_lock);
	hlist_del_init(&ev->ack_node);
}

/*
 * Wake the held task if it sleeps in its hold.  Awake (its own task work,
 * on its way to the hold, or yielding to the reader) it looks at the
 * event under pe_lock before it sleeps, so it needs no wake-up, whose
 * lock would cost every prompt ack.
 */
static void pe_event_kick(struct pe_event *ev)
{
	/* pe_lock keeps the held task from leaving its hold: it is alive. */
	lockdep_assert_held(&pe_lock);
	if (ev->asleep)
		wake_up_process(ev->task);
}

/* No handle is left to visit (or the task goes anyway): release the task. */
static void pe_event_finish(struct pe_event *ev)
{
	lockdep_assert_held(&pe_lock);
	ev->sub = NULL;
	ev->deadline = 0;
	ev->state = PE_EV_DONE;
	pe_event_kick(ev);
}

/*
 * The administrator's bound on every hold: an ack deadline for every
 * handle, the shorter of it and the handle's own.  0: none, MINIX's wait
 * forever stays the default.
 */
static unsigned int pe_max_hold_ms;
module_param_named(max_hold_ms, pe_max_hold_ms, uint, 0644);
MODULE_PARM_DESC(max_hold_ms,
		 "Ack deadline in ms for every subscriber, over its own if shorter (default 0: none)");

/*
 * The hold watchdog.  A hold longer than hold_warn_secs is reported once
 * in the kernel log.  One delayed work watches every hold, where a timer
 * armed by each sleeping hold cost its start and cancel on every event:
 * the first hold to begin while it is idle starts it for when that hold
 * will be due; each run reports the holds due (every event waiting on a
 * handle, under pe_lock) and comes back when the next one will be, a
 * second later at the soonest, while any is left to report.  A hold due
 * before the pending run brings the run forward.  A change of
 * hold_warn_secs runs it at once, so the new value applies to every hold.
 * The run is armed under pe_lock only, with pe_watchdog_due its time.
 */
static unsigned int pe_hold_warn_secs = 30;
static void pe_watchdog_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(pe_watchdog, pe_watchdog_fn);
static u64 pe_watchdog_due;	/* (L) ktime ns the pending run is due at */

/* A watchdog delay of @ns, in jiffies a delayed work accepts. */
static unsigned long pe_watchdog_delay(u64 ns)
{
	/* nsecs_to_jiffies64() multiplies first for some HZ values. */
	ns = min_t(u64, ns, U64_MAX / 16);
	return min_t(u64, nsecs_to_jiffies64(ns) + 1, MAX_JIFFY_OFFSET);
}

/* (Re)arm the watchdog's run for @due, @now being the time. */
static void pe_watchdog_arm(u64 due, u64 now)
{
	lockdep_assert_held(&pe_lock);
	pe_watchdog_due = due;
	mod_delayed_work(system_power_efficient_wq, &pe_watchdog,
			 due > now ? pe_watchdog_delay(due - now) : 0);
}

static int pe_hold_warn_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_uint(val, kp);

	if (!err && pe_pool_ready && !pe_pool_closed) {
		spin_lock(&pe_lock);
		pe_watchdog_arm(0, 0);
		spin_unlock(&pe_lock);
	}
	return err;
}

static const struct kernel_param_ops pe_hold_warn_ops = {
	.set = pe_hold_warn_set,
	.get = param_get_uint,
};

module_param_cb(hold_warn_secs, &pe_hold_warn_ops, &pe_hold_warn_secs, 0644);
MODULE_PARM_DESC(hold_warn_secs,
		 "Log a task held longer than this many seconds, with the subscriber it waits on (default 30, 0: never)");

/* The ack deadline of @sub, in ns from an event's arrival; 0: none. */
static u64 pe_timeout_ns(struct pe_sub *sub)
{
	u64 cap = (u64)READ_ONCE(pe_max_hold_ms) * NSEC_PER_MSEC;

	lockdep_assert_held(&pe_lock);
	if (cap && (!sub->timeout_ns || cap < sub->timeout_ns))
		return cap;
	return sub->timeout_ns;
}

/* A hold has lasted hold_warn_secs: say who waits for whom. */
static void pe_hold_warn(struct pe_event *ev, u64 now)
{
	struct pe_sub *sub = ev->sub;

	lockdep_assert_held(&pe_lock);
	pr_warn_ratelimited("task %d (%s) held for %llu s by subscriber %u (pid %d, %s), %s\n",
			    task_pid_nr(ev->task), ev->comm,
			    div_u64(now - ev->time_ns, NSEC_PER_SEC),
			    pe_sub_position(sub), pid_nr(sub->owner),
			    sub->opener_comm,
			    ev->state == PE_EV_RECEIVED ? "received, not acked" :
			    "not received");
}

/*
 * Report the holds that have lasted @limit ns by @now; return when the
 * next of the others will have (U64_MAX: none).
 */
static u64 pe_watchdog_scan(struct list_head *events, u64 now, u64 limit)
{
	struct pe_event *ev;
	u64 next = U64_MAX;

	lockdep_assert_held(&pe_lock);
	list_for_each_entry(ev, events, node) {
		if (ev->warned)
			continue;
		if (now - ev->time_ns >= limit) {
			pe_hold_warn(ev, now);
			ev->warned = true;
		} else {
			next = min(next, ev->time_ns + limit);
		}
	}
	return next;
}

static void pe_watchdog_fn(struct work_struct *work)
{
	u64 limit = (u64)READ_ONCE(pe_hold_warn_secs) * NSEC_PER_SEC;
	u64 now, next = U64_MAX;
	struct pe_sub *sub;

	if (!limit)
		return;
	spin_lock(&pe_lock);
	now = ktime_get_ns();
	list_for_each_entry(sub, &pe_subs, node) {
		next = min(next, pe_watchdog_scan(&sub->received, now, limit));
		next = min(next, pe_watchdog_scan(&sub->queue, now, limit));
	}
	/*
	 * Armed before pe_lock goes, so a hold that begins later finds the
	 * run pending and its time.  At most one run a second: holds due
	 * closer together are reported together, and a scan of many held
	 * tasks does not repeat for each.  A hold that began while this run
	 * was on its way here was in the scan.
	 */
	if (next != U64_MAX)
		pe_watchdog_arm(max(next, now + NSEC_PER_SEC), now);
	spin_unlock(&pe_lock);
}

/*
 * The current task is about to be held for @ev (pe_nr_held counts it).
 * The hold is due hold_warn_secs after the event was raised, which for a
 * new child's fork event can be well before the child first runs and so
 * before this hold begins.
 */
static void pe_watchdog_start(const struct pe_event *ev)
{
	u64 limit = (u64)READ_ONCE(pe_hold_warn_secs) * NSEC_PER_SEC;
	u64 due = ev->time_ns + limit;

	lockdep_assert_held(&pe_lock);
	if (!limit)
		return;
	/* Nearly always: a run is pending, and due no later than this hold. */
	if (delayed_work_pending(&pe_watchdog) && pe_watchdog_due <= due)
		return;
	pe_watchdog_arm(due, ktime_get_ns());
}

static void pe_watchdog_stop(void)
{
	cancel_delayed_work_sync(&pe_watchdog);
}

/*
 * Hand @ev to the first handle at or after @pos (a node of pe_subs, or the
 * list head itself for "none left") whose mask has the event's type, or
 * finish the event when there is none.
 */
void pe_event_deliver(struct pe_event *ev, struct list_head *pos)
{
	struct pe_stats *st = &pe_stats[pe_type_idx(ev->type)];
	struct pe_sub *sub;
	u64 timeout;

	lockdep_assert_held(&pe_lock);
	for (; pos != &pe_subs; pos = pos->next) {
		sub = list_entry(pos, struct pe_sub, node);
		if (!(sub->mask & ev->type))
			continue;
		/*
		 * A process that subscribed after its event was raised must
		 * not wait for itself.
		 */
		if (sub->owner == task_tgid(ev->task))
			continue;
		if (!pe_sub_in_scope(sub, ev->task))
			continue;
		/* SPEC 9.1: ids increase in the order events first queue. */
		if (!ev->id)
			ev->id = ++pe_last_id;
		ev->sub = sub;
		ev->state = PE_EV_QUEUED;
		list_add_tail(&ev->node, &sub->queue);
		sub->nr_queued++;
		st->delivered++;
		ev->deadline = 0;
		timeout = pe_timeout_ns(sub);
		if (timeout) {
			ev->deadline = ktime_get_ns() + timeout;
			/* The held task sleeps until its deadline: renew it. */
			pe_event_kick(ev);
		}
		pe_sub_wake(sub);
		return;
	}
	pe_event_finish(ev);
}

/* Take @ev off its handle's lists; the caller decides where it goes. */
static void pe_event_unlink(struct pe_event *ev)
{
	struct pe_sub *sub = ev->sub;

	lockdep_assert_held(&pe_lock);
	if (ev->state == PE_EV_RECEIVED) {
		pe_acks_remove(ev);
		sub->nr_received--;
	} else {
		sub->nr_queued--;
	}
	list_del_init(&ev->node);
}

/* Move @ev from its handle to the next interested one. */
static void pe_event_move_on(struct pe_event *ev)
{
	struct pe_sub *sub = ev->sub;

	lockdep_assert_held(&pe_lock);
	pe_event_unlink(ev);
	/* A handle with an event waiting on it is in the list. */
	pe_event_deliver(ev, sub->node.next);
	pe_sub_leave_if_idle(sub);
}

/*
 * @sub has a new owner: events of the owner's own threads waiting on it
 * move on, as a close would move them, since they would now wait for
 * their own process (SPEC 9.2, 9.3).
 */
void pe_sub_pass_own_events(struct pe_sub *sub)
{
	struct list_head *lists[] = { &sub->received, &sub->queue };
	struct pe_event *ev, *tmp;
	unsigned int i;

	lockdep_assert_held(&pe_lock);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		list_for_each_entry_safe(ev, tmp, lists[i], node) {
			if (task_tgid(ev->task) != sub->owner)
				continue;
			pe_stats[pe_type_idx(ev->type)].moved++;
			pe_event_move_on(ev);
		}
	}
}

/*
 * A task blocked in RECV or read(), on its handle's readers list (an
 * hlist, newest first: the kernel's list checks cost a call on each
 * insert and removal of a list_head, and a reader blocks once per event).
 */
struct pe_reader {
	struct hlist_node node;
	struct task_struct *task;
};

/*
 * Something for the readers of @sub: an event queued, or mask 0.  Readers
 * blocked in RECV or read() are woken directly; the wait queue, which
 * costs a lock, only when poll or epoll waits on it.
 */
void pe_sub_wake(struct pe_sub *sub)
{
	struct pe_reader *r;

	lockdep_assert_held(&pe_lock);
	hlist_for_each_entry(r, &sub->readers, node)
		wake_up_process(r->task);
	/* Pairs with the barrier in pe_poll(). */
	if (wq_has_sleeper(&sub->wq))
		wake_up_interruptible_poll(&sub->wq, EPOLLIN | EPOLLRDNORM);
}

/*
 * The task to yield to while @ev waits on its handle, when it last ran on
 * this CPU: the latest task blocked in RECV or read() on the handle, else
 * the handle owner's main thread if it is runnable, which may be a reader
 * preempted between an ack and its next receive.  Yielding to that one too
 * keeps the held task awake for the ack: asleep, its wake-up by the ack
 * would preempt the reader again before its next receive, and every later
 * event would find no reader blocked either.  A reference, or NULL.
 */
static struct task_struct *pe_event_reader(struct pe_event *ev)
{
	struct task_struct *reader;

	lockdep_assert_held(&pe_lock);
	if (ev->state != PE_EV_QUEUED)
		return NULL;
	if (!hlist_empty(&ev->sub->readers)) {
		reader = hlist_entry(ev->sub->readers.first, struct pe_reader,
				     node)->task;
		if (task_cpu(reader) != raw_smp_processor_id())
			return NULL;
		get_task_struct(reader);
		return reader;
	}
	rcu_read_lock();
	reader = pid_task(ev->sub->owner, PIDTYPE_PID);
	if (reader && (!task_is_running(reader) || reader == current ||
		       task_cpu(reader) != raw_smp_processor_id()))
		reader = NULL;
	if (reader)
		get_task_struct(reader);
	rcu_read_unlock();
	return reader;
}

/*
 * Let @reader run before the current task sleeps (and drop the reference
 * on it), without holding pe_lock.  When waking the reader already asked
 * for a switch (it preempts us, as CFS usually decides; lazily, under
 * PREEMPT_LAZY), a plain schedule() is the cheaper way there; otherwise
 * (EEVDF often declines) yield to it.
 */
static void pe_yield(struct task_struct *reader)
	__must_hold(&pe_lock)
{
	lockdep_assert_held(&pe_lock);
	spin_unlock(&pe_lock);
	if (pe_resched_wanted())
		schedule();
	else
		yield_to(reader, false);
	put_task_struct(reader);
	spin_lock(&pe_lock);
}

/*
 * Killable holds (all but EXIT) end on any pending, unblocked signal that
 * will terminate the task when it is delivered (SPEC 9.4): SIGKILL, and
 * every default action that terminates or dumps core, which the kernel
 * does not turn into SIGKILL (core dumps, traced tasks).  So they sleep
 * interruptibly.  A pending signal that will not terminate the task (one
 * with a handler, the freezer's or a job-control trap, a task work's
 * notification) must not wake every sleep again: its flags are cleared for
 * the hold and set again by pe_signals_restore() when it ends.  Returns
 * true when a terminating signal is pending.
 */
#define PE_HID_SIGPENDING	0x1
#define PE_HID_NOTIFY		0x2

static bool pe_signals_check(unsigned int *hidden)
{
	struct task_struct *t = current;
	struct sighand_struct *sh;
	sigset_t pending;
	bool fatal = false;
	int sig;

	if (fatal_signal_pending(t))
		return true;
	if (!signal_pending(t))
		return false;
	/* A task's own sighand changes only under itself (exec). */
	sh = rcu_dereference_protected(t->sighand, true);
	spin_lock_irq(&sh->siglock);
	sigorsets(&pending, &t->pending.signal, &t->signal->shared_pending.signal);
	sigandnsets(&pending, &pending, &t->blocked);
	/* sig_fatal(), on the sighand we hold. */
	for (sig = 1; sig <= _NSIG && !fatal; sig++)
		fatal = sigismember(&pending, sig) &&
			!siginmask(sig, SIG_KERNEL_IGNORE_MASK |
				   SIG_KERNEL_STOP_MASK) &&
			sh->action[sig - 1].sa.sa_handler == SIG_DFL &&
			/* get_signal() drops these for a pid ns init */
			(!(t->signal->flags & SIGNAL_UNKILLABLE) ||
			 sig_kernel_only(sig));
	if (!fatal) {
		clear_thread_flag(TIF_SIGPENDING);
		*hidden |= PE_HID_SIGPENDING;
		if (test_and_clear_thread_flag(TIF_NOTIFY_SIGNAL))
			*hidden |= PE_HID_NOTIFY;
	}
	spin_unlock_irq(&sh->siglock);
	return fatal;
}

static void pe_signals_restore(unsigned int hidden)
{
	struct sighand_struct *sh;

	sh = rcu_dereference_protected(current->sighand, true);
	spin_lock_irq(&sh->siglock);
	if (hidden & PE_HID_NOTIFY)
		set_thread_flag(TIF_NOTIFY_SIGNAL);
	/*
	 * Set again unconditionally: recalc_sigpending() would not for a
	 * freezer's fake signal (the cgroup v1 freezer sends one only), and
	 * a spurious one costs get_signal() a look.
	 */
	set_thread_flag(TIF_SIGPENDING);
	spin_unlock_irq(&sh->siglock);
}

/*
 * Hold the current task until its event is done.  Called and returns with
 * pe_lock held; sleeps without it.  Exit holds are not interruptible and
 * stay out of the load average (TASK_IDLE); the others end on a signal
 * that will terminate the task, which withdraws the event.  Each turn
 * also enforces the ack deadline of the handle the event waits on.
 *
 * The first time the event waits on a handle whose reader is on this CPU
 * (blocked in RECV or read(), or preempted before it: pe_event_reader()),
 * the task yields to that reader instead of sleeping: it stays runnable,
 * so a prompt ack finds it awake and the round trip costs one sleep and
 * one wake-up (the reader's) instead of two of each.  When the ack is
 * slow, the task comes back to this loop and sleeps as usual.
 */
static void pe_event_hold(struct pe_event *ev)
{
	bool killable = ev->type != PROCEVENT_EXIT;
	struct pe_stats *st = &pe_stats[pe_type_idx(ev->type)];
	struct pe_sub *yielded_to = NULL;
	struct task_struct *reader;
	unsigned int hidden = 0;
	ktime_t expires;
	u64 deadline;

	lockdep_assert_held(&pe_lock);
	pe_watchdog_start(ev);
	while (ev->state != PE_EV_DONE) {
		if (killable && pe_signals_check(&hidden)) {
			struct pe_sub *sub = ev->sub;

			pe_event_unlink(ev);
			st->withdrawn++;
			pe_event_finish(ev);
			pe_sub_leave_if_idle(sub);
			break;
		}
		if (ev->deadline && ktime_get_ns() >= ev->deadline) {
			ev->sub->nr_timeouts++;
			st->timedout++;
			pe_event_move_on(ev);
			continue;
		}
		if (ev->sub != yielded_to) {
			yielded_to = ev->sub;
			reader = pe_event_reader(ev);
			if (reader) {
				pe_yield(reader);
				continue;
			}
		}
		deadline = ev->deadline;
		expires = ns_to_ktime(min_t(u64, deadline, KTIME_MAX));
		/* Freezable: suspend and the cgroup v1 freezer still work. */
		set_current_state((killable ? TASK_INTERRUPTIBLE : TASK_IDLE) |
				  TASK_FREEZABLE);
		ev->asleep = true;
		spin_unlock(&pe_lock);
		schedule_hrtimeout_range(deadline ? &expires : NULL, 0,
					 HRTIMER_MODE_ABS);
		spin_lock(&pe_lock);
		ev->asleep = false;
	}
	__set_current_state(TASK_RUNNING);
	if (hidden) {
		spin_unlock(&pe_lock);
		pe_signals_restore(hidden);
		spin_lock(&pe_lock);
	}
}

/* Task work: runs in the context of the task the event is about. */
static void pe_event_work(struct callback_head *head)
{
	struct pe_event *ev = container_of(head, struct pe_event, twork);
	struct pe_stats *st = &pe_stats[pe_type_idx(ev->type)];

	if (atomic_cmpxchg(&ev->started, PE_START_NOT, PE_START_RAN) !=
	    PE_START_NOT) {
		/*
		 * Orphaned by module unload after this work was picked up:
		 * the unloader lets go of the event with pe_pool_lock held.
		 */
		raw_spin_lock_irq(&pe_pool_lock);
		raw_spin_unlock_irq(&pe_pool_lock);
		kfree(ev);
		return;
	}
	pe_pool_fill(PE_REFILL_BATCH);
	if (ev->claim)
		pe_claim_settle(ev);
	pe_event_fill(ev);

	spin_lock(&pe_lock);
	pe_event_deliver(ev, pe_subs.next);
	if (ev->state != PE_EV_DONE) {
		pe_nr_held++;
		pe_event_hold(ev);
		pe_nr_held--;
	}
	st->released++;
	spin_unlock(&pe_lock);
	/* Vetoed: die before running another user instruction. */
	if (ev->kill)
		send_sig(SIGKILL, current, 1);
	pe_event_free(ev);
}

/*
 * Probe context: queue the hold as task work on the event's task.  The
 * work runs on the way back to user space (signals, exec, a new child's
 * first return from fork) or in exit_task_work() before the parent is
 * notified (exits).  On failure the event goes back to the pool; the
 * caller must not have taken references into it yet.
 */
bool pe_event_raise(struct pe_event *ev)
{
	struct pe_stats *st = &pe_stats[pe_type_idx(ev->type)];

	init_task_work(&ev->twork, pe_event_work);
	if (likely(!task_work_add(ev->task, &ev->twork, TWA_RESUME))) {
		atomic64_inc(&st->raised);
		return true;
	}
	/* Only a task past exit_task_work() refuses; ours never are. */
	WARN_ON_ONCE(1);
	atomic64_inc(&st->lost);
	if (ev->claim)
		pe_claim_unlink(ev);
	pe_event_unget(ev);
	return false;
}

/* pid_nr_ns(), read directly for the initial namespace (level 0). */
static pid_t pe_pid_nr(struct pid *pid, struct pid_namespace *ns)
{
	if (ns == &init_pid_ns)
		return pid_nr(pid);
	return pid_nr_ns(pid, ns);
}

/*
 * Fill the record a reader receives; pids and ids in the reader's view.
 * Every field is assigned, so the caller's buffer needs no memset first
 * (the record has no padding); a field added to the record changes its
 * size and stops the build here until it is assigned too.
 */
static void pe_event_record(struct pe_event *ev, struct procevent_event *rec)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct user_namespace *uns = current_user_ns();
	struct task_struct *tsk = ev->task;

	BUILD_BUG_ON(sizeof(*rec) != 96);
	lockdep_assert_held(&pe_lock);
	rec->size = sizeof(*rec);
	rec->type = ev->type;
	rec->id = ev->id;
	rcu_read_lock();
	rec->pid = pe_pid_nr(task_pid(tsk), ns);
	rec->tgid = pe_pid_nr(task_tgid(tsk), ns);
	rec->ppid = pe_pid_nr(task_tgid(rcu_dereference(tsk->real_parent)),
			      ns);
	rec->uid = __kuid_val(__task_cred(tsk)->uid);
	rcu_read_unlock();
	/* The initial namespace maps every uid but (uid_t)-1 to itself. */
	if (uns != &init_user_ns || rec->uid == (u32)-1)
		rec->uid = from_kuid_munged(uns, KUIDT_INIT(rec->uid));
	rec->status = ev->status;
	rec->signo = ev->signo;
	rec->si_code = ev->si_code;
	rec->flags = ev->flags;
	if (ev->flags & PROCEVENT_F_SENDER_UNVERIFIED) {
		/* As written by the sender, like the task's own siginfo. */
		rec->sender_pid = ev->claimed_pid;
		rec->sender_uid = ev->claimed_uid;
	} else {
		rec->sender_pid = pe_pid_nr(ev->sender, ns);
		rec->sender_uid = uid_valid(ev->sender_uid) ?
				  from_kuid_munged(uns, ev->sender_uid) : 0;
	}
	rec->start_time_ns = ev->start_time_ns;
	rec->time_ns = ev->time_ns;
	rec->cgroup_id = ev->cgroup_id;
	memcpy(rec->comm, ev->comm, sizeof(rec->comm));
	rec->comm[sizeof(rec->comm) - 1] = '\0';
}

/* @ev, queued on @sub, is received: all but moving it to the list. */
static void pe_event_take(struct pe_sub *sub, struct pe_event *ev,
			  struct procevent_event *rec)
{
	lockdep_assert_held(&pe_lock);
	pe_acks_insert(ev);
	sub->nr_queued--;
	sub->nr_received++;
	ev->state = PE_EV_RECEIVED;
	pe_event_record(ev, rec);
}

/*
 * Take the oldest queued event of @sub and fill @rec.  -ENOMSG when the
 * handle has mask 0 and nothing is left to receive.  A blocked reader
 * sleeps on the handle's readers list, under pe_lock: whoever queues an
 * event or clears the mask holds that lock, so no wake-up is lost.
 * Called and returns with pe_lock held; sleeps without it.
 */
static int __pe_event_recv(struct pe_sub *sub, struct procevent_event *rec,
			   bool nonblock)
	__must_hold(&pe_lock)
{
	struct pe_reader me = { .task = current };
	struct pe_event *ev;

	lockdep_assert_held(&pe_lock);
	for (;;) {
		ev = list_first_entry_or_null(&sub->queue, struct pe_event,
					      node);
		if (ev) {
			list_move_tail(&ev->node, &sub->received);
			pe_event_take(sub, ev, rec);
			return 0;
		}
		if (!sub->mask)
			return -ENOMSG;
		if (nonblock)
			return -EAGAIN;
		if (signal_pending(current))
			return -ERESTARTSYS;
		hlist_add_head(&me.node, &sub->readers);
		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&pe_lock);
		schedule();
		__set_current_state(TASK_RUNNING);
		spin_lock(&pe_lock);
		hlist_del(&me.node);
	}
}

int pe_event_recv(struct pe_sub *sub, struct procevent_event *rec,
		  bool nonblock)
{
	int err;

	spin_lock(&pe_lock);
	err = __pe_event_recv(sub, rec, nonblock);
	spin_unlock(&pe_lock);
	return err;
}

/*
 * read(2)'s receive: up to @max events into @recs in one pe_lock section,
 * the first as pe_event_recv() takes it (blocking unless @nonblock), the
 * others only if queued already.  The number received, or the first
 * one's error.
 */
int pe_event_recv_many(struct pe_sub *sub, struct procevent_event *recs,
		       unsigned int max, bool nonblock)
{
	struct pe_event *ev, *last = NULL;
	unsigned int n = 1;
	LIST_HEAD(taken);
	int err;

	spin_lock(&pe_lock);
	err = __pe_event_recv(sub, &recs[0], nonblock);
	if (err) {
		spin_unlock(&pe_lock);
		return err;
	}
	/* The others move to the received list in one splice. */
	list_for_each_entry(ev, &sub->queue, node) {
		if (n == max)
			break;
		pe_event_take(sub, ev, &recs[n++]);
		last = ev;
	}
	if (last) {
		list_cut_position(&taken, &sub->queue, &last->node);
		list_splice_tail(&taken, &sub->received);
	}
	spin_unlock(&pe_lock);
	return n;
}

/*
 * The records @recs[0..@n) of @sub could not be copied out: queue their
 * events again, at the head and in their order, in one pe_lock section so
 * that no other reader of the handle takes one of them out of turn.
 */
void pe_event_unrecv(struct pe_sub *sub, const struct procevent_event *recs,
		     unsigned int n)
{
	struct pe_event *ev;
	bool requeued = false;

	spin_lock(&pe_lock);
	while (n--) {
		ev = pe_acks_find(sub, recs[n].id);
		if (!ev)
			continue;
		pe_acks_remove(ev);
		list_move(&ev->node, &sub->queue);
		sub->nr_received--;
		sub->nr_queued++;
		ev->state = PE_EV_QUEUED;
		requeued = true;
	}
	/* Another reader may have gone back to sleep meanwhile. */
	if (requeued)
		pe_sub_wake(sub);
	spin_unlock(&pe_lock);
}

/*
 * Acknowledge a received event.  With PROCEVENT_ACK_KILL (not for EXIT,
 * nor for init) the task is released at once with SIGKILL pending, and
 * the remaining subscribers are not asked.
 */
static int __pe_event_ack(struct pe_sub *sub, const struct procevent_ack *ack)
	__must_hold(&pe_lock)
{
	bool kill = ack->flags & PROCEVENT_ACK_KILL;
	struct pe_event *ev;

	lockdep_assert_held(&pe_lock);
	if (ack->reserved || (ack->flags & ~PROCEVENT_ACK_KILL))
		return -EINVAL;
	ev = pe_acks_find(sub, ack->id);
	if (!ev)
		return -ENOENT;
	if (kill && ev->type == PROCEVENT_EXIT)
		return -EINVAL;
	/* SIGKILL to the system's init is dropped: no veto (SPEC 9.5). */
	if (kill && is_global_init(ev->task))
		return -EPERM;
	sub->nr_acked++;
	pe_stats[pe_type_idx(ev->type)].acked++;
	if (kill) {
		pe_event_unlink(ev);
		ev->kill = true;
		pe_event_finish(ev);
		pe_sub_leave_if_idle(sub);
	} else {
		pe_event_move_on(ev);
	}
	return 0;
}

int pe_event_ack(struct pe_sub *sub, const struct procevent_ack *ack)
{
	int err;

	spin_lock(&pe_lock);
	err = __pe_event_ack(sub, ack);
	spin_unlock(&pe_lock);
	return err;
}

/*
 * write(2)'s acks: @acks[0..@n) in order, in one pe_lock section, up to
 * the first that fails (its error in *@err, else 0).  The number applied.
 */
unsigned int pe_event_ack_many(struct pe_sub *sub,
			       const struct procevent_ack *acks,
			       unsigned int n, int *err)
{
	unsigned int i;

	*err = 0;
	spin_lock(&pe_lock);
	for (i = 0; i < n; i++) {
		*err = __pe_event_ack(sub, &acks[i]);
		if (*err)
			break;
	}
	spin_unlock(&pe_lock);
	return i;
}

/*
 * PROCEVENT_IOC_ACK_RECV: the ack, then, only when it succeeded, the
 * receive, in one pe_lock section (the receive may sleep without the
 * lock).  *@acked tells the caller whether the ack took effect; after
 * it, an interrupted wait is -EINTR, never restarted: a restart would
 * ack again.  An @ack with id 0 asks for no ack (flags and reserved 0).
 */
int pe_event_ack_recv(struct pe_sub *sub, const struct procevent_ack *ack,
		      struct procevent_event *rec, bool nonblock, bool *acked)
{
	int err = 0;

	*acked = false;
	spin_lock(&pe_lock);
	if (ack->id || ack->flags || ack->reserved) {
		err = ack->id ? __pe_event_ack(sub, ack) : -EINVAL;
		if (err)
			goto out_unlock;
		*acked = true;
	}
	err = __pe_event_recv(sub, rec, nonblock);
	if (err == -ERESTARTSYS && *acked)
		err = -EINTR;
out_unlock:
	spin_unlock(&pe_lock);
	return err;
}
