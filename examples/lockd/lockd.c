// SPDX-License-Identifier: GPL-2.0
/*
 * lockd: a lock server that is never late.
 *
 * Named exclusive locks for the processes that connect to a UNIX socket.
 * A lock belongs to the client process, known by SO_PEERCRED and its start
 * time; when the process dies its locks go to the next waiters.  How the
 * server learns of the death is chosen with --notify (notify.c): with
 * procevent the dying process is held until the locks have been handed
 * over, so its parent's waitpid() never returns while the server still
 * thinks the lock is held; and a thread that catches a signal while it
 * waits for a lock has its request cancelled before the handler runs.
 *
 * This file owns the tables (processes, connections, locks), the protocol
 * and the event loop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lockd.h"

struct lockd_opts opts = {
	.socket_path = NULL,
	.notify = NOTIFY_PROCEVENT,
	.max_clients = 256,
	.max_held = 64,
	.max_locks = 4096,
	.hold_timeout_ns = 10ull * 1000000000,
};

#define HASH_SIZE	1024	/* power of two */

static struct proc *proc_hash[HASH_SIZE];
static struct lock *lock_hash[HASH_SIZE];
static unsigned int nr_conns, nr_locks;
static struct conn *conn_free_list;
static struct proc *proc_free_list;
static int epfd = -1, listen_fd = -1;
/* Closed to accept (and refuse) one connection when out of descriptors. */
static int spare_fd = -1;
static struct { enum src_kind kind; } listen_src = { SRC_LISTEN },
	signal_src = { SRC_SIGNAL }, notify_src = { SRC_NOTIFY };

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > opts.verbose)
		return;
	va_start(ap, fmt);
	fputs("lockd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int epoll_add(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* --- processes ------------------------------------------------------------ */

/*
 * Start time of @pid in clock ticks since boot (field 22 of /proc/PID/stat),
 * and its state letter.  -ESRCH when there is no such process, -EUSERS
 * when the server is out of file descriptors.
 */
int proc_read_start(pid_t pid, uint64_t *start, char *state)
{
	char path[64], buf[1024], *p;
	unsigned long long st;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EMFILE || errno == ENFILE ? -EUSERS : -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* The command name may hold anything, ')' too: skip to the last one. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	if (state)
		*state = *p;
	/* Field 3 is the state; 22 the start time. */
	for (i = 3; i < 22; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	if (sscanf(p, "%llu", &st) != 1)
		return -EIO;
	*start = st;
	return 0;
}

static unsigned int pid_hash(pid_t pid)
{
	return (unsigned int)pid & (HASH_SIZE - 1);
}

struct proc *proc_find(pid_t pid, uint64_t start)
{
	struct proc *p;

	for (p = proc_hash[pid_hash(pid)]; p; p = p->hnext)
		if (p->pid == pid && p->start == start && !p->dead)
			return p;
	return NULL;
}

struct proc *proc_first(pid_t pid)
{
	struct proc *p;

	for (p = proc_hash[pid_hash(pid)]; p; p = p->hnext)
		if (p->pid == pid && !p->dead)
			return p;
	return NULL;
}

void proc_for_each(void (*fn)(struct proc *p))
{
	struct proc *p, *next;
	unsigned int i;

	for (i = 0; i < HASH_SIZE; i++)
		for (p = proc_hash[i]; p; p = next) {
			next = p->hnext;
			if (!p->dead)
				fn(p);
		}
}

static struct proc *proc_get(pid_t pid, uint64_t start)
{
	struct proc *p = proc_find(pid, start);
	unsigned int h = pid_hash(pid);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->kind = SRC_PIDFD;
	p->pid = pid;
	p->start = start;
	p->pidfd = -1;
	if (notify_track(p)) {
		free(p);
		return NULL;
	}
	p->hnext = proc_hash[h];
	proc_hash[h] = p;
	return p;
}

/* Unhash @p now; free it after the current batch. */
static void proc_retire(struct proc *p)
{
	struct proc **pp;

	for (pp = &proc_hash[pid_hash(p->pid)]; *pp; pp = &(*pp)->hnext)
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	p->dead = true;
	notify_untrack(p);
	p->fnext = proc_free_list;
	proc_free_list = p;
}

/* A living process that holds nothing and has no connection is forgotten. */
static void proc_maybe_retire(struct proc *p)
{
	if (!p->dead && !p->conns && !p->held)
		proc_retire(p);
}

/* --- connections: output ------------------------------------------------- */

static void conn_close(struct conn *c);

static void conn_set_events(struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = (c->paused ? 0 : EPOLLIN) | (c->want_out ? EPOLLOUT : 0);
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/*
 * Send what the socket takes without waiting.  A client that does not
 * read its replies fills its socket, then the queue; reading from it
 * stops until it catches up (conn_read), so it cannot make the server
 * queue without bound.  Returns -EPIPE when the connection broke (it is
 * closed then).
 */
static int conn_flush(struct conn *c)
{
	bool was_paused = c->paused, wanted = c->want_out;
	ssize_t n;

	while (c->out_len) {
		n = send(c->fd, &c->out[c->out_head], sizeof(c->out[0]),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
			break;
		if (n < 0) {
			log_msg(2, "pid %d: send: %s", c->proc->pid, strerror(errno));
			conn_close(c);
			return -EPIPE;
		}
		c->out_head = (c->out_head + 1) % CONN_OUTQ;
		c->out_len--;
	}
	c->want_out = c->out_len > 0;
	/* A request makes at most two replies; one slot more for a grant. */
	c->paused = c->out_len + 3 > CONN_OUTQ;
	if (c->paused != was_paused || c->want_out != wanted)
		conn_set_events(c);
	return 0;
}

static int conn_send(struct conn *c, const struct lockd_msg *m)
{
	if (c->closed)
		return -EPIPE;
	if (c->out_len == CONN_OUTQ) {
		/* conn_flush() pauses reading long before: cannot happen. */
		log_msg(0, "pid %d: reply queue overflow", c->proc->pid);
		conn_close(c);
		return -EPIPE;
	}
	c->out[(c->out_head + c->out_len) % CONN_OUTQ] = *m;
	c->out_len++;
	return conn_flush(c);
}

static int reply(struct conn *c, uint32_t op, uint32_t seq, int error,
		 pid_t holder)
{
	struct lockd_msg m;

	memset(&m, 0, sizeof(m));
	m.magic = LOCKD_MAGIC;
	m.op = op | LOCKD_OP_REPLY;
	m.seq = seq;
	m.error = error;
	m.holder = holder;
	return conn_send(c, &m);
}

/*
 * Say why, without waiting; the caller hangs up.  What the client sent
 * is read first: closing a UNIX socket with unread data resets the peer,
 * which would then get ECONNRESET instead of this message.
 */
static void refuse_fd(int fd, int error)
{
	struct lockd_msg m;
	int i;

	memset(&m, 0, sizeof(m));
	m.magic = LOCKD_MAGIC;
	m.op = LOCKD_OP_ERROR | LOCKD_OP_REPLY;
	m.error = error;
	send(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	for (i = 0; i < 256; i++)
		if (recv(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC) <= 0)
			break;
}

/* --- locks ---------------------------------------------------------------- */

static unsigned int name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h & (HASH_SIZE - 1);
}

static struct lock *lock_find(const char *name)
{
	struct lock *l;

	for (l = lock_hash[name_hash(name)]; l; l = l->hnext)
		if (!strcmp(l->name, name))
			return l;
	return NULL;
}

static struct lock *lock_create(const char *name)
{
	unsigned int h = name_hash(name);
	struct lock *l;

	if (nr_locks >= opts.max_locks)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	strcpy(l->name, name);
	l->hnext = lock_hash[h];
	lock_hash[h] = l;
	nr_locks++;
	return l;
}

/* Nobody holds or wants @l any more: forget it. */
static void lock_maybe_free(struct lock *l)
{
	struct lock **pp;

	if (l->owner || l->wq_head)
		return;
	for (pp = &lock_hash[name_hash(l->name)]; *pp; pp = &(*pp)->hnext)
		if (*pp == l) {
			*pp = l->hnext;
			break;
		}
	nr_locks--;
	free(l);
}

static void lock_set_owner(struct lock *l, struct proc *p)
{
	l->owner = p;
	l->onext = p->held;
	p->held = l;
	p->nheld++;
}

static void lock_clear_owner(struct lock *l)
{
	struct proc *p = l->owner;
	struct lock **pp;

	for (pp = &p->held; *pp; pp = &(*pp)->onext)
		if (*pp == l) {
			*pp = l->onext;
			break;
		}
	p->nheld--;
	l->owner = NULL;
	l->onext = NULL;
}

static void wait_remove(struct conn *c)
{
	struct lock *l = c->wait_lock;
	struct conn **pp, *prev = NULL;

	for (pp = &l->wq_head; *pp; prev = *pp, pp = &(*pp)->wnext)
		if (*pp == c) {
			*pp = c->wnext;
			if (l->wq_tail == c)
				l->wq_tail = prev;
			break;
		}
	l->nwait--;
	c->wait_lock = NULL;
	c->wnext = NULL;
}

/*
 * @l has just become free: give it to the first waiter that can take it,
 * and tell that waiter before returning.  @l may be freed.
 */
static void lock_hand_over(struct lock *l)
{
	while (l->wq_head) {
		struct conn *c = l->wq_head;
		struct proc *p = c->proc;
		uint32_t seq = c->wait_seq;

		wait_remove(c);
		if (p->nheld >= opts.max_held) {
			reply(c, LOCKD_OP_ACQUIRE, seq, ENOSPC, 0);
			continue;
		}
		lock_set_owner(l, p);
		if (!reply(c, LOCKD_OP_ACQUIRE, seq, 0, 0)) {
			log_msg(2, "%s: to pid %d", l->name, p->pid);
			return;
		}
		/* Its connection broke: it never learnt, so it does not hold it. */
		lock_clear_owner(l);
		proc_maybe_retire(p);
	}
	lock_maybe_free(l);
}

static void lock_release(struct lock *l)
{
	lock_clear_owner(l);
	lock_hand_over(l);
}

/* --- connections: life cycle ---------------------------------------------- */

static void conn_cancel_wait(struct conn *c, int error)
{
	struct lock *l = c->wait_lock;
	uint32_t seq = c->wait_seq;

	wait_remove(c);
	lock_maybe_free(l);
	if (error)
		reply(c, LOCKD_OP_ACQUIRE, seq, error, 0);
}

/* Close now, free after the batch.  The process keeps its locks. */
static void conn_close(struct conn *c)
{
	struct proc *p = c->proc;
	struct conn **pp;

	if (c->closed)
		return;
	c->closed = true;
	if (c->wait_lock)
		conn_cancel_wait(c, 0);
	for (pp = &p->conns; *pp; pp = &(*pp)->pnext)
		if (*pp == c) {
			*pp = c->pnext;
			break;
		}
	close(c->fd);
	nr_conns--;
	c->fnext = conn_free_list;
	conn_free_list = c;
	proc_maybe_retire(p);
}

void proc_died(struct proc *p, const char *how)
{
	if (p->dead)
		return;
	log_msg(1, "pid %d died (%s): releasing %u lock(s)", p->pid, how,
		p->nheld);
	/* Nothing it sent may still take effect: its requests die with it. */
	while (p->conns)
		conn_close(p->conns);
	while (p->held)
		lock_release(p->held);
	if (!p->dead)
		proc_retire(p);
}

/* --- requests ------------------------------------------------------------- */

static bool name_valid(const char *name)
{
	size_t i;

	for (i = 0; i < LOCKD_NAME_MAX; i++) {
		unsigned char ch = name[i];

		if (ch == '\0')
			return i > 0;
		if (ch < 0x20 || ch >= 0x7f)
			return false;
	}
	return false;
}

static void do_acquire(struct conn *c, const struct lockd_msg *m)
{
	struct proc *p = c->proc;
	struct lock *l;

	if (m->flags & ~LOCKD_F_NONBLOCK || !name_valid(m->name)) {
		reply(c, m->op, m->seq, EINVAL, 0);
		return;
	}
	if (c->wait_lock) {
		reply(c, m->op, m->seq, EINPROGRESS, 0);
		return;
	}
	l = lock_find(m->name);
	if (l && l->owner == p) {
		reply(c, m->op, m->seq, EDEADLK, p->pid);
		return;
	}
	if (l && l->owner) {
		if (m->flags & LOCKD_F_NONBLOCK) {
			reply(c, m->op, m->seq, EWOULDBLOCK, l->owner->pid);
			return;
		}
		c->wait_lock = l;
		c->wait_seq = m->seq;
		c->wait_tid = m->tid > 0 ? m->tid : p->pid;
		c->wnext = NULL;
		if (l->wq_tail)
			l->wq_tail->wnext = c;
		else
			l->wq_head = c;
		l->wq_tail = c;
		l->nwait++;
		log_msg(2, "%s: pid %d waits", l->name, p->pid);
		return;
	}
	if (p->nheld >= opts.max_held || (!l && !(l = lock_create(m->name)))) {
		reply(c, m->op, m->seq, ENOSPC, 0);
		return;
	}
	lock_set_owner(l, p);
	if (reply(c, m->op, m->seq, 0, 0))
		lock_release(l);
}

static void do_release(struct conn *c, const struct lockd_msg *m)
{
	struct lock *l = name_valid(m->name) ? lock_find(m->name) : NULL;

	if (!l || l->owner != c->proc) {
		reply(c, m->op, m->seq, EPERM, l && l->owner ? l->owner->pid : 0);
		return;
	}
	lock_release(l);
	reply(c, m->op, m->seq, 0, 0);
}

static void do_cancel(struct conn *c, const struct lockd_msg *m)
{
	if (!c->wait_lock) {
		reply(c, m->op, m->seq, ESRCH, 0);
		return;
	}
	conn_cancel_wait(c, EINTR);
	reply(c, m->op, m->seq, 0, 0);
}

static void do_query(struct conn *c, const struct lockd_msg *m)
{
	struct lockd_msg r;
	struct lock *l;
	struct conn *w;
	unsigned int i = 0;

	if (!name_valid(m->name)) {
		reply(c, m->op, m->seq, EINVAL, 0);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.magic = LOCKD_MAGIC;
	r.op = m->op | LOCKD_OP_REPLY;
	r.seq = m->seq;
	memcpy(r.name, m->name, sizeof(r.name));
	l = lock_find(m->name);
	if (l) {
		r.holder = l->owner ? l->owner->pid : 0;
		r.nwaiters = l->nwait;
		for (w = l->wq_head; w && i < LOCKD_WAITERS_SHOWN; w = w->wnext)
			r.waiters[i++] = w->wait_tid;
	}
	conn_send(c, &r);
}

static void handle_msg(struct conn *c, const struct lockd_msg *m)
{
	if (m->magic != LOCKD_MAGIC) {
		log_msg(1, "pid %d: bad magic, hanging up", c->proc->pid);
		refuse_fd(c->fd, EPROTO);
		conn_close(c);
		return;
	}
	switch (m->op) {
	case LOCKD_OP_PING:
		reply(c, m->op, m->seq, 0, 0);
		break;
	case LOCKD_OP_ACQUIRE:
		do_acquire(c, m);
		break;
	case LOCKD_OP_RELEASE:
		do_release(c, m);
		break;
	case LOCKD_OP_CANCEL:
		do_cancel(c, m);
		break;
	case LOCKD_OP_QUERY:
		do_query(c, m);
		break;
	default:
		reply(c, m->op & ~LOCKD_OP_REPLY, m->seq, EOPNOTSUPP, 0);
		break;
	}
}

/*
 * Take the requests that are waiting on @c, at most @max of them (0: all),
 * until the socket is empty or replies back up.
 */
static void conn_read(struct conn *c, unsigned int max)
{
	struct lockd_msg m;
	unsigned int done = 0;
	ssize_t n;

	while (!c->closed && !c->paused && (!max || done < max)) {
		n = recv(c->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* Hung up (or reset): its locks stay with the process. */
			conn_close(c);
			return;
		}
		if (n != sizeof(m)) {
			log_msg(1, "pid %d: %zd-byte packet, hanging up",
				c->proc->pid, n);
			refuse_fd(c->fd, EBADMSG);
			conn_close(c);
			return;
		}
		handle_msg(c, &m);
		done++;
	}
}

void proc_signalled(struct proc *p, pid_t tid, int signo)
{
	struct conn *c, *next;

	/*
	 * The thread may have sent its request and caught the signal before
	 * this loop read it: take what its process sent first, so the
	 * handler finds nothing pending that it asked for.
	 */
	for (c = p->conns; c; c = next) {
		next = c->pnext;
		conn_read(c, 0);
	}
	for (c = p->conns; c; c = c->pnext)
		if (c->wait_lock && c->wait_tid == tid) {
			log_msg(2, "%s: tid %d caught signal %d, cancelled",
				c->wait_lock->name, tid, signo);
			conn_cancel_wait(c, EINTR);
		}
}

static void accept_one(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uint64_t start;
	int ret;
	struct proc *p;
	struct conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    cred.pid <= 0) {
		refuse_fd(fd, EPROTO);
		close(fd);
		return;
	}
	if (nr_conns >= opts.max_clients) {
		log_msg(1, "pid %d: too many connections", cred.pid);
		refuse_fd(fd, EUSERS);
		close(fd);
		return;
	}
	/*
	 * With procevent, a peer that died since it connected is held until
	 * its exit event is acked, and accept_pending() runs before that:
	 * its /proc entry is still the connecting process.
	 */
	ret = proc_read_start(cred.pid, &start, NULL);
	if (ret) {
		refuse_fd(fd, ret == -EUSERS ? EUSERS : ESRCH);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	p = c ? proc_get(cred.pid, start) : NULL;
	if (!p) {
		free(c);
		refuse_fd(fd, ENOMEM);
		close(fd);
		return;
	}
	c->kind = SRC_CONN;
	c->fd = fd;
	c->proc = p;
	if (epoll_add(fd, EPOLLIN, c)) {
		free(c);
		close(fd);
		proc_maybe_retire(p);
		return;
	}
	c->pnext = p->conns;
	p->conns = c;
	nr_conns++;
	log_msg(2, "pid %d connected", p->pid);
}

void accept_pending(void)
{
	int fd;

	for (;;) {
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
			/*
			 * The connection would stay queued and the listening
			 * socket readable for ever: take it with the spare
			 * descriptor and say why it is refused.
			 */
			close(spare_fd);
			fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0) {
				refuse_fd(fd, EUSERS);
				close(fd);
			}
			spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			log_msg(1, "out of file descriptors: connection refused");
			if (fd >= 0)
				continue;
			return;
		}
		if (errno != EAGAIN)
			log_msg(0, "accept: %s", strerror(errno));
		return;
	}
}

static void free_retired(void)
{
	while (conn_free_list) {
		struct conn *c = conn_free_list;

		conn_free_list = c->fnext;
		free(c);
	}
	while (proc_free_list) {
		struct proc *p = proc_free_list;

		proc_free_list = p->fnext;
		free(p);
	}
}

/* --- setup and loop --------------------------------------------------------- */

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(0, "%s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_msg(0, "socket: %s", strerror(errno));
		return -1;
	}
	/* A socket left by a server that is gone is replaced; a live one is not. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			log_msg(0, "%s: another server is listening", path);
			close(probe);
			close(fd);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0666) || listen(fd, 128)) {
		log_msg(0, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int write_pid_file(const char *path)
{
	char buf[32], tmp[4096];
	int fd, len;

	/* Written whole, then renamed: a reader never sees half a pid. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != len || close(fd) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: lockd [options]\n"
"  -s, --socket PATH        listen here (default $" LOCKD_SOCKET_ENV " or " LOCKD_SOCKET_DEFAULT ")\n"
"  -n, --notify METHOD      how deaths are learnt: procevent (default), cn_proc, pidfd\n"
"      --max-clients N      connections at once (default 256)\n"
"      --max-held N         locks one process may hold (default 64)\n"
"      --max-locks N        locks alive at once (default 4096)\n"
"      --hold-timeout MS    procevent: release a held process after MS ms\n"
"                           without an ack (default 10000, 0: never)\n"
"  -p, --pid-file FILE      write the pid here once serving\n"
"  -v, --verbose            log deaths (-vv: every grant and wait) to stderr\n"
"  -h, --help\n");
}

static int parse_uint(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *out > max ? -1 : 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "notify", required_argument, NULL, 'n' },
		{ "max-clients", required_argument, NULL, 'C' },
		{ "max-held", required_argument, NULL, 'H' },
		{ "max-locks", required_argument, NULL, 'L' },
		{ "hold-timeout", required_argument, NULL, 'T' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:n:p:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			opts.socket_path = optarg;
			break;
		case 'n':
			if (notify_parse(optarg, &opts.notify)) {
				fprintf(stderr, "lockd: --notify: procevent, cn_proc or pidfd\n");
				return -1;
			}
			break;
		case 'C':
		case 'H':
		case 'L':
			if (parse_uint(optarg, 1000000, &v) || !v) {
				fprintf(stderr, "lockd: bad number '%s'\n", optarg);
				return -1;
			}
			if (ch == 'C')
				opts.max_clients = v;
			else if (ch == 'H')
				opts.max_held = v;
			else
				opts.max_locks = v;
			break;
		case 'T':
			if (parse_uint(optarg, 1000ull * 3600 * 1000, &v)) {
				fprintf(stderr, "lockd: bad timeout '%s'\n", optarg);
				return -1;
			}
			opts.hold_timeout_ns = v * 1000000;
			break;
		case 'p':
			opts.pid_file = optarg;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	if (!opts.socket_path) {
		const char *env = getenv(LOCKD_SOCKET_ENV);

		opts.socket_path = env && *env ? env : LOCKD_SOCKET_DEFAULT;
	}
	return 0;
}

static void conn_event(struct conn *c, uint32_t events)
{
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		if (conn_flush(c))
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c, 32);
}

int main(int argc, char **argv)
{
	struct epoll_event evs[64];
	struct rlimit rl;
	sigset_t mask;
	int sfd, nfd, i, n, rc = 1;
	bool running = true;

	if (parse_args(argc, argv))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	/* A descriptor per connection, and per client process with pidfd. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0) {
		log_msg(0, "setup: %s", strerror(errno));
		return 1;
	}
	/*
	 * Subscribe before listening: a client that could connect before the
	 * subscription took effect could die unnoticed.
	 */
	if (notify_start(&nfd))
		return 1;
	listen_fd = listen_on(opts.socket_path);
	if (listen_fd < 0)
		goto out_notify;
	if (epoll_add(listen_fd, EPOLLIN, &listen_src) ||
	    epoll_add(sfd, EPOLLIN, &signal_src) ||
	    (nfd >= 0 && epoll_add(nfd, EPOLLIN, &notify_src))) {
		log_msg(0, "epoll: %s", strerror(errno));
		goto out_unlink;
	}
	if (opts.pid_file && write_pid_file(opts.pid_file)) {
		log_msg(0, "%s: %s", opts.pid_file, strerror(errno));
		goto out_unlink;
	}
	log_msg(1, "serving %s, deaths from %s", opts.socket_path,
		notify_name(opts.notify));

	while (running) {
		n = epoll_wait(epfd, evs, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_msg(0, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			enum src_kind *kind = evs[i].data.ptr;

			switch (*kind) {
			case SRC_LISTEN:
				accept_pending();
				break;
			case SRC_SIGNAL:
				running = false;
				break;
			case SRC_NOTIFY:
				notify_ready();
				break;
			case SRC_CONN:
				if (!((struct conn *)kind)->closed)
					conn_event((struct conn *)kind, evs[i].events);
				break;
			case SRC_PIDFD:
				if (!((struct proc *)kind)->dead)
					proc_died((struct proc *)kind, "pidfd");
				break;
			}
		}
		free_retired();
	}
	rc = 0;
	log_msg(1, "stopping");
out_unlink:
	unlink(opts.socket_path);
	if (opts.pid_file)
		unlink(opts.pid_file);
out_notify:
	/* Closing the procevent handle releases every process still held. */
	notify_stop();
	return rc;
}
