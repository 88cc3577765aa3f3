/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A built-in workload: a process that keeps forking short-lived children
 * which exit, catch a signal, exec /bin/true or exit from several threads,
 * each child raising FORK, EXIT and maybe SIGNAL or EXEC.  It reaps every
 * child and counts what it saw in memory shared with whoever started it,
 * so a test can prove that every workload process was reaped with the
 * status it chose.
 */
#ifndef PE_WORKLOAD_H
#define PE_WORKLOAD_H

#include "pe_stress.h"

struct pe_wl {
	/* set by the starter */
	volatile int stop;
	int par;		/* children in flight at most */
	int allow_kill;		/* children may die by SIGKILL (kill-acks) */
	long long max_children;	/* 0: until stop */
	/* written by the workload */
	volatile long long spawned, reaped, bad_status, killed, fork_failed;
	volatile int done;
};

static void pe_wl_handler(int sig)
{
	(void)sig;
}

static void *pe_wl_thread(void *arg)
{
	pe_sleep_us(200);
	return arg;
}

/* The child: kind chooses the events it raises; returns the exit code. */
static int pe_wl_child(int kind, int code)
{
	struct sigaction sa;
	pthread_t th[3];
	int i;

	switch (kind) {
	case 1:
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = pe_wl_handler;
		sigaction(SIGUSR1, &sa, NULL);
		raise(SIGUSR1);
		break;
	case 2:
		execl("/bin/true", "true", (char *)NULL);
		return 99;
	case 3:
		for (i = 0; i < 3; i++)
			pthread_create(&th[i], NULL, pe_wl_thread, NULL);
		break;
	}
	return code;
}

static inline int pe_wl_expected(int kind, int code)
{
	return kind == 2 ? 0 : code;
}

#define PE_WL_MAXPAR 64

/* Runs in its own process until wl->stop (or max_children); then exits. */
static void pe_wl_main(struct pe_wl *wl, uint64_t seed)
{
	struct { pid_t pid; int want; } kids[PE_WL_MAXPAR];
	int nk = 0, par = wl->par > PE_WL_MAXPAR ? PE_WL_MAXPAR : wl->par;
	long long n = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		int stopping = wl->stop ||
			       (wl->max_children && n >= wl->max_children);

		if (!stopping && nk < par) {
			int kind = pe_rand_below(&seed, 4);
			int code = pe_rand_below(&seed, 100);
			pid_t pid = fork();

			if (pid == 0)
				_exit(pe_wl_child(kind, code));
			if (pid < 0) {
				wl->fork_failed++;
				pe_sleep_us(10000);
				continue;
			}
			kids[nk].pid = pid;
			kids[nk].want = pe_wl_expected(kind, code);
			nk++;
			n++;
			wl->spawned = n;
			continue;
		}
		if (!nk)
			break;
		{
			int st, i;
			pid_t r = waitpid(-1, &st, 0);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			for (i = 0; i < nk; i++)
				if (kids[i].pid == r)
					break;
			if (i == nk)
				continue;
			if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
			    wl->allow_kill)
				wl->killed++;
			else if (!WIFEXITED(st) ||
				 WEXITSTATUS(st) != kids[i].want)
				wl->bad_status++;
			kids[i] = kids[--nk];
			wl->reaped++;
		}
	}
	wl->done = 1;
	_exit(0);
}

/* Start the workload process; returns its pid or -errno. */
static inline pid_t pe_wl_start(struct pe_wl *wl, uint64_t seed)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		pe_wl_main(wl, seed);
	return pid;
}

/* Stop it and reap it within ms: 0, or -ETIMEDOUT (then it is killed). */
static inline int pe_wl_stop(struct pe_wl *wl, pid_t pid, int ms)
{
	int r;

	wl->stop = 1;
	r = pe_reap(pid, ms, NULL);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		pe_reap(pid, 5000, NULL);
	}
	return r;
}

#endif /* PE_WORKLOAD_H */
