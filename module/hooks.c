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
 * Tasks that raise no event of any type (SPEC 1 and 9.2): kernel threads
 * and io_uring workers, user-mode helpers (their parent is a kernel
 * thread: a kernel worker waits for them on behalf of whoever asked, often
 * a subscriber inside a system call), and every thread of a process that
 * owns a subscription.  The system's init has a kernel thread for parent
 * too (the idle task) and is no helper.
 */
static bool pe_task_exempt(struct task_struct *task)
{
	bool helper;

	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return true;
	rcu_read_lock();
	helper = rcu_dereference(task->real_parent)->flags & PF_KTHREAD;
	rcu_read_unlock();
	if (helper && is_global_init(task))
		helper = false;
	return helper || pe_task_is_subscriber(task);
}

/*
 * Exit claims.  Before 6.16 the exit tracepoint does not say which thread
 * decremented signal->live to zero, and every thread that reaches the
 * tracepoint after that point reads zero: each such thread of a group
 * that still has other threads is a candidate.  A candidate raises an
 * event like any other, marked as a claim and linked in a hash bucket by
 * its signal_struct; the decision is taken in its task work, where it may
 * sleep (pe_claim_decide()).  A single-threaded exit, the common one,
 * takes no lock here: no other thread is left to be a candidate.
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

static void pe_claim_add(struct pe_event *ev, struct signal_struct *sig)
{
	struct pe_claim_bucket *b = pe_claim_bucket(sig);
	unsigned long flags;

	ev->claim_sig = sig;
	raw_spin_lock_irqsave(&b->lock, flags);
	hlist_add_head(&ev->claim_node, &b->head);
	raw_spin_unlock_irqrestore(&b->lock, flags);
}

/* Unload: take an orphaned claim event out of its bucket. */
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
 * FUSE flush, a dead NFS server) does not keep the others waiting.
 */
static bool pe_group_may_arrive(void)
{
	struct task_struct *t;
	bool files;

	rcu_read_lock();
	for_each_thread(current, t) {
		if (t == current || READ_ONCE(t->exit_state))
			continue;
		/* Orders its claim (linked before) before our bucket lock. */
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
 * Task work of a claim event: does this thread raise its group's EXIT?
 * First wait until no other thread can still reach the tracepoint, so that
 * every candidate of the group has linked its claim; then the first
 * candidate to get here wins and marks the others lost.  Exactly one wins
 * however many candidates there are, with no table to fill.  The wait is
 * short (the other threads are already in do_exit()) and the task's parent
 * is not notified before all its threads are gone anyway.
 */
bool pe_claim_decide(struct pe_event *ev)
{
	struct pe_claim_bucket *b = pe_claim_bucket(ev->claim_sig);
	unsigned int delay = 1;
	struct pe_event *other;
	bool won;

	while (!READ_ONCE(pe_unloading) && pe_group_may_arrive()) {
		schedule_timeout_idle(delay);
		delay = min(delay * 2, (unsigned int)HZ / 10);
	}
	raw_spin_lock_irq(&b->lock);
	won = !ev->claim_lost;
	if (won) {
		hlist_for_each_entry(other, &b->head, claim_node)
			if (other->claim_sig == ev->claim_sig)
				other->claim_lost = true;
	}
	hlist_del_init(&ev->claim_node);
	raw_spin_unlock_irq(&b->lock);
	return won;
}

/*
 * vfork marks (SPEC 9.2).  A child that a subscriber's thread created
 * with CLONE_VFORK raises no FORK, and no EXIT when it dies without
 * having exec'd: its parent waits for it, often inside posix_spawn() with
 * every signal blocked.  The exit tracepoint cannot tell a vfork child
 * (vfork_done is cleared before it on 6.1), so the new-task probe, which
 * sees the clone flags, marks the child here: a pool event holding a
 * reference on the child's pid.  The exit probe takes the mark away; a
 * delayed work drops marks whose task went without the exit probe seeing
 * it (no EXIT subscriber at that moment).
 */
static DEFINE_RAW_SPINLOCK(pe_vfork_lock);
static LIST_HEAD(pe_vforks);		/* (pe_vfork_lock) marks */
static unsigned int pe_nr_vforks;	/* (pe_vfork_lock), peeked by probes */

static void pe_vfork_gc(struct work_struct *work);
static DECLARE_DELAYED_WORK(pe_vfork_gc_work, pe_vfork_gc);

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
	list_add_tail(&mark->node, &pe_vforks);
	first = !pe_nr_vforks++;
	raw_spin_unlock_irqrestore(&pe_vfork_lock, flags);
	if (first)
		schedule_delayed_work(&pe_vfork_gc_work, HZ);
}

/*
 * Exit probe: is @task a subscriber's vfork child that never exec'd?  The
 * mark goes either way.  The task still holds its own pid, so dropping our
 * reference here never frees it.
 */
static bool pe_vfork_exempt(struct task_struct *task)
{
	struct pid *tgid = task_tgid(task);
	struct pe_event *mark, *found = NULL;
	unsigned long flags;

	raw_spin_lock_irqsave(&pe_vfork_lock, flags);
	list_for_each_entry(mark, &pe_vforks, node) {
		if (mark->sender == tgid) {
			list_del_init(&mark->node);
			pe_nr_vforks--;
			found = mark;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&pe_vfork_lock, flags);
	if (!found)
		return false;
	put_pid(found->sender);
	found->sender = NULL;
	pe_pool_give(found);
	/* PF_FORKNOEXEC is cleared by a successful exec. */
	return task->flags & PF_FORKNOEXEC;
}

#define PE_VFORK_GC_BATCH	32

/* Drop marks whose task is gone, then look again later while any is left. */
static void pe_vfork_gc(struct work_struct *work)
{
	struct pe_event *mark, *tmp;
	LIST_HEAD(dead);
	bool again;

	raw_spin_lock_irq(&pe_vfork_lock);
	list_for_each_entry_safe(mark, tmp, &pe_vforks, node) {
		if (pid_has_task(mark->sender, PIDTYPE_PID))
			continue;
		list_move(&mark->node, &dead);
		pe_nr_vforks--;
	}
	again = pe_nr_vforks;
	raw_spin_unlock_irq(&pe_vfork_lock);
	list_for_each_entry_safe(mark, tmp, &dead, node) {
		list_del_init(&mark->node);
		put_pid(mark->sender);
		mark->sender = NULL;
		pe_pool_give(mark);
	}
	if (again)
		schedule_delayed_work(&pe_vfork_gc_work, HZ);
}

void pe_exit_hook(struct task_struct *task, enum pe_last last)
{
	struct pe_event *ev;
	bool claim = false;

	if (!(READ_ONCE(pe_want) & PROCEVENT_EXIT))
		return;
	if (last == PE_LAST_NO)
		return;
	if (last == PE_LAST_UNKNOWN) {
		if (atomic_read(&task->signal->live))
			return;
		/* A candidate: see pe_claim_decide(). */
		claim = !thread_group_empty(task);
	}
	if (pe_task_exempt(task))
		return;
	if (READ_ONCE(pe_nr_vforks) && pe_vfork_exempt(task))
		return;
	ev = pe_event_get(PROCEVENT_EXIT, task);
	if (!ev)
		return;
	ev->claim = claim;
	/* The work runs in this task, after this probe has returned. */
	if (pe_event_raise(ev) && claim)
		pe_claim_add(ev, task->signal);
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
	if (pe_task_exempt(current))
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
	if (pe_hooks_on & ~want)
		mod_delayed_work(system_wq, &pe_hooks_gc_work,
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
	struct pe_event *mark, *tmp;

	cancel_delayed_work_sync(&pe_vfork_gc_work);
	list_for_each_entry_safe(mark, tmp, &pe_vforks, node) {
		list_del_init(&mark->node);
		put_pid(mark->sender);
		mark->sender = NULL;
		pe_pool_give(mark);
	}
	pe_nr_vforks = 0;
}
