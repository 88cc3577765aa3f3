// SPDX-License-Identifier: GPL-2.0
/*
 * realbench: the procevent observer.  One subscriber for
 * EXIT|SIGNAL|FORK|EXEC through libprocevent that acknowledges at once, a
 * read(2) batch at a time and a write(2) batch of acks.
 *
 *   pe_sub READYFILE        create READYFILE once subscribed; on SIGINT or
 *                           SIGTERM print the summary line and exit
 *
 * Summary: "seen=N exits=N late=N lost=N fork=N exec=N exit=N signal=N".
 * late counts process exits (pid == tgid) whose /proc/<pid> was already
 * gone when the event was read: the parent's wait had returned before the
 * observer learned of the death.  (procevent holds the exit until the
 * ack, so it must read 0.)  lost is the module's own loss counter.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procevent.h"

#define BATCH 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct procevent_event evs[BATCH];
	uint64_t ids[BATCH];
	unsigned long long seen = 0, exits = 0, late = 0, by[4] = { 0 };
	unsigned long long lost = 0;
	struct procevent_status *st;
	struct sigaction sa;
	char path[64];
	int fd, fdr;

	if (argc != 2) {
		fprintf(stderr, "usage: pe_sub READYFILE\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: the read returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = procevent_open(PROCEVENT_ALL, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pe_sub: %s\n", procevent_strerror(fd));
		return 1;
	}
	fdr = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fdr >= 0)
		close(fdr);

	while (!stop) {
		ssize_t n = procevent_recv_many(fd, evs, BATCH, -1), i;

		if (n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "pe_sub: recv: %s\n", procevent_strerror((int)n));
			return 1;
		}
		for (i = 0; i < n; i++) {
			const struct procevent_event *ev = &evs[i];

			ids[i] = ev->id;
			seen++;
			switch (ev->type) {
			case PROCEVENT_EXIT:
				by[0]++;
				if (ev->pid != ev->tgid)
					break;
				exits++;
				snprintf(path, sizeof(path), "/proc/%d", ev->tgid);
				if (access(path, F_OK) != 0 && errno == ENOENT)
					late++;
				break;
			case PROCEVENT_SIGNAL:
				by[1]++;
				break;
			case PROCEVENT_FORK:
				by[2]++;
				break;
			case PROCEVENT_EXEC:
				by[3]++;
				break;
			}
		}
		if (procevent_ack_many(fd, ids, (size_t)n) != n) {
			fprintf(stderr, "pe_sub: ack failed\n");
			return 1;
		}
	}
	if (procevent_status_read(&st) == 0) {
		lost = st->exit.lost + st->signal.lost + st->fork.lost + st->exec.lost;
		procevent_status_free(st);
	}
	printf("seen=%llu exits=%llu late=%llu lost=%llu fork=%llu exec=%llu exit=%llu signal=%llu\n",
	       seen, exits, late, lost, by[2], by[3], by[0], by[1]);
	close(fd);
	return 0;
}
