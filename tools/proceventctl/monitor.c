// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl monitor: subscribe (optionally scoped to a cgroup subtree
 * or to our pid namespace), print each event, acknowledge it after an
 * optional delay, or veto an exec whose program matches a --kill-exec
 * pattern; on SIGINT or SIGTERM acknowledge everything received so far
 * before leaving, so no task stays held because of this process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procevent.h"
#include "proceventctl.h"

static const char monitor_usage[] =
"usage: proceventctl monitor [options]\n"
"\n"
"Subscribe to process events, print each one and acknowledge it.  The\n"
"process an event is about stays held until the acknowledgement.\n"
"\n"
"options:\n"
"  -e, --exit               exit events\n"
"  -s, --signal             signal events\n"
"  -f, --fork               fork events (new processes, held before they run)\n"
"  -x, --exec               exec events (new programs, held before they run)\n"
"  -c, --cgroup PATH        only tasks in the cgroup v2 directory PATH or\n"
"                           below it (/sys/fs/cgroup/...)\n"
"  -P, --pidns              only tasks visible in our pid namespace\n"
"  -k, --kill-exec PATTERN  veto the exec of a program whose path\n"
"                           (/proc/PID/exe, read while the task is held)\n"
"                           matches the fnmatch(3) glob PATTERN: the task\n"
"                           is killed before it runs; implies --exec;\n"
"                           may be given more than once\n"
"  -j, --json               one JSON object per line instead of text\n"
"  -d, --ack-delay DURATION hold each event this long before acking\n"
"  -t, --timeout DURATION   ack deadline the kernel enforces for this\n"
"                           subscriber (default: none)\n"
"  -n, --count N            stop after N events (acked before exiting)\n"
"  -T, --timestamps         prefix text lines with seconds since start\n"
"  -p, --pid-file FILE      write our pid to FILE once subscribed (scripts\n"
"                           wait for it before starting what to watch);\n"
"                           removed on exit\n"
"  -q, --quiet              no messages on stderr about subscribing\n"
"  -h, --help               this text\n"
"\n"
"Without -e, -s, -f, -x or -k the monitor takes exit and signal events.\n"
"--cgroup and --pidns exclude each other.  PATTERN is matched against the\n"
"whole path, and '*' matches '/' too (\"*/sshd\", \"/tmp/*\").\n"
"\n"
"DURATION is a number with a unit: ns, us, ms or s (\"500ms\", \"1.5s\");\n"
"a bare number is seconds.  Events go to stdout, messages to stderr;\n"
"fork and exec lines name the program (/proc/PID/exe), and a vetoed exec\n"
"says so.\n"
"SIGINT or SIGTERM: acknowledge every event received, then exit 0.\n";

struct pending {
	uint64_t id;
	uint64_t due_ns;	/* CLOCK_MONOTONIC */
};

struct monitor {
	int fd;
	int json;
	int stamps;
	char **kill_exec;	/* --kill-exec patterns */
	size_t nkill_exec;
	uint64_t ack_delay_ns;
	uint64_t start_ns;
	struct pending *pend;
	size_t npend, cap;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Ack the pending events whose time has come (all of them when @all).
 * ENOENT means the kernel stopped waiting for us (ack deadline passed, or
 * the signal event was withdrawn because the task was killed): say so and
 * go on.  Returns 0 or a negative errno.
 */
static int ack_due(struct monitor *m, int all)
{
	uint64_t now = mono_ns();
	size_t i, keep = 0;
	int ret = 0;

	for (i = 0; i < m->npend; i++) {
		struct pending *p = &m->pend[i];
		int r;

		if (!all && p->due_ns > now) {
			m->pend[keep++] = *p;
			continue;
		}
		r = procevent_ack(m->fd, p->id);
		if (r == -ENOENT)
			ctl_err("event %llu was released before our ack (ack deadline passed or task killed)",
				(unsigned long long)p->id);
		else if (r < 0 && !ret)
			ret = r;
	}
	m->npend = keep;
	return ret;
}

static int add_pending(struct monitor *m, uint64_t id)
{
	if (m->npend == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		void *p = realloc(m->pend, cap * sizeof(*m->pend));

		if (!p)
			return -ENOMEM;
		m->pend = p;
		m->cap = cap;
	}
	m->pend[m->npend].id = id;
	m->pend[m->npend].due_ns = mono_ns() + m->ack_delay_ns;
	m->npend++;
	return 0;
}

/* The program of @pid, read from /proc while it is held; -errno if unknown. */
static int task_exe(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The --kill-exec pattern @exe matches, or NULL. */
static const char *veto_rule(const struct monitor *m, const char *exe)
{
	size_t i;

	for (i = 0; i < m->nkill_exec; i++)
		if (!fnmatch(m->kill_exec[i], exe, 0))
			return m->kill_exec[i];
	return NULL;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * One line for @ev.  @exe: its program, for fork and exec events (NULL:
 * not one of those, "" when unreadable).  @rule: the --kill-exec pattern
 * it was vetoed for, or NULL.
 */
static int print_event(struct monitor *m, const struct procevent_event *ev,
		       const char *exe, const char *rule)
{
	char line[1024], *idp;
	int n;

	n = procevent_format(ev, line, sizeof(line),
			     m->json ? PROCEVENT_FORMAT_JSON : 0);
	if (n < 0)
		return n;
	if (m->json) {
		/* The library's object, with what only we know added at its end. */
		if (exe) {
			line[strlen(line) - 1] = '\0';
			fputs(line, stdout);
			fputs(",\"exe\":", stdout);
			if (*exe)
				json_str(stdout, exe);
			else
				fputs("null", stdout);
			if (m->nkill_exec && ev->type == PROCEVENT_EXEC) {
				printf(",\"vetoed\":%s", rule ? "true" : "false");
				if (rule) {
					fputs(",\"rule\":", stdout);
					json_str(stdout, rule);
				}
			}
			fputs("}\n", stdout);
		} else {
			puts(line);
		}
		return ferror(stdout) || fflush(stdout) == EOF ? -EIO : 0;
	}
	if (m->stamps) {
		uint64_t t = mono_ns() - m->start_ns;

		printf("[%4llu.%03llu] ", (unsigned long long)(t / 1000000000ULL),
		       (unsigned long long)(t / 1000000ULL % 1000));
	}
	/* "...: new program [id 9]" becomes "...: new program /bin/ls [id 9]" */
	idp = exe && *exe ? strstr(line, " [id ") : NULL;
	if (idp) {
		*idp = '\0';
		printf("%s %s [%s", line, exe, idp + 2);
	} else {
		fputs(line, stdout);
	}
	if (rule)
		printf(" vetoed: killed (program matches '%s')", rule);
	putchar('\n');
	return ferror(stdout) || fflush(stdout) == EOF ? -EIO : 0;
}

/*
 * Print @ev and veto it when its program matches a --kill-exec pattern
 * (*@vetoed is then 1: it is kill-acked already, not to be acked again).
 * Returns 0, or the negative errno of printing.
 */
static int handle_event(struct monitor *m, const struct procevent_event *ev,
			int *vetoed)
{
	const char *exe = NULL, *rule = NULL;
	char path[PATH_MAX];
	int ret, r;

	*vetoed = 0;
	if (ev->type == PROCEVENT_FORK || ev->type == PROCEVENT_EXEC) {
		exe = task_exe(ev->pid, path, sizeof(path)) ? "" : path;
		if (ev->type == PROCEVENT_EXEC && *exe)
			rule = veto_rule(m, exe);
	}
	ret = print_event(m, ev, exe, rule);
	if (!rule)
		return ret;
	/* Vetoed: no ack delay, the task dies before its next instruction. */
	r = procevent_ack_kill(m->fd, ev->id);
	if (r == -ENOENT) {
		ctl_err("event %llu was released before our veto (ack deadline passed or task killed)",
			(unsigned long long)ev->id);
	} else if (r < 0) {
		/* Not held forever because of us: it is acked as usual. */
		ctl_err("vetoing event %llu: %s", (unsigned long long)ev->id,
			strerror(-r));
		return ret;
	}
	*vetoed = 1;
	return ret;
}

/* This handle's place in line, from its fdinfo; 0 when unknown. */
static unsigned int position(int fd)
{
	char path[64], line[128];
	unsigned int pos = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "procevent-position: %u", &pos) == 1)
			break;
	fclose(f);
	return pos;
}

static void mask_text(uint32_t mask, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int bit;

	buf[0] = '\0';
	for (bit = 0; bit < 32 && used < len; bit++) {
		const char *name = procevent_type_name(1u << bit);

		if ((mask & (1u << bit)) && name)
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", name);
	}
}

int ctl_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "exit", no_argument, NULL, 'e' },
		{ "signal", no_argument, NULL, 's' },
		{ "fork", no_argument, NULL, 'f' },
		{ "exec", no_argument, NULL, 'x' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "pidns", no_argument, NULL, 'P' },
		{ "kill-exec", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "ack-delay", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "timestamps", no_argument, NULL, 'T' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct monitor m = { .fd = -1 };
	uint64_t count = 0, seen = 0, timeout_ns = 0;
	int have_count = 0, have_timeout = 0, quiet = 0;
	const char *pid_file = NULL, *cgroup = NULL;
	int pidns = 0;
	uint32_t mask = 0;
	struct sigaction sa;
	sigset_t block, waitmask;
	int c, ret, rc = CTL_EXIT_OK;

	while ((c = getopt_long(argc, argv, "esfxc:Pk:jd:t:n:p:Tqh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			mask |= PROCEVENT_EXIT;
			break;
		case 's':
			mask |= PROCEVENT_SIGNAL;
			break;
		case 'f':
			mask |= PROCEVENT_FORK;
			break;
		case 'x':
			mask |= PROCEVENT_EXEC;
			break;
		case 'c':
			cgroup = optarg;
			break;
		case 'P':
			pidns = 1;
			break;
		case 'k': {
			void *p;

			if (!*optarg) {
				ctl_err("monitor: empty --kill-exec pattern");
				free(m.kill_exec);
				return CTL_EXIT_USAGE;
			}
			p = realloc(m.kill_exec,
				    (m.nkill_exec + 1) * sizeof(*m.kill_exec));
			if (!p) {
				free(m.kill_exec);
				return ctl_fail("monitor", -ENOMEM);
			}
			m.kill_exec = p;
			m.kill_exec[m.nkill_exec++] = optarg;
			mask |= PROCEVENT_EXEC;
			break;
		}
		case 'j':
			m.json = 1;
			break;
		case 'd':
			if (ctl_parse_duration(optarg, &m.ack_delay_ns)) {
				ctl_err("monitor: bad --ack-delay '%s' (try 500ms, 2s)", optarg);
				return CTL_EXIT_USAGE;
			}
			break;
		case 't':
			if (ctl_parse_duration(optarg, &timeout_ns)) {
				ctl_err("monitor: bad --timeout '%s' (try 500ms, 2s)", optarg);
				return CTL_EXIT_USAGE;
			}
			have_timeout = 1;
			break;
		case 'n':
			if (ctl_parse_count(optarg, &count) || !count) {
				ctl_err("monitor: bad --count '%s' (a number above 0)", optarg);
				return CTL_EXIT_USAGE;
			}
			have_count = 1;
			break;
		case 'T':
			m.stamps = 1;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(monitor_usage, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(monitor_usage, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ctl_err("monitor: unexpected argument '%s'", argv[optind]);
		fputs(monitor_usage, stderr);
		return CTL_EXIT_USAGE;
	}
	if (cgroup && pidns) {
		ctl_err("monitor: --cgroup and --pidns exclude each other");
		return CTL_EXIT_USAGE;
	}
	if (!mask)
		mask = PROCEVENT_ALL;

	/*
	 * SIGINT and SIGTERM are blocked except inside ppoll(): a stop request
	 * is seen at one well-defined point, never between a receive and the
	 * bookkeeping of what must be acked.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);

	setvbuf(stdout, NULL, _IOLBF, 0);

	/*
	 * Scope and deadline first, the mask last: from SET_MASK on, events
	 * reach the handle, and none should arrive unscoped.
	 */
	m.fd = procevent_open(0, O_NONBLOCK | O_CLOEXEC);
	if (m.fd < 0)
		return ctl_fail(PROCEVENT_DEVICE, m.fd);
	if (cgroup || pidns) {
		ret = cgroup ? procevent_set_scope_cgroup(m.fd, cgroup) :
			       procevent_set_scope_pidns(m.fd);
		if (ret == -ENOTDIR && cgroup) {
			ctl_err("monitor: --cgroup %s: not a directory of a cgroup v2 file system",
				cgroup);
			rc = CTL_EXIT_FAIL;
			goto out;
		} else if (ret < 0 && cgroup) {
			ctl_err("monitor: --cgroup %s: %s", cgroup, strerror(-ret));
			rc = CTL_EXIT_FAIL;
			goto out;
		} else if (ret < 0) {
			rc = ctl_fail("setting the scope", ret);
			goto out;
		}
	}
	if (have_timeout) {
		ret = procevent_set_timeout(m.fd, timeout_ns);
		if (ret < 0) {
			rc = ctl_fail("setting the ack timeout", ret);
			goto out;
		}
	}
	ret = procevent_set_mask(m.fd, mask);
	if (ret < 0) {
		rc = ctl_fail(PROCEVENT_DEVICE, ret);
		goto out;
	}
	m.start_ns = mono_ns();
	/*
	 * Written only now: the subscription is in effect once SET_MASK has
	 * returned, while /proc/procevent may list it a moment earlier.
	 */
	if (pid_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", pid_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) ||
		    rename(tmp, pid_file)) {
			rc = ctl_fail(pid_file, -errno);
			pid_file = NULL;
			goto out;
		}
	}
	if (!quiet) {
		char what[64];

		mask_text(mask, what, sizeof(what));
		fprintf(stderr, "%s: subscribed to %s events as subscriber %u",
			ctl_prog, what, position(m.fd));
		if (cgroup)
			fprintf(stderr, " for cgroup %s", cgroup);
		else if (pidns)
			fprintf(stderr, " for our pid namespace");
		if (m.nkill_exec)
			fprintf(stderr, ", vetoing %zu exec pattern%s",
				m.nkill_exec, m.nkill_exec == 1 ? "" : "s");
		if (m.ack_delay_ns)
			fprintf(stderr, ", acking each after %llu ms",
				(unsigned long long)(m.ack_delay_ns / 1000000));
		fputs("\n", stderr);
	}

	for (;;) {
		struct pollfd pfd = { .fd = m.fd, .events = POLLIN };
		struct timespec ts, *tsp = NULL;
		int want_more = !have_count || seen < count;

		if (stop_signal)
			break;
		if (!want_more && m.npend == 0)
			break;
		if (m.npend) {
			uint64_t now = mono_ns(), due = m.pend[0].due_ns;
			size_t i;

			for (i = 1; i < m.npend; i++)
				if (m.pend[i].due_ns < due)
					due = m.pend[i].due_ns;
			due = due > now ? due - now : 0;
			ts.tv_sec = (time_t)(due / 1000000000ULL);
			ts.tv_nsec = (long)(due % 1000000000ULL);
			tsp = &ts;
		}
		if (!want_more)
			pfd.fd = -1;
		ret = ppoll(&pfd, 1, tsp, &waitmask);
		if (ret < 0 && errno != EINTR) {
			rc = ctl_fail("poll", -errno);
			break;
		}
		if (ret > 0 && (pfd.revents & POLLIN)) {
			struct procevent_event evs[16];
			size_t max = sizeof(evs) / sizeof(evs[0]);
			ssize_t n, i;

			if (have_count && count - seen < max)
				max = (size_t)(count - seen);
			n = procevent_recv_many(m.fd, evs, max, 0);
			if (n < 0 && n != -EAGAIN && n != -EINTR) {
				rc = ctl_fail("receiving events", (int)n);
				break;
			}
			for (i = 0; i < n; i++) {
				int vetoed, r;

				seen++;
				ret = handle_event(&m, &evs[i], &vetoed);
				if (!vetoed) {
					r = add_pending(&m, evs[i].id);
					if (!ret)
						ret = r;
				}
				if (ret) {
					rc = ctl_fail("printing events", ret);
					goto out;
				}
			}
		}
		ret = ack_due(&m, 0);
		if (ret < 0) {
			rc = ctl_fail("acknowledging events", ret);
			break;
		}
	}
out:
	/* Whatever happened above, release everything we received. */
	ret = ack_due(&m, 1);
	if (ret < 0 && rc == CTL_EXIT_OK)
		rc = ctl_fail("acknowledging events", ret);
	if (stop_signal && !quiet)
		fprintf(stderr, "%s: %s: acknowledged everything received, exiting\n",
			ctl_prog, stop_signal == SIGINT ? "interrupted" : "terminated");
	close(m.fd);
	free(m.pend);
	free(m.kill_exec);
	if (pid_file)
		unlink(pid_file);
	return rc;
}
