// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoint probes (exit, signal, fork, exec): finding the tracepoints,
 * registering a probe while some subscriber wants its event type (and for
 * a second after the last one stops), deciding in probe context
 * whether a task raises an event, and finding the last thread of an
 * exiting process.
 *
 * Probes run with preemption disabled (the signal probe also under the
 * siglock with interrupts off): they take only raw spinlocks, never
 * allocate and never sleep, on PREEMPT_RT too.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/cred.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/binfmts.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "compat.h"

/* Serialises probe (un)registration; outside pe_lock. */
DEFINE_MUTEX(pe_hooks_mutex);
static unsigned int pe_hooks_on;	/* (pe_hooks_mutex) registered types */

static struct tracepoint *pe_tp_exit;
static struct tracepoint *pe_tp_signal;
static struct tracepoint *pe_tp_fork;
static struct tracepoint *pe_tp_exec;

/*
 * Exit claims.  Before 6.16 the exit tracepoint does not say which thread
 * decremented signal->live to zero, and every thread that reaches the
 * tracepoint after that point reads zero.  The first such thread claims
 * the process.  When it is provably alone (every other thread has passed
 * exit_notify(), so none can still reach the tracepoint) no record is
 * needed; otherwise the claim is recorded here, keyed by signal_struct and
 * the tgid pid (a reference, so neither address can be reused while the
 * record lives), until every other thread of the group has passed
 * exit_notify().  The claimer itself is left out of that test: it may be
 * held for long, and it cannot reach the tracepoint twice.
 */
#define PE_NR_CLAIMS	256
#define PE_CLAIM_GC_DELAY	(HZ / 50)

struct pe_claim {
	struct signal_struct *sig;
	struct pid *tgid;		/* reference */
	struct task_struct *claimer;	/* compared only, never followed */
};

static DEFINE_RAW_SPINLOCK(pe_claim_lock);
static struct pe_claim pe_claims[PE_NR_CLAIMS];	/* (pe_claim_lock) */
static unsigned int pe_nr_claims;		/* (pe_claim_lock) */

static void pe_claim_gc(struct work_struct *work);
static DECLARE_DELAYED_WORK(pe_claim_gc_work, pe_claim_gc);

/* May a thread of the claim's group other than the claimer still arrive? */
static bool pe_group_may_arrive(struct pe_claim *c)
{
	struct task_struct *leader, *t;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "needs rcu_read_lock");
	lockdep_assert_held(&pe_claim_lock);
	leader = pid_task(c->tgid, PIDTYPE_TGID);
	if (!leader)
		return false;
	for_each_thread(leader, t)
		if (t != c->claimer && !READ_ONCE(t->exit_state))
			return true;
	return false;
}

#define PE_CLAIM_GC_BATCH	32

static void pe_claim_gc(struct work_struct *work)
{
	struct pid *dead[PE_CLAIM_GC_BATCH];
	unsigned int i = 0, n;
	bool again;

	do {
		n = 0;
		rcu_read_lock();
		raw_spin_lock_irq(&pe_claim_lock);
		for (; i < PE_NR_CLAIMS && n < PE_CLAIM_GC_BATCH; i++) {
			if (!pe_claims[i].sig ||
			    pe_group_may_arrive(&pe_claims[i]))
				continue;
			dead[n++] = pe_claims[i].tgid;
			memset(&pe_claims[i], 0, sizeof(pe_claims[i]));
			WRITE_ONCE(pe_nr_claims, pe_nr_claims - 1);
		}
		again = pe_nr_claims;
		raw_spin_unlock_irq(&pe_claim_lock);
		rcu_read_unlock();
		/* put_pid() may free: not under a raw lock on PREEMPT_RT. */
		while (n)
			put_pid(dead[--n]);
	} while (i < PE_NR_CLAIMS);

	if (again)
		schedule_delayed_work(&pe_claim_gc_work, PE_CLAIM_GC_DELAY);
}

/* Probe context, signal->live is zero: is @task the one to raise EXIT? */
static bool pe_exit_claim(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;
	struct pid *tgid = task_tgid(task);
	struct task_struct *t;
	bool others = false, mine = true;
	unsigned long flags;
	int i, free = -1;

	/*
	 * Fast path, the common single-threaded exit: no other thread can
	 * arrive, and no record can name this group.
	 */
	if (thread_group_empty(task)) {
		/*
		 * A record left by a thread that has since been reaped was
		 * counted before that thread left the list: read in the
		 * same order.
		 */
		smp_rmb();
		if (!READ_ONCE(pe_nr_claims))
			return true;
	}

	raw_spin_lock_irqsave(&pe_claim_lock, flags);
	for (i = 0; i < PE_NR_CLAIMS; i++) {
		if (!pe_nr_claims) {
			free = 0;
			break;
		}
		if (pe_claims[i].sig == sig && pe_claims[i].tgid == tgid) {
			mine = false;
			goto out_unlock;
		}
		if (!pe_claims[i].sig && free < 0)
			free = i;
	}
	rcu_read_lock();
	for_each_thread(task, t) {
		if (t != task && !READ_ONCE(t->exit_state)) {
			others = true;
			break;
		}
	}
	rcu_read_unlock();
	if (others && free >= 0) {
		pe_claims[free].sig = sig;
		pe_claims[free].tgid = get_pid(tgid);
		pe_claims[free].claimer = task;
		WRITE_ONCE(pe_nr_claims, pe_nr_claims + 1);
	}
	/*
	 * A full table (256 multi-threaded processes whose threads are all
	 * inside do_exit() at this very moment) claims without a record: a
	 * duplicate event is less harm than an exit nobody is told about.
	 */
out_unlock:
	raw_spin_unlock_irqrestore(&pe_claim_lock, flags);
	if (others && mine)
		schedule_delayed_work(&pe_claim_gc_work, PE_CLAIM_GC_DELAY);
	return mine;
}

void pe_exit_hook(struct task_struct *task, enum pe_last last)
{
	struct pe_event *ev;

	if (!(READ_ONCE(pe_want) & PROCEVENT_EXIT))
		return;
	if (task->flags & PF_KTHREAD)
		return;
	if (last == PE_LAST_NO)
		return;
	if (last == PE_LAST_UNKNOWN &&
	    (atomic_read(&task->signal->live) || !pe_exit_claim(task)))
		return;
	if (pe_task_is_subscriber(task))
		return;
	ev = pe_event_get(PROCEVENT_EXIT, task);
	if (ev)
		pe_event_raise(ev);
}

static void pe_probe_fork(void *data, struct task_struct *parent,
			  struct task_struct *child)
{
	struct pe_event *ev;

	if (!(READ_ONCE(pe_want) & PROCEVENT_FORK))
		return;
	/*
	 * New processes only: not threads, not kernel threads, and not the
	 * user-mode helpers the kernel starts (modprobe, hotplug, core
	 * pipes), whose parent is a kernel thread: a subscriber whose system
	 * call needs one would wait for itself.
	 */
	if (!thread_group_leader(child) ||
	    (child->flags & (PF_KTHREAD | PF_IO_WORKER)) ||
	    (parent->flags & PF_KTHREAD))
		return;
	/*
	 * A subscriber's vfork child (posix_spawn, system()) would hold the
	 * subscriber itself, blocked in vfork until the child execs.
	 * vfork_done is set only after this tracepoint; a child sharing the
	 * parent's mm without being a thread is the vfork shape.
	 */
	if (child->mm && child->mm == parent->mm &&
	    pe_task_is_subscriber(parent))
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
	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return;
	/* A user-mode helper's exec: see pe_probe_fork(). */
	if (rcu_access_pointer(task->real_parent)->flags & PF_KTHREAD)
		return;
	if (pe_task_is_subscriber(task))
		return;
	ev = pe_event_get(PROCEVENT_EXEC, task);
	if (ev)
		pe_event_raise(ev);
}

static bool pe_si_from_process(int si_code)
{
	switch (si_code) {
	case SI_USER:
	case SI_QUEUE:
	case SI_TKILL:
	case SI_MESGQ:
		return true;
	}
	return false;
}

static void pe_probe_signal(void *data, int signo, struct kernel_siginfo *info,
			    struct k_sigaction *ka)
{
	struct task_struct *task = current;
	struct pe_event *ev;
	struct pid *sender;

	if (!(READ_ONCE(pe_want) & PROCEVENT_SIGNAL))
		return;
	if (!ka || ka->sa.sa_handler == SIG_DFL ||
	    ka->sa.sa_handler == SIG_IGN)
		return;
	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return;
	if (pe_task_is_subscriber(task))
		return;
	ev = pe_event_get(PROCEVENT_SIGNAL, task);
	if (!ev)
		return;
	ev->signo = signo;
	if (info != SEND_SIG_NOINFO && info != SEND_SIG_PRIV)
		ev->si_code = info->si_code;
	if (!pe_event_raise(ev))
		return;
	/* The work runs later in this same task: safe to finish it now. */
	if (ev->si_code != SI_KERNEL && pe_si_from_process(ev->si_code)) {
		rcu_read_lock();
		sender = find_pid_ns(info->si_pid, task_active_pid_ns(task));
		ev->sender = get_pid(sender);
		rcu_read_unlock();
		ev->sender_uid = make_kuid(current_user_ns(), info->si_uid);
	}
}

static void pe_find_tracepoints(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_exit"))
		pe_tp_exit = tp;
	else if (!strcmp(tp->name, "signal_deliver"))
		pe_tp_signal = tp;
	else if (!strcmp(tp->name, "sched_process_fork"))
		pe_tp_fork = tp;
	else if (!strcmp(tp->name, "sched_process_exec"))
		pe_tp_exec = tp;
}

int pe_hooks_init(void)
{
	for_each_kernel_tracepoint(pe_find_tracepoints, NULL);
	if (!pe_tp_exit || !pe_tp_signal || !pe_tp_fork || !pe_tp_exec) {
		pr_err("a sched_process or signal_deliver tracepoint is missing\n");
		return -ENOENT;
	}
	return 0;
}

static int pe_hook_set(u32 type, struct tracepoint *tp, void *probe,
		       unsigned int want)
{
	int err;

	lockdep_assert_held(&pe_hooks_mutex);
	if (!(want & type) == !(pe_hooks_on & type))
		return 0;
	if (want & type) {
		err = tracepoint_probe_register(tp, probe, NULL);
		if (err)
			return err;
		pe_hooks_on |= type;
	} else {
		tracepoint_probe_unregister(tp, probe, NULL);
		pe_hooks_on &= ~type;
	}
	return 0;
}

/*
 * Register exactly the probes of the types in @want.  On failure (no
 * memory for the probe array) the probes already registered stay.
 */
static int pe_hooks_set(unsigned int want)
{
	int err;

	lockdep_assert_held(&pe_hooks_mutex);
	err = pe_hook_set(PROCEVENT_EXIT, pe_tp_exit, pe_compat_probe_exit,
			  want);
	err = err ?: pe_hook_set(PROCEVENT_SIGNAL, pe_tp_signal,
				 pe_probe_signal, want);
	err = err ?: pe_hook_set(PROCEVENT_FORK, pe_tp_fork, pe_probe_fork,
				 want);
	err = err ?: pe_hook_set(PROCEVENT_EXEC, pe_tp_exec, pe_probe_exec,
				 want);
	return err;
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

void pe_hooks_exit(void)
{
	unsigned int i;

	/* No handle is open: nothing queues the work again. */
	cancel_delayed_work_sync(&pe_hooks_gc_work);
	mutex_lock(&pe_hooks_mutex);
	pe_hooks_set(0);
	mutex_unlock(&pe_hooks_mutex);
	/* No probe runs, or will run, after this. */
	tracepoint_synchronize_unregister();

	cancel_delayed_work_sync(&pe_claim_gc_work);
	for (i = 0; i < PE_NR_CLAIMS; i++)
		put_pid(pe_claims[i].tgid);
	memset(pe_claims, 0, sizeof(pe_claims));
	pe_nr_claims = 0;
}
