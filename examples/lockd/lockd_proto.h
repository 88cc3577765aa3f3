/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lockd wire protocol: fixed 128-byte messages on a SOCK_SEQPACKET UNIX
 * socket, one request or reply per packet, so a request is never seen in
 * part.  The client picks seq; the reply to a request carries the same
 * seq and the request's op with LOCKD_OP_REPLY set.  A blocking ACQUIRE
 * gets its reply when the lock is granted or the request is cancelled,
 * possibly after replies to later requests on the same connection.
 *
 * A lock belongs to the client process (pid and start time, taken from
 * SO_PEERCRED and /proc), not to the connection: it stays held when the
 * connection is closed, and is released by RELEASE from any connection of
 * that process or when the process exits.
 */
#ifndef LOCKD_PROTO_H
#define LOCKD_PROTO_H

#include <stdint.h>

#define LOCKD_SOCKET_DEFAULT	"/run/lockd.sock"
#define LOCKD_SOCKET_ENV	"LOCKD_SOCKET"

#define LOCKD_MAGIC		0x4c4b4431u	/* "LKD1" */
#define LOCKD_NAME_MAX		64		/* with the NUL */
#define LOCKD_WAITERS_SHOWN	8

enum lockd_op {
	LOCKD_OP_PING		= 1,	/* error 0 */
	LOCKD_OP_ACQUIRE	= 2,	/* name, tid, flags LOCKD_F_NONBLOCK */
	LOCKD_OP_RELEASE	= 3,	/* name */
	LOCKD_OP_CANCEL		= 4,	/* cancel this connection's blocked ACQUIRE */
	LOCKD_OP_QUERY		= 5,	/* name: holder and waiters */
	LOCKD_OP_ERROR		= 15,	/* server to client only: see below */
};

/* Set in the op of every message the server sends. */
#define LOCKD_OP_REPLY		0x80000000u

/* ACQUIRE flags */
#define LOCKD_F_NONBLOCK	0x1u	/* EWOULDBLOCK instead of waiting */

/*
 * Errors (positive errno values in lockd_msg.error):
 *   ACQUIRE  0 granted; EWOULDBLOCK held by .holder (NONBLOCK); EDEADLK the
 *            caller's process holds it already; EINTR cancelled (CANCEL,
 *            or the waiting thread caught a signal); EINPROGRESS this
 *            connection already waits in an ACQUIRE; ENOSPC too many
 *            locks; EINVAL bad name or flags
 *   RELEASE  0; EPERM the caller's process does not hold it
 *   CANCEL   0 a blocked ACQUIRE was cancelled (its EINTR reply comes
 *            first); ESRCH nothing to cancel
 *   QUERY    0; holder 0 when free
 *   any      EOPNOTSUPP unknown op
 * Unsolicited LOCKD_OP_ERROR | LOCKD_OP_REPLY, after which the server
 * closes the connection:
 *            EBADMSG a packet that is not one lockd_msg; EPROTO bad magic;
 *            EUSERS too many connections; ESRCH the peer process is gone
 */

struct lockd_msg {
	uint32_t magic;		/* LOCKD_MAGIC */
	uint32_t op;		/* enum lockd_op, | LOCKD_OP_REPLY in replies */
	uint32_t seq;		/* echoed in the reply */
	uint32_t flags;		/* ACQUIRE: LOCKD_F_*; otherwise 0 */
	int32_t tid;		/* ACQUIRE: the thread that waits */
	int32_t error;		/* reply: 0 or a positive errno */
	int32_t holder;		/* reply: pid of the holder, 0 when free */
	uint32_t nwaiters;	/* QUERY reply: requests waiting for the lock */
	int32_t waiters[LOCKD_WAITERS_SHOWN];	/* QUERY reply: their tids, first in line first */
	char name[LOCKD_NAME_MAX];	/* NUL-terminated, 1-63 printable bytes */
};

_Static_assert(sizeof(struct lockd_msg) == 128, "lockd_msg is 128 bytes");

#endif /* LOCKD_PROTO_H */
