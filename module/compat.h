/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels procevent builds for lives here, so
 * that the other files carry no version checks.
 */
#ifndef PE_COMPAT_H
#define PE_COMPAT_H

#include <linux/rcupdate.h>
#include <linux/sched.h>

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

#endif /* PE_COMPAT_H */
