/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels procevent builds for lives here, so
 * that the other files carry no version checks.
 */
#ifndef PE_COMPAT_H
#define PE_COMPAT_H

#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/task_work.h>

/*
 * sched_process_exit: from 6.16 the tracepoint passes group_dead; before,
 * the probe has to find the last thread of the group itself.  The probe
 * wrapper turns both into pe_exit_hook(task, last) with last one of
 * PE_LAST_*.  Kbuild defines PE_EXIT_TP_GROUP_DEAD when the kernel's
 * tracepoint declaration has the argument.
 */
enum pe_last {
	PE_LAST_NO,
	PE_LAST_YES,
	PE_LAST_UNKNOWN,
};

void pe_exit_hook(struct task_struct *task, enum pe_last last);

#ifdef PE_EXIT_TP_GROUP_DEAD
static inline void pe_compat_probe_exit(void *data, struct task_struct *task,
					bool group_dead)
{
	pe_exit_hook(task, group_dead ? PE_LAST_YES : PE_LAST_NO);
}
#else
static inline void pe_compat_probe_exit(void *data, struct task_struct *task)
{
	pe_exit_hook(task, PE_LAST_UNKNOWN);
}
#endif

/*
 * The last pending task work still runs a few instructions of module text
 * after it dropped its count; a tasks-RCU grace period covers them.
 */
#if defined(CONFIG_PREEMPTION) && !defined(CONFIG_TASKS_RCU)
#error "procevent needs CONFIG_TASKS_RCU on preemptible kernels"
#endif

static inline void pe_sync_module_text(void)
{
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#else
	/* Not preemptible: nothing can stop between the count and return. */
	synchronize_rcu();
#endif
}

/*
 * A process's exit wakes the wait queue that pidfd poll() sleeps on
 * (do_notify_pidfd()); sub.c hangs a callback on it to learn when the
 * owner of a subscription has exited.
 */
#define pe_pid_waitq(pid)	(&(pid)->wait_pidfd)

/*
 * Module unload turns the task work of an event that has not started into
 * kfree() of the event (twork is its first member), so that a task stuck
 * between the probe and its task work runs no module text later.  Calling
 * kfree() through a task_work_func_t pointer would trip kernel CFI's type
 * check: with CFI, unload waits for such tasks instead.
 */
#if defined(CONFIG_CFI_CLANG) || defined(CONFIG_CFI)
#define PE_CAN_ORPHAN	0
#define pe_orphan_func	NULL
#else
#define PE_CAN_ORPHAN	1
#define pe_orphan_func	((task_work_func_t)(void *)kfree)
#endif

/*
 * Did waking a task ask for a switch to it?  From 6.13 (PREEMPT_LAZY, the
 * default model of Debian's 7.x kernels) a fair task's wake-up marks the
 * current one with TIF_NEED_RESCHED_LAZY, which need_resched() does not
 * test: the switch is still wanted, only not at once.
 */
#ifdef TIF_NEED_RESCHED_LAZY
#define pe_resched_wanted()	\
	(need_resched() || test_thread_flag(TIF_NEED_RESCHED_LAZY))
#else
#define pe_resched_wanted()	need_resched()
#endif

#endif /* PE_COMPAT_H */
