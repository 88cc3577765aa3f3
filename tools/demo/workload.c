// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's workload: a parent with two children.  "catcher" installs a
 * SIGUSR1 handler and is sent SIGUSR1; "exiter" exits with status 3.  The
 * parent measures how long the handler took to run after kill(2) and how
 * long each waitpid(2) took: with a subscriber that acks after a delay,
 * both take that delay, which is the hold made visible.
 *
 *   demo-workload ACK_DELAY_MS MONITOR_PID_FILE
 *
 * It first waits (up to 20 s) for the monitor's pid file and for
 * /proc/procevent to list it, so that nothing it does happens before the
 * monitor is listening.  Besides
 * the narrative it prints one line for the demo script to check:
 *   DEMO-RESULT catcher=<pid> exiter=<pid> handler_ms=<n> catcher_wait_ms=<n>
 *               exiter_wait_ms=<n> exiter_status=<n>
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "procevent.h"

static int ack_delay_ms;
static int report_fd = -1;	/* catcher's end of the report pipe */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long ms_since(uint64_t t0)
{
	return (long)((now_ns() - t0 + 500000) / 1000000);
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("workload[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *what)
{
	say("%s: %s", what, strerror(errno));
	exit(1);
}

static void wait_for_subscriber(const char *pid_file)
{
	struct procevent_status *st = NULL;
	int i, ret;

	/*
	 * The monitor writes its pid file once its subscription is in
	 * effect; /proc/procevent may list it a moment before that.
	 */
	for (i = 0; i < 2000; i++) {
		if (access(pid_file, F_OK)) {
			usleep(10000);
			continue;
		}
		ret = procevent_status_read(&st);
		if (ret == 0 && st->nr_subscribers > 0)
			break;
		procevent_status_free(st);
		st = NULL;
		usleep(10000);
	}
	if (!st) {
		say("no subscriber showed up in /proc/procevent; giving up");
		exit(1);
	}
	say("/proc/procevent lists subscriber %u: pid %d (%s), mask 0x%x - starting",
	    st->subscribers[0].pos, (int)st->subscribers[0].pid,
	    st->subscribers[0].comm, st->subscribers[0].mask);
	procevent_status_free(st);
}

static void on_usr1(int sig)
{
	uint64_t t = now_ns();

	(void)sig;
	/* write(2) is async-signal-safe; the parent computes the delay. */
	if (write(report_fd, &t, sizeof(t)) != sizeof(t))
		_exit(2);
}

/* Child 1: catch SIGUSR1 once, then return from main (exit status 0). */
static void catcher(int ready_fd)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t none;

	prctl(PR_SET_NAME, "catcher");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (write(ready_fd, "r", 1) != 1)
		_exit(2);
	sigemptyset(&none);
	sigsuspend(&none);
	exit(0);
}

/* Child 2: exit with status 3 when told to. */
static void exiter(int go_fd)
{
	char c;

	prctl(PR_SET_NAME, "exiter");
	if (read(go_fd, &c, 1) != 1)
		_exit(2);
	exit(3);
}

static long timed_wait(pid_t pid, int *status)
{
	uint64_t t0 = now_ns();

	if (waitpid(pid, status, 0) != pid)
		die("waitpid");
	return ms_since(t0);
}

int main(int argc, char **argv)
{
	int rep[2], go[2], status;
	uint64_t t_kill, t_handler;
	long handler_ms, catcher_ms, exiter_ms;
	pid_t c1, c2;
	sigset_t usr1;
	char buf[64], c;

	if (argc != 3) {
		fprintf(stderr, "usage: %s ACK_DELAY_MS MONITOR_PID_FILE\n", argv[0]);
		return 2;
	}
	ack_delay_ms = atoi(argv[1]);
	wait_for_subscriber(argv[2]);

	/* 1. a signal caught by a handler */
	if (pipe(rep))
		die("pipe");
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	/* Blocked until sigsuspend(): the signal cannot come too early. */
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	c1 = fork();
	if (c1 < 0)
		die("fork");
	if (c1 == 0) {
		close(rep[0]);
		report_fd = rep[1];
		catcher(rep[1]);
	}
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	close(rep[1]);
	if (read(rep[0], &c, 1) != 1)
		die("catcher did not start");
	say("child %d (catcher) has a SIGUSR1 handler; sending it SIGUSR1", (int)c1);
	t_kill = now_ns();
	if (kill(c1, SIGUSR1))
		die("kill");
	if (read(rep[0], &t_handler, sizeof(t_handler)) != sizeof(t_handler))
		die("catcher's handler did not report");
	handler_ms = (long)((t_handler - t_kill + 500000) / 1000000);
	say("catcher's handler ran %ld ms after kill() (monitor's ack delay: %d ms)",
	    handler_ms, ack_delay_ms);
	say("catcher returns from its handler and exits 0; waiting for it");
	catcher_ms = timed_wait(c1, &status);
	procevent_format_status(status, buf, sizeof(buf));
	say("waitpid(catcher) returned after %ld ms: %s", catcher_ms, buf);
	close(rep[0]);

	/* 2. a process exiting with a status */
	if (pipe(go))
		die("pipe");
	c2 = fork();
	if (c2 < 0)
		die("fork");
	if (c2 == 0) {
		close(go[1]);
		exiter(go[0]);
	}
	close(go[0]);
	say("child %d (exiter) calls exit(3) now; waiting for it", (int)c2);
	if (write(go[1], "g", 1) != 1)
		die("write");
	exiter_ms = timed_wait(c2, &status);
	close(go[1]);
	procevent_format_status(status, buf, sizeof(buf));
	say("waitpid(exiter) returned after %ld ms: %s (monitor's ack delay: %d ms)",
	    exiter_ms, buf, ack_delay_ms);

	printf("DEMO-RESULT catcher=%d exiter=%d handler_ms=%ld catcher_wait_ms=%ld exiter_wait_ms=%ld exiter_status=%d\n",
	       (int)c1, (int)c2, handler_ms, catcher_ms, exiter_ms,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	say("done; my own exit is the last event");
	fflush(stdout);
	return 0;
}
