// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoint probes (exit, signal, fork, exec): finding the tracepoints, registering a probe only
 * while some subscriber wants its event type, deciding in probe context
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

#include "procevent.h"
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
 * record lives), until every thread of the group has passed exit_notify().
 */
#define PE_NR_CLAIMS	64

struct pe_claim {
	struct signal_struct *sig;
	struct pid *tgid;		/* reference */
};

static DEFINE_RAW_SPINLOCK(pe_claim_lock);
static struct pe_claim pe_claims[PE_NR_CLAIMS];	/* (pe_claim_lock) */
static unsigned int pe_nr_claims;		/* (pe_claim_lock) */

static void pe_claim_gc(struct work_struct *work);
static DECLARE_DELAYED_WORK(pe_claim_gc_work, pe_claim_gc);

/* Called under RCU: may a thread of @tgid still reach the tracepoint? */
static bool pe_group_may_arrive(struct pid *tgid)
{
	struct task_struct *leader = pid_task(tgid, PIDTYPE_TGID);
	struct task_struct *t;

	if (!leader)
		return false;
	for_each_thread(leader, t)
		if (!READ_ONCE(t->exit_state))
			return true;
	return false;
}

static void pe_claim_gc(struct work_struct *work)
{
	struct pid *dead[PE_NR_CLAIMS];
	unsigned int i, n = 0;
	bool again;

	rcu_read_lock();
	raw_spin_lock_irq(&pe_claim_lock);
	for (i = 0; i < PE_NR_CLAIMS; i++) {
		if (!pe_claims[i].sig ||
		    pe_group_may_arrive(pe_claims[i].tgid))
			continue;
		dead[n++] = pe_claims[i].tgid;
		pe_claims[i].sig = NULL;
		pe_claims[i].tgid = NULL;
		pe_nr_claims--;
	}
	again = pe_nr_claims;
	raw_spin_unlock_irq(&pe_claim_lock);
	rcu_read_unlock();

	while (n)
		put_pid(dead[--n]);
	if (again)
		schedule_delayed_work(&pe_claim_gc_work, HZ / 10);
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

	raw_spin_lock_irqsave(&pe_claim_lock, flags);
	for (i = 0; i < PE_NR_CLAIMS; i++) {
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
		pe_nr_claims++;
	}
	/*
	 * A full table (64 processes dying at this very moment with threads
	 * still exiting) claims without a record: a duplicate event is less
	 * harm than an exit that nobody is told about.
	 */
out_unlock:
	raw_spin_unlock_irqrestore(&pe_claim_lock, flags);
	if (others && mine)
		schedule_delayed_work(&pe_claim_gc_work, HZ / 10);
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
	/* New processes only: not threads, not kernel threads. */
	if (!thread_group_leader(child) ||
	    (child->flags & (PF_KTHREAD | PF_IO_WORKER)))
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
	struct pid *sender = NULL;
	kuid_t sender_uid = INVALID_UID;

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
	if (info != SEND_SIG_NOINFO && info != SEND_SIG_PRIV) {
		ev->si_code = info->si_code;
		if (pe_si_from_process(info->si_code)) {
			rcu_read_lock();
			sender = find_pid_ns(info->si_pid,
					     task_active_pid_ns(task));
			sender_uid = make_kuid(current_user_ns(), info->si_uid);
			rcu_read_unlock();
		}
	}
	if (!pe_event_raise(ev))
		return;
	/* The work runs later in this same task: safe to finish it now. */
	ev->sender = get_pid(sender);
	ev->sender_uid = sender_uid;
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

static void pe_hook_set(u32 type, struct tracepoint *tp, void *probe,
			unsigned int want)
{
	int err;

	lockdep_assert_held(&pe_hooks_mutex);
	if (!(want & type) == !(pe_hooks_on & type))
		return;
	if (want & type) {
		err = tracepoint_probe_register(tp, probe, NULL);
		if (err) {
			pr_warn_ratelimited("cannot register probe on %s: %d\n",
					    tp->name, err);
			return;
		}
		pe_hooks_on |= type;
	} else {
		tracepoint_probe_unregister(tp, probe, NULL);
		pe_hooks_on &= ~type;
	}
}

/* Register exactly the probes of the types in @want. */
void pe_hooks_update(unsigned int want)
{
	lockdep_assert_held(&pe_hooks_mutex);
	pe_hook_set(PROCEVENT_EXIT, pe_tp_exit, pe_compat_probe_exit, want);
	pe_hook_set(PROCEVENT_SIGNAL, pe_tp_signal, pe_probe_signal, want);
	pe_hook_set(PROCEVENT_FORK, pe_tp_fork, pe_probe_fork, want);
	pe_hook_set(PROCEVENT_EXEC, pe_tp_exec, pe_probe_exec, want);
}

void pe_hooks_exit(void)
{
	unsigned int i;

	mutex_lock(&pe_hooks_mutex);
	pe_hooks_update(0);
	mutex_unlock(&pe_hooks_mutex);
	/* No probe runs, or will run, after this. */
	tracepoint_synchronize_unregister();

	cancel_delayed_work_sync(&pe_claim_gc_work);
	for (i = 0; i < PE_NR_CLAIMS; i++) {
		put_pid(pe_claims[i].tgid);
		pe_claims[i].sig = NULL;
		pe_claims[i].tgid = NULL;
	}
	pe_nr_claims = 0;
}
