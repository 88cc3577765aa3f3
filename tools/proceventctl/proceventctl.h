/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proceventctl: what the subcommands share (exit codes, error messages,
 * option parsing helpers).
 */
#ifndef PROCEVENTCTL_H
#define PROCEVENTCTL_H

#include <stdint.h>

/* Exit codes; documented in proceventctl(8), scripts rely on them. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1	/* anything not listed below */
#define CTL_EXIT_USAGE		2	/* bad command line */
#define CTL_EXIT_NOMODULE	3	/* the procevent module is not loaded */
#define CTL_EXIT_PERM		4	/* not privileged enough */
#define CTL_EXIT_BUSY		5	/* every subscriber slot is taken */

extern const char *ctl_prog;

int ctl_monitor(int argc, char **argv);
int ctl_status(int argc, char **argv);

/* Print a message for a failure of the library call @what (a negative
 * errno in @err) and return the exit code that goes with it. */
int ctl_fail(const char *what, int err);

__attribute__((format(printf, 1, 2)))
void ctl_err(const char *fmt, ...);

/* "500ms", "2s", "1.5s", "100us", "250ns"; a bare number is seconds. */
int ctl_parse_duration(const char *s, uint64_t *ns);
int ctl_parse_count(const char *s, uint64_t *n);

#endif /* PROCEVENTCTL_H */
