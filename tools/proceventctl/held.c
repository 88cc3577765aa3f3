// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl held: the tasks held right now, from the module's
 * "held-task:" lines in /proc/procevent, with the subscriber each one
 * waits on: the answer to "why does this process not die".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "procevent.h"
#include "proceventctl.h"

static const char held_usage[] =
"usage: proceventctl held [--json]\n"
"\n"
"List the tasks held right now: pid, process, name, the event, how long it\n"
"has been held, and the subscriber it waits on (position in line, owner's\n"
"pid and name) and whether that subscriber has received it or not yet.\n"
"Prints \"none\" (with --json: []) when no task is held.  The module lists\n"
"at most 1000; the rest are counted.  Needs root.\n"
"\n"
"options:\n"
"  -j, --json   a JSON array of objects instead of a table\n"
"  -h, --help   this text\n";

/* The subscriber at place @pos, or NULL. */
static const struct procevent_subscriber *sub_at(const struct procevent_status *st,
						 unsigned int pos)
{
	unsigned int i;

	for (i = 0; i < st->nr_subscribers; i++)
		if (st->subscribers[i].pos == pos)
			return &st->subscribers[i];
	return NULL;
}

static const char *type_text(uint32_t type)
{
	const char *t = procevent_type_name(type);

	return t ? t : "?";
}

static void print_json(const struct procevent_status *st)
{
	unsigned int i;

	putchar('[');
	for (i = 0; i < st->nr_held_tasks; i++) {
		const struct procevent_held *h = &st->held_tasks[i];
		const struct procevent_subscriber *s = sub_at(st, h->pos);

		printf("%s{\"pid\":%d,\"tgid\":%d,\"comm\":", i ? "," : "",
		       (int)h->pid, (int)h->tgid);
		ctl_put_escaped(stdout, h->comm, sizeof(h->comm), CTL_JSON);
		printf(",\"type\":\"%s\",\"id\":%llu,\"held_ns\":%llu,"
		       "\"pos\":%u,\"sub_pid\":%d,\"sub_comm\":",
		       type_text(h->type), (unsigned long long)h->id,
		       (unsigned long long)h->held_ns, h->pos, (int)h->sub_pid);
		if (s)
			ctl_put_escaped(stdout, s->comm, sizeof(s->comm),
					CTL_JSON);
		else
			fputs("null", stdout);
		printf(",\"state\":\"%s\"}", h->received ? "received" : "queued");
	}
	printf("]\n");
}

static void print_table(const struct procevent_status *st)
{
	unsigned int i;

	if (!st->nr_held_tasks) {
		printf("none\n");
		return;
	}
	printf("%7s %7s %-16s %-6s %10s %10s %3s %7s %-16s %s\n", "PID",
	       "TGID", "COMM", "TYPE", "ID", "HELD", "POS", "SUB_PID",
	       "SUBSCRIBER", "STATE");
	for (i = 0; i < st->nr_held_tasks; i++) {
		const struct procevent_held *h = &st->held_tasks[i];
		const struct procevent_subscriber *s = sub_at(st, h->pos);
		char comm[64], scomm[64] = "-", held[32];

		procevent_escape(h->comm, sizeof(h->comm), comm, sizeof(comm), 0);
		if (s)
			procevent_escape(s->comm, sizeof(s->comm), scomm,
					 sizeof(scomm), 0);
		snprintf(held, sizeof(held), "%llu.%03llus",
			 (unsigned long long)(h->held_ns / 1000000000ULL),
			 (unsigned long long)(h->held_ns / 1000000ULL % 1000));
		printf("%7d %7d %-16s %-6s %10llu %10s %3u %7d %-16s %s\n",
		       (int)h->pid, (int)h->tgid, comm, type_text(h->type),
		       (unsigned long long)h->id, held, h->pos,
		       (int)h->sub_pid, scomm,
		       h->received ? "received" : "queued");
	}
}

int ctl_held(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct procevent_status *st;
	int c, json = 0, ret, rc = CTL_EXIT_OK;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(held_usage, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(held_usage, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ctl_err("held: unexpected argument '%s'", argv[optind]);
		fputs(held_usage, stderr);
		return CTL_EXIT_USAGE;
	}

	ret = procevent_status_read(&st);
	if (ret < 0)
		return ctl_fail(PROCEVENT_PROC_FILE, ret);
	if (st->held && !st->held_listed) {
		/* Say so rather than "none": the count is not 0. */
		ctl_err("held: %u tasks are held, but this module does not list them (it needs procevent 0.3)",
			st->held);
		procevent_status_free(st);
		return CTL_EXIT_FAIL;
	}
	if (json)
		print_json(st);
	else
		print_table(st);
	if (st->held_more)
		ctl_err("held: %u more held tasks not listed (the module lists %u)",
			st->held_more, st->nr_held_tasks);
	procevent_status_free(st);
	if (fflush(stdout) == EOF) {
		ctl_err("held: writing the output: %s", strerror(errno));
		rc = CTL_EXIT_FAIL;
	}
	return rc;
}
