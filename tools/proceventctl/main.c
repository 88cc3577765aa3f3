// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl: command dispatch, the messages for the failures a user
 * meets first (module not loaded, not root, no free slot) and the parsers
 * for durations and counts.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procevent.h"
#include "proceventctl.h"

const char *ctl_prog = "proceventctl";

static const char usage[] =
"usage: proceventctl <command> [options]\n"
"\n"
"Watch and acknowledge procevent process events (/dev/procevent).\n"
"\n"
"commands:\n"
"  monitor   subscribe, print each event, acknowledge (or veto) it\n"
"  status    module, subscribers, held tasks and counters (/proc/procevent)\n"
"  held      the tasks held right now, and the subscriber each waits on\n"
"  help [command]\n"
"\n"
"'proceventctl <command> --help' describes a command; see proceventctl(8).\n"
"'proceventctl --version' shows this tool's and the module's versions.\n"
"Exit status: 0 success, 1 failure, 2 usage error, 3 module not loaded,\n"
"4 permission denied, 5 all subscriber slots taken.\n";

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", ctl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static unsigned int max_subscribers(void)
{
	FILE *f = fopen("/sys/module/procevent/parameters/max_subscribers", "r");
	unsigned int n = 0;

	if (f) {
		if (fscanf(f, "%u", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

int ctl_fail(const char *what, int err)
{
	unsigned int slots;

	switch (-err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		ctl_err("the procevent module is not loaded (no %s).\n"
			"Load it first: modprobe procevent (or insmod procevent.ko).",
			what);
		return CTL_EXIT_NOMODULE;
	case EACCES:
	case EPERM:
		ctl_err("permission denied: %s needs root (CAP_SYS_ADMIN).", what);
		return CTL_EXIT_PERM;
	case ENOSPC:
		slots = max_subscribers();
		if (slots)
			ctl_err("all %u subscriber slots are taken (module parameter max_subscribers).\n"
				"'proceventctl status' shows who holds them.", slots);
		else
			ctl_err("all subscriber slots are taken (module parameter max_subscribers).\n"
				"'proceventctl status' shows who holds them.");
		return CTL_EXIT_BUSY;
	}
	if (err == -EOPNOTSUPP) {
		ctl_err("%s: %s", what, procevent_strerror(err));
		return CTL_EXIT_FAIL;
	}
	ctl_err("%s: %s", what, strerror(-err));
	return CTL_EXIT_FAIL;
}

void ctl_put_escaped(FILE *f, const char *s, size_t len, unsigned int flags)
{
	unsigned int ef = flags & CTL_JSON ? PROCEVENT_ESCAPE_JSON : 0;
	char small[256], *big = NULL;
	const char *text = small;
	int n;

	n = procevent_escape(s, len, small, sizeof(small), ef);
	if (n >= (int)sizeof(small)) {
		big = malloc((size_t)n + 1);
		if (big) {
			procevent_escape(s, len, big, (size_t)n + 1, ef);
			text = big;
		}
	}
	if (flags & CTL_JSON)
		fprintf(f, "\"%s\"", text);
	else
		fputs(text, f);
	free(big);
}

void ctl_types_text(uint32_t types, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int bit;

	snprintf(buf, len, "none");
	for (bit = 0; bit < 32 && used < len; bit++) {
		const char *name = procevent_type_name(1u << bit);

		if (!(types & (1u << bit)))
			continue;
		if (name)
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", name);
		else
			used += snprintf(buf + used, len - used, "%s0x%x",
					 used ? "," : "", 1u << bit);
	}
}

static void scopes_text(uint32_t kinds, char *buf, size_t len)
{
	static const char *const names[] = { "all", "cgroup", "pidns" };
	size_t used = 0;
	unsigned int k;

	snprintf(buf, len, "none");
	for (k = 0; k < 32 && used < len; k++) {
		if (!(kinds & (1u << k)))
			continue;
		if (k < 3)
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", names[k]);
		else
			used += snprintf(buf + used, len - used, "%s%u",
					 used ? "," : "", k);
	}
}

void ctl_print_module(FILE *f, unsigned int flags)
{
	struct procevent_info info;
	char types[64], scopes[64];
	int ret = procevent_features(-1, &info);
	const char *why;

	if (ret < 0) {
		switch (-ret) {
		case EOPNOTSUPP:
			why = "older than 0.3 (no PROCEVENT_IOC_GET_INFO)";
			break;
		case ENOENT:
		case ENODEV:
		case ENXIO:
			why = "not loaded";
			break;
		case EACCES:
		case EPERM:
			why = "unknown (needs root to ask)";
			break;
		default:
			why = strerror(-ret);
			break;
		}
		if (flags & CTL_JSON)
			fprintf(f, "{\"error\":\"%s\"}", why);
		else
			fprintf(f, "module: %s\n", why);
		return;
	}
	ctl_types_text(info.types, types, sizeof(types));
	scopes_text(info.scope_kinds, scopes, sizeof(scopes));
	if (flags & CTL_JSON) {
		fprintf(f, "{\"version\":\"%u.%u.%u\",\"types\":%u,"
			"\"ack_flags\":%u,\"scope_kinds\":%u,\"event_flags\":%u,"
			"\"max_subscribers\":%u,\"pool_size\":%u,"
			"\"last_ioctl\":%u}",
			PROCEVENT_VERSION_MAJOR(info.version),
			PROCEVENT_VERSION_MINOR(info.version),
			PROCEVENT_VERSION_PATCH(info.version), info.types,
			info.ack_flags, info.scope_kinds, info.event_flags,
			info.max_subscribers, info.pool_size, info.last_ioctl);
		return;
	}
	fprintf(f, "module: procevent %u.%u.%u: events %s; ack flags %s; scopes %s; max_subscribers %u; pool_size %u\n",
		PROCEVENT_VERSION_MAJOR(info.version),
		PROCEVENT_VERSION_MINOR(info.version),
		PROCEVENT_VERSION_PATCH(info.version), types,
		info.ack_flags & PROCEVENT_ACK_KILL ? "kill" : "none",
		scopes, info.max_subscribers, info.pool_size);
}

int ctl_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "", 1e9 },
	};
	char *end;
	double v;
	size_t i;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].scale;
		/* The kernel takes at most 2^63-1 ns. */
		if (v >= 9.2e18)
			return -ERANGE;
		*ns = (uint64_t)(v + 0.5);
		return 0;
	}
	return -EINVAL;
}

int ctl_parse_count(const char *s, uint64_t *n)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*n = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	char *help[3] = { NULL, "--help", NULL };
	const char *cmd;

	if (argc < 2) {
		fputs(usage, stderr);
		return CTL_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage, stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("proceventctl %d.%d\n", PROCEVENT_LIB_VERSION_MAJOR,
		       PROCEVENT_LIB_VERSION_MINOR);
		ctl_print_module(stdout, 0);
		return CTL_EXIT_OK;
	}
	if (!strcmp(cmd, "help")) {
		if (argc < 3) {
			fputs(usage, stdout);
			return CTL_EXIT_OK;
		}
		help[0] = argv[2];
		argv = help;
		argc = 2;
		cmd = help[0];
	} else {
		argv++;
		argc--;
	}
	if (!strcmp(cmd, "monitor"))
		return ctl_monitor(argc, argv);
	if (!strcmp(cmd, "status"))
		return ctl_status(argc, argv);
	if (!strcmp(cmd, "held"))
		return ctl_held(argc, argv);
	ctl_err("unknown command '%s'", cmd);
	fputs(usage, stderr);
	return CTL_EXIT_USAGE;
}
