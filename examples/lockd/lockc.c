// SPDX-License-Identifier: GPL-2.0
/*
 * lockc: requests and replies on a lockd connection, and the cancellation
 * of a blocked acquire that a signal interrupted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "lockc.h"

const char *lockc_default_path(void)
{
	const char *p = getenv(LOCKD_SOCKET_ENV);

	return p && *p ? p : LOCKD_SOCKET_DEFAULT;
}

int lockc_connect(struct lockc *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (!path)
		path = lockc_default_path();
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	c->fd = fd;
	c->seq = 0;
	return 0;
}

void lockc_close(struct lockc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int set_name(struct lockd_msg *m, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= sizeof(m->name))
		return -EINVAL;
	memcpy(m->name, name, len + 1);
	return 0;
}

static void init_req(struct lockc *c, struct lockd_msg *m, uint32_t op)
{
	memset(m, 0, sizeof(*m));
	m->magic = LOCKD_MAGIC;
	m->op = op;
	m->seq = ++c->seq;
}

static int send_msg(struct lockc *c, const struct lockd_msg *m)
{
	ssize_t n;

	do
		n = send(c->fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(*m) ? 0 : -EMSGSIZE;
}

/*
 * Receive one message.  -EINTR is passed up when @intr (the caller has to
 * act on a signal), otherwise the receive is retried.  An unsolicited
 * error from the server becomes its errno; end of stream is -ECONNRESET.
 */
static int recv_msg(struct lockc *c, struct lockd_msg *m, int flags, int intr)
{
	ssize_t n;

	for (;;) {
		n = recv(c->fd, m, sizeof(*m), flags);
		if (n < 0 && errno == EINTR && !intr)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (n != sizeof(*m) || m->magic != LOCKD_MAGIC ||
		    !(m->op & LOCKD_OP_REPLY))
			return -EBADMSG;
		if (m->op == (LOCKD_OP_ERROR | LOCKD_OP_REPLY))
			return m->error > 0 ? -m->error : -EPROTO;
		return 0;
	}
}

/* Wait for the reply to @seq, skipping replies to anything else. */
static int wait_reply(struct lockc *c, uint32_t seq, struct lockd_msg *rep)
{
	int ret;

	do
		ret = recv_msg(c, rep, 0, 0);
	while (ret == 0 && rep->seq != seq);
	return ret;
}

/*
 * The server hung up (EPIPE): it may have said why before, as it does when
 * it is full.  That reason is the better error.
 */
static int hangup_reason(struct lockc *c, int err)
{
	struct lockd_msg m;
	int ret;

	if (err != -EPIPE && err != -ECONNRESET)
		return err;
	ret = recv_msg(c, &m, MSG_DONTWAIT, 0);
	return ret < 0 && ret != -EAGAIN && ret != -ECONNRESET ? ret : err;
}

int lockc_call(struct lockc *c, struct lockd_msg *req, struct lockd_msg *rep)
{
	int ret = send_msg(c, req);

	return ret ? hangup_reason(c, ret) : wait_reply(c, req->seq, rep);
}

/*
 * The acquire was interrupted (a signal, or the timeout): ask the server
 * to cancel it and collect both replies.  The acquire's own reply tells
 * what happened: 0 granted after all, EINTR cancelled.
 */
static int cancel_acquire(struct lockc *c, uint32_t seq, struct lockd_msg *rep)
{
	struct lockd_msg req, m;
	int ret, got = 0, done = 0;

	init_req(c, &req, LOCKD_OP_CANCEL);
	ret = send_msg(c, &req);
	if (ret)
		return ret;
	while (!got || !done) {
		ret = recv_msg(c, &m, 0, 0);
		if (ret)
			return ret;
		if (m.seq == seq) {
			*rep = m;
			got = 1;
		} else if (m.seq == req.seq) {
			done = 1;
		}
	}
	return 0;
}

int lockc_acquire(struct lockc *c, const char *name, unsigned int flags,
		  int timeout_ms, pid_t *holder)
{
	struct lockd_msg req, rep;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int ret, interrupted = 0;

	if (flags & ~LOCKC_NONBLOCK)
		return -EINVAL;
	init_req(c, &req, LOCKD_OP_ACQUIRE);
	req.flags = flags;
	req.tid = (int32_t)syscall(SYS_gettid);
	ret = set_name(&req, name);
	if (!ret)
		ret = hangup_reason(c, send_msg(c, &req));
	if (ret)
		return ret;

	for (;;) {
		if (timeout_ms >= 0) {
			ret = poll(&pfd, 1, timeout_ms);
			if (ret == 0) {
				interrupted = ETIMEDOUT;
				break;
			}
			if (ret < 0 && errno == EINTR) {
				interrupted = EINTR;
				break;
			}
		}
		ret = recv_msg(c, &rep, 0, 1);
		if (ret == -EINTR) {
			interrupted = EINTR;
			break;
		}
		if (ret)
			return ret;
		if (rep.seq == req.seq)
			goto answered;
	}

	/*
	 * A server told of the signal has cancelled the request before the
	 * handler ran: its answer is already here.  Otherwise cancel now.
	 */
	ret = recv_msg(c, &rep, MSG_DONTWAIT, 0);
	if (ret == 0 && rep.seq == req.seq)
		goto answered;
	if (ret && ret != -EAGAIN)
		return ret;
	ret = cancel_acquire(c, req.seq, &rep);
	if (ret)
		return ret;
	if (rep.error == EINTR)
		return -interrupted;

answered:
	if (holder)
		*holder = rep.holder;
	return -rep.error;
}

int lockc_release(struct lockc *c, const char *name)
{
	struct lockd_msg req, rep;
	int ret;

	init_req(c, &req, LOCKD_OP_RELEASE);
	ret = set_name(&req, name);
	if (!ret)
		ret = lockc_call(c, &req, &rep);
	return ret ? ret : -rep.error;
}

int lockc_query(struct lockc *c, const char *name, struct lockc_info *info)
{
	struct lockd_msg req, rep;
	unsigned int i;
	int ret;

	init_req(c, &req, LOCKD_OP_QUERY);
	ret = set_name(&req, name);
	if (!ret)
		ret = lockc_call(c, &req, &rep);
	if (ret)
		return ret;
	if (rep.error)
		return -rep.error;
	info->holder = rep.holder;
	info->nwaiters = rep.nwaiters;
	info->shown = rep.nwaiters < LOCKD_WAITERS_SHOWN ?
		      rep.nwaiters : LOCKD_WAITERS_SHOWN;
	for (i = 0; i < info->shown; i++)
		info->waiters[i] = rep.waiters[i];
	return 0;
}

int lockc_ping(struct lockc *c)
{
	struct lockd_msg req, rep;
	int ret;

	init_req(c, &req, LOCKD_OP_PING);
	ret = lockc_call(c, &req, &rep);
	return ret ? ret : -rep.error;
}
