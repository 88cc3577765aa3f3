// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libprocevent: handles, receive and ack wrappers, formatting and the
 * /proc/procevent parser.  See procevent.h for the contract of each call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "procevent.h"

#define PE_EXPORT __attribute__((visibility("default")))

_Static_assert(sizeof(struct procevent_event) == PROCEVENT_EVENT_SIZE_VER0,
	       "struct procevent_event changed size");
_Static_assert(sizeof(struct procevent_ack) == PROCEVENT_ACK_SIZE,
	       "struct procevent_ack changed size");
_Static_assert(sizeof(struct procevent_scope) == PROCEVENT_SCOPE_SIZE,
	       "struct procevent_scope changed size");

/* Events moved per read(2) or acks per write(2) when the caller has more. */
#define PE_BATCH	64

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* --- handles ------------------------------------------------------------ */

PE_EXPORT int procevent_open(uint32_t mask, int oflags)
{
	int fd, ret;

	if (oflags & ~(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	fd = open(PROCEVENT_DEVICE, O_RDWR | oflags);
	if (fd < 0)
		return neg_errno();
	if (mask) {
		ret = procevent_set_mask(fd, mask);
		if (ret < 0) {
			close(fd);
			return ret;
		}
	}
	return fd;
}

PE_EXPORT int procevent_set_mask(int fd, uint32_t mask)
{
	__u32 m = mask;
	int ret;

	ret = ioctl(fd, PROCEVENT_IOC_SET_MASK, &m) ? neg_errno() : 0;
	/*
	 * Every bit is one this library knows, so the module refused it for
	 * being older than the library (0.1 raised exit and signal only).
	 */
	if (ret == -EINVAL && !(mask & ~(uint32_t)PROCEVENT_ALL))
		ret = -EOPNOTSUPP;
	return ret;
}

PE_EXPORT int procevent_set_timeout(int fd, uint64_t timeout_ns)
{
	__u64 t = timeout_ns;

	return ioctl(fd, PROCEVENT_IOC_SET_TIMEOUT, &t) ? neg_errno() : 0;
}

/* --- scope ------------------------------------------------------------- */

PE_EXPORT int procevent_set_scope(int fd, uint32_t kind, int scope_fd)
{
	struct procevent_scope sc = { .kind = kind, .fd = scope_fd };
	int ret;

	ret = ioctl(fd, PROCEVENT_IOC_SET_SCOPE, &sc) ? neg_errno() : 0;
	/* A module without the ioctl (0.1): say so, not "not a tty". */
	return ret == -ENOTTY ? -EOPNOTSUPP : ret;
}

PE_EXPORT int procevent_set_scope_all(int fd)
{
	return procevent_set_scope(fd, PROCEVENT_SCOPE_ALL, -1);
}

PE_EXPORT int procevent_set_scope_cgroup_fd(int fd, int cgroup_dirfd)
{
	return procevent_set_scope(fd, PROCEVENT_SCOPE_CGROUP, cgroup_dirfd);
}

PE_EXPORT int procevent_set_scope_cgroup(int fd, const char *path)
{
	int dirfd, ret;

	if (!path || !*path)
		return -EINVAL;
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return neg_errno();
	ret = procevent_set_scope_cgroup_fd(fd, dirfd);
	close(dirfd);
	return ret;
}

PE_EXPORT int procevent_set_scope_pidns(int fd)
{
	return procevent_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1);
}

/* --- the running module ------------------------------------------------ */

_Static_assert(sizeof(struct procevent_info) == PROCEVENT_INFO_SIZE_VER0,
	       "struct procevent_info changed size");

PE_EXPORT int procevent_features(int fd, struct procevent_info *info)
{
	int own = -1, ret = 0;

	if (!info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	if (fd < 0) {
		own = open(PROCEVENT_DEVICE, O_RDWR | O_CLOEXEC);
		if (own < 0)
			return neg_errno();
		fd = own;
	}
	if (ioctl(fd, PROCEVENT_IOC_GET_INFO, info)) {
		ret = neg_errno();
		/* 0.1 and 0.2 modules do not know the ioctl. */
		if (ret == -ENOTTY)
			ret = -EOPNOTSUPP;
		memset(info, 0, sizeof(*info));
	}
	if (own >= 0)
		close(own);
	return ret;
}

PE_EXPORT int procevent_require(int fd, uint32_t types, uint32_t ack_flags,
				uint32_t scope_kinds)
{
	struct procevent_info info;
	int ret = procevent_features(fd, &info);

	if (ret < 0)
		return ret;
	if ((types & ~info.types) || (ack_flags & ~info.ack_flags) ||
	    (scope_kinds & ~info.scope_kinds))
		return -EOPNOTSUPP;
	return 0;
}

PE_EXPORT const char *procevent_strerror(int err)
{
	switch (-err) {
	case EOPNOTSUPP:
		return "the procevent module is too old for this request (update the module)";
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "the procevent module is not loaded";
	case EACCES:
	case EPERM:
		return "permission denied (CAP_SYS_ADMIN is needed)";
	case ENOSPC:
		return "every subscriber slot is taken (module parameter max_subscribers)";
	case ENOMSG:
		return "not subscribed, and no event is left for this handle";
	}
	return strerror(err < 0 ? -err : err);
}

/* --- receiving ---------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

/*
 * Wait until @fd is readable.  0: readable (or the caller should just try:
 * a negative timeout on a blocking handle), -EAGAIN/-ETIMEDOUT: nothing in
 * time, other negative errno: poll failed.
 */
static int wait_readable(int fd, int timeout_ms, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int left, n;

	if (timeout_ms < 0 && !is_nonblocking(fd))
		return 0;
	for (;;) {
		if (timeout_ms < 0) {
			left = -1;
		} else {
			int64_t d = deadline - mono_ms();

			left = d < 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
		}
		n = poll(&pfd, 1, left);
		if (n < 0)
			return neg_errno();
		if (n > 0) {
			if (pfd.revents & POLLNVAL)
				return -EBADF;
			return 0;
		}
		if (left == 0)
			return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
	}
}

/*
 * The one receive loop: @max == 0 means one event through RECV, otherwise
 * read(2) of up to @max records.
 */
static ssize_t recv_events(int fd, struct procevent_event *evs, size_t max,
			   int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
	int nonblock = -1;
	ssize_t n;
	int ret;

	for (;;) {
		ret = wait_readable(fd, timeout_ms, deadline);
		if (ret == -EAGAIN || ret == -ETIMEDOUT) {
			/*
			 * Nothing arrived.  A non-blocking handle can tell
			 * "none yet" from "not subscribed, nothing left"
			 * without risk, so ask it.
			 */
			if (nonblock < 0)
				nonblock = is_nonblocking(fd);
			if (!nonblock)
				return ret;
		} else if (ret < 0) {
			return ret;
		}

		if (max == 0) {
			n = ioctl(fd, PROCEVENT_IOC_RECV, evs) ? -1 : 1;
		} else {
			n = read(fd, evs, max * sizeof(*evs));
			if (n == 0) {
				errno = ENOMSG;
				n = -1;
			} else if (n > 0) {
				n /= sizeof(*evs);
			}
		}
		if (n > 0)
			return n;
		if (errno != EAGAIN)
			return neg_errno();
		/* Someone else took it, or the wait above said "none". */
		if (ret == -EAGAIN || ret == -ETIMEDOUT)
			return ret;
		if (timeout_ms == 0)
			return -EAGAIN;
		if (timeout_ms > 0 && mono_ms() >= deadline)
			return -ETIMEDOUT;
	}
}

PE_EXPORT int procevent_recv(int fd, struct procevent_event *ev, int timeout_ms)
{
	ssize_t n = recv_events(fd, ev, 0, timeout_ms);

	return n < 0 ? (int)n : 0;
}

PE_EXPORT ssize_t procevent_recv_many(int fd, struct procevent_event *evs,
				      size_t max, int timeout_ms)
{
	if (max == 0)
		return -EINVAL;
	if (max > SSIZE_MAX / sizeof(*evs))
		max = SSIZE_MAX / sizeof(*evs);
	return recv_events(fd, evs, max, timeout_ms);
}

/* --- acknowledging ------------------------------------------------------ */

PE_EXPORT int procevent_ack(int fd, uint64_t id)
{
	struct procevent_ack ack = { .id = id };

	return ioctl(fd, PROCEVENT_IOC_ACK, &ack) ? neg_errno() : 0;
}

/*
 * The one batch writer: ack @n events in order, the ids from @ids with
 * @flags each, or the records of @recs as they are.
 */
static ssize_t ack_batch(int fd, const uint64_t *ids, uint32_t flags,
			 const struct procevent_ack *recs, size_t n)
{
	struct procevent_ack acks[PE_BATCH];
	size_t done = 0, i, chunk;
	ssize_t w;

	while (done < n) {
		chunk = n - done < PE_BATCH ? n - done : PE_BATCH;
		memset(acks, 0, sizeof(acks));
		for (i = 0; i < chunk; i++) {
			if (recs) {
				acks[i] = recs[done + i];
			} else {
				acks[i].id = ids[done + i];
				acks[i].flags = flags;
			}
		}
		w = write(fd, acks, chunk * sizeof(acks[0]));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : neg_errno();
		}
		done += (size_t)w / sizeof(acks[0]);
		if ((size_t)w < chunk * sizeof(acks[0]))
			break;
	}
	return (ssize_t)done;
}

PE_EXPORT ssize_t procevent_ack_many(int fd, const uint64_t *ids, size_t n)
{
	return ack_batch(fd, ids, 0, NULL, n);
}

PE_EXPORT int procevent_ack_kill(int fd, uint64_t id)
{
	struct procevent_ack ack = { .id = id, .flags = PROCEVENT_ACK_KILL };

	return ioctl(fd, PROCEVENT_IOC_ACK, &ack) ? neg_errno() : 0;
}

PE_EXPORT ssize_t procevent_ack_kill_many(int fd, const uint64_t *ids,
					  size_t n)
{
	return ack_batch(fd, ids, PROCEVENT_ACK_KILL, NULL, n);
}

PE_EXPORT ssize_t procevent_ack_records(int fd,
					const struct procevent_ack *acks,
					size_t n)
{
	if (n && !acks)
		return -EINVAL;
	return ack_batch(fd, NULL, 0, acks, n);
}

/* --- acknowledging and receiving in one call ---------------------------- */

_Static_assert(sizeof(struct procevent_ack_recv) == PROCEVENT_ACK_RECV_SIZE_VER0,
	       "struct procevent_ack_recv changed size");

PE_EXPORT int procevent_ack_recv(int fd, const struct procevent_ack *ack,
				 struct procevent_event *ev, int timeout_ms,
				 int *acked)
{
	struct procevent_ack_recv ar;
	int want = ack && (ack->id || ack->flags || ack->reserved);
	int done = 0, ret;

	if (acked)
		*acked = 0;
	if (!ev)
		return -EINVAL;
	memset(&ar, 0, sizeof(ar));
	if (ack)
		ar.ack = *ack;
	/* Any wait but "as long as it takes" on a blocking handle polls. */
	if (timeout_ms >= 0)
		ar.flags = PROCEVENT_ACK_RECV_NONBLOCK;
	ret = ioctl(fd, PROCEVENT_IOC_ACK_RECV, &ar) ? neg_errno() : 0;
	if (ret == -ENOTTY) {
		/* A module before 0.4: the ack, then the receive. */
		if (want) {
			if (!ack->id)
				return -EINVAL;
			if (ioctl(fd, PROCEVENT_IOC_ACK, ack))
				return neg_errno();
			done = 1;
		}
		ret = procevent_recv(fd, ev, timeout_ms);
	} else {
		done = ar.acked;
		if (!ret)
			*ev = ar.event;
		else if (ret == -EAGAIN && timeout_ms != 0)
			ret = procevent_recv(fd, ev, timeout_ms);
	}
	if (acked)
		*acked = done;
	return ret;
}

/* --- event loop helper -------------------------------------------------- */

/* Ack one record; -ENOENT (the kernel no longer waits) is no failure. */
static int ack_one(int fd, const struct procevent_ack *ack)
{
	int r = ioctl(fd, PROCEVENT_IOC_ACK, ack) ? neg_errno() : 0;

	return r == -ENOENT ? 0 : r;
}

/*
 * Ack @n records, in as few calls as possible, as dispatch promises: the
 * first failure is returned, but every event is answered.
 */
static int ack_list(int fd, struct procevent_ack *acks, size_t n)
{
	ssize_t acked = procevent_ack_records(fd, acks, n);
	int ret = 0;
	size_t i;

	if (acked < 0)
		acked = 0;
	/*
	 * The batch stops at the first ack the kernel refuses: an event it
	 * no longer waits for (-ENOENT), or a kill-ack it will not do (exit
	 * event, init).  Go on one by one; a refused kill becomes a plain ack.
	 */
	for (i = (size_t)acked; i < n; i++) {
		int r = ack_one(fd, &acks[i]);

		if (r < 0 && acks[i].flags) {
			if (!ret)
				ret = r;
			acks[i].flags = 0;
			r = ack_one(fd, &acks[i]);
		}
		if (r < 0 && !ret)
			ret = r;
	}
	return ret;
}

/*
 * Ack @ack and take the next event if one is already waiting, in one
 * call where the module has PROCEVENT_IOC_ACK_RECV: 1 with the event in
 * *@ev, 0 without one, or the ack's failure (the event answered as
 * ack_list() answers it).
 */
static int ack_take_next(int fd, struct procevent_ack *ack,
			 struct procevent_event *ev)
{
	struct procevent_ack_recv ar;
	int r;

	memset(&ar, 0, sizeof(ar));
	ar.ack = *ack;
	ar.flags = PROCEVENT_ACK_RECV_NONBLOCK;
	r = ioctl(fd, PROCEVENT_IOC_ACK_RECV, &ar) ? neg_errno() : 0;
	if (!r) {
		*ev = ar.event;
		return 1;
	}
	if (ar.acked)
		return r == -EAGAIN || r == -ENOMSG ? 0 : r;
	/* Refused, or a module before 0.4 (-ENOTTY): the plain way. */
	return ack_list(fd, ack, 1);
}

PE_EXPORT int procevent_dispatch(int fd, procevent_handler_t handler, void *arg,
				 unsigned int max)
{
	struct procevent_event evs[PE_BATCH];
	struct procevent_ack acks[PE_BATCH];
	size_t nacks, total = 0;
	ssize_t n, i;
	int ret = 0, r;

	if (!handler)
		return -EINVAL;
	if (max == 0)
		max = 16;
	if (max > PE_BATCH)
		max = PE_BATCH;

	n = procevent_recv_many(fd, evs, max, 0);
	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return (int)n;

	for (;;) {
		/*
		 * Every event received is shown to the handler, and every
		 * one it does not keep is acked below: a failure never
		 * leaves an event received and unanswered (the task would
		 * stay held until close).
		 */
		memset(acks, 0, sizeof(acks));
		nacks = 0;
		for (i = 0; i < n; i++) {
			r = handler(fd, &evs[i], arg);
			if (r == PROCEVENT_DISPATCH_KEEP)
				continue;
			acks[nacks].id = evs[i].id;
			if (r == PROCEVENT_DISPATCH_KILL)
				acks[nacks].flags = PROCEVENT_ACK_KILL;
			else if (r != PROCEVENT_DISPATCH_ACK && !ret)
				ret = r < 0 ? r : -EINVAL;
			nacks++;
		}
		total += (size_t)n;
		if (!nacks)
			break;
		if (total >= max) {
			r = ack_list(fd, acks, nacks);
			if (r < 0 && !ret)
				ret = r;
			break;
		}
		/*
		 * Room for more: the last ack also takes the next event
		 * when one arrived meanwhile (one call, not two).
		 */
		if (nacks > 1) {
			r = ack_list(fd, acks, nacks - 1);
			if (r < 0 && !ret)
				ret = r;
		}
		r = ack_take_next(fd, &acks[nacks - 1], &evs[0]);
		if (r < 0 && !ret)
			ret = r;
		if (r <= 0)
			break;
		n = 1;
	}
	return ret ? ret : (int)total;
}

/* --- formatting --------------------------------------------------------- */

PE_EXPORT const char *procevent_type_name(uint32_t type)
{
	switch (type) {
	case PROCEVENT_EXIT:
		return "exit";
	case PROCEVENT_SIGNAL:
		return "signal";
	case PROCEVENT_FORK:
		return "fork";
	case PROCEVENT_EXEC:
		return "exec";
	}
	return NULL;
}

static const char *const pe_signames[] = {
	[SIGHUP] = "SIGHUP",	[SIGINT] = "SIGINT",	[SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL",	[SIGTRAP] = "SIGTRAP",	[SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",	[SIGFPE] = "SIGFPE",	[SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1",	[SIGSEGV] = "SIGSEGV",	[SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE",	[SIGALRM] = "SIGALRM",	[SIGTERM] = "SIGTERM",
#ifdef SIGSTKFLT
	[SIGSTKFLT] = "SIGSTKFLT",
#endif
	[SIGCHLD] = "SIGCHLD",	[SIGCONT] = "SIGCONT",	[SIGSTOP] = "SIGSTOP",
	[SIGTSTP] = "SIGTSTP",	[SIGTTIN] = "SIGTTIN",	[SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",	[SIGXCPU] = "SIGXCPU",	[SIGXFSZ] = "SIGXFSZ",
	[SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
	[SIGIO] = "SIGIO",
#if defined(SIGPWR)
	[SIGPWR] = "SIGPWR",
#endif
	[SIGSYS] = "SIGSYS",
};

/*
 * Real-time signals are named relative to the C library's SIGRTMIN, as
 * shells do; the one or two below it are the library's own and keep a
 * plain number.  Static strings keep the function thread-safe.
 */
static const char *const pe_rtnames[] = {
	"SIGRTMIN", "SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGRTMIN+4",
	"SIGRTMIN+5", "SIGRTMIN+6", "SIGRTMIN+7", "SIGRTMIN+8", "SIGRTMIN+9",
	"SIGRTMIN+10", "SIGRTMIN+11", "SIGRTMIN+12", "SIGRTMIN+13",
	"SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-13",
	"SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9", "SIGRTMAX-8",
	"SIGRTMAX-7", "SIGRTMAX-6", "SIGRTMAX-5", "SIGRTMAX-4", "SIGRTMAX-3",
	"SIGRTMAX-2", "SIGRTMAX-1", "SIGRTMAX",
};

static const char *const pe_lownames[] = { "SIG32", "SIG33", "SIG34" };

PE_EXPORT const char *procevent_signal_name(int signo)
{
	int rtmin = SIGRTMIN, rtmax = SIGRTMAX;

	if (signo <= 0)
		return NULL;
	if ((size_t)signo < sizeof(pe_signames) / sizeof(pe_signames[0]) &&
	    pe_signames[signo])
		return pe_signames[signo];
	if (signo >= rtmin && signo <= rtmax) {
		int from_max = rtmax - signo;

		/* Upper half counted down from SIGRTMAX, as bash does. */
		if (rtmax - rtmin == 30)
			return pe_rtnames[signo - rtmin];
		if (from_max == 0)
			return "SIGRTMAX";
		if (signo - rtmin < 16)
			return pe_rtnames[signo - rtmin];
		return NULL;
	}
	if (signo >= 32 && signo < 32 + 3 && signo < rtmin)
		return pe_lownames[signo - 32];
	return NULL;
}

/* snprintf(3)-like appender: counts what the whole text needs. */
struct pe_buf {
	char *buf;
	size_t len;
	size_t need;
};

__attribute__((format(printf, 2, 3)))
static void pe_add(struct pe_buf *b, const char *fmt, ...)
{
	size_t room = b->need < b->len ? b->len - b->need : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->need += (size_t)n;
}

static int pe_done(struct pe_buf *b)
{
	if (b->len && b->need >= b->len)
		b->buf[b->len - 1] = '\0';
	return b->need > INT_MAX ? INT_MAX : (int)b->need;
}

static void pe_add_signal(struct pe_buf *b, int signo)
{
	const char *name = procevent_signal_name(signo);

	if (name)
		pe_add(b, "%s", name);
	else
		pe_add(b, "signal %d", signo);
}

static void pe_add_status(struct pe_buf *b, int status)
{
	if (WIFEXITED(status)) {
		pe_add(b, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		pe_add(b, "killed by ");
		pe_add_signal(b, WTERMSIG(status));
		if (WCOREDUMP(status))
			pe_add(b, " (core dumped)");
	} else {
		pe_add(b, "status 0x%x", (unsigned int)status);
	}
}

PE_EXPORT int procevent_format_status(int status, char *buf, size_t len)
{
	struct pe_buf b = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	pe_add_status(&b, status);
	return pe_done(&b);
}

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629) at @p, with @n bytes
 * available, or 0 when @p does not start one.  Plain ASCII is 1.
 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;		/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;		/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;		/* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static void pe_add_escaped(struct pe_buf *b, const char *str, size_t len,
			   unsigned int flags)
{
	const unsigned char *s = (const unsigned char *)str;
	int json = flags & PROCEVENT_ESCAPE_JSON;
	size_t i = 0, n, k;

	len = strnlen(str, len);
	while (i < len) {
		unsigned char c = s[i];

		n = utf8_len(s + i, len - i);
		/* C1 controls (U+0080..U+009F) are controls too. */
		if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0) {
			if (json)
				pe_add(b, "\\u%04x", s[i + 1]);
			else
				pe_add(b, "\\x%02x\\x%02x", c, s[i + 1]);
		} else if (n > 1) {
			for (k = 0; k < n; k++)
				pe_add(b, "%c", s[i + k]);
		} else if (n == 0) {
			pe_add(b, json ? "\\\\x%02x" : "\\x%02x", c);
			n = 1;
		} else if (c == '\\' || (json && c == '"')) {
			pe_add(b, "\\%c", c);
		} else if (c == '\n' || c == '\t' || c == '\r') {
			pe_add(b, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
		} else if (json && (c == '\b' || c == '\f')) {
			pe_add(b, "\\%c", c == '\b' ? 'b' : 'f');
		} else if (c < 0x20 || c == 0x7f) {
			pe_add(b, json ? "\\u%04x" : "\\x%02x", c);
		} else {
			pe_add(b, "%c", c);
		}
		i += n;
	}
}

PE_EXPORT int procevent_escape(const char *s, size_t len, char *buf,
			       size_t buflen, unsigned int flags)
{
	struct pe_buf b = { buf, buflen, 0 };

	if (flags & ~PROCEVENT_ESCAPE_JSON)
		return -EINVAL;
	if (buflen)
		buf[0] = '\0';
	if (s)
		pe_add_escaped(&b, s, len, flags);
	return pe_done(&b);
}

/* comm as the kernel stores it: up to 15 bytes and a NUL. */
static void pe_add_comm_text(struct pe_buf *b, const char *comm)
{
	pe_add_escaped(b, comm, 16, 0);
}

static void pe_add_comm_json(struct pe_buf *b, const char *comm)
{
	pe_add(b, "\"");
	pe_add_escaped(b, comm, 16, PROCEVENT_ESCAPE_JSON);
	pe_add(b, "\"");
}

static void pe_format_text(struct pe_buf *b, const struct procevent_event *ev)
{
	const char *type = procevent_type_name(ev->type);

	if (type)
		pe_add(b, "%s", type);
	else
		pe_add(b, "type 0x%x", ev->type);
	pe_add(b, " pid %d (", ev->pid);
	pe_add_comm_text(b, ev->comm);
	pe_add(b, ")");
	if (ev->tgid != ev->pid)
		pe_add(b, " tgid %d", ev->tgid);
	pe_add(b, " ppid %d uid %u: ", ev->ppid, ev->uid);
	switch (ev->type) {
	case PROCEVENT_EXIT:
		pe_add_status(b, ev->status);
		break;
	case PROCEVENT_SIGNAL:
		pe_add_signal(b, ev->signo);
		if (ev->sender_pid)
			pe_add(b, " from pid %d uid %u", ev->sender_pid,
			       ev->sender_uid);
		else
			pe_add(b, " from the kernel (si_code %d)", ev->si_code);
		break;
	case PROCEVENT_FORK:
		pe_add(b, "new process");
		break;
	case PROCEVENT_EXEC:
		pe_add(b, "new program");
		break;
	default:
		pe_add(b, "%s", type ? type : "event");
		break;
	}
	pe_add(b, " [id %llu]", (unsigned long long)ev->id);
}

static void pe_format_json(struct pe_buf *b, const struct procevent_event *ev)
{
	const char *type = procevent_type_name(ev->type);
	const char *sig;

	pe_add(b, "{\"size\":%u,", ev->size);
	if (type)
		pe_add(b, "\"type\":\"%s\",", type);
	else
		pe_add(b, "\"type\":%u,", ev->type);
	pe_add(b, "\"id\":%llu,\"pid\":%d,\"tgid\":%d,\"ppid\":%d,\"uid\":%u,",
	       (unsigned long long)ev->id, ev->pid, ev->tgid, ev->ppid,
	       ev->uid);
	pe_add(b, "\"status\":%d,\"signo\":%d,\"si_code\":%d,", ev->status,
	       ev->signo, ev->si_code);
	pe_add(b, "\"sender_pid\":%d,\"sender_uid\":%u,\"flags\":%u,",
	       ev->sender_pid, ev->sender_uid, ev->flags);
	pe_add(b, "\"start_time_ns\":%llu,\"time_ns\":%llu,\"cgroup_id\":%llu,",
	       (unsigned long long)ev->start_time_ns,
	       (unsigned long long)ev->time_ns,
	       (unsigned long long)ev->cgroup_id);
	pe_add(b, "\"comm\":");
	pe_add_comm_json(b, ev->comm);
	if (ev->type == PROCEVENT_SIGNAL) {
		sig = procevent_signal_name(ev->signo);
		if (sig)
			pe_add(b, ",\"signal\":\"%s\"", sig);
	} else if (ev->type == PROCEVENT_EXIT) {
		if (WIFEXITED(ev->status)) {
			pe_add(b, ",\"exit_code\":%d", WEXITSTATUS(ev->status));
		} else if (WIFSIGNALED(ev->status)) {
			sig = procevent_signal_name(WTERMSIG(ev->status));
			if (sig)
				pe_add(b, ",\"term_signal\":\"%s\"", sig);
			else
				pe_add(b, ",\"term_signal\":%d",
				       WTERMSIG(ev->status));
			pe_add(b, ",\"core_dumped\":%s",
			       WCOREDUMP(ev->status) ? "true" : "false");
		}
	}
	pe_add(b, "}");
}

PE_EXPORT int procevent_format(const struct procevent_event *ev, char *buf,
			       size_t len, unsigned int flags)
{
	struct pe_buf b = { buf, len, 0 };

	if (flags & ~PROCEVENT_FORMAT_JSON)
		return -EINVAL;
	if (len)
		buf[0] = '\0';
	if (flags & PROCEVENT_FORMAT_JSON)
		pe_format_json(&b, ev);
	else
		pe_format_text(&b, ev);
	return pe_done(&b);
}

/* --- introspection ------------------------------------------------------ */

/* Value of " key=" in @line (which starts with its tag), or NULL. */
static const char *kv(const char *line, const char *key)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=')
			return p + klen + 1;
		p += klen;
	}
	return NULL;
}

static uint64_t kv_u64(const char *line, const char *key)
{
	const char *v = kv(line, key);

	return v ? strtoull(v, NULL, 0) : 0;
}

static void parse_one_counters(const char *line, struct procevent_counters *c)
{
	c->raised = kv_u64(line, "raised");
	c->delivered = kv_u64(line, "delivered");
	c->acked = kv_u64(line, "acked");
	c->withdrawn = kv_u64(line, "withdrawn");
	c->timedout = kv_u64(line, "timedout");
	c->lost = kv_u64(line, "lost");
}

static void parse_pool(const char *line, struct procevent_status *st)
{
	st->pool_shown = 1;
	st->pool_size = (unsigned int)kv_u64(line, "size");
	st->pool_free = (unsigned int)kv_u64(line, "free");
	st->pool_misses = kv_u64(line, "misses");
}

static int parse_counters(const char *line, struct procevent_status *st,
			  unsigned int *cap)
{
	const char *type = kv(line, "type");
	struct procevent_type_counters *t;
	size_t n;

	if (!type)
		return 0;
	if (st->nr_types == *cap) {
		void *p;

		*cap = *cap ? *cap * 2 : 4;
		p = realloc(st->types, *cap * sizeof(*st->types));
		if (!p)
			return -ENOMEM;
		st->types = p;
	}
	t = &st->types[st->nr_types++];
	memset(t, 0, sizeof(*t));
	n = strcspn(type, " ");
	if (n > sizeof(t->name) - 1)
		n = sizeof(t->name) - 1;
	memcpy(t->name, type, n);
	parse_one_counters(line, &t->c);
	if (!strcmp(t->name, "exit"))
		st->exit = t->c;
	else if (!strcmp(t->name, "signal"))
		st->signal = t->c;
	else if (!strcmp(t->name, "fork"))
		st->fork = t->c;
	else if (!strcmp(t->name, "exec"))
		st->exec = t->c;
	return 0;
}

/*
 * A name as /proc/procevent writes it: space, tab, newline, backslash and
 * '=' as \ooo (older modules wrote subscriber names as they are).
 */
static void comm_unescape(const char *src, size_t len, char *dst,
			  size_t size)
{
	size_t n = 0;

	while (len && n < size - 1) {
		if (len >= 4 && src[0] == '\\' && src[1] >= '0' &&
		    src[1] <= '3' && src[2] >= '0' && src[2] <= '7' &&
		    src[3] >= '0' && src[3] <= '7') {
			dst[n++] = (char)((src[1] - '0') << 6 |
					  (src[2] - '0') << 3 |
					  (src[3] - '0'));
			src += 4;
			len -= 4;
		} else {
			dst[n++] = *src++;
			len--;
		}
	}
	dst[n] = 0;
}

static int parse_subscriber(const char *line, struct procevent_subscriber *s,
			    struct procevent_subscriber_ext *x)
{
	const char *comm = kv(line, "comm");
	const char *end = NULL, *p, *scope;
	size_t n;

	memset(s, 0, sizeof(*s));
	memset(x, 0, sizeof(*x));
	s->pos = (unsigned int)kv_u64(line, "pos");
	s->pid = (pid_t)kv_u64(line, "pid");
	/*
	 * A comm may hold spaces: it runs up to the last " mask=", the key
	 * the kernel writes right after it.
	 */
	if (comm) {
		for (p = comm; (p = strstr(p, " mask=")) != NULL; p++)
			end = p;
		if (end)
			comm_unescape(comm, (size_t)(end - comm), s->comm,
				      sizeof(s->comm));
	}
	p = end ? end : line;
	s->mask = (uint32_t)kv_u64(p, "mask");
	s->waiting = (unsigned int)kv_u64(p, "waiting");
	s->received = (unsigned int)kv_u64(p, "received");
	s->acked = kv_u64(p, "acked");
	s->timeouts = kv_u64(p, "timeouts");
	s->timeout_ns = kv_u64(p, "timeout_ns");
	scope = kv(p, "scope");
	if (scope) {
		n = strcspn(scope, " ");
		if (n > sizeof(x->scope) - 1)
			n = sizeof(x->scope) - 1;
		memcpy(x->scope, scope, n);
	}
	return s->pos ? 0 : -EINVAL;
}

static uint32_t type_by_name(const char *name)
{
	static const uint32_t types[] = {
		PROCEVENT_EXIT, PROCEVENT_SIGNAL, PROCEVENT_FORK, PROCEVENT_EXEC,
	};
	size_t i, n = strcspn(name, " ");

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const char *t = procevent_type_name(types[i]);

		if (strlen(t) == n && !strncmp(t, name, n))
			return types[i];
	}
	return 0;
}

/*
 * "held-task: pid= tgid= comm= type= id= held_ns= pos= sub_pid= state=";
 * the module writes comm with space, tab, newline, backslash and '='
 * as \ooo, so it ends at the next space.
 */
static int parse_held(const char *line, struct procevent_held *h)
{
	const char *comm = kv(line, "comm"), *v;
	memset(h, 0, sizeof(*h));
	if (!comm)
		return -EINVAL;
	comm_unescape(comm, strcspn(comm, " "), h->comm, sizeof(h->comm));
	comm += strcspn(comm, " ");
	h->pid = (pid_t)kv_u64(line, "pid");
	h->tgid = (pid_t)kv_u64(line, "tgid");
	v = kv(comm, "type");
	h->type = v ? type_by_name(v) : 0;
	h->id = kv_u64(comm, "id");
	h->held_ns = kv_u64(comm, "held_ns");
	h->pos = (unsigned int)kv_u64(comm, "pos");
	h->sub_pid = (pid_t)kv_u64(comm, "sub_pid");
	v = kv(comm, "state");
	h->received = v && !strncmp(v, "received", 8);
	return h->pid ? 0 : -EINVAL;
}

static int add_held(struct procevent_status *st, const char *line,
		    unsigned int *cap)
{
	if (st->nr_held_tasks == *cap) {
		void *p;

		*cap = *cap ? *cap * 2 : 16;
		p = realloc(st->held_tasks, *cap * sizeof(*st->held_tasks));
		if (!p)
			return -ENOMEM;
		st->held_tasks = p;
	}
	if (!parse_held(line, &st->held_tasks[st->nr_held_tasks]))
		st->nr_held_tasks++;
	return 0;
}

PE_EXPORT int procevent_status_parse(const char *text,
				     struct procevent_status **out)
{
	unsigned int hcap = 0;
	struct procevent_status *st;
	struct procevent_subscriber *subs = NULL;
	struct procevent_subscriber_ext *exts = NULL;
	unsigned int nsubs = 0, cap = 0, tcap = 0;
	const char *line, *nl;
	char *copy;
	int ret = 0;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (line = text; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		copy = nl ? strndup(line, (size_t)(nl - line)) : strdup(line);
		if (!copy) {
			ret = -ENOMEM;
			break;
		}
		if (!strncmp(copy, "held: ", 6)) {
			st->held = (unsigned int)strtoul(copy + 6, NULL, 10);
		} else if (!strncmp(copy, "held-task: ", 11)) {
			st->held_listed = 1;
			ret = add_held(st, copy, &hcap);
		} else if (!strncmp(copy, "held-more: ", 11)) {
			st->held_listed = 1;
			st->held_more = (unsigned int)strtoul(copy + 11, NULL, 10);
		} else if (!strncmp(copy, "pool: ", 6)) {
			parse_pool(copy, st);
		} else if (!strncmp(copy, "events: ", 8)) {
			ret = parse_counters(copy, st, &tcap);
		} else if (!strncmp(copy, "subscriber: ", 12)) {
			if (nsubs == cap) {
				void *p, *q;

				cap = cap ? cap * 2 : 8;
				p = realloc(subs, cap * sizeof(*subs));
				if (p)
					subs = p;
				q = realloc(exts, cap * sizeof(*exts));
				if (q)
					exts = q;
				if (!p || !q) {
					free(copy);
					ret = -ENOMEM;
					break;
				}
			}
			/* 0.3 modules list every held task, and say owner= */
			if (kv(copy, "owner"))
				st->held_listed = 1;
			if (!parse_subscriber(copy, &subs[nsubs], &exts[nsubs]))
				nsubs++;
		}
		free(copy);
		if (ret || !nl)
			break;
	}
	if (ret) {
		free(subs);
		free(exts);
		free(st->types);
		free(st->held_tasks);
		free(st);
		return ret;
	}
	st->subscribers = subs;
	st->subscribers_ext = exts;
	st->nr_subscribers = nsubs;
	*out = st;
	return 0;
}

PE_EXPORT int procevent_status_read(struct procevent_status **out)
{
	size_t len = 0, cap = 4096;
	char *text = malloc(cap), *p;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	if (!text)
		return -ENOMEM;
	fd = open(PROCEVENT_PROC_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = neg_errno();
		free(text);
		return ret;
	}
	for (;;) {
		if (cap - len < 2048) {
			p = realloc(text, cap * 2);
			if (!p) {
				ret = -ENOMEM;
				goto out;
			}
			text = p;
			cap *= 2;
		}
		n = read(fd, text + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = neg_errno();
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	ret = procevent_status_parse(text, out);
out:
	close(fd);
	free(text);
	return ret;
}

PE_EXPORT void procevent_status_free(struct procevent_status *st)
{
	if (!st)
		return;
	free(st->subscribers);
	free(st->subscribers_ext);
	free(st->types);
	free(st->held_tasks);
	free(st);
}
