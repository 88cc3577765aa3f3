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
"  status    subscribers, held tasks and counters (/proc/procevent)\n"
"  help [command]\n"
"\n"
"'proceventctl <command> --help' describes a command; see proceventctl(8).\n"
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
	ctl_err("%s: %s", what, strerror(-err));
	return CTL_EXIT_FAIL;
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
	ctl_err("unknown command '%s'", cmd);
	fputs(usage, stderr);
	return CTL_EXIT_USAGE;
}
