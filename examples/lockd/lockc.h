/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lockc: the lockd client library.
 *
 * Every call returns 0 (or a count) or a negative errno value and prints
 * nothing.  The calls allocate nothing and use only async-signal-safe
 * system calls, so a signal handler may use a connection of its own.
 * A connection serves one thread at a time.
 */
#ifndef LOCKC_H
#define LOCKC_H

#include <sys/types.h>
#include "lockd_proto.h"

struct lockc {
	int fd;
	uint32_t seq;
};

/* Connect to @path; NULL means $LOCKD_SOCKET, else LOCKD_SOCKET_DEFAULT. */
int lockc_connect(struct lockc *c, const char *path);
void lockc_close(struct lockc *c);
const char *lockc_default_path(void);

/* lockc_acquire() flags */
#define LOCKC_NONBLOCK	LOCKD_F_NONBLOCK

/*
 * Take the exclusive lock @name for the calling process.  Waits in the
 * server unless LOCKC_NONBLOCK; @timeout_ms < 0 waits as long as it takes.
 * Returns 0 (held), or:
 *   -EWOULDBLOCK  LOCKC_NONBLOCK and held by another process (*@holder)
 *   -ETIMEDOUT    not granted within @timeout_ms
 *   -EINTR        a signal handler ran while waiting (the request is
 *                 cancelled; with procevent notification the server
 *                 cancelled it before the handler ran)
 *   -EDEADLK      this process holds it already
 *   -EINVAL, -ENOSPC, -ECONNRESET, ... as the server or socket says
 * A grant that crosses a cancellation wins: 0 is returned and the lock is
 * held.  @holder may be NULL.
 */
int lockc_acquire(struct lockc *c, const char *name, unsigned int flags,
		  int timeout_ms, pid_t *holder);

/* Release @name; -EPERM when this process does not hold it. */
int lockc_release(struct lockc *c, const char *name);

struct lockc_info {
	pid_t holder;			/* 0: free */
	unsigned int nwaiters;		/* requests waiting */
	unsigned int shown;		/* entries in waiters[] */
	pid_t waiters[LOCKD_WAITERS_SHOWN];	/* tids, first in line first */
};

/* Holder and waiters of @name. */
int lockc_query(struct lockc *c, const char *name, struct lockc_info *info);

/* Round trip to the server. */
int lockc_ping(struct lockc *c);

/* Low level, for tests: send one request, wait for the reply with its seq. */
int lockc_call(struct lockc *c, struct lockd_msg *req, struct lockd_msg *rep);

#endif /* LOCKC_H */
