// SPDX-License-Identifier: GPL-2.0
/*
 * How lockd learns that a client process died (and, with procevent, that
 * one of its threads caught a signal):
 *
 *   procevent  synchronous.  The dying process is held in the kernel
 *              until lockd acks its EXIT event, which it does only after
 *              its locks went to the next waiters; its parent's wait()
 *              returns after that.  A SIGNAL event for a thread that waits
 *              in an ACQUIRE cancels the request before the handler runs.
 *   cn_proc    the netlink proc connector: one multicast message per exit,
 *              sent after the parent was notified; may be dropped under
 *              load (ENOBUFS), then every client is checked in /proc.
 *   pidfd      a pidfd per client process, readable once it exited, at the
 *              moment its parent is woken.
 *
 * The last two are what a service can do on Linux without procevent: they
 * tell the server at the same time as, or after, everyone else.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "procevent.h"
#include "lockd.h"

static int notify_fd = -1;
static uint64_t ns_per_tick;
static bool batch_accepted;

static const char *const names[] = {
	[NOTIFY_PROCEVENT] = "procevent",
	[NOTIFY_CN_PROC] = "cn_proc",
	[NOTIFY_PIDFD] = "pidfd",
};

const char *notify_name(enum lockd_notify n)
{
	return names[n];
}

int notify_parse(const char *s, enum lockd_notify *n)
{
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*n = i;
			return 0;
		}
	return -1;
}

/* --- procevent ------------------------------------------------------------- */

static int on_event(int fd, const struct procevent_event *ev, void *arg)
{
	uint64_t start = ev->start_time_ns / ns_per_tick;
	struct proc *p;

	(void)fd;
	(void)arg;
	/*
	 * A client connects before it dies, so its connection is queued
	 * before its event was raised.  Accept everything queued once per
	 * batch, before the first event of it is handled: no connection of
	 * a process whose death is being acked stays unknown.
	 */
	if (!batch_accepted) {
		accept_pending();
		batch_accepted = true;
	}
	p = proc_find(ev->tgid, start);
	if (!p)
		return PROCEVENT_ACK;
	if (ev->type == PROCEVENT_EXIT)
		proc_died(p, "procevent");
	else if (ev->type == PROCEVENT_SIGNAL)
		proc_signalled(p, ev->pid, ev->signo);
	/* Acked by procevent_dispatch() after this returns: all is handed over. */
	return PROCEVENT_ACK;
}

static int procevent_start(void)
{
	int fd = procevent_open(PROCEVENT_EXIT | PROCEVENT_SIGNAL,
				O_NONBLOCK | O_CLOEXEC), ret;

	if (fd < 0) {
		log_msg(0, "%s: %s%s", PROCEVENT_DEVICE, strerror(-fd),
			fd == -ENOENT ? " (is the procevent module loaded?)" : "");
		return -1;
	}
	/*
	 * A stopped or wedged server must not hold every process of the
	 * machine forever: past this deadline the kernel lets them go.
	 */
	ret = procevent_set_timeout(fd, opts.hold_timeout_ns);
	if (ret) {
		log_msg(0, "procevent timeout: %s", strerror(-ret));
		close(fd);
		return -1;
	}
	notify_fd = fd;
	return 0;
}

static void procevent_ready(void)
{
	int n;

	batch_accepted = false;
	n = procevent_dispatch(notify_fd, on_event, NULL, 64);
	if (n < 0 && n != -EAGAIN)
		log_msg(0, "procevent: %s", strerror(-n));
}

/* --- cn_proc -------------------------------------------------------------- */

static int cn_proc_start(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = CN_IDX_PROC,
		.nl_pid = 0,
	};
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req;
	int fd, size = 4 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_CONNECTOR);
	if (fd < 0) {
		log_msg(0, "netlink connector: %s", strerror(errno));
		return -1;
	}
	/* Room for bursts; as root the limit of rmem_max does not apply. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		log_msg(0, "netlink bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = sizeof(req);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.nl.nlmsg_pid = getpid();
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = sizeof(req.op);
	req.op = PROC_CN_MCAST_LISTEN;
	if (send(fd, &req, sizeof(req), 0) != sizeof(req)) {
		log_msg(0, "proc connector listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	notify_fd = fd;
	return 0;
}

/* Gone, or a zombie, or its pid now names another process. */
static void check_alive(struct proc *p)
{
	uint64_t start;
	char state;

	if (proc_read_start(p->pid, &start, &state) || start != p->start ||
	    state == 'Z' || state == 'X')
		proc_died(p, "cn_proc");
}

static void cn_proc_ready(void)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nl;
	ssize_t n;

	for (;;) {
		n = recv(notify_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* Exits were dropped: look at every client. */
			log_msg(1, "proc connector overrun, checking all clients");
			proc_for_each(check_alive);
			continue;
		}
		if (n <= 0)
			return;
		for (nl = (struct nlmsghdr *)buf; NLMSG_OK(nl, (size_t)n);
		     nl = NLMSG_NEXT(nl, n)) {
			struct cn_msg *cn = NLMSG_DATA(nl);
			struct proc_event *ev = (struct proc_event *)cn->data;
			struct proc *p;
			pid_t tgid;

			if (nl->nlmsg_type != NLMSG_DONE ||
			    cn->id.idx != CN_IDX_PROC ||
			    ev->what != PROC_EVENT_EXIT)
				continue;
			/* A thread's exit: only the process's matters. */
			tgid = ev->event_data.exit.process_tgid;
			if (ev->event_data.exit.process_pid != tgid)
				continue;
			while ((p = proc_first(tgid))) {
				check_alive(p);
				/* Still alive: a new process with the old pid. */
				if (!p->dead)
					break;
			}
		}
	}
}

/* --- pidfd ------------------------------------------------------------------ */

static int pidfd_track(struct proc *p)
{
	uint64_t start;
	int fd, ret;

	fd = syscall(SYS_pidfd_open, p->pid, 0);
	if (fd < 0)
		return -errno;
	/*
	 * The pid may have been reused between the connect and pidfd_open();
	 * then this is another process, and the client is gone.
	 */
	if (proc_read_start(p->pid, &start, NULL) || start != p->start) {
		close(fd);
		return -ESRCH;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ret = epoll_add(fd, EPOLLIN, p);
	if (ret) {
		close(fd);
		return ret;
	}
	p->pidfd = fd;
	return 0;
}

/* --- dispatch --------------------------------------------------------------- */

int notify_start(int *fd_out)
{
	int ret = 0;

	ns_per_tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	switch (opts.notify) {
	case NOTIFY_PROCEVENT:
		ret = procevent_start();
		break;
	case NOTIFY_CN_PROC:
		ret = cn_proc_start();
		break;
	case NOTIFY_PIDFD:
		break;
	}
	*fd_out = notify_fd;
	return ret;
}

void notify_ready(void)
{
	if (opts.notify == NOTIFY_PROCEVENT)
		procevent_ready();
	else if (opts.notify == NOTIFY_CN_PROC)
		cn_proc_ready();
}

int notify_track(struct proc *p)
{
	return opts.notify == NOTIFY_PIDFD ? pidfd_track(p) : 0;
}

void notify_untrack(struct proc *p)
{
	if (p->pidfd >= 0) {
		close(p->pidfd);	/* leaves the epoll set with it */
		p->pidfd = -1;
	}
}

void notify_stop(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
