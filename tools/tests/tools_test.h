/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the libprocevent and proceventctl tests: clocks, children
 * that exit when told to, running proceventctl with its output captured,
 * waiting for a subscriber to appear in /proc/procevent, copies of the
 * test program that serve as exec targets, and a small strict parser for
 * the flat JSON objects the tools print.
 *
 * A test that subscribes must ack (or close) before it waits for a child:
 * the child's exit is held until then.  Every wait here is bounded.
 */
#ifndef TOOLS_TEST_H
#define TOOLS_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "procevent.h"

#define TT_WAIT_MS	5000

static inline int64_t tt_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int tt_have_device(void)
{
	return access(PROCEVENT_DEVICE, F_OK) == 0;
}

/*
 * waitpid() with a bound: the child's status, or -1 when it did not end
 * in @ms (it is then left running).
 */
static inline int tt_wait(pid_t pid, int ms)
{
	int64_t end = tt_ms() + ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 || tt_ms() >= end)
			return -1;
		usleep(2000);
	}
}

/* poll() @fd for input: 0 readable, -1 not within @ms. */
static inline int tt_poll_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN) ? 0 : -1;
}

/* A child that exits with @code as soon as it is forked. */
static inline pid_t tt_child_exit(int code)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(code);
	return pid;
}

/* The subscriber entry of process @pid (the first one), or 0 if none in @ms. */
static inline int tt_wait_subscriber(pid_t pid, int ms,
				     struct procevent_subscriber *out)
{
	int64_t end = tt_ms() + ms;

	do {
		struct procevent_status *st;
		unsigned int i;

		if (procevent_status_read(&st) == 0) {
			for (i = 0; i < st->nr_subscribers; i++) {
				if (st->subscribers[i].pid != pid)
					continue;
				if (out)
					*out = st->subscribers[i];
				procevent_status_free(st);
				return 1;
			}
			procevent_status_free(st);
		}
		usleep(5000);
	} while (tt_ms() < end);
	return 0;
}

/* --- programs to exec ------------------------------------------------------ */

/*
 * A copy of the test program started with TT_MARKER=<file> in its
 * environment is a tiny workload: before main() it writes "ran" to
 * <file> and exits 0.  A veto shows as a marker never written.
 */
__attribute__((constructor)) static void tt_marker_mode(void)
{
	const char *marker = getenv("TT_MARKER");
	int fd;

	if (!marker)
		return;
	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	_exit(fd >= 0 && write(fd, "ran\n", 4) == 4 ? 0 : 1);
}

/* Copy the running test program to @dst (mode 0755); 0 or -errno. */
static inline int tt_copy_self(const char *dst)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			ret = -EIO;
			break;
		}
	}
	if (n < 0)
		ret = -errno;
	close(in);
	if (close(out) && !ret)
		ret = -errno;
	return ret;
}

/*
 * Fork a child that execs @prog (a tt_copy_self() copy) in marker mode,
 * writing @marker.  With @cgroup set, the child first moves itself into
 * that cgroup v2 directory (exit 97 if it cannot).
 */
static inline pid_t tt_run_marker(const char *prog, const char *marker,
				  const char *cgroup)
{
	pid_t pid = fork();

	if (pid == 0) {
		char env[4200], procs[4200];
		char *argv[] = { (char *)prog, NULL };
		char *envp[] = { env, NULL };

		if (cgroup) {
			int fd;

			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
			fd = open(procs, O_WRONLY);
			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(97);
			close(fd);
		}
		snprintf(env, sizeof(env), "TT_MARKER=%s", marker);
		execve(prog, argv, envp);
		_exit(127);
	}
	return pid;
}

/* --- running proceventctl ------------------------------------------------ */

/* Where proceventctl is: $PROCEVENTCTL, beside this test (../bin), or PATH. */
static inline const char *tt_ctl_path(void)
{
	static char path[4096];
	const char *env = getenv("PROCEVENTCTL");
	char self[2048];
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/../bin/proceventctl", self);
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	if (access("/usr/local/bin/proceventctl", X_OK) == 0)
		return "/usr/local/bin/proceventctl";
	return "proceventctl";
}

struct tt_proc {
	pid_t pid;
	int out_fd;		/* its stdout, read end (non-blocking) */
	int err_fd;		/* its stderr, read end (non-blocking) */
	char out[65536];
	size_t out_len;
	char err[8192];
	size_t err_len;
};

/*
 * Start proceventctl with @args (NULL-terminated, without argv[0]).
 * @setup, when set, runs in the child before exec (drop privileges...).
 */
static inline int tt_spawn(struct tt_proc *p, const char *const *args,
			   void (*setup)(void))
{
	const char *argv[32];
	int o[2], e[2];
	size_t i;

	memset(p, 0, sizeof(*p));
	argv[0] = tt_ctl_path();
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC))
		return -errno;
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		if (setup)
			setup();
		execv(argv[0], (char *const *)argv);
		if (!strchr(argv[0], '/'))
			execvp(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	p->out_fd = o[0];
	p->err_fd = e[0];
	fcntl(o[0], F_SETFL, O_NONBLOCK);
	fcntl(e[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* Read what is there from both pipes; returns 1 when both reached EOF. */
static inline int tt_drain(struct tt_proc *p)
{
	int *fds[2] = { &p->out_fd, &p->err_fd };
	char *bufs[2] = { p->out, p->err };
	size_t *lens[2] = { &p->out_len, &p->err_len };
	size_t caps[2] = { sizeof(p->out), sizeof(p->err) };
	int i, eof = 0;

	for (i = 0; i < 2; i++) {
		ssize_t n;

		if (*fds[i] < 0) {
			eof++;
			continue;
		}
		for (;;) {
			size_t room = caps[i] - 1 - *lens[i];
			char sink[512];

			n = room ? read(*fds[i], bufs[i] + *lens[i], room) :
				   read(*fds[i], sink, sizeof(sink));
			if (n > 0) {
				if (room)
					*lens[i] += (size_t)n;
				continue;
			}
			if (n == 0) {
				close(*fds[i]);
				*fds[i] = -1;
				eof++;
			}
			break;
		}
		bufs[i][*lens[i]] = '\0';
	}
	return eof == 2;
}

/* Wait until stdout holds @lines newlines (or @ms pass); returns the count. */
static inline int tt_wait_lines(struct tt_proc *p, int lines, int ms)
{
	int64_t end = tt_ms() + ms;
	int n;

	for (;;) {
		const char *c;

		tt_drain(p);
		n = 0;
		for (c = p->out; *c; c++)
			n += *c == '\n';
		if (n >= lines || tt_ms() >= end)
			return n;
		usleep(2000);
	}
}

/* Wait for the end of @p (bounded); its wait status, or -1 (then killed). */
static inline int tt_finish(struct tt_proc *p, int ms)
{
	int64_t end = tt_ms() + ms;
	int status = -1;

	for (;;) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);

		tt_drain(p);
		if (r == p->pid)
			break;
		if (r < 0 || tt_ms() >= end) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
			status = -1;
			break;
		}
		usleep(2000);
	}
	while (!tt_drain(p) && tt_ms() < end + 1000)
		usleep(1000);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->out_fd = p->err_fd = -1;
	p->pid = 0;
	return status;
}

/* Run to completion; the exit code, or -1 (killed, or over @ms). */
static inline int tt_run(struct tt_proc *p, const char *const *args,
			 void (*setup)(void), int ms)
{
	int status;

	if (tt_spawn(p, args, setup))
		return -1;
	status = tt_finish(p, ms);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* --- flat JSON objects ----------------------------------------------------- */

#define TT_JSON_MAX	48

struct tt_json {
	int n;
	char key[TT_JSON_MAX][32];
	char val[TT_JSON_MAX][64];	/* strings unescaped, others verbatim */
	int is_str[TT_JSON_MAX];
};

/*
 * Parse one JSON object whose values are strings, integers, true, false
 * or null - the shape of an event line.  Strict: any syntax error, nested
 * value, duplicate key or trailing text fails.  Returns 0 or -1.
 */
static inline int tt_json_parse(const char *s, struct tt_json *j)
{
	const char *p = s;
	int i;

	memset(j, 0, sizeof(*j));
#define TT_WS() do { while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++; } while (0)
	TT_WS();
	if (*p++ != '{')
		return -1;
	TT_WS();
	if (*p == '}') {
		p++;
		goto end;
	}
	for (;;) {
		char *dst;
		size_t cap, len;
		int k;

		if (j->n == TT_JSON_MAX)
			return -1;
		for (k = 0; k < 2; k++) {
			/* k == 0: key (a string); k == 1: the value */
			dst = k ? j->val[j->n] : j->key[j->n];
			cap = k ? sizeof(j->val[0]) : sizeof(j->key[0]);
			len = 0;
			if (k == 1 && *p != '"') {
				const char *v = p;

				if (!strncmp(p, "true", 4))
					p += 4;
				else if (!strncmp(p, "false", 5))
					p += 5;
				else if (!strncmp(p, "null", 4))
					p += 4;
				else {
					if (*p == '-')
						p++;
					if (*p < '0' || *p > '9')
						return -1;
					if (*p == '0' && p[1] >= '0' && p[1] <= '9')
						return -1;
					while (*p >= '0' && *p <= '9')
						p++;
				}
				if ((size_t)(p - v) >= cap)
					return -1;
				memcpy(dst, v, (size_t)(p - v));
				break;
			}
			if (*p++ != '"')
				return -1;
			while (*p != '"') {
				char c = *p++;

				if ((unsigned char)c < 0x20)
					return -1;
				if (c == '\\') {
					c = *p++;
					switch (c) {
					case '"': case '\\': case '/':
						break;
					case 'n': c = '\n'; break;
					case 't': c = '\t'; break;
					case 'r': c = '\r'; break;
					case 'b': c = '\b'; break;
					case 'f': c = '\f'; break;
					case 'u': {
						unsigned int u;

						if (sscanf(p, "%4x", &u) != 1 || u > 0xff)
							return -1;
						p += 4;
						c = (char)u;
						break;
					}
					default:
						return -1;
					}
				}
				if (len + 1 >= cap)
					return -1;
				dst[len++] = c;
			}
			p++;
			if (k == 1) {
				j->is_str[j->n] = 1;
				break;
			}
			TT_WS();
			if (*p++ != ':')
				return -1;
			TT_WS();
		}
		for (i = 0; i < j->n; i++)
			if (!strcmp(j->key[i], j->key[j->n]))
				return -1;
		j->n++;
		TT_WS();
		if (*p == ',') {
			p++;
			TT_WS();
			continue;
		}
		if (*p++ != '}')
			return -1;
		break;
	}
end:
	TT_WS();
#undef TT_WS
	return *p ? -1 : 0;
}

static inline const char *tt_json_get(const struct tt_json *j, const char *key)
{
	int i;

	for (i = 0; i < j->n; i++)
		if (!strcmp(j->key[i], key))
			return j->val[i];
	return NULL;
}

/* --- any JSON text ---------------------------------------------------------- */

/*
 * A strict RFC 8259 validator for one JSON text (no python3 in the VM):
 * objects, arrays, strings, numbers, true/false/null, any nesting up to
 * 64 deep, and the encoding: valid UTF-8 only (no overlong forms, no
 * surrogates), no raw control characters in strings, \u escapes with a
 * lone surrogate refused.  Returns 0 when @s is exactly one JSON value
 * (with white space around it, and a final newline), -1 otherwise.
 */
static inline int tt_json_value(const unsigned char **pp, int depth);

static inline void tt_json_ws(const unsigned char **pp)
{
	while (**pp == ' ' || **pp == '\t' || **pp == '\r' || **pp == '\n')
		(*pp)++;
}

static inline int tt_json_hex4(const unsigned char *p, unsigned int *u)
{
	int i;

	*u = 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		*u <<= 4;
		if (c >= '0' && c <= '9')
			*u |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*u |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*u |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

static inline int tt_json_string(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	unsigned int u, lo;

	if (*p++ != '"')
		return -1;
	while (*p != '"') {
		if (*p < 0x20)
			return -1;		/* raw control, or the end */
		if (*p == '\\') {
			p++;
			if (strchr("\"\\/bfnrt", *p) && *p) {
				p++;
				continue;
			}
			if (*p++ != 'u' || tt_json_hex4(p, &u))
				return -1;
			p += 4;
			if (u >= 0xdc00 && u <= 0xdfff)
				return -1;	/* lone low surrogate */
			if (u >= 0xd800 && u <= 0xdbff) {
				if (p[0] != '\\' || p[1] != 'u' ||
				    tt_json_hex4(p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				p += 6;
			}
			continue;
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		/* UTF-8, RFC 3629 table 3-7 */
		{
			unsigned char lo8 = 0x80, hi8 = 0xbf;
			int n, i;

			if (*p >= 0xc2 && *p <= 0xdf) {
				n = 2;
			} else if (*p >= 0xe0 && *p <= 0xef) {
				n = 3;
				if (*p == 0xe0)
					lo8 = 0xa0;
				if (*p == 0xed)
					hi8 = 0x9f;
			} else if (*p >= 0xf0 && *p <= 0xf4) {
				n = 4;
				if (*p == 0xf0)
					lo8 = 0x90;
				if (*p == 0xf4)
					hi8 = 0x8f;
			} else {
				return -1;
			}
			if (p[1] < lo8 || p[1] > hi8)
				return -1;
			for (i = 2; i < n; i++)
				if (p[i] < 0x80 || p[i] > 0xbf)
					return -1;
			p += n;
		}
	}
	*pp = p + 1;
	return 0;
}

static inline int tt_json_number(const unsigned char **pp)
{
	const unsigned char *p = *pp;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	*pp = p;
	return 0;
}

static inline int tt_json_value(const unsigned char **pp, int depth)
{
	const unsigned char *p;
	char close;

	if (depth > 64)
		return -1;
	tt_json_ws(pp);
	p = *pp;
	if (*p == '"')
		return tt_json_string(pp);
	if (!strncmp((const char *)p, "true", 4) ||
	    !strncmp((const char *)p, "null", 4)) {
		*pp = p + 4;
		return 0;
	}
	if (!strncmp((const char *)p, "false", 5)) {
		*pp = p + 5;
		return 0;
	}
	if (*p != '{' && *p != '[')
		return tt_json_number(pp);
	close = *p == '{' ? '}' : ']';
	*pp = p + 1;
	tt_json_ws(pp);
	if (**pp == close) {
		(*pp)++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			tt_json_ws(pp);
			if (tt_json_string(pp))
				return -1;
			tt_json_ws(pp);
			if (*(*pp)++ != ':')
				return -1;
		}
		if (tt_json_value(pp, depth + 1))
			return -1;
		tt_json_ws(pp);
		if (**pp == ',') {
			(*pp)++;
			continue;
		}
		if (*(*pp)++ != close)
			return -1;
		return 0;
	}
}

static inline int tt_json_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (tt_json_value(&p, 0))
		return -1;
	tt_json_ws(&p);
	return *p ? -1 : 0;
}

#endif /* TOOLS_TEST_H */
