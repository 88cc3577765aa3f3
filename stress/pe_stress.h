/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the procevent stress programs: TAP output, figures for
 * the Robustness table, the module's counters, bounded waits and a small
 * random number generator.
 *
 * Every program prints TAP ("ok N name" / "not ok N name") for the VM
 * runner and one "PE-FIG <key> <value>" line per figure; stress/run.sh
 * turns the figures of the last run into the table in README.md.
 *
 * Every process in the VM is an event source.  A program that subscribes
 * is exempt while it holds a listed handle; everything it forks is held
 * like any other process, so no thread of a subscriber may wait for a
 * child without another thread (or process) acknowledging its events.
 */
#ifndef PE_STRESS_H
#define PE_STRESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
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
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/procevent.h>

#define PE_DEV		"/dev/procevent"
#define PE_PROC		"/proc/procevent"
#define PE_PARAMS	"/sys/module/procevent/parameters"
#define PE_ALL_TYPES	(PROCEVENT_EXIT | PROCEVENT_SIGNAL | PROCEVENT_FORK | \
			 PROCEVENT_EXEC)
#define PE_NTYPES	4
#define PE_MS		1000000ULL

static const char * const pe_type_names[PE_NTYPES] = {
	"exit", "signal", "fork", "exec",
};

/* ---- time, randomness ---------------------------------------------------- */

static inline uint64_t pe_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void pe_sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* xorshift64*: per-thread state, seeded by the caller. */
static inline uint64_t pe_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline unsigned int pe_rand_below(uint64_t *s, unsigned int n)
{
	return n ? (unsigned int)(pe_rand(s) % n) : 0;
}

/* "short" when the run is the quick one inside make check. */
static inline int pe_short(void)
{
	const char *s = getenv("PE_STRESS_SCALE");

	return s && !strcmp(s, "short");
}

/* ---- TAP and figures ------------------------------------------------------ */

static int pe_tap_n;
static int pe_tap_failed;

static inline void pe_tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static inline void pe_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void pe_tap(int ok, const char *name)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++pe_tap_n, name);
	fflush(stdout);
	if (!ok)
		pe_tap_failed++;
}

static inline int pe_tap_exit(void)
{
	fflush(NULL);
	return pe_tap_failed ? 1 : 0;
}

static inline void pe_fig(const char *key, long long v)
{
	printf("PE-FIG %s %lld\n", key, v);
	fflush(stdout);
}

/* ---- the module's counters ------------------------------------------------ */

struct pe_tstats {
	long long raised, delivered, acked, withdrawn, timedout, lost;
};

struct pe_counters {
	long long held;
	struct pe_tstats t[PE_NTYPES];
	int nsubs;
	long long waiting, received;	/* summed over the subscriber lines */
};

static inline long long pe_kv(const char *line, const char *key)
{
	char pat[48];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtoll(p + strlen(pat), NULL, 0) : -1;
}

/* Parse /proc/procevent; 0 or -errno. */
static inline int pe_counters_read(struct pe_counters *c)
{
	char line[512];
	FILE *f;
	int i;

	memset(c, 0, sizeof(*c));
	f = fopen(PE_PROC, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "held:", 5)) {
			c->held = strtoll(line + 5, NULL, 10);
		} else if (!strncmp(line, "events:", 7)) {
			for (i = 0; i < PE_NTYPES; i++) {
				char t[32];
				struct pe_tstats *s = &c->t[i];

				snprintf(t, sizeof(t), " type=%s ",
					 pe_type_names[i]);
				if (!strstr(line, t))
					continue;
				s->raised = pe_kv(line, "raised");
				s->delivered = pe_kv(line, "delivered");
				s->acked = pe_kv(line, "acked");
				s->withdrawn = pe_kv(line, "withdrawn");
				s->timedout = pe_kv(line, "timedout");
				s->lost = pe_kv(line, "lost");
			}
		} else if (!strncmp(line, "subscriber:", 11)) {
			c->nsubs++;
			c->waiting += pe_kv(line, "waiting");
			c->received += pe_kv(line, "received");
		}
	}
	fclose(f);
	return 0;
}

/* b - a, per type. */
static inline void pe_counters_delta(const struct pe_counters *a,
				     const struct pe_counters *b,
				     struct pe_tstats *d)
{
	int i;

	for (i = 0; i < PE_NTYPES; i++) {
		d[i].raised = b->t[i].raised - a->t[i].raised;
		d[i].delivered = b->t[i].delivered - a->t[i].delivered;
		d[i].acked = b->t[i].acked - a->t[i].acked;
		d[i].withdrawn = b->t[i].withdrawn - a->t[i].withdrawn;
		d[i].timedout = b->t[i].timedout - a->t[i].timedout;
		d[i].lost = b->t[i].lost - a->t[i].lost;
	}
}

static inline void pe_sum(const struct pe_tstats *d, struct pe_tstats *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < PE_NTYPES; i++) {
		s->raised += d[i].raised;
		s->delivered += d[i].delivered;
		s->acked += d[i].acked;
		s->withdrawn += d[i].withdrawn;
		s->timedout += d[i].timedout;
		s->lost += d[i].lost;
	}
}

static inline void pe_counters_diag(const char *what,
				    const struct pe_tstats *d)
{
	int i;

	for (i = 0; i < PE_NTYPES; i++)
		pe_diag("%s %-6s raised=%lld delivered=%lld acked=%lld withdrawn=%lld timedout=%lld lost=%lld",
			what, pe_type_names[i], d[i].raised, d[i].delivered,
			d[i].acked, d[i].withdrawn, d[i].timedout, d[i].lost);
}

/*
 * Wait until nothing is held or waiting on any handle: 0, or -ETIMEDOUT
 * after ms.  *c holds the last reading.
 */
static inline int pe_wait_quiet(struct pe_counters *c, int ms)
{
	uint64_t end = pe_now() + (uint64_t)ms * PE_MS;

	for (;;) {
		if (pe_counters_read(c))
			return -ENOENT;
		if (!c->held && !c->waiting && !c->received)
			return 0;
		if (pe_now() >= end)
			return -ETIMEDOUT;
		pe_sleep_us(5000);
	}
}

static inline int pe_param_write(const char *name, long long v)
{
	char path[128], buf[32];
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

static inline long long pe_param_read(const char *name)
{
	char path[128], buf[32];
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
	return strtoll(buf, NULL, 0);
}

/* ---- handles -------------------------------------------------------------- */

static inline int pe_subscribe(uint32_t mask, int flags)
{
	int fd = open(PE_DEV, O_RDWR | O_CLOEXEC | flags);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static inline int pe_ack1(int fd, uint64_t id)
{
	struct procevent_ack a = { .id = id };

	return ioctl(fd, PROCEVENT_IOC_ACK, &a) ? -errno : 0;
}

/* poll for POLLIN up to ms: 1 ready, 0 not, -errno. */
static inline int pe_poll_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r > 0;
}

/* Reap pid within ms: 0 and *status, or -ETIMEDOUT/-errno. */
static inline int pe_reap(pid_t pid, int ms, int *status)
{
	uint64_t end = pe_now() + (uint64_t)ms * PE_MS;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG | __WALL);

		if (r == pid) {
			if (status)
				*status = st;
			return 0;
		}
		if (r < 0)
			return -errno;
		if (pe_now() >= end)
			return -ETIMEDOUT;
		pe_sleep_us(2000);
	}
}

/* Anonymous memory shared with children. */
static inline void *pe_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#endif /* PE_STRESS_H */
