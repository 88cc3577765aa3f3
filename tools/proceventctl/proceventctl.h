/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proceventctl: what the subcommands share (exit codes, error messages,
 * option parsing helpers).
 */
#ifndef PROCEVENTCTL_H
#define PROCEVENTCTL_H

#include <stdint.h>
#include <stdio.h>

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
int ctl_held(int argc, char **argv);

/*
 * Print @s (at most @len bytes) by the library's one escaping rule
 * (procevent_escape()): as text, or with CTL_JSON as a quoted JSON string.
 */
#define CTL_JSON	0x1u
void ctl_put_escaped(FILE *f, const char *s, size_t len, unsigned int flags);

/* "exit,signal,..." for @types (PROCEVENT_* bits); "none" when 0. */
void ctl_types_text(uint32_t types, char *buf, size_t len);

/*
 * The running module's version and features, as "module" says them in
 * --version and status: one line of text, or with CTL_JSON the value of
 * a "module" key.  Queried with procevent_features() on /dev/procevent.
 */
void ctl_print_module(FILE *f, unsigned int flags);

/* Print a message for a failure of the library call @what (a negative
 * errno in @err) and return the exit code that goes with it. */
int ctl_fail(const char *what, int err);

__attribute__((format(printf, 1, 2)))
void ctl_err(const char *fmt, ...);

/* "500ms", "2s", "1.5s", "100us", "250ns"; a bare number is seconds. */
int ctl_parse_duration(const char *s, uint64_t *ns);
int ctl_parse_count(const char *s, uint64_t *n);

#endif /* PROCEVENTCTL_H */
