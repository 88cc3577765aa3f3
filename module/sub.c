// SPDX-License-Identifier: GPL-2.0
/*
 * The ordered subscriber list (MINIX do_proceventmask): joining at the end
 * on the first non-zero mask, keeping the place on later changes, staying
 * with mask 0 while leftover events wait for acks, and leaving on close
 * with every waiting event handed on in order.  Also the owners: the
 * process that last set a non-zero mask on a handle owns its subscription
 * (SPEC 9.3), is exempt from events (the owner table the probes read), and
 * ends the subscription when it exits, as a close would.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/magic.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>

#include "internal.h"
#include "compat.h"

/* Protects the list, every handle's (L) fields and every queued event. */
DEFINE_SPINLOCK(pe_lock);
LIST_HEAD(pe_subs);			/* (L) listed handles, in order */
static unsigned int pe_nr_listed;	/* (L) */
unsigned int pe_want;			/* (L) union of listed masks */

/*
 * Tgids of the processes that hold a listed handle, one slot per handle.
 * Written under pe_lock, read by the probes without a lock: they only
 * compare pointers, and a listed handle holds a reference on its pid.
 */
struct pid **pe_owners;
static unsigned int pe_owner_slots;	/* (L) 1 + highest slot in use */

bool pe_task_is_subscriber(struct task_struct *task)
{
	struct pid *tgid = task_tgid(task);
	/* Pairs with the release in pe_sub_join(): the slot is filled. */
	unsigned int i, n = smp_load_acquire(&pe_owner_slots);

	for (i = 0; i < n; i++)
		if (READ_ONCE(pe_owners[i]) == tgid)
			return true;
	return false;
}

static void pe_want_update(void)
{
	struct pe_sub *sub;
	unsigned int want = 0;

	lockdep_assert_held(&pe_lock);
	list_for_each_entry(sub, &pe_subs, node)
		want |= sub->mask;
	WRITE_ONCE(pe_want, want);
}

static int pe_sub_join(struct pe_sub *sub)
{
	struct pid *owner;
	unsigned int i;

	lockdep_assert_held(&pe_lock);
	if (pe_nr_listed >= pe_max_subscribers)
		return -ENOSPC;
	for (i = 0; i < pe_max_subscribers; i++)
		if (!pe_owners[i])
			break;
	if (WARN_ON_ONCE(i == pe_max_subscribers))
		return -ENOSPC;
	/* The process that subscribes owns it and is exempted from events. */
	owner = get_pid(task_tgid(current));
	put_pid(sub->owner);
	sub->owner = owner;
	WRITE_ONCE(pe_owners[i], owner);
	/* Pairs with the acquire in pe_task_is_subscriber(). */
	smp_store_release(&pe_owner_slots, max(pe_owner_slots, i + 1));
	sub->slot = i;
	list_add_tail(&sub->node, &pe_subs);
	sub->listed = true;
	pe_nr_listed++;
	return 0;
}

static void pe_sub_leave(struct pe_sub *sub)
{
	unsigned int n;

	lockdep_assert_held(&pe_lock);
	list_del(&sub->node);
	sub->listed = false;
	WRITE_ONCE(pe_owners[sub->slot], NULL);
	n = pe_owner_slots;
	while (n && !pe_owners[n - 1])
		n--;
	WRITE_ONCE(pe_owner_slots, n);
	pe_nr_listed--;
}

/* A handle unsubscribed with mask 0 leaves once its last event is gone. */
void pe_sub_leave_if_idle(struct pe_sub *sub)
{
	lockdep_assert_held(&pe_lock);
	if (!sub->listed || sub->mask || sub->nr_queued || sub->nr_received)
		return;
	pe_sub_leave(sub);
}

unsigned int pe_sub_position(struct pe_sub *sub)
{
	struct pe_sub *it;
	unsigned int pos = 1;

	lockdep_assert_held(&pe_lock);
	if (!sub->listed)
		return 0;
	list_for_each_entry(it, &pe_subs, node) {
		if (it == sub)
			return pos;
		pos++;
	}
	WARN_ON_ONCE(1);
	return 0;
}

/*
 * A holder of the file that is not the owner sets a non-zero mask on a
 * listed handle: it becomes the owner, and the handle keeps its place.
 */
static void pe_sub_take_over(struct pe_sub *sub)
{
	struct pid *owner = get_pid(task_tgid(current));

	lockdep_assert_held(&pe_lock);
	WRITE_ONCE(pe_owners[sub->slot], owner);
	put_pid(sub->owner);
	sub->owner = owner;
	pe_sub_pass_own_events(sub);
}

static void pe_owner_watch(struct pe_sub *sub);

int pe_sub_set_mask(struct pe_sub *sub, u32 mask)
{
	int err = 0;

	if (mask & ~PE_ALL_TYPES)
		return -EINVAL;

	mutex_lock(&pe_hooks_mutex);
	/*
	 * Probes first: once the handle shows in /proc/procevent, events of
	 * the types it wants are raised.
	 */
	err = pe_hooks_update(READ_ONCE(pe_want) | mask);
	if (err)
		goto out_update;
	spin_lock(&pe_lock);
	if (!sub->listed && mask)
		err = pe_sub_join(sub);
	else if (mask && sub->owner != task_tgid(current))
		pe_sub_take_over(sub);
	if (!err) {
		sub->mask = mask;
		pe_sub_leave_if_idle(sub);
		pe_want_update();
		/* A RECV blocked on this handle returns ENOMSG on mask 0. */
		if (!mask)
			pe_sub_wake(sub);
	}
	spin_unlock(&pe_lock);
	pe_owner_watch(sub);
out_update:
	/* Dropping probes cannot fail. */
	pe_hooks_update(READ_ONCE(pe_want));
	mutex_unlock(&pe_hooks_mutex);
	return err;
}

/*
 * End @sub's subscription (its handle is closed, or its owner exited):
 * leave the list at once and hand every event waiting on it, received
 * ones first, to the next interested handle in order.
 */
static void pe_sub_end(struct pe_sub *sub)
{
	struct pe_event *ev, *tmp;
	struct list_head *next;
	LIST_HEAD(moving);

	lockdep_assert_held(&pe_lock);
	if (!sub->listed)
		return;
	next = sub->node.next;
	list_splice_tail_init(&sub->received, &moving);
	list_splice_tail_init(&sub->queue, &moving);
	sub->nr_received = 0;
	sub->nr_queued = 0;
	pe_sub_leave(sub);
	list_for_each_entry_safe(ev, tmp, &moving, node) {
		list_del_init(&ev->node);
		pe_acks_remove(ev);
		pe_stats[pe_type_idx(ev->type)].moved++;
		pe_event_deliver(ev, next);
	}
}

/* Has the process of @tgid exited (every thread past exit_notify())? */
static bool pe_process_gone(struct pid *tgid)
{
	struct task_struct *leader, *t;
	bool gone = true;

	rcu_read_lock();
	leader = pid_task(tgid, PIDTYPE_TGID);
	if (leader) {
		for_each_thread(leader, t) {
			if (!READ_ONCE(t->exit_state)) {
				gone = false;
				break;
			}
		}
	}
	rcu_read_unlock();
	return gone;
}

/*
 * An owner's pidfd wait queue was woken (it exited, or on newer kernels
 * one of its threads did): end the subscriptions whose owner is gone.
 * After that their handles behave as never subscribed (SPEC 9.3).
 */
static void pe_owners_check(struct work_struct *work)
{
	struct pe_sub *sub, *tmp;

	mutex_lock(&pe_hooks_mutex);
	spin_lock(&pe_lock);
	list_for_each_entry_safe(sub, tmp, &pe_subs, node) {
		if (!pe_process_gone(sub->owner))
			continue;
		/* The handle's readers see ENOMSG from now on. */
		sub->mask = 0;
		pe_sub_end(sub);
		pe_sub_wake(sub);
	}
	pe_want_update();
	spin_unlock(&pe_lock);
	pe_hooks_update(READ_ONCE(pe_want));
	mutex_unlock(&pe_hooks_mutex);
}

static DECLARE_WORK(pe_owners_work, pe_owners_check);

/* Called under the pidfd wait queue's lock, maybe with interrupts off. */
static int pe_owner_woken(struct wait_queue_entry *wait, unsigned int mode,
			  int sync, void *key)
{
	schedule_work(&pe_owners_work);
	return 0;
}

/*
 * Make the handle's wait entry follow its owner: on the pidfd wait queue
 * of the process that owns the listed handle, on none otherwise.  A stale
 * entry only costs a spurious check.
 */
static void pe_owner_watch(struct pe_sub *sub)
{
	struct pid *owner = NULL;

	lockdep_assert_held(&pe_hooks_mutex);
	spin_lock(&pe_lock);
	if (sub->listed)
		owner = get_pid(sub->owner);
	spin_unlock(&pe_lock);
	if (owner == sub->owner_watched) {
		put_pid(owner);
		return;
	}
	if (sub->owner_watched) {
		remove_wait_queue(pe_pid_waitq(sub->owner_watched),
				  &sub->owner_wait);
		put_pid(sub->owner_watched);
	}
	sub->owner_watched = owner;
	if (!owner)
		return;
	init_waitqueue_func_entry(&sub->owner_wait, pe_owner_woken);
	add_wait_queue(pe_pid_waitq(owner), &sub->owner_wait);
	/* It may have exited before the entry was in place. */
	if (pe_process_gone(owner))
		schedule_work(&pe_owners_work);
}

/* Module exit: every handle is closed, so no owner can wake us any more. */
void pe_sub_owners_exit(void)
{
	cancel_work_sync(&pe_owners_work);
}

/* The handle is closed (its last file reference is gone). */
void pe_sub_release(struct pe_sub *sub)
{
	mutex_lock(&pe_hooks_mutex);
	spin_lock(&pe_lock);
	if (sub->listed) {
		pe_sub_end(sub);
		pe_want_update();
	}
	spin_unlock(&pe_lock);
	pe_owner_watch(sub);
	pe_hooks_update(READ_ONCE(pe_want));
	mutex_unlock(&pe_hooks_mutex);

	put_pid(sub->owner);
	put_pid(sub->opener);
	if (sub->scope_cgrp)
		cgroup_put(sub->scope_cgrp);
	if (sub->scope_ns)
		put_pid_ns(sub->scope_ns);
}

/*
 * Is @task in the scope of @sub, a handle with a scope other than
 * PROCEVENT_SCOPE_ALL?  (pe_sub_in_scope() answers the others without a
 * call.)  Checked when it is the handle's turn, so a task moved between
 * cgroups during a hold is judged by where it is then.  O(1) for cgroups
 * (ancestor table), O(pid ns depth) for pid namespaces; never a scan of
 * tasks.
 */
bool __pe_sub_in_scope(struct pe_sub *sub, struct task_struct *task)
{
	bool in = true;

	lockdep_assert_held(&pe_lock);
	switch (sub->scope) {
	case PROCEVENT_SCOPE_CGROUP:
		rcu_read_lock();
		in = cgroup_is_descendant(task_dfl_cgroup(task),
					  sub->scope_cgrp);
		rcu_read_unlock();
		break;
	case PROCEVENT_SCOPE_PIDNS:
		in = task_pid_nr_ns(task, sub->scope_ns) != 0;
		break;
	}
	return in;
}

static int pe_scope_cgroup(int fd, struct cgroup **cgrpp)
{
	struct cgroup *cgrp;
	struct file *file;
	struct inode *inode;
	bool ok;

	file = fget(fd);
	if (!file)
		return -EBADF;
	inode = file_inode(file);
	ok = S_ISDIR(inode->i_mode) &&
	     inode->i_sb->s_magic == CGROUP2_SUPER_MAGIC;
	fput(file);
	if (!ok)
		return -ENOTDIR;
	cgrp = cgroup_get_from_fd(fd);
	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp) == -EBADF ? -ENOTDIR : PTR_ERR(cgrp);
	*cgrpp = cgrp;
	return 0;
}

/*
 * Limit the handle to the events of some tasks.  The handle keeps its
 * place, and events already queued to it stay.
 */
int pe_sub_set_scope(struct pe_sub *sub, const struct procevent_scope *sc)
{
	struct pid_namespace *ns = NULL;
	struct cgroup *cgrp = NULL;
	int err;

	if (sc->reserved)
		return -EINVAL;
	switch (sc->kind) {
	case PROCEVENT_SCOPE_ALL:
		break;
	case PROCEVENT_SCOPE_CGROUP:
		err = pe_scope_cgroup(sc->fd, &cgrp);
		if (err)
			return err;
		break;
	case PROCEVENT_SCOPE_PIDNS:
		if (sc->fd != -1)
			return -EINVAL;
		ns = get_pid_ns(task_active_pid_ns(current));
		break;
	default:
		return -EINVAL;
	}

	spin_lock(&pe_lock);
	swap(sub->scope_cgrp, cgrp);
	swap(sub->scope_ns, ns);
	sub->scope = sc->kind;
	spin_unlock(&pe_lock);

	if (cgrp)
		cgroup_put(cgrp);
	if (ns)
		put_pid_ns(ns);
	return 0;
}
