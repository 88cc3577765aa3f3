/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the procevent selftests: opening and subscribing
 * handles, bounded waits for events, children that exit (or take a signal)
 * when told to, and readers for /proc/procevent, fdinfo and the module
 * parameters.
 *
 * Every wait here is bounded: a module that fails to deliver or to release
 * makes a test fail with a message, not hang until the harness timeout.
 *
 * Everything a test opens or forks through these helpers is tracked, so
 * the fixture teardown (pe_cleanup) can close every handle first (which
 * releases whatever they hold) and then kill and reap every child.
 */
#ifndef PROCEVENT_UTIL_H
#define PROCEVENT_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/procevent.h>

#define PE_DEV		"/dev/procevent"
#define PE_PROC		"/proc/procevent"
#define PE_PARAMS	"/sys/module/procevent/parameters"
#define PE_ALL		(PROCEVENT_EXIT | PROCEVENT_SIGNAL)
#define PE_REC		((int)sizeof(struct procevent_event))

/*
 * Bound for anything that should happen promptly.  On a debug kernel
 * (PROCEVENT_SLOW) ten times that: under KASAN on a host busy with other
 * emulators a child's exit took longer than 2 s to reach its subscriber.
 */
#define PE_WAIT_MS	(getenv("PROCEVENT_SLOW") ? 20000 : 2000)
/* How long "nothing happens" is watched. */
#define PE_QUIET_MS	200

#define PE_MS		1000000ULL
#define PE_MAX_FDS	64
#define PE_MAX_PIDS	512

static int pe_fds[PE_MAX_FDS];
static int pe_nfds;
static pid_t pe_pids[PE_MAX_PIDS];
static int pe_npids;

/* In a child made by pe_spawn(): its ends of the two pipes. */
static int pe_gate_rd = -1;
static int pe_report_wr = -1;

static inline uint64_t pe_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline uint64_t pe_mono(void)
{
	return pe_now(CLOCK_MONOTONIC);
}

static inline void pe_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void pe_fill(void *p, size_t n)
{
	memset(p, 0xA5, n);
}

/* ---- handles ---------------------------------------------------------- */

static inline void pe_track_fd(int fd)
{
	if (pe_nfds < PE_MAX_FDS)
		pe_fds[pe_nfds++] = fd;
}

static inline void pe_untrack_fd(int fd)
{
	int i;

	for (i = 0; i < pe_nfds; i++) {
		if (pe_fds[i] == fd) {
			pe_fds[i] = pe_fds[--pe_nfds];
			return;
		}
	}
}

/* Open a handle; returns the fd or -errno. */
static inline int pe_open_flags(int flags)
{
	int fd = open(PE_DEV, O_RDWR | O_CLOEXEC | flags);

	if (fd < 0)
		return -errno;
	pe_track_fd(fd);
	return fd;
}

/* Most tests use non-blocking handles and wait with poll(). */
static inline int pe_open(void)
{
	return pe_open_flags(O_NONBLOCK);
}

static inline int pe_open_blocking(void)
{
	return pe_open_flags(0);
}

static inline void pe_close(int fd)
{
	pe_untrack_fd(fd);
	close(fd);
}

static inline int pe_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static inline int pe_set_mask(int fd, uint32_t mask)
{
	return pe_ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask);
}

static inline int pe_recv(int fd, struct procevent_event *ev)
{
	return pe_ioctl(fd, PROCEVENT_IOC_RECV, ev);
}

static inline int pe_ack_full(int fd, uint64_t id, uint32_t flags,
			      uint32_t reserved)
{
	struct procevent_ack ack = {
		.id = id, .flags = flags, .reserved = reserved,
	};

	return pe_ioctl(fd, PROCEVENT_IOC_ACK, &ack);
}

static inline int pe_ack(int fd, uint64_t id)
{
	return pe_ack_full(fd, id, 0, 0);
}

static inline int pe_set_timeout(int fd, uint64_t ns)
{
	return pe_ioctl(fd, PROCEVENT_IOC_SET_TIMEOUT, &ns);
}

/* The veto: release the task with SIGKILL pending. */
static inline int pe_ack_kill(int fd, uint64_t id)
{
	return pe_ack_full(fd, id, PROCEVENT_ACK_KILL, 0);
}

static inline int pe_set_scope_full(int fd, uint32_t kind, int32_t dirfd,
				    uint64_t reserved)
{
	struct procevent_scope sc = {
		.kind = kind, .fd = dirfd, .reserved = reserved,
	};

	return pe_ioctl(fd, PROCEVENT_IOC_SET_SCOPE, &sc);
}

static inline int pe_set_scope(int fd, uint32_t kind, int32_t dirfd)
{
	return pe_set_scope_full(fd, kind, dirfd, 0);
}

/* poll() for POLLIN; 1 readable, 0 not within ms, -errno. */
static inline int pe_poll_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;
	int r;

	for (;;) {
		uint64_t now = pe_mono();
		int left = now >= end ? 0 : (int)((end - now) / PE_MS);

		r = poll(&p, 1, left);
		if (r > 0)
			return (p.revents & POLLIN) ? 1 : -EIO;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Wait up to ms for an event and receive it: 0, -ETIMEDOUT, or the RECV
 * error.  RECV is only called once poll() reported an event, so it does
 * not block on a blocking handle either.
 */
static inline int pe_wait_event(int fd, struct procevent_event *ev, int ms)
{
	int r = pe_poll_in(fd, ms);

	if (r < 0)
		return r;
	if (r == 0)
		return -ETIMEDOUT;
	pe_fill(ev, sizeof(*ev));
	return pe_recv(fd, ev);
}

/*
 * Watch a handle for ms: 0 if no event became ready; 1 if one did (it is
 * received into *ev so the caller can report it; teardown releases it).
 */
static inline int pe_quiet(int fd, int ms, struct procevent_event *ev)
{
	if (pe_poll_in(fd, ms) <= 0)
		return 0;
	pe_fill(ev, sizeof(*ev));
	pe_recv(fd, ev);
	return 1;
}

/* ---- children --------------------------------------------------------- */

struct pe_child {
	pid_t pid;
	int gate;	/* parent writes, child reads */
	int report;	/* child writes, parent reads */
};

typedef int (*pe_child_fn)(void *arg);

static inline void pe_track_pid(pid_t pid)
{
	if (pe_npids < PE_MAX_PIDS)
		pe_pids[pe_npids++] = pid;
}

static inline void pe_untrack_pid(pid_t pid)
{
	int i;

	for (i = 0; i < pe_npids; i++) {
		if (pe_pids[i] == pid) {
			pe_pids[i] = pe_pids[--pe_npids];
			return;
		}
	}
}

/*
 * Fork a child running fn(arg); its return value is the exit code.  The
 * child closes every tracked handle first: an inherited reference would
 * keep a handle's file open after the test closed it.
 */
static inline int pe_spawn(struct pe_child *k, pe_child_fn fn, void *arg)
{
	int gate[2], report[2];
	pid_t pid;
	int i;

	if (pipe2(gate, O_CLOEXEC) || pipe2(report, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (i = 0; i < pe_nfds; i++)
			close(pe_fds[i]);
		pe_nfds = 0;
		pe_npids = 0;
		close(gate[1]);
		close(report[0]);
		pe_gate_rd = gate[0];
		pe_report_wr = report[1];
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(arg));
	}
	close(gate[0]);
	close(report[1]);
	k->pid = pid;
	k->gate = gate[1];
	k->report = report[0];
	pe_track_pid(pid);
	return 0;
}

/* In the child: wait for a byte from the parent; -1 on EOF. */
static inline int pe_gate_wait(void)
{
	unsigned char c;
	ssize_t n;

	do {
		n = read(pe_gate_rd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? c : -1;
}

/* In the child: tell the parent something. */
static inline void pe_report(const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(pe_report_wr, buf, len);
	} while (n < 0 && errno == EINTR);
}

static inline void pe_report_byte(char c)
{
	pe_report(&c, 1);
}

/* In the parent: let the child go on. */
static inline int pe_go(struct pe_child *k, char c)
{
	return write(k->gate, &c, 1) == 1 ? 0 : -errno;
}

/* In the parent: read exactly len bytes the child reported, bounded. */
static inline int pe_expect(struct pe_child *k, void *buf, size_t len, int ms)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		int r = pe_poll_in(k->report, ms);

		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(k->report, (char *)buf + got, len - got);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += n;
	}
	return 0;
}

/* In the parent: expect one byte; returns it, or -errno. */
static inline int pe_expect_byte(struct pe_child *k, int ms)
{
	unsigned char c;
	int r = pe_expect(k, &c, 1, ms);

	return r ? r : c;
}

/* Reap pid within ms: 0 and *status, or -ETIMEDOUT. */
static inline int pe_reap(pid_t pid, int ms, int *status)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG | __WALL);

		if (r == pid) {
			pe_untrack_pid(pid);
			if (status)
				*status = st;
			return 0;
		}
		if (r < 0)
			return -errno;
		if (pe_mono() >= end)
			return -ETIMEDOUT;
		pe_sleep_ms(2);
	}
}

/* 1 if pid has not finished exiting (wait(2) does not see it yet). */
static inline int pe_alive(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL))
		return -errno;
	return si.si_pid == 0;
}

static inline void pe_child_close(struct pe_child *k)
{
	close(k->gate);
	close(k->report);
}

/* A child that exits with the code it is given, when told to. */
static inline int pe_fn_exit(void *arg)
{
	pe_gate_wait();
	return (int)(long)arg;
}

static inline int pe_spawn_exit(struct pe_child *k, int code)
{
	return pe_spawn(k, pe_fn_exit, (void *)(long)code);
}

/* Close every handle (which releases what they hold), then reap. */
static inline void pe_cleanup(void)
{
	int i;

	while (pe_nfds)
		pe_close(pe_fds[0]);
	for (i = 0; i < pe_npids; i++)
		kill(pe_pids[i], SIGKILL);
	while (pe_npids) {
		pid_t pid = pe_pids[0];

		if (pe_reap(pid, PE_WAIT_MS, NULL))
			pe_untrack_pid(pid);
	}
}

/* ---- introspection ---------------------------------------------------- */

struct pe_type_stats {
	long long raised, delivered, acked, withdrawn, timedout, lost;
	long long moved, released;
};

struct pe_sub_line {
	long long pos, pid, mask, waiting, received, acked, timeouts;
	unsigned long long timeout_ns;
	char comm[32];
};

struct pe_stats {
	long long held;
	struct pe_type_stats exit, signal, fork, exec;
	int nsubs;
	struct pe_sub_line subs[32];
	/* The pool: line (procevent 0.5), -1 when the module has none. */
	long long pool_size, pool_free, pool_misses;
};

/* Value of " key=<number>" in line; 0 or -ENOENT. */
static inline int pe_kv(const char *line, const char *key,
			unsigned long long *v)
{
	char pat[64];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return -ENOENT;
	p += strlen(pat);
	errno = 0;
	*v = strtoull(p, &end, 0);
	if (end == p || errno)
		return -ENOENT;
	return 0;
}

static inline int pe_kvll(const char *line, const char *key, long long *v)
{
	unsigned long long u = 0;
	int r = pe_kv(line, key, &u);

	if (!r)
		*v = (long long)u;
	return r;
}

static inline int pe_type_line(const char *line, struct pe_type_stats *t)
{
	return pe_kvll(line, "raised", &t->raised) ||
	       pe_kvll(line, "delivered", &t->delivered) ||
	       pe_kvll(line, "acked", &t->acked) ||
	       pe_kvll(line, "withdrawn", &t->withdrawn) ||
	       pe_kvll(line, "timedout", &t->timedout) ||
	       pe_kvll(line, "lost", &t->lost) ||
	       pe_kvll(line, "moved", &t->moved) ||
	       pe_kvll(line, "released", &t->released) ? -EPROTO : 0;
}

/* Parse /proc/procevent: 0, -errno (missing), -EPROTO (bad layout). */
static inline int pe_stats_read(struct pe_stats *s)
{
	char line[512];
	int seen = 0;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->pool_size = s->pool_free = s->pool_misses = -1;
	f = fopen(PE_PROC, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "pool:", 5)) {
			if (pe_kvll(line, "size", &s->pool_size) ||
			    pe_kvll(line, "free", &s->pool_free) ||
			    pe_kvll(line, "misses", &s->pool_misses))
				goto bad;
		} else if (!strncmp(line, "held:", 5)) {
			s->held = strtoll(line + 5, NULL, 10);
			seen |= 1;
		} else if (!strncmp(line, "events:", 7) &&
			   strstr(line, " type=exit ")) {
			if (pe_type_line(line, &s->exit))
				goto bad;
			seen |= 2;
		} else if (!strncmp(line, "events:", 7) &&
			   strstr(line, " type=signal ")) {
			if (pe_type_line(line, &s->signal))
				goto bad;
			seen |= 4;
		} else if (!strncmp(line, "events:", 7) &&
			   strstr(line, " type=fork ")) {
			if (pe_type_line(line, &s->fork))
				goto bad;
		} else if (!strncmp(line, "events:", 7) &&
			   strstr(line, " type=exec ")) {
			if (pe_type_line(line, &s->exec))
				goto bad;
		} else if (!strncmp(line, "subscriber:", 11) && s->nsubs < 32) {
			struct pe_sub_line *u = &s->subs[s->nsubs++];
			unsigned long long tns = 0;
			const char *c = strstr(line, " comm=");

			if (pe_kvll(line, "pos", &u->pos) ||
			    pe_kvll(line, "pid", &u->pid) ||
			    pe_kvll(line, "mask", &u->mask) ||
			    pe_kvll(line, "waiting", &u->waiting) ||
			    pe_kvll(line, "received", &u->received) ||
			    pe_kvll(line, "acked", &u->acked) ||
			    pe_kvll(line, "timeouts", &u->timeouts) ||
			    pe_kv(line, "timeout_ns", &tns) || !c)
				goto bad;
			u->timeout_ns = tns;
			sscanf(c + 6, "%31s", u->comm);
		}
	}
	fclose(f);
	return seen == 7 ? 0 : -EPROTO;
bad:
	fclose(f);
	return -EPROTO;
}

/*
 * The subscriber line at 1-based position pos; a line of -1s when there is
 * none, so assertions on it fail instead of crashing.
 */
static inline struct pe_sub_line *pe_stats_sub(struct pe_stats *s, int pos)
{
	static struct pe_sub_line none;
	int i;

	for (i = 0; i < s->nsubs; i++)
		if (s->subs[i].pos == pos)
			return &s->subs[i];
	memset(&none, 0xff, sizeof(none));
	none.comm[0] = 0;
	return &none;
}

/* "procevent-<key>:" of /proc/<pid>/fdinfo/<fd>: 0 or -errno. */
static inline int pe_fdinfo_pid(pid_t pid, int fd, const char *key,
				unsigned long long *v)
{
	char path[64], line[256], pat[64];
	size_t plen;
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	snprintf(pat, sizeof(pat), "procevent-%s:", key);
	plen = strlen(pat);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (strncmp(line, pat, plen))
			continue;
		errno = 0;
		*v = strtoull(line + plen, &end, 0);
		r = (end == line + plen || errno) ? -EPROTO : 0;
		break;
	}
	fclose(f);
	return r;
}

static inline int pe_fdinfo(int fd, const char *key, unsigned long long *v)
{
	return pe_fdinfo_pid(getpid(), fd, key, v);
}

/*
 * Text value of "procevent-<key>:" in this process' fdinfo of fd, without
 * the tab and newline; "?" when the line is missing, so comparisons fail.
 */
static inline const char *pe_fdinfo_str(int fd, const char *key)
{
	static char val[64];
	char path[64], line[256], pat[64];
	size_t plen;
	FILE *f;

	strcpy(val, "?");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(pat, sizeof(pat), "procevent-%s:\t", key);
	plen = strlen(pat);
	f = fopen(path, "re");
	if (!f)
		return val;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, pat, plen))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(val, sizeof(val), "%s", line + plen);
		break;
	}
	fclose(f);
	return val;
}

/* fdinfo value, or -1 when it cannot be read (so asserts fail visibly). */
static inline long long pe_fdv(int fd, const char *key)
{
	unsigned long long v = 0;

	return pe_fdinfo(fd, key, &v) ? -1 : (long long)v;
}

/* Wait until fdinfo key of fd reaches want; 0 or -ETIMEDOUT/-errno. */
static inline int pe_fdinfo_wait(int fd, const char *key, long long want,
				 int ms)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;

	for (;;) {
		long long v = pe_fdv(fd, key);

		if (v == want)
			return 0;
		if (v < 0)
			return -ENOENT;
		if (pe_mono() >= end)
			return -ETIMEDOUT;
		pe_sleep_ms(2);
	}
}

/*
 * Run the calling thread under SCHED_FIFO (priority 1), as a service that
 * must keep up does: a test's own helper thread (a subscriber draining a
 * burst, a FUSE server) then is not starved by the thousand processes it
 * watches exit.  Best effort: without the right it stays as it was.
 */
static inline void pe_thread_fifo(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

/* The running kernel's major.minor as major * 1000 + minor, or -1. */
static inline int pe_kernel_version(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return -1;
	return major * 1000 + minor;
}

/* Is this a PREEMPT_RT kernel? */
static inline bool pe_kernel_is_rt(void)
{
	FILE *f = fopen("/sys/kernel/realtime", "re");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v == 1;
}

static inline int pe_param_read(const char *name, long long *v)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PE_PARAMS "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	*v = strtoll(buf, NULL, 0);
	return 0;
}

static inline int pe_param_write(const char *name, long long v)
{
	char path[128], buf[64];
	int fd, len, r = 0;

	snprintf(path, sizeof(path), PE_PARAMS "/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lld\n", v);
	if (write(fd, buf, len) != len)
		r = -errno;
	close(fd);
	return r;
}

/* The max_subscribers parameter, 8 when it cannot be read. */
static inline int pe_max_subscribers(void)
{
	long long v = 0;

	return pe_param_read("max_subscribers", &v) || v <= 0 ? 8 : (int)v;
}

/* ---- facts about a task, to compare an event with --------------------- */

/* Field 22 of /proc/<pid>/stat (start time in clock ticks since boot). */
static inline int pe_start_ticks(pid_t pid, unsigned long long *ticks)
{
	char path[64], buf[1024];
	char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -EPROTO;
	p++;
	/* p is now at " <field 3>"; skip to field 22. */
	for (field = 2; field < 21; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EPROTO;
	}
	*ticks = strtoull(p + 1, NULL, 10);
	return 0;
}

/*
 * The cgroup v2 id of pid's cgroup: the 8-byte file handle of its
 * directory under /sys/fs/cgroup.  -ENOSYS when cgroup2 is not mounted
 * there.
 */
static inline int pe_cgroup_id(pid_t pid, uint64_t *id)
{
	struct {
		struct file_handle fh;
		unsigned char buf[64];
	} h;
	char path[4200], line[4096];
	struct statfs sfs;
	int mnt, found = 0;
	FILE *f;

	if (statfs("/sys/fs/cgroup", &sfs) || sfs.f_type != 0x63677270)
		return -ENOSYS;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s",
				 line + 3);
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		return -ENOSYS;
	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = sizeof(h.buf);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0))
		return -errno;
	if (h.fh.handle_bytes != 8)
		return -EPROTO;
	memcpy(id, h.fh.f_handle, 8);
	return 0;
}

/* Drop a capability from this process' effective set. */
static inline int pe_drop_effective_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* ---- signals and threads ---------------------------------------------- */

static inline void pe_noop_handler(int sig)
{
	(void)sig;
}

/* A handler without SA_RESTART, so a blocked call returns EINTR. */
static inline void pe_interrupt_with(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pe_noop_handler;
	sigaction(sig, &sa, NULL);
}

/*
 * Join a thread within ms.  A thread that is stuck (in a call the module
 * should have ended) is interrupted with SIGUSR2 and then joined; the
 * return value says whether that was needed.
 */
static inline int pe_join(pthread_t th, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (!pthread_timedjoin_np(th, NULL, &ts))
		return 0;
	pe_interrupt_with(SIGUSR2);
	do {
		pthread_kill(th, SIGUSR2);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	} while (pthread_timedjoin_np(th, NULL, &ts));
	return -ETIMEDOUT;
}

static inline pid_t pe_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ---- the module itself ------------------------------------------------ */

static inline int pe_loaded(void)
{
	return access(PE_DEV, F_OK) == 0;
}

/* ---- common sequences ------------------------------------------------- */

/* Fork a child that exits with code at once and wait for its event. */
static inline int pe_exit_event(int fd, struct pe_child *k, int code,
				struct procevent_event *ev)
{
	int r = pe_spawn_exit(k, code);

	if (r)
		return r;
	r = pe_go(k, 'x');
	if (r)
		return r;
	return pe_wait_event(fd, ev, PE_WAIT_MS);
}

/* An address that is certainly not mapped. */
static inline void *pe_unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p != MAP_FAILED)
		munmap(p, 4096);
	return p;
}

/* Two children exit one after the other; both events wait on fd. */
/*
 * A mapped page followed by a hole: the page's address, or MAP_FAILED.
 * A copy that starts near its end faults part way.
 */
static inline char *pe_page_before_hole(void)
{
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page != MAP_FAILED && munmap(page + 4096, 4096)) {
		munmap(page, 8192);
		return MAP_FAILED;
	}
	return page;
}

static inline int pe_queued_exits(int fd, struct pe_child *k, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pe_spawn_exit(&k[i], 10 + i) || pe_go(&k[i], 'x'))
			return -1;
		if (pe_fdinfo_wait(fd, "queued", i + 1, PE_WAIT_MS))
			return -2 - i;
	}
	return 0;
}

static inline int pe_two_queued_exits(int fd, struct pe_child *k)
{
	return pe_queued_exits(fd, k, 2);
}

/* Ack id on fd and reap pid: 0, or the first error. */
static inline int pe_ack_reap(int fd, uint64_t id, pid_t pid, int *status)
{
	int r = pe_ack(fd, id);

	return r ? r : pe_reap(pid, PE_WAIT_MS, status);
}

/*
 * Fixture setup helper: skip the test.  The 6.1 harness still runs the
 * test body after a SKIP() in setup, so leave the test process with the
 * harness' skip code instead.
 */
#define PE_SETUP_SKIP(fmt, ...) do {					\
	SKIP(, fmt, ##__VA_ARGS__);					\
	fflush(NULL);							\
	_exit(255);							\
} while (0)

/* Fixture setup helper: skip the test when the module is not loaded. */
#define PE_SETUP_REQUIRE_MODULE() do {					\
	if (!pe_loaded())						\
		PE_SETUP_SKIP("%s does not exist (module not loaded)", PE_DEV); \
} while (0)

/* ---- SPEC 8: fork and exec events ------------------------------------- */

/*
 * Wait for the next event on fd and check that it is of type and about
 * pid: 0, -ETIMEDOUT, the RECV error, or -EPROTO for another event (it
 * stays received in *ev; the teardown releases it).
 */
static inline int pe_wait_event_for(int fd, uint32_t type, pid_t pid,
				    struct procevent_event *ev)
{
	int r = pe_wait_event(fd, ev, PE_WAIT_MS);

	if (r)
		return r;
	return ev->type == type && ev->pid == pid ? 0 : -EPROTO;
}

/*
 * pe_spawn() under a FORK subscription on fd: receive the child's FORK
 * event and ack it, so the child runs.
 */
static inline int pe_spawn_acked(int fd, struct pe_child *k, pe_child_fn fn,
				 void *arg)
{
	struct procevent_event ev;
	int r = pe_spawn(k, fn, arg);

	if (!r)
		r = pe_wait_event_for(fd, PROCEVENT_FORK, k->pid, &ev);
	return r ? r : pe_ack(fd, ev.id);
}

/*
 * Read fd until end of file, for at most ms: the number of bytes read
 * (up to len are kept in buf), or -ETIMEDOUT while a writer is left.
 */
static inline int pe_drain(int fd, char *buf, size_t len, int ms)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;
	size_t got = 0;
	char c;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = pe_mono();
		ssize_t n;

		/* A pipe at end of file polls POLLHUP, not POLLIN. */
		n = poll(&p, 1, now >= end ? 0 : (int)((end - now) / PE_MS));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0)
			continue;
		n = read(fd, &c, 1);
		if (n == 0)
			return (int)got;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (got < len)
			buf[got] = c;
		got++;
	}
}

/*
 * A different program to exec: a copy of the test binary under the name
 * PE_HELPER_NAME.  A binary that uses it says PE_EXEC_HELPER() once: then,
 * started with PE_HELPER_ENV in its environment, it writes 'N' to fd
 * PE_HELPER_FD and exits with PE_HELPER_CODE before the harness runs.  The
 * byte is the proof that a line of the new program ran.
 */
#define PE_HELPER_NAME	"pe-newprog"
#define PE_HELPER_FD	100
#define PE_HELPER_CODE	42
#define PE_HELPER_ENV	"PE_HELPER_FD=100"

#define PE_EXEC_HELPER()						\
static void __attribute__((constructor(101))) pe_helper_main(void)	\
{									\
	const char *v = getenv("PE_HELPER_FD");				\
									\
	if (v)								\
		_exit(write(atoi(v), "N", 1) == 1 ? PE_HELPER_CODE : 1); \
}

static char pe_helper_dir[256] __attribute__((unused));
static char pe_helper_path[300] __attribute__((unused));
static char *pe_helper_argv[] __attribute__((unused)) = {
	PE_HELPER_NAME, "one", "two", NULL,
};
static char *pe_helper_envp[] __attribute__((unused)) = {
	PE_HELPER_ENV, NULL,
};

/*
 * Copy /proc/self/exe to a new directory under $TMPDIR (or /tmp).  The
 * copy is closed before this returns: a child forked while it is open for
 * writing would make every exec of it fail with ETXTBSY.
 */
static inline int pe_helper_install(void)
{
	const char *tmp = getenv("TMPDIR");
	char buf[65536];
	int in, out, r = 0;
	ssize_t n;

	snprintf(pe_helper_dir, sizeof(pe_helper_dir), "%s/pe-helper-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(pe_helper_dir))
		return -errno;
	snprintf(pe_helper_path, sizeof(pe_helper_path), "%s/%s",
		 pe_helper_dir, PE_HELPER_NAME);
	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(pe_helper_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		   0755);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, n) != n) {
			r = -EIO;
			break;
		}
	}
	if (n < 0)
		r = -errno;
	close(in);
	if (close(out) && !r)
		r = -errno;
	return r;
}

static inline void pe_helper_remove(void)
{
	if (pe_helper_path[0])
		unlink(pe_helper_path);
	if (pe_helper_dir[0])
		rmdir(pe_helper_dir);
	pe_helper_path[0] = 0;
	pe_helper_dir[0] = 0;
}

/* In a child: exec the helper, which will write to wfd; returns errno. */
static inline int pe_helper_exec(int wfd)
{
	if (dup2(wfd, PE_HELPER_FD) < 0)
		return errno;
	execve(pe_helper_path, pe_helper_argv, pe_helper_envp);
	return errno;
}

#endif /* PROCEVENT_UTIL_H */
