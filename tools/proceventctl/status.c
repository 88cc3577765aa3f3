// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl status: /proc/procevent as a table or as one JSON object.
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
"Show the tasks held right now, the event counters and the subscribers in\n"
"the order events visit them, with their masks and scopes (all, cgroup,\n"
"pidns), from /proc/procevent; needs root.\n"
"\n"
"options:\n"
"  -j, --json   one JSON object instead of tables\n"
"  -h, --help   this text\n";

static void mask_text(uint32_t mask, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int bit;

	snprintf(buf, len, "none");
	for (bit = 0; bit < 32 && used < len; bit++) {
		const char *name = procevent_type_name(1u << bit);

		if (!(mask & (1u << bit)))
			continue;
		if (name)
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", name);
		else
			used += snprintf(buf + used, len - used, "%s0x%x",
					 used ? "," : "", 1u << bit);
	}
}

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

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
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
		json_str(s->comm);
		printf(",\"mask\":%u,\"waiting\":%u,\"received\":%u,"
		       "\"acked\":%llu,\"timeouts\":%llu,\"timeout_ns\":%llu",
		       s->mask, s->waiting, s->received,
		       (unsigned long long)s->acked,
		       (unsigned long long)s->timeouts,
		       (unsigned long long)s->timeout_ns);
		if (*scope_of(st, i)) {
			printf(",\"scope\":");
			json_str(scope_of(st, i));
		}
		putchar('}');
	}
	printf("]}\n");
}

static void print_table(const struct procevent_status *st)
{
	unsigned int i;

	printf("held tasks: %u\n\n", st->held);
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
		char mask[64], timeout[32];

		mask_text(s->mask, mask, sizeof(mask));
		timeout_text(s->timeout_ns, timeout, sizeof(timeout));
		printf("%-3u %7d %-16s %-22s %7u %8u %10llu %8llu %8s  %s\n",
		       s->pos, (int)s->pid, s->comm, mask, s->waiting,
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
