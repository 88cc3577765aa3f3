/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the lockd tests: a clock, starting a lockd server as a
 * separate process and waiting until it answers, stopping it.
 *
 * The server binary is $LOCKD_BIN, else ../bin/lockd beside the test
 * program (the build tree), else "lockd" on PATH (the test VM).
 */
#ifndef LOCKD_TEST_H
#define LOCKD_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lockc.h"

#define LT_WAIT_MS	5000

/*
 * How many times longer a latency bound is on a debug kernel (KASAN,
 * lockdep, under TCG): make check boots those with PROCEVENT_SLOW=1 on
 * the command line, which the kernel hands to init's environment.  A
 * request there costs tens of times what it does on a distribution
 * kernel; the bounds stay far below what a stalled client would wait.
 */
static inline int lt_slow(void)
{
	return getenv("PROCEVENT_SLOW") ? 5 : 1;
}

static inline int64_t lt_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t lt_ms(void)
{
	return lt_ns() / 1000000;
}

static inline void lt_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline const char *lt_server_bin(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("LOCKD_BIN");
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n > 0) {
		path[n] = '\0';
		slash = strrchr(path, '/');
		if (slash) {
			strcpy(slash, "/../bin/lockd");
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return "lockd";
}

/* /dev/procevent is there: the module is loaded. */
static inline int lt_have_procevent(void)
{
	return access("/dev/procevent", F_OK) == 0;
}

struct lt_server {
	pid_t pid;
	char socket[108];
};

/*
 * Start "lockd --notify=@notify --socket @path [extra...]" and wait until
 * it answers a ping.  Returns 0, or -1 when it exited (*@status) or did
 * not answer in time (it is killed then).
 */
static inline int lt_server_start(struct lt_server *s, const char *notify,
				  const char *path, const char *const *extra,
				  int *status)
{
	const char *argv[24];
	char notify_arg[64];
	int argc = 0, i, st = -1;
	struct lockc c;
	int64_t deadline;

	snprintf(s->socket, sizeof(s->socket), "%s", path);
	snprintf(notify_arg, sizeof(notify_arg), "--notify=%s", notify);
	argv[argc++] = "lockd";
	argv[argc++] = notify_arg;
	argv[argc++] = "--socket";
	argv[argc++] = s->socket;
	for (i = 0; extra && extra[i] && argc < 23; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	unlink(path);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		const char *bin = lt_server_bin();

		if (strchr(bin, '/'))
			execv(bin, (char **)argv);
		else
			execvp(bin, (char **)argv);
		fprintf(stderr, "lockd_test: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	deadline = lt_ms() + LT_WAIT_MS;
	while (lt_ms() < deadline) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			if (status)
				*status = st;
			s->pid = 0;
			return -1;
		}
		if (lockc_connect(&c, s->socket) == 0) {
			int ret = lockc_ping(&c);

			lockc_close(&c);
			if (ret == 0)
				return 0;
		}
		lt_sleep_ms(5);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	if (status)
		*status = st;
	s->pid = 0;
	return -1;
}

/* The server is still running (has not exited or crashed). */
static inline int lt_server_alive(struct lt_server *s)
{
	int st;

	return s->pid > 0 && waitpid(s->pid, &st, WNOHANG) == 0;
}

/* SIGTERM, and the wait(2) status (-1 if it had to be killed). */
static inline int lt_server_stop(struct lt_server *s)
{
	int64_t deadline = lt_ms() + LT_WAIT_MS;
	int st = -1;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	while (lt_ms() < deadline) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return st;
		}
		lt_sleep_ms(2);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
	return -1;
}

#endif /* LOCKD_TEST_H */
