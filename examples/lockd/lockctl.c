// SPDX-License-Identifier: GPL-2.0
/*
 * lockctl: take a lockd lock for the life of a command, or look at one.
 *
 *   lockctl [-s SOCKET] acquire [-n] [-t SECONDS] NAME [--] COMMAND [ARG...]
 *   lockctl [-s SOCKET] status NAME
 *   lockctl [-s SOCKET] ping
 *
 * acquire takes the lock and then executes COMMAND in the same process, so
 * the lock is held exactly as long as COMMAND runs: lockd releases it when
 * the process exits, however it exits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockc.h"

/* Exit statuses besides COMMAND's own. */
#define EX_FAIL		1
#define EX_USAGE	2
#define EX_NOSERVER	3
#define EX_BUSY		75	/* EX_TEMPFAIL: held elsewhere, or timed out */
#define EX_NOEXEC	126
#define EX_NOTFOUND	127

static void usage(FILE *f)
{
	fprintf(f,
"usage: lockctl [-s SOCKET] acquire [-n] [-t SECONDS] NAME [--] COMMAND [ARG...]\n"
"       lockctl [-s SOCKET] status NAME\n"
"       lockctl [-s SOCKET] ping\n"
"  -s, --socket PATH   the server's socket (default $" LOCKD_SOCKET_ENV " or " LOCKD_SOCKET_DEFAULT ")\n"
"  -n, --nonblock      fail at once (status 75) when the lock is held\n"
"  -t, --timeout SEC   give up (status 75) after SEC seconds\n");
}

static int connect_or_die(struct lockc *c, const char *path)
{
	int ret = lockc_connect(c, path);

	if (ret) {
		fprintf(stderr, "lockctl: %s: %s\n", path ? path : lockc_default_path(),
			strerror(-ret));
		exit(EX_NOSERVER);
	}
	return 0;
}

static int cmd_acquire(const char *path, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "nonblock", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int flags = 0;
	int timeout_ms = -1, ch, ret;
	const char *name;
	struct lockc c;
	pid_t holder = 0;
	char *end;
	double t;

	optind = 1;
	/* '+': options end at NAME, COMMAND's own options are its own. */
	while ((ch = getopt_long(argc, argv, "+nt:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			flags |= LOCKC_NONBLOCK;
			break;
		case 't':
			t = strtod(optarg, &end);
			if (end == optarg || *end || t < 0 || t > 86400 * 365) {
				fprintf(stderr, "lockctl: bad timeout '%s'\n", optarg);
				return EX_USAGE;
			}
			timeout_ms = (int)(t * 1000);
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	name = argv[optind++];
	if (!strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}

	connect_or_die(&c, path);
	ret = lockc_acquire(&c, name, flags, timeout_ms, &holder);
	if (ret == -EWOULDBLOCK) {
		fprintf(stderr, "lockctl: %s is held by pid %d\n", name, (int)holder);
		return EX_BUSY;
	}
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "lockctl: %s: timed out\n", name);
		return EX_BUSY;
	}
	if (ret) {
		fprintf(stderr, "lockctl: %s: %s\n", name, strerror(-ret));
		return EX_FAIL;
	}
	/* The lock is the process's, not the connection's: it survives this. */
	lockc_close(&c);
	execvp(argv[optind], &argv[optind]);
	ret = errno;
	fprintf(stderr, "lockctl: %s: %s\n", argv[optind], strerror(ret));
	return ret == ENOENT ? EX_NOTFOUND : EX_NOEXEC;
}

static int cmd_status(const char *path, int argc, char **argv)
{
	struct lockc_info info;
	struct lockc c;
	unsigned int i;
	int ret;

	if (argc != 2) {
		usage(stderr);
		return EX_USAGE;
	}
	connect_or_die(&c, path);
	ret = lockc_query(&c, argv[1], &info);
	if (ret) {
		fprintf(stderr, "lockctl: %s: %s\n", argv[1], strerror(-ret));
		return EX_FAIL;
	}
	if (info.holder)
		printf("%s: held by pid %d", argv[1], (int)info.holder);
	else
		printf("%s: free", argv[1]);
	if (info.nwaiters) {
		printf(", %u waiting:", info.nwaiters);
		for (i = 0; i < info.shown; i++)
			printf(" %d", (int)info.waiters[i]);
		if (info.shown < info.nwaiters)
			printf(" ...");
	}
	printf("\n");
	return 0;
}

static int cmd_ping(const char *path, int argc)
{
	struct lockc c;
	int ret;

	if (argc != 1) {
		usage(stderr);
		return EX_USAGE;
	}
	connect_or_die(&c, path);
	ret = lockc_ping(&c);
	if (ret) {
		fprintf(stderr, "lockctl: ping: %s\n", strerror(-ret));
		return EX_FAIL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "acquire"))
		return cmd_acquire(path, argc, argv);
	if (!strcmp(argv[0], "status"))
		return cmd_status(path, argc, argv);
	if (!strcmp(argv[0], "ping"))
		return cmd_ping(path, argc);
	fprintf(stderr, "lockctl: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return EX_USAGE;
}
