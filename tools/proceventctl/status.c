// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl status: /proc/procevent as a table or as one JSON object.
 *
 * Tables and JSON are our own printf()s, not util-linux's libsmartcols
 * (issue 15 asked us to consider it): the VM tests run the tool linked
 * statically and Debian ships libsmartcols-dev without libsmartcols.a;
 * its JSON writer (lib/jsonwrt.c) copies bytes >= 0x80 as they are, so a
 * name that is not UTF-8 would still give invalid JSON; and monitor
 * streams one object per event.  Names go through procevent_escape(),
 * the one rule for text and JSON (see proceventctl(8), NOTES).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "procevent.h"
#include "proceventctl.h"

static const char status_usage[] =
"usage: proceventctl status [--json]\n"
"\n"
"Show the module's version and features, the number of tasks held right\n"
"now ('proceventctl held' lists them), the event counters and the\n"
"subscribers in the order events visit them, with their masks and scopes\n"
"(all, cgroup, pidns), from /proc/procevent; needs root.\n"
"\n"
"options:\n"
"  -j, --json   one JSON object instead of tables\n"
"  -h, --help   this text\n";

static void timeout_text(uint64_t ns, char *buf, size_t len)
{
	if (!ns)
		snprintf(buf, len, "none");
	else if (ns % 1000000000ULL == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ULL));
	else if (ns % 1000000ULL == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ULL));
	else if (ns % 1000ULL == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000ULL));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

static void json_counters(const char *name, const struct procevent_counters *c)
{
	printf("\"%s\":{\"raised\":%llu,\"delivered\":%llu,\"acked\":%llu,"
	       "\"withdrawn\":%llu,\"timedout\":%llu,\"lost\":%llu}",
	       name, (unsigned long long)c->raised,
	       (unsigned long long)c->delivered, (unsigned long long)c->acked,
	       (unsigned long long)c->withdrawn,
	       (unsigned long long)c->timedout, (unsigned long long)c->lost);
}

/* The scope /proc/procevent gives subscriber @i, "" if it says none. */
static const char *scope_of(const struct procevent_status *st, unsigned int i)
{
	return st->subscribers_ext ? st->subscribers_ext[i].scope : "";
}

static void print_json(const struct procevent_status *st)
{
	unsigned int i;

	printf("{\"held\":%u,\"events\":{", st->held);
	for (i = 0; i < st->nr_types; i++) {
		if (i)
			putchar(',');
		json_counters(st->types[i].name, &st->types[i].c);
	}
	printf("},\"subscribers\":[");
	for (i = 0; i < st->nr_subscribers; i++) {
		const struct procevent_subscriber *s = &st->subscribers[i];

		printf("%s{\"pos\":%u,\"pid\":%d,\"comm\":", i ? "," : "",
		       s->pos, (int)s->pid);
		ctl_put_escaped(stdout, s->comm, sizeof(s->comm), CTL_JSON);
		printf(",\"mask\":%u,\"waiting\":%u,\"received\":%u,"
		       "\"acked\":%llu,\"timeouts\":%llu,\"timeout_ns\":%llu",
		       s->mask, s->waiting, s->received,
		       (unsigned long long)s->acked,
		       (unsigned long long)s->timeouts,
		       (unsigned long long)s->timeout_ns);
		if (*scope_of(st, i)) {
			printf(",\"scope\":");
			ctl_put_escaped(stdout, scope_of(st, i), 16, CTL_JSON);
		}
		putchar('}');
	}
	/* Appended: the object's first key stays "held". */
	printf("],\"module\":");
	ctl_print_module(stdout, CTL_JSON);
	if (st->pool_shown)
		printf(",\"pool\":{\"size\":%u,\"free\":%u,\"misses\":%llu}",
		       st->pool_size, st->pool_free,
		       (unsigned long long)st->pool_misses);
	printf("}\n");
}

static void print_table(const struct procevent_status *st)
{
	unsigned int i;

	ctl_print_module(stdout, 0);
	printf("held tasks: %u\n", st->held);
	if (st->pool_shown)
		printf("event pool: %u free of %u, %llu probes found it empty\n",
		       st->pool_free, st->pool_size,
		       (unsigned long long)st->pool_misses);
	printf("\n");
	printf("%-8s %10s %10s %10s %10s %10s %10s\n", "EVENTS", "RAISED",
	       "DELIVERED", "ACKED", "WITHDRAWN", "TIMEDOUT", "LOST");
	for (i = 0; i < st->nr_types; i++) {
		const struct procevent_counters *c = &st->types[i].c;

		printf("%-8s %10llu %10llu %10llu %10llu %10llu %10llu\n",
		       st->types[i].name, (unsigned long long)c->raised,
		       (unsigned long long)c->delivered,
		       (unsigned long long)c->acked,
		       (unsigned long long)c->withdrawn,
		       (unsigned long long)c->timedout,
		       (unsigned long long)c->lost);
	}
	printf("\n");
	if (!st->nr_subscribers) {
		printf("no subscribers\n");
		return;
	}
	printf("%-3s %7s %-16s %-22s %7s %8s %10s %8s %8s  %s\n", "POS", "PID",
	       "COMM", "MASK", "WAITING", "RECEIVED", "ACKED", "TIMEOUTS",
	       "TIMEOUT", "SCOPE");
	for (i = 0; i < st->nr_subscribers; i++) {
		const struct procevent_subscriber *s = &st->subscribers[i];
		const char *scope = scope_of(st, i);
		char mask[64], timeout[32], comm[64];

		ctl_types_text(s->mask, mask, sizeof(mask));
		timeout_text(s->timeout_ns, timeout, sizeof(timeout));
		procevent_escape(s->comm, sizeof(s->comm), comm, sizeof(comm), 0);
		printf("%-3u %7d %-16s %-22s %7u %8u %10llu %8llu %8s  %s\n",
		       s->pos, (int)s->pid, comm, mask, s->waiting,
		       s->received, (unsigned long long)s->acked,
		       (unsigned long long)s->timeouts, timeout,
		       *scope ? scope : "-");
	}
}

int ctl_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct procevent_status *st;
	int c, json = 0, ret;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(status_usage, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ctl_err("status: unexpected argument '%s'", argv[optind]);
		fputs(status_usage, stderr);
		return CTL_EXIT_USAGE;
	}

	ret = procevent_status_read(&st);
	if (ret < 0)
		return ctl_fail(PROCEVENT_PROC_FILE, ret);
	if (json)
		print_json(st);
	else
		print_table(st);
	procevent_status_free(st);
	if (fflush(stdout) == EOF) {
		ctl_err("status: writing the output: %s", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}
