// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoint probes (exit, signal, new task, exec): finding the
 * tracepoints, registering a probe while some subscriber wants an event
 * type it serves (and for a second after the last one stops), deciding in
 * probe context whether a task raises an event, finding the last thread of
 * an exiting process, and remembering a subscriber's vfork children.
 *
 * Before 7.0 probes run with preemption disabled, the signal probe also
 * under the siglock with interrupts off; from 7.0 they may be preempted
 * (SRCU-fast).  So they take only raw spinlocks, never allocate and never
 * sleep (PREEMPT_RT too), and take rcu_read_lock() for any pointer they
 * follow beyond the task itself.  tracepoint_synchronize_unregister()
 * waits for both kinds of reader before anything a probe touches is freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/fdtable.h>
#include <linux/hash.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "compat.h"

/*
 * Processes whose threads raise no event of any type (SPEC 1 and 9.2):
 * user-mode helpers (their parent is a kernel thread: a kernel worker
 * waits for them on behalf of whoever asked, often a subscriber inside a
 * system call), and the process that owns a subscription.  The system's
 * init has a kernel thread for parent too (the idle task) and is no
 * helper.
 */
static bool pe_process_exempt(struct task_struct *task)
{
	bool helper;

	if (task->flags & PF_KTHREAD)
		return true;
	rcu_read_lock();
	helper = rcu_dereference(task->real_parent)->flags & PF_KTHREAD;
	rcu_read_unlock();
	if (helper && is_global_init(task))
		helper = false;
	return helper || pe_task_is_subscriber(task);
}

/*
 * Threads that raise no SIGNAL or EXEC event, besides those of exempt
 * processes: io_uring's workers, which never run user code.  (The last
 * thread of a process raises its EXIT whatever it is: an io_uring
 * SQPOLL thread can be the last to leave.)
 */
static bool pe_task_exempt(struct task_struct *task)
{
	return (task->flags & PF_IO_WORKER) || pe_process_exempt(task);
}

/*
 * vfork marks (SPEC 9.2).  A child that a subscriber's thread created
 * with CLONE_VFORK raises no event until it has exec'd (no FORK, no
 * SIGNAL, no EXIT): its parent waits for it, often inside posix_spawn()
 * with every signal blocked.  The exit tracepoint cannot tell a vfork
 * child (vfork_done is cleared before it on 6.1), so the new-task probe,
 * which sees the clone flags, marks the child: a pool event holding a
 * reference on the child's pid, in a small hash.  A mark counts while the
 * task has not exec'd (PF_FORKNOEXEC, cleared by exec), so every thread of
 * the child sees it; a delayed work drops marks once their process has
 * exec'd or is gone.
 */
#define PE_VFORK_BITS	6

static DEFINE_RAW_SPINLOCK(pe_vfork_lock);
static struct hlist_head pe_vforks[1 << PE_VFORK_BITS];	/* (pe_vfork_lock) */
static unsigned int pe_nr_vforks;	/* (pe_vfork_lock), peeked by probes */

static void pe_vfork_gc(struct work_struct *work);
static DECLARE_DELAYED_WORK(pe_vfork_gc_work, pe_vfork_gc);

static struct hlist_head *pe_vfork_head(struct pid *pid)
{
	return &pe_vforks[hash_ptr(pid, PE_VFORK_BITS)];
}

static void pe_vfork_mark(struct task_struct *child)
{
	struct pe_event *mark = pe_pool_take();
	unsigned long flags;
	bool first;

	if (!mark) {
		/* No memory: the child is held as anyone else's. */
		atomic64_inc(&pe_stats[pe_type_idx(PROCEVENT_EXIT)].lost);
		return;
	}
	mark->sender = get_pid(task_pid(child));
	raw_spin_lock_irqsave(&pe_vfork_lock, flags);
	hlist_add_head(&mark->claim_node, pe_vfork_head(mark->sender));
	first = !pe_nr_vforks;
	/* Marked: the probes peek at it without the lock. */
	WRITE_ONCE(pe_nr_vforks, pe_nr_vforks + 1);
	raw_spin_unlock_irqrestore(&pe_vfork_lock, flags);
	if (first)
		schedule_delayed_work(&pe_vfork_gc_work, HZ);
}

/* Probe context: is @task in a subscriber's vfork child, before exec? */
static bool pe_vfork_exempt(struct task_struct *task)
{
	struct pid *tgid = task_tgid(task);
	struct pe_event *mark;
	unsigned long flags;
	bool found = false;

	if (!READ_ONCE(pe_nr_vforks) || !(task->flags & PF_FORKNOEXEC))
		return false;
	raw_spin_lock_irqsave(&pe_vfork_lock, flags);
	hlist_for_each_entry(mark, pe_vfork_head(tgid), claim_node) {
		if (mark->sender == tgid) {
			found = true;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&pe_vfork_lock, flags);
	return found;
}

/* Has the process of @pid exec'd, or gone? */
static bool pe_vfork_over(struct pid *pid)
{
	struct task_struct *t;
	bool over;

	rcu_read_lock();
	t = pid_task(pid, PIDTYPE_TGID);
	over = !t || !(READ_ONCE(t->flags) & PF_FORKNOEXEC);
	rcu_read_unlock();
	return over;
}

static void pe_vfork_drop(struct pe_event *mark)
{
	put_pid(mark->sender);
	mark->sender = NULL;
	pe_pool_give(mark);
}

/* Drop the marks that are over; look again later while any is left. */
static void pe_vfork_gc(struct work_struct *work)
{
	struct pe_event *mark, *done = NULL;
	struct hlist_node *tmp;
	unsigned int i;
	bool again;

	raw_spin_lock_irq(&pe_vfork_lock);
	for (i = 0; i < ARRAY_SIZE(pe_vforks); i++) {
		hlist_for_each_entry_safe(mark, tmp, &pe_vforks[i],
					  claim_node) {
			if (!pe_vfork_over(mark->sender))
				continue;
			hlist_del(&mark->claim_node);
			WRITE_ONCE(pe_nr_vforks, pe_nr_vforks - 1);
			/* Chained through ->task, dropped below. */
			mark->task = (struct task_struct *)done;
			done = mark;
		}
	}
	again = pe_nr_vforks;
	raw_spin_unlock_irq(&pe_vfork_lock);
	while (done) {
		mark = done;
		done = (struct pe_event *)mark->task;
		pe_vfork_drop(mark);
	}
	if (again)
		schedule_delayed_work(&pe_vfork_gc_work, HZ);
}

/*
 * Exit claims.  Before 6.16 the exit tracepoint does not say which thread
 * decremented signal->live to zero, and every thread that reaches the
 * tracepoint after that point reads zero: each is a candidate.  A
 * single-threaded exit, the common one, is alone and takes no lock.  In a
 * multi-threaded group the first candidate links its event as the group's
 * claim in a hash bucket keyed by the signal_struct; a later candidate
 * finds it there and raises nothing.  The claim stays linked until its
 * task work has seen every other thread past the point where it could
 * still reach the tracepoint (pe_claim_settle()), so no candidate can come
 * after it is gone.  Exactly one EXIT per process, one event per claim,
 * and no table for anyone to fill.
 */
#define PE_CLAIM_BITS	6

struct pe_claim_bucket {
	raw_spinlock_t lock;
	struct hlist_head head;		/* (lock) claim events */
};

static struct pe_claim_bucket pe_claim_hash[1 << PE_CLAIM_BITS];

static struct pe_claim_bucket *pe_claim_bucket(struct signal_struct *sig)
{
	return &pe_claim_hash[hash_ptr(sig, PE_CLAIM_BITS)];
}

/*
 * Probe context, a candidate of a multi-threaded group: the group's claim
 * event when this thread is the first, or NULL.
 */
static struct pe_event *pe_claim_take(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;
	struct pe_claim_bucket *b = pe_claim_bucket(sig);
	struct pe_event *ev, *other;
	unsigned long flags;

	/* Taken before the bucket lock: pe_pool_lock nests the other way. */
	ev = __pe_event_get(PROCEVENT_EXIT, task, false);
	raw_spin_lock_irqsave(&b->lock, flags);
	hlist_for_each_entry(other, &b->head, claim_node) {
		if (other->claim_sig == sig) {
			raw_spin_unlock_irqrestore(&b->lock, flags);
			if (ev)
				pe_event_unget(ev);
			return NULL;
		}
	}
	if (ev) {
		ev->claim = true;
		ev->claim_sig = sig;
		hlist_add_head(&ev->claim_node, &b->head);
	}
	raw_spin_unlock_irqrestore(&b->lock, flags);
	if (!ev)
		atomic64_inc(&pe_stats[pe_type_idx(PROCEVENT_EXIT)].lost);
	return ev;
}

/* The claim's work is done with it, or unload orphaned it. */
void pe_claim_unlink(struct pe_event *ev)
{
	struct pe_claim_bucket *b = pe_claim_bucket(ev->claim_sig);
	unsigned long flags;

	raw_spin_lock_irqsave(&b->lock, flags);
	hlist_del_init(&ev->claim_node);
	raw_spin_unlock_irqrestore(&b->lock, flags);
}

/*
 * May a thread of current's group other than current still reach the
 * exit tracepoint?  Every thread has decremented signal->live.  One that
 * has passed exit_files() (files is NULL: set under task_lock() after the
 * tracepoint) or exit_notify() cannot; one stuck later in its exit (a
 * FUSE flush, a dead NFS server) does not keep the claim waiting.
 */
static bool pe_group_may_arrive(void)
{
	struct task_struct *t;
	bool files;

	rcu_read_lock();
	for_each_thread(current, t) {
		if (t == current || READ_ONCE(t->exit_state))
			continue;
		task_lock(t);
		files = t->files;
		task_unlock(t);
		if (files) {
			rcu_read_unlock();
			return true;
		}
	}
	rcu_read_unlock();
	return false;
}

/*
 * Task work of a claim: wait until no other thread of the group can still
 * reach the tracepoint (they are all in do_exit() already, so the wait is
 * short, and the parent is not notified before they are gone anyway),
 * then let go of the claim.  Unload cuts the wait short.
 */
void pe_claim_settle(struct pe_event *ev)
{
	unsigned int delay = 1;

	while (!READ_ONCE(pe_unloading) && pe_group_may_arrive()) {
		schedule_timeout_idle(delay);
		delay = min(delay * 2, (unsigned int)HZ / 10);
	}
	pe_claim_unlink(ev);
}

void pe_exit_hook(struct task_struct *task, enum pe_last last)
{
	struct pe_event *ev;

	if (!(READ_ONCE(pe_want) & PROCEVENT_EXIT))
		return;
	if (last == PE_LAST_NO)
		return;
	if (last == PE_LAST_UNKNOWN && atomic_read(&task->signal->live))
		return;
	if (pe_process_exempt(task) || pe_vfork_exempt(task))
		return;
	/* A candidate: see "Exit claims" above. */
	if (last == PE_LAST_UNKNOWN && !thread_group_empty(task))
		ev = pe_claim_take(task);
	else
		ev = pe_event_get(PROCEVENT_EXIT, task);
	/* The work runs in this task, after this probe has returned. */
	if (ev)
		pe_event_raise(ev);
}

/*
 * task_newtask: a new task, fully set up, before it first runs; unlike
 * sched_process_fork it says with which clone flags.  FORK for new
 * processes; a subscriber's vfork child is marked instead (see above).
 */
static void pe_probe_newtask(void *data, struct task_struct *child,
			     unsigned long clone_flags)
{
	unsigned int want = READ_ONCE(pe_want);
	struct pe_event *ev;

	if (!(want & (PROCEVENT_FORK | PROCEVENT_EXIT)))
		return;
	if (clone_flags & CLONE_THREAD)
		return;
	/* current is the parent: a kernel thread's child is a helper. */
	if ((child->flags & (PF_KTHREAD | PF_IO_WORKER)) ||
	    (current->flags & PF_KTHREAD))
		return;
	if (clone_flags & CLONE_VFORK && pe_task_is_subscriber(current)) {
		pe_vfork_mark(child);
		return;
	}
	if (!(want & PROCEVENT_FORK))
		return;
	ev = pe_event_get(PROCEVENT_FORK, child);
	if (ev)
		pe_event_raise(ev);
}

static void pe_probe_exec(void *data, struct task_struct *task,
			  pid_t old_pid, struct linux_binprm *bprm)
{
	struct pe_event *ev;

	if (!(READ_ONCE(pe_want) & PROCEVENT_EXEC))
		return;
	if (pe_task_exempt(task))
		return;
	ev = pe_event_get(PROCEVENT_EXEC, task);
	if (ev)
		pe_event_raise(ev);
}

/*
 * The kernel fills si_pid and si_uid itself for kill() (SI_USER) and
 * tgkill() (SI_TKILL); positive codes are signals the kernel raises, with
 * no sending process.  Every other negative code can be written by any
 * sender through rt_sigqueueinfo() and friends (SPEC 9.8).
 */
static void pe_signal_sender(struct pe_event *ev, struct kernel_siginfo *info)
{
	struct task_struct *task = current;

	switch (ev->si_code) {
	case SI_USER:
	case SI_TKILL:
		rcu_read_lock();
		ev->sender = get_pid(find_pid_ns(info->si_pid,
						 task_active_pid_ns(task)));
		rcu_read_unlock();
		ev->sender_uid = make_kuid(current_user_ns(), info->si_uid);
		break;
	default:
		if (ev->si_code > 0)
			break;
		ev->flags |= PROCEVENT_F_SENDER_UNVERIFIED;
		ev->claimed_pid = info->si_pid;
		ev->claimed_uid = info->si_uid;
		break;
	}
}

static void pe_probe_signal(void *data, int signo, struct kernel_siginfo *info,
			    struct k_sigaction *ka)
{
	struct pe_event *ev;

	if (!(READ_ONCE(pe_want) & PROCEVENT_SIGNAL))
		return;
	if (!ka || ka->sa.sa_handler == SIG_DFL ||
	    ka->sa.sa_handler == SIG_IGN)
		return;
	if (pe_task_exempt(current) || pe_vfork_exempt(current))
		return;
	ev = pe_event_get(PROCEVENT_SIGNAL, current);
	if (!ev)
		return;
	ev->signo = signo;
	if (info != SEND_SIG_NOINFO && info != SEND_SIG_PRIV)
		ev->si_code = info->si_code;
	if (!pe_event_raise(ev))
		return;
	/* The work runs later in this same task: safe to finish it now. */
	if (info != SEND_SIG_NOINFO && info != SEND_SIG_PRIV)
		pe_signal_sender(ev, info);
}

/* The probes, and the event types each one serves. */
enum {
	PE_PROBE_EXIT,
	PE_PROBE_SIGNAL,
	PE_PROBE_NEWTASK,
	PE_PROBE_EXEC,
	PE_NR_PROBES
};

static struct pe_probe {
	const char *name;
	void *func;
	u32 types;
	struct tracepoint *tp;
} pe_probes[PE_NR_PROBES] = {
	[PE_PROBE_EXIT] = { "sched_process_exit", pe_compat_probe_exit,
			    PROCEVENT_EXIT },
	[PE_PROBE_SIGNAL] = { "signal_deliver", pe_probe_signal,
			      PROCEVENT_SIGNAL },
	/* EXIT too: a subscriber's vfork children are marked there. */
	[PE_PROBE_NEWTASK] = { "task_newtask", pe_probe_newtask,
			       PROCEVENT_FORK | PROCEVENT_EXIT },
	[PE_PROBE_EXEC] = { "sched_process_exec", pe_probe_exec,
			    PROCEVENT_EXEC },
};

/* Serialises probe (un)registration; outside pe_lock. */
DEFINE_MUTEX(pe_hooks_mutex);
static unsigned int pe_hooks_on;	/* (pe_hooks_mutex) types served */
static unsigned long pe_probes_on;	/* (pe_hooks_mutex) bit: registered */

static void pe_find_tracepoints(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < PE_NR_PROBES; i++)
		if (!strcmp(tp->name, pe_probes[i].name))
			pe_probes[i].tp = tp;
}

int pe_hooks_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pe_claim_hash); i++) {
		raw_spin_lock_init(&pe_claim_hash[i].lock);
		INIT_HLIST_HEAD(&pe_claim_hash[i].head);
	}
	for_each_kernel_tracepoint(pe_find_tracepoints, NULL);
	for (i = 0; i < PE_NR_PROBES; i++) {
		if (!pe_probes[i].tp) {
			pr_err("tracepoint %s is missing\n", pe_probes[i].name);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * Register exactly the probes that serve a type in @want.  On failure (no
 * memory for the probe array) the probes already registered stay.
 */
static int pe_hooks_set(unsigned int want)
{
	struct pe_probe *p;
	unsigned int i;
	bool need;
	int err;

	lockdep_assert_held(&pe_hooks_mutex);
	for (i = 0; i < PE_NR_PROBES; i++) {
		p = &pe_probes[i];
		need = want & p->types;
		if (need == test_bit(i, &pe_probes_on))
			continue;
		if (need) {
			err = tracepoint_probe_register(p->tp, p->func, NULL);
			if (err)
				return err;
			__set_bit(i, &pe_probes_on);
		} else {
			tracepoint_probe_unregister(p->tp, p->func, NULL);
			__clear_bit(i, &pe_probes_on);
		}
	}
	pe_hooks_on = want;
	return 0;
}

/*
 * Probes of types nobody wants any more are unregistered a little later,
 * not at once: registering and unregistering a tracepoint patches kernel
 * text on every CPU, and a subscriber that changes its mask often would
 * do that each time.  Until then such a probe returns at its first test
 * (pe_want).
 */
#define PE_HOOKS_LINGER	HZ

static void pe_hooks_gc(struct work_struct *work)
{
	mutex_lock(&pe_hooks_mutex);
	/* Dropping probes cannot fail. */
	pe_hooks_set(pe_hooks_on & READ_ONCE(pe_want));
	mutex_unlock(&pe_hooks_mutex);
}

static DECLARE_DELAYED_WORK(pe_hooks_gc_work, pe_hooks_gc);

/*
 * Make sure the probes of the types in @want are registered; those of
 * other types go after PE_HOOKS_LINGER.  On failure (no memory for the
 * probe array) the caller backs out of whatever needed the new ones.
 */
int pe_hooks_update(unsigned int want)
{
	lockdep_assert_held(&pe_hooks_mutex);
	/* Housekeeping: system_wq is deprecated from 7.0 on. */
	if (pe_hooks_on & ~want)
		mod_delayed_work(system_power_efficient_wq, &pe_hooks_gc_work,
				 PE_HOOKS_LINGER);
	return pe_hooks_set(pe_hooks_on | want);
}

/* Module exit: no probe runs, or will run, after this. */
void pe_hooks_exit(void)
{
	/* No handle is open: nothing queues the work again. */
	cancel_delayed_work_sync(&pe_hooks_gc_work);
	mutex_lock(&pe_hooks_mutex);
	pe_hooks_set(0);
	mutex_unlock(&pe_hooks_mutex);
	tracepoint_synchronize_unregister();
}

/* Module exit, after pe_hooks_exit(): drop the vfork marks. */
void pe_hooks_free(void)
{
	struct hlist_node *tmp;
	struct pe_event *mark;
	unsigned int i;

	cancel_delayed_work_sync(&pe_vfork_gc_work);
	for (i = 0; i < ARRAY_SIZE(pe_vforks); i++) {
		hlist_for_each_entry_safe(mark, tmp, &pe_vforks[i],
					  claim_node) {
			hlist_del(&mark->claim_node);
			pe_vfork_drop(mark);
		}
	}
	WRITE_ONCE(pe_nr_vforks, 0);
}
