// SPDX-License-Identifier: GPL-2.0
/*
 * realbench: read an observer's event stream (one text line per event) as
 * it arrives, count the events and check each process exit the moment it
 * is read.
 *
 *   lnchk KIND READYFILE SUMMARYFILE
 *
 * KIND is forkstat, bpftrace, audit or strace: how a line names an event
 * and its pid.  READYFILE is created at the first line (forkstat's
 * header, bpftrace's BEGIN "READY", audit's first record).  At end of
 * input SUMMARYFILE gets "seen=N exits=N late=N lost=N fork=N exec=N
 * exit=N signal=N"; lost counts forkstat's "nobufs" lines (a recv that
 * failed with ENOBUFS: the socket overflowed, messages were dropped) and
 * the N of bpftrace's "Lost N events".
 *
 * late: process exits whose /proc/<pid> was already gone when the line
 * was read, that is whose parent's wait had returned (reaping removes
 * /proc/<pid>; a zombie keeps it) before the observer's user space
 * learned of the death.  The line passes through one pipe to get here,
 * which a consumer built into the observer would not: on one CPU this
 * hop is a few context switches.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { T_FORK, T_EXEC, T_EXIT, T_SIGNAL, T_NONE };

static unsigned long long by[4], exits, late, lost;

static void exit_of(long pid)
{
	char path[64];

	if (pid <= 0)
		return;
	exits++;
	snprintf(path, sizeof(path), "/proc/%ld", pid);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		late++;
}

/* forkstat: "HH:MM:SS fork   PID parent ..." or "exit   PID  STATUS ..." */
static int forkstat_line(const char *l)
{
	char t[32], ev[32];
	long pid;

	if (strstr(l, " nobufs ")) {	/* a recv that failed with ENOBUFS */
		lost++;
		return T_NONE;
	}
	if (sscanf(l, "%31s %31s %ld", t, ev, &pid) != 3)
		return T_NONE;
	if (!strcmp(ev, "fork"))	/* a "parent" and a "child" line each */
		return strstr(l, " child ") ? T_FORK : T_NONE;
	if (!strcmp(ev, "exec"))
		return T_EXEC;
	if (!strcmp(ev, "exit")) {
		exit_of(pid);
		return T_EXIT;
	}
	return T_NONE;
}

/* bpftrace (realbench.bt): "F child", "X pid", "E pid tid", "S pid sig" */
static int bpftrace_line(const char *l)
{
	long a = 0, b = 0;

	switch (l[0]) {
	case 'F': return T_FORK;
	case 'X': return T_EXEC;
	case 'S': return T_SIGNAL;
	case 'E':
		if (sscanf(l + 1, "%ld %ld", &a, &b) == 2 && a == b)
			exit_of(a);
		return T_EXIT;
	}
	return T_NONE;
}

/* audit: "type=SYSCALL msg=audit(...): arch=c000003e syscall=59 ... pid=N" */
static int audit_line(const char *l)
{
	const char *s, *p;
	long nr;

	if (strncmp(l, "type=SYSCALL ", 13))
		return T_NONE;
	s = strstr(l, " syscall=");
	p = strstr(l, " pid=");
	if (!s || !p)
		return T_NONE;
	nr = strtol(s + 9, NULL, 10);
	switch (nr) {
	case 59: case 322: return T_EXEC;		/* execve, execveat */
	case 56: case 57: case 58: case 435: return T_FORK; /* clone... */
	case 231:					/* exit_group */
		exit_of(strtol(p + 5, NULL, 10));
		return T_EXIT;
	case 60: return T_EXIT;				/* exit: a thread */
	}
	return T_NONE;
}

/* strace -f: "PID execve(...", "PID clone(...", "PID +++ exited with N +++" */
static int strace_line(const char *l)
{
	char *end;
	long pid = strtol(l, &end, 10);

	if (end == l)
		return T_NONE;
	while (*end == ' ')
		end++;
	if (!strncmp(end, "+++ ", 4)) {
		exit_of(pid);
		return T_EXIT;
	}
	if (!strncmp(end, "--- SIG", 7))
		return T_SIGNAL;
	if (!strncmp(end, "execve(", 7) && !strstr(end, "= -1 "))
		return T_EXEC;
	if (!strncmp(end, "clone", 5) || !strncmp(end, "fork(", 5) ||
	    !strncmp(end, "vfork(", 6))
		return T_FORK;
	return T_NONE;
}

int main(int argc, char **argv)
{
	int (*parse)(const char *);
	char *line = NULL;
	size_t cap = 0;
	int ready = 0, t;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: lnchk forkstat|bpftrace|audit|strace READYFILE SUMMARYFILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "forkstat"))
		parse = forkstat_line;
	else if (!strcmp(argv[1], "bpftrace"))
		parse = bpftrace_line;
	else if (!strcmp(argv[1], "audit"))
		parse = audit_line;
	else if (!strcmp(argv[1], "strace"))
		parse = strace_line;
	else
		return 2;

	while (getline(&line, &cap, stdin) >= 0) {
		if (!strncmp(line, "Lost ", 5)) {	/* bpftrace: "Lost N events" */
			lost += strtoull(line + 5, NULL, 10);
			continue;
		}
		if (!ready) {
			int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd >= 0)
				close(fd);
			ready = 1;
		}
		t = parse(line);
		if (t != T_NONE)
			by[t]++;
	}
	f = fopen(argv[3], "w");
	if (!f)
		return 1;
	fprintf(f, "seen=%llu exits=%llu late=%llu lost=%llu fork=%llu exec=%llu exit=%llu signal=%llu\n",
		by[0] + by[1] + by[2] + by[3], exits, late, lost, by[T_FORK],
		by[T_EXEC], by[T_EXIT], by[T_SIGNAL]);
	return fclose(f) ? 1 : 0;
}
