// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: the /dev/procevent misc device, its file operations, the
 * module parameters and the module's init and exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "compat.h"

unsigned int pe_max_subscribers = 8;
module_param_named(max_subscribers, pe_max_subscribers, uint, 0444);
MODULE_PARM_DESC(max_subscribers,
		 "Handles that may be subscribed at once (1-64, default 8)");

struct pe_stats pe_stats[PE_NR_TYPES];
unsigned int pe_nr_held;		/* (L) tasks held right now */

static int pe_open(struct inode *inode, struct file *file)
{
	struct pe_sub *sub;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub)
		return -ENOMEM;
	INIT_LIST_HEAD(&sub->node);
	INIT_LIST_HEAD(&sub->queue);
	INIT_LIST_HEAD(&sub->received);
	INIT_HLIST_HEAD(&sub->readers);
	init_waitqueue_head(&sub->wq);
	sub->opener = get_pid(task_tgid(current));
	get_task_comm(sub->opener_comm, current);
	file->private_data = sub;
	return stream_open(inode, file);
}

static int pe_release(struct inode *inode, struct file *file)
{
	struct pe_sub *sub = file->private_data;

	pe_sub_release(sub);
	kfree(sub);
	return 0;
}

/*
 * The records and acks below are written whole before they are read or
 * copied out (pe_event_record() assigns every field of a record), so they
 * are left out of the kernel's zeroing of stack variables
 * (CONFIG_INIT_STACK_ALL_ZERO, Debian's default), which would otherwise
 * clear them on every call.
 */
static long pe_ioctl_recv(struct pe_sub *sub, void __user *uarg,
			  bool nonblock)
{
	struct procevent_event rec __uninitialized;
	int err;

	err = pe_event_recv(sub, &rec, nonblock);
	if (err)
		return err;
	if (copy_to_user(uarg, &rec, sizeof(rec))) {
		pe_event_unrecv(sub, &rec, 1);
		return -EFAULT;
	}
	return 0;
}

static long pe_ioctl_set_timeout(struct pe_sub *sub, u64 __user *uarg)
{
	u64 ns;

	if (get_user(ns, uarg))
		return -EFAULT;
	if (ns > S64_MAX)
		return -EINVAL;
	spin_lock(&pe_lock);
	sub->timeout_ns = ns;
	spin_unlock(&pe_lock);
	return 0;
}

/* PROCEVENT_IOC_GET_INFO, of any size from the first version's on. */
static long pe_ioctl_info(void __user *uarg, size_t usize)
{
	struct procevent_info info = {
		.size = min(usize, sizeof(info)),
		.version = PE_VERSION_CODE,
		.types = PE_ALL_TYPES,
		.ack_flags = PROCEVENT_ACK_KILL,
		.scope_kinds = 1 << PROCEVENT_SCOPE_ALL |
			       1 << PROCEVENT_SCOPE_CGROUP |
			       1 << PROCEVENT_SCOPE_PIDNS,
		.event_flags = PROCEVENT_F_SENDER_UNVERIFIED,
		.max_subscribers = pe_max_subscribers,
		.pool_size = pe_pool_size_now(),
		.last_ioctl = _IOC_NR(PROCEVENT_IOC_ACK_RECV),
		.features = PROCEVENT_FEATURE_ACK_RECV,
	};

	if (copy_to_user(uarg, &info, info.size))
		return -EFAULT;
	if (usize > sizeof(info) &&
	    clear_user(uarg + sizeof(info), usize - sizeof(info)))
		return -EFAULT;
	return 0;
}

static bool pe_is_get_info(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == PROCEVENT_IOC_MAGIC &&
	       _IOC_NR(cmd) == _IOC_NR(PROCEVENT_IOC_GET_INFO) &&
	       _IOC_DIR(cmd) == _IOC_READ &&
	       _IOC_SIZE(cmd) >= PROCEVENT_INFO_SIZE_VER0;
}

/*
 * PROCEVENT_IOC_ACK_RECV, of any size from the first version's on: ack one
 * event, then receive the next.  What it writes back (.acked, the event
 * and anything past our struct) is zeroed before the ack, so that no
 * fault after a successful ack can hide whether it took effect.
 */
static long pe_ioctl_ack_recv(struct pe_sub *sub,
			      struct procevent_ack_recv __user *uarg,
			      size_t usize, bool nonblock)
{
	const size_t out = offsetof(struct procevent_ack_recv, acked);
	struct procevent_ack_recv ar __uninitialized;
	bool acked;
	int err;

	if (copy_from_user(&ar, uarg, out))
		return -EFAULT;
	if (ar.flags & ~PROCEVENT_ACK_RECV_NONBLOCK)
		return -EINVAL;
	if (clear_user((void __user *)uarg + out, usize - out))
		return -EFAULT;
	nonblock |= ar.flags & PROCEVENT_ACK_RECV_NONBLOCK;
	err = pe_event_ack_recv(sub, &ar.ack, &ar.event, nonblock, &acked);
	ar.acked = acked;
	if (err) {
		/* Written a moment ago: only a concurrent unmap fails here. */
		if (acked && put_user(ar.acked, &uarg->acked))
			return -EFAULT;
		return err;
	}
	if (copy_to_user(&uarg->acked, &ar.acked, sizeof(ar) - out)) {
		pe_event_unrecv(sub, &ar.event, 1);
		return -EFAULT;
	}
	return 0;
}

static bool pe_is_ack_recv(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == PROCEVENT_IOC_MAGIC &&
	       _IOC_NR(cmd) == _IOC_NR(PROCEVENT_IOC_ACK_RECV) &&
	       _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE) &&
	       _IOC_SIZE(cmd) >= PROCEVENT_ACK_RECV_SIZE_VER0;
}

static long pe_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pe_sub *sub = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct procevent_scope scope;
	struct procevent_ack ack;
	u32 mask;

	switch (cmd) {
	case PROCEVENT_IOC_SET_MASK:
		if (get_user(mask, (u32 __user *)uarg))
			return -EFAULT;
		return pe_sub_set_mask(sub, mask);
	case PROCEVENT_IOC_RECV:
		return pe_ioctl_recv(sub, uarg, file->f_flags & O_NONBLOCK);
	case PROCEVENT_IOC_ACK:
		if (copy_from_user(&ack, uarg, sizeof(ack)))
			return -EFAULT;
		return pe_event_ack(sub, &ack);
	case PROCEVENT_IOC_SET_TIMEOUT:
		return pe_ioctl_set_timeout(sub, uarg);
	case PROCEVENT_IOC_SET_SCOPE:
		if (copy_from_user(&scope, uarg, sizeof(scope)))
			return -EFAULT;
		return pe_sub_set_scope(sub, &scope);
	default:
		if (pe_is_get_info(cmd))
			return pe_ioctl_info(uarg, _IOC_SIZE(cmd));
		if (pe_is_ack_recv(cmd))
			return pe_ioctl_ack_recv(sub, uarg, _IOC_SIZE(cmd),
						 file->f_flags & O_NONBLOCK);
		return -ENOTTY;
	}
}

/*
 * read(2) and write(2) take this many records or acks per pe_lock section
 * (on the stack: 768 and 256 bytes).
 */
#define PE_READ_BATCH	8
#define PE_WRITE_BATCH	16

/*
 * read(2): as many whole records as fit.  Blocks for the first one only
 * (unless O_NONBLOCK); 0 when the handle is unsubscribed and drained.  A
 * record that cannot be copied out is queued again, with those after it.
 */
static ssize_t pe_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct pe_sub *sub = file->private_data;
	bool nonblock = file->f_flags & O_NONBLOCK;
	struct procevent_event recs[PE_READ_BATCH] __uninitialized;
	const size_t rsize = sizeof(recs[0]);
	size_t done = 0, want, left, copied;
	int n, err = 0;

	if (count < rsize)
		return -EINVAL;
	while (count - done >= rsize) {
		want = min_t(size_t, (count - done) / rsize, PE_READ_BATCH);
		n = pe_event_recv_many(sub, recs, want, nonblock || done);
		if (n < 0) {
			err = n;
			break;
		}
		left = copy_to_user(buf + done, recs, n * rsize);
		copied = (n * rsize - left) / rsize;
		done += copied * rsize;
		if (left) {
			/* Back to the head of the queue, in their order. */
			pe_event_unrecv(sub, &recs[copied], n - copied);
			err = -EFAULT;
			break;
		}
		if (n < want)
			break;	/* the queue is empty */
	}
	if (done)
		return done;
	return err == -ENOMSG ? 0 : err;
}

/*
 * write(2): an array of acks, applied in order up to the first that fails;
 * the bytes done, or that ack's error when it was the first.
 */
static ssize_t pe_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct pe_sub *sub = file->private_data;
	struct procevent_ack acks[PE_WRITE_BATCH] __uninitialized;
	const size_t asize = sizeof(acks[0]);
	size_t done = 0, want, left, whole;
	unsigned int applied;
	int err = 0;

	if (count % asize)
		return -EINVAL;
	while (done < count) {
		want = min_t(size_t, (count - done) / asize, PE_WRITE_BATCH);
		left = copy_from_user(acks, buf + done, want * asize);
		whole = (want * asize - left) / asize;
		applied = pe_event_ack_many(sub, acks, whole, &err);
		done += applied * asize;
		if (err)
			break;
		if (left) {
			err = -EFAULT;
			break;
		}
	}
	return done ? done : err;
}

static __poll_t pe_poll(struct file *file, poll_table *wait)
{
	struct pe_sub *sub = file->private_data;

	poll_wait(file, &sub->wq, wait);
	/* Queued on the wait queue before the test: see pe_sub_wake(). */
	smp_mb();
	return list_empty_careful(&sub->queue) ? 0 : EPOLLIN | EPOLLRDNORM;
}

static const struct file_operations pe_fops = {
	.owner		= THIS_MODULE,
	.open		= pe_open,
	.release	= pe_release,
	.read		= pe_read,
	.write		= pe_write,
	.poll		= pe_poll,
	.unlocked_ioctl	= pe_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= pe_show_fdinfo,
};

static struct miscdevice pe_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "procevent",
	.fops	= &pe_fops,
	.mode	= 0600,
};

static int __init pe_init(void)
{
	int err;

	BUILD_BUG_ON(sizeof(struct procevent_event) !=
		     PROCEVENT_EVENT_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct procevent_ack) != PROCEVENT_ACK_SIZE);
	BUILD_BUG_ON(sizeof(struct procevent_scope) != PROCEVENT_SCOPE_SIZE);
	BUILD_BUG_ON(sizeof(struct procevent_info) != PROCEVENT_INFO_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct procevent_ack_recv) !=
		     PROCEVENT_ACK_RECV_SIZE_VER0);
	/* An orphaned task work is kfree() of the event: see compat.h. */
	BUILD_BUG_ON(offsetof(struct pe_event, twork) != 0);

	/*
	 * Every error path frees the pool, whatever the parameters' setters
	 * did before this ran (SPEC 9.6).
	 */
	if (!pe_max_subscribers ||
	    pe_max_subscribers > PE_MAX_SUBSCRIBERS_LIMIT) {
		pr_err("max_subscribers must be 1 to %d\n",
		       PE_MAX_SUBSCRIBERS_LIMIT);
		err = -EINVAL;
		goto err_free_pool;
	}
	pe_owners = kcalloc(pe_max_subscribers, sizeof(*pe_owners),
			    GFP_KERNEL);
	if (!pe_owners) {
		err = -ENOMEM;
		goto err_free_pool;
	}
	err = pe_hooks_init();
	if (err)
		goto err_free_owners;
	err = pe_pool_init();
	if (err)
		goto err_free_owners;
	err = pe_introspect_init();
	if (err)
		goto err_free_owners;
	err = misc_register(&pe_misc);
	if (err)
		goto err_remove_introspect;
	return 0;

err_remove_introspect:
	pe_introspect_exit();
err_free_owners:
	kfree(pe_owners);
err_free_pool:
	pe_pool_exit();
	return err;
}

/*
 * No handle is open (each holds a module reference), so no subscriber is
 * listed and no task is held; what is left is probes that may still be
 * running and task works that have yet to notice nobody listens.
 */
static void __exit pe_exit(void)
{
	misc_deregister(&pe_misc);
	pe_sub_owners_exit();
	pe_hooks_exit();
	pe_events_wait_idle();
	pe_hooks_free();
	pe_introspect_exit();
	pe_pool_exit();
	kfree(pe_owners);
}

module_init(pe_init);
module_exit(pe_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Synchronous process events for privileged services");
MODULE_VERSION(PE_VERSION);
