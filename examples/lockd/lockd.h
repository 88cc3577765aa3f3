/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lockd internals: the server's tables and the interface between the
 * request side (lockd.c) and the sources of death and signal news
 * (notify.c).
 *
 * Everything runs in one thread, in one epoll loop, and never blocks on a
 * client.  Objects that an event in the current epoll batch may still
 * point to are not freed at once: a closed connection or a dead process
 * is marked and put on a list that is freed after the batch.
 */
#ifndef LOCKD_H
#define LOCKD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lockd_proto.h"

enum lockd_notify {
	NOTIFY_PROCEVENT,	/* synchronous: EXIT and SIGNAL events */
	NOTIFY_CN_PROC,		/* netlink proc connector, asynchronous */
	NOTIFY_PIDFD,		/* one pidfd per client process, asynchronous */
};

/* What an epoll_event's data.ptr points to: the first member of each. */
enum src_kind {
	SRC_LISTEN,
	SRC_SIGNAL,
	SRC_NOTIFY,
	SRC_CONN,
	SRC_PIDFD,
};

struct lock;
struct conn;

/* A client process: (pid, start) names it across pid reuse. */
struct proc {
	enum src_kind kind;		/* SRC_PIDFD, for the pidfd's epoll entry */
	pid_t pid;
	uint64_t start;			/* start time, clock ticks since boot */
	int pidfd;			/* NOTIFY_PIDFD, else -1 */
	bool dead;
	struct conn *conns;		/* its open connections */
	struct lock *held;		/* locks it holds */
	unsigned int nheld;
	struct proc *hnext;		/* hash chain */
	struct proc *fnext;		/* free list, once dead */
};

/* A connection; a blocked ACQUIRE waits on it (at most one at a time). */
#define CONN_OUTQ	8

struct conn {
	enum src_kind kind;		/* SRC_CONN */
	int fd;
	bool closed;
	bool paused;			/* EPOLLIN off: too many unsent replies */
	bool want_out;			/* EPOLLOUT on */
	struct proc *proc;
	struct conn *pnext;		/* proc->conns */
	/* the blocked ACQUIRE, when wait_lock != NULL */
	struct lock *wait_lock;
	uint32_t wait_seq;
	pid_t wait_tid;
	struct conn *wnext;		/* wait_lock's queue */
	/* replies not yet taken by the socket, oldest at out_head */
	struct lockd_msg out[CONN_OUTQ];
	unsigned int out_head, out_len;
	struct conn *fnext;		/* free list, once closed */
};

struct lock {
	char name[LOCKD_NAME_MAX];
	struct proc *owner;		/* NULL: free */
	struct lock *onext;		/* owner->held */
	struct conn *wq_head, *wq_tail;	/* blocked ACQUIREs, FIFO */
	unsigned int nwait;
	struct lock *hnext;		/* hash chain */
};

struct lockd_opts {
	const char *socket_path;
	enum lockd_notify notify;
	unsigned int max_clients;
	unsigned int max_held;		/* locks per process */
	unsigned int max_locks;		/* lock names alive at once */
	uint64_t hold_timeout_ns;	/* procevent ack deadline */
	const char *pid_file;
	int verbose;
};

extern struct lockd_opts opts;

/* lockd.c, for notify.c */
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct proc *proc_find(pid_t pid, uint64_t start);
struct proc *proc_first(pid_t pid);
void proc_for_each(void (*fn)(struct proc *p));
void proc_died(struct proc *p, const char *how);
void proc_signalled(struct proc *p, pid_t tid, int signo);
int proc_read_start(pid_t pid, uint64_t *start, char *state);
void accept_pending(void);
int epoll_add(int fd, uint32_t events, void *ptr);

/* notify.c */
const char *notify_name(enum lockd_notify n);
int notify_parse(const char *s, enum lockd_notify *n);
int notify_start(int *fd_out);		/* the fd to poll, or -1 */
void notify_ready(void);		/* the notify fd is readable */
int notify_track(struct proc *p);	/* a new client process */
void notify_untrack(struct proc *p);
void notify_stop(void);

#endif /* LOCKD_H */
