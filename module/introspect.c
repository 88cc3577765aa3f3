// SPDX-License-Identifier: GPL-2.0
/*
 * Introspection: /proc/procevent (held tasks, counters per type and the
 * subscriber list in order) and each handle's /proc/<pid>/fdinfo lines.
 * The layout is documented in README.md and only grows.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "internal.h"

static const char * const pe_type_names[PE_NR_TYPES] = {
	"exit", "signal", "fork", "exec",
};

static const char * const pe_scope_names[] = {
	[PROCEVENT_SCOPE_ALL] = "all",
	[PROCEVENT_SCOPE_CGROUP] = "cgroup",
	[PROCEVENT_SCOPE_PIDNS] = "pidns",
};

/* Octal-escaped in names, so that every line splits on spaces and '='. */
#define PE_ESCAPE	" \t\n\\="

/* At most this many held-task lines; the rest are counted. */
#define PE_HELD_LINES	1000

static void pe_show_held(struct seq_file *m, struct pid_namespace *ns,
			 struct pe_event *ev, unsigned int pos, u64 now)
{
	struct pe_sub *sub = ev->sub;

	lockdep_assert_held(&pe_lock);
	/* pe_lock keeps the held task in its hold: it is alive. */
	seq_printf(m, "held-task: pid=%d tgid=%d comm=",
		   pid_nr_ns(task_pid(ev->task), ns),
		   pid_nr_ns(task_tgid(ev->task), ns));
	seq_escape(m, ev->comm, PE_ESCAPE);
	seq_printf(m, " type=%s id=%llu held_ns=%llu pos=%u sub_pid=%d state=%s\n",
		   pe_type_names[pe_type_idx(ev->type)], ev->id,
		   now - ev->time_ns, pos, pid_nr_ns(sub->owner, ns),
		   ev->state == PE_EV_RECEIVED ? "received" : "queued");
}

static int pe_proc_show(struct seq_file *m, void *v)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	unsigned int i, pos = 1, lines = 0, more = 0;
	struct pe_event *ev;
	struct pe_sub *sub;
	u64 now;

	spin_lock(&pe_lock);
	seq_printf(m, "held: %u\n", pe_nr_held);
	for (i = 0; i < PE_NR_TYPES; i++)
		seq_printf(m,
			   "events: type=%s raised=%lld delivered=%llu acked=%llu withdrawn=%llu timedout=%llu lost=%lld moved=%llu released=%llu\n",
			   pe_type_names[i],
			   atomic64_read(&pe_stats[i].raised),
			   pe_stats[i].delivered, pe_stats[i].acked,
			   pe_stats[i].withdrawn, pe_stats[i].timedout,
			   atomic64_read(&pe_stats[i].lost),
			   pe_stats[i].moved, pe_stats[i].released);
	seq_printf(m, "pool: size=%u free=%u misses=%lld\n",
		   pe_pool_size_now(), pe_pool_free_now(),
		   atomic64_read(&pe_pool_misses));
	list_for_each_entry(sub, &pe_subs, node) {
		seq_printf(m, "subscriber: pos=%u pid=%d comm=", pos++,
			   pid_nr_ns(sub->opener, ns));
		seq_escape(m, sub->opener_comm, PE_ESCAPE);
		seq_printf(m,
			   " mask=0x%x waiting=%u received=%u acked=%llu timeouts=%llu timeout_ns=%llu scope=%s owner=%d\n",
			   sub->mask, sub->nr_queued, sub->nr_received,
			   sub->nr_acked, sub->nr_timeouts, sub->timeout_ns,
			   pe_scope_names[sub->scope],
			   pid_nr_ns(sub->owner, ns));
	}
	/* Every queued or received event is a held task. */
	now = ktime_get_ns();
	pos = 1;
	list_for_each_entry(sub, &pe_subs, node) {
		list_for_each_entry(ev, &sub->received, node) {
			if (lines++ < PE_HELD_LINES)
				pe_show_held(m, ns, ev, pos, now);
			else
				more++;
		}
		list_for_each_entry(ev, &sub->queue, node) {
			if (lines++ < PE_HELD_LINES)
				pe_show_held(m, ns, ev, pos, now);
			else
				more++;
		}
		pos++;
	}
	if (more)
		seq_printf(m, "held-more: %u\n", more);
	spin_unlock(&pe_lock);
	return 0;
}

void pe_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct pe_sub *sub = file->private_data;

	spin_lock(&pe_lock);
	seq_printf(m, "procevent-mask:\t0x%x\n", sub->mask);
	seq_printf(m, "procevent-position:\t%u\n", pe_sub_position(sub));
	seq_printf(m, "procevent-queued:\t%u\n", sub->nr_queued);
	seq_printf(m, "procevent-received:\t%u\n", sub->nr_received);
	seq_printf(m, "procevent-acked:\t%llu\n", sub->nr_acked);
	seq_printf(m, "procevent-timeouts:\t%llu\n", sub->nr_timeouts);
	seq_printf(m, "procevent-timeout-ns:\t%llu\n", sub->timeout_ns);
	seq_printf(m, "procevent-scope:\t%s\n", pe_scope_names[sub->scope]);
	seq_printf(m, "procevent-owner:\t%d\n",
		   sub->listed ? pid_nr_ns(sub->owner,
					   task_active_pid_ns(current)) : 0);
	spin_unlock(&pe_lock);
}

int pe_introspect_init(void)
{
	if (!proc_create_single("procevent", 0400, NULL, pe_proc_show))
		return -ENOMEM;
	return 0;
}

void pe_introspect_exit(void)
{
	remove_proc_entry("procevent", NULL);
}
