// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl monitor: subscribe (optionally scoped to a cgroup subtree
 * or to our pid namespace), print each event, acknowledge it after an
 * optional delay, or veto an exec whose program matches a --kill-exec
 * pattern.
 *
 * Every exiting process on the machine may wait for this program, so it
 * never lets output hold an event: a batch is acknowledged (or vetoed)
 * first and printed after, into a buffer that is written only when
 * poll(2) says stdout (or stderr) takes more; while the buffer is full,
 * no more events are received, and the ack deadline (5 s unless --timeout
 * says otherwise) releases what waits.  Stopped by SIGTSTP, SIGTTIN or
 * SIGTTOU, it unsubscribes, acknowledges everything it has, and only then
 * stops (SIGSTOP); SIGCONT subscribes again.  On SIGINT or SIGTERM it
 * acknowledges everything received before leaving.
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
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procevent.h"
#include "proceventctl.h"
#include "notify.h"

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
"                           subscriber: an event not acked in time is\n"
"                           released without us (default: 5s, or the\n"
"                           ack delay plus 5s; 0: none, wait forever)\n"
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
"says so.  Names are printed escaped: \\n, \\t, \\\\ and \\xHH for control\n"
"characters and bytes that are not UTF-8 (JSON: \\u00XX, and \\\\xHH).\n"
"\n"
"Processes wait for this monitor, so it never makes them wait for its\n"
"output: each event is acknowledged before its line is written, and a\n"
"slow or stopped reader (a pager, Ctrl-S, a full pipe) only delays the\n"
"lines.  While its output is stuck the monitor takes no new events; the\n"
"ack deadline (--timeout) releases them.\n"
"SIGTSTP, SIGTTIN, SIGTTOU (Ctrl-Z): unsubscribe, acknowledge everything\n"
"received, then stop; SIGCONT subscribes again, at the end of the line.\n"
"SIGINT or SIGTERM: acknowledge every event received, then exit 0.\n";

/* The default ack deadline; also added to --ack-delay when one is given. */
#define MON_DEFAULT_TIMEOUT_NS	(5 * 1000000000ULL)
/* Output kept while stdout does not take it; beyond, no events are taken. */
#define MON_OUT_MAX		(256 * 1024)
/* At most this much per write(2): a pipe poll(2) calls writable takes it. */
#define MON_WRITE_CHUNK		4096

struct pending {
	uint64_t id;
	uint64_t due_ns;	/* CLOCK_MONOTONIC */
};

/* Text waiting for an output file that poll(2) has not yet called writable. */
struct obuf {
	int fd;
	char *buf;
	size_t off, len, cap;
	int failed;		/* a negative errno once writing failed */
};

struct monitor {
	int fd;
	int json;
	int stamps;
	uint32_t mask;
	char **kill_exec;	/* --kill-exec patterns */
	size_t nkill_exec;
	uint64_t ack_delay_ns;
	uint64_t start_ns;
	uint64_t count, seen;	/* --count N (0: no limit), events taken */
	struct pending *pend;
	size_t npend, cap;
	struct obuf out, err;
	sigset_t waitmask;	/* our mask with the handled signals let in */
};

static volatile sig_atomic_t stop_signal, suspend_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_suspend(int sig)
{
	suspend_signal = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 2, 3)))
static void ob_printf(struct obuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		if (o->off) {
			memmove(o->buf, o->buf + o->off, o->len - o->off);
			o->len -= o->off;
			o->off = 0;
			continue;
		}
		room = o->cap ? o->cap * 2 : 8192;
		while (room < o->len + (size_t)n + 1)
			room *= 2;
		{
			char *p = realloc(o->buf, room);

			if (!p) {
				o->failed = -ENOMEM;
				return;
			}
			o->buf = p;
			o->cap = room;
		}
	}
}

static size_t ob_pending(const struct obuf *o)
{
	return o->len - o->off;
}

/*
 * One write(2) of what waits, called when poll(2) said the file takes
 * more.  The stop signals are let in meanwhile: a write that blocks all
 * the same (a terminal under Ctrl-S, SIGTTOU in the background) is
 * interrupted by them, and nothing is received while it lasts.
 */
static void ob_write(struct monitor *m, struct obuf *o)
{
	size_t n = ob_pending(o);
	sigset_t old;
	ssize_t w;

	if (!n || o->failed)
		return;
	if (n > MON_WRITE_CHUNK)
		n = MON_WRITE_CHUNK;
	sigprocmask(SIG_SETMASK, &m->waitmask, &old);
	w = write(o->fd, o->buf + o->off, n);
	if (w < 0 && errno != EINTR && errno != EAGAIN)
		o->failed = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (w > 0)
		o->off += (size_t)w;
	if (o->off == o->len)
		o->off = o->len = 0;
}

/* At the end, when nothing is held any more: write it all, blocking. */
static void ob_flush(struct obuf *o)
{
	while (ob_pending(o) && !o->failed) {
		ssize_t w = write(o->fd, o->buf + o->off, ob_pending(o));

		if (w < 0 && errno != EINTR)
			o->failed = -errno;
		else if (w > 0)
			o->off += (size_t)w;
	}
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
			ob_printf(&m->err, "%s: event %llu was released before our ack (ack deadline passed or task killed)\n",
				  ctl_prog, (unsigned long long)p->id);
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

/* @s escaped by the library's one rule (text, or JSON without quotes). */
static void ob_escaped(struct obuf *o, const char *s, unsigned int flags)
{
	char small[256], *big = NULL;
	const char *text = small;
	int n;

	n = procevent_escape(s, strlen(s), small, sizeof(small), flags);
	if (n >= (int)sizeof(small)) {
		big = malloc((size_t)n + 1);
		if (!big) {
			o->failed = -ENOMEM;
			return;
		}
		procevent_escape(s, strlen(s), big, (size_t)n + 1, flags);
		text = big;
	}
	ob_printf(o, "%s", text);
	free(big);
}

/* What is known about one received event when its line is written. */
struct seen_event {
	struct procevent_event ev;
	int have_exe;			/* fork or exec: exe[] says which program */
	char exe[PATH_MAX];		/* "" when unreadable */
	const char *rule;		/* the --kill-exec pattern that vetoed it */
	int print;			/* 0: beyond --count, acked unprinted */
};

/* The last " [id " of @line, where the program name goes in. */
static char *id_part(char *line)
{
	char *p = NULL, *q = line;

	while ((q = strstr(q, " [id ")) != NULL)
		p = q++;
	return p;
}

/* One line for @se into the output buffer. */
static int print_event(struct monitor *m, const struct seen_event *se)
{
	char line[1024], *idp;
	int n;

	n = procevent_format(&se->ev, line, sizeof(line),
			     m->json ? PROCEVENT_FORMAT_JSON : 0);
	if (n < 0)
		return n;
	if (m->json) {
		/* The library's object, with what only we know added at its end. */
		if (se->have_exe) {
			line[strlen(line) - 1] = '\0';
			ob_printf(&m->out, "%s,\"exe\":", line);
			if (*se->exe) {
				ob_printf(&m->out, "\"");
				ob_escaped(&m->out, se->exe, PROCEVENT_ESCAPE_JSON);
				ob_printf(&m->out, "\"");
			} else {
				ob_printf(&m->out, "null");
			}
			if (m->nkill_exec && se->ev.type == PROCEVENT_EXEC) {
				ob_printf(&m->out, ",\"vetoed\":%s",
					  se->rule ? "true" : "false");
				if (se->rule) {
					ob_printf(&m->out, ",\"rule\":\"");
					ob_escaped(&m->out, se->rule,
						   PROCEVENT_ESCAPE_JSON);
					ob_printf(&m->out, "\"");
				}
			}
			ob_printf(&m->out, "}\n");
		} else {
			ob_printf(&m->out, "%s\n", line);
		}
		return 0;
	}
	if (m->stamps) {
		uint64_t t = mono_ns() - m->start_ns;

		ob_printf(&m->out, "[%4llu.%03llu] ",
			  (unsigned long long)(t / 1000000000ULL),
			  (unsigned long long)(t / 1000000ULL % 1000));
	}
	/* "...: new program [id 9]" becomes "...: new program /bin/ls [id 9]" */
	idp = se->have_exe && *se->exe ? id_part(line) : NULL;
	if (idp) {
		*idp = '\0';
		ob_printf(&m->out, "%s ", line);
		ob_escaped(&m->out, se->exe, 0);
		ob_printf(&m->out, " [%s", idp + 2);
	} else {
		ob_printf(&m->out, "%s", line);
	}
	if (se->rule) {
		ob_printf(&m->out, " vetoed: killed (program matches '");
		ob_escaped(&m->out, se->rule, 0);
		ob_printf(&m->out, "')");
	}
	ob_printf(&m->out, "\n");
	return 0;
}

/*
 * Take up to @max waiting events and answer each before anything is
 * printed: a veto at once, the rest acked (or set to be acked after the
 * --ack-delay); then their lines go into the output buffer.  @drain:
 * every event is acked now, whatever the delay.  Returns the number taken
 * (0: none waiting), -ENOMSG (not subscribed, nothing left) or another
 * negative errno.
 */
static ssize_t take_batch(struct monitor *m, size_t max, int drain)
{
	static struct seen_event batch[16];
	ssize_t n, i;
	int ret = 0, r;

	if (max > sizeof(batch) / sizeof(batch[0]))
		max = sizeof(batch) / sizeof(batch[0]);
	{
		struct procevent_event evs[16];

		n = procevent_recv_many(m->fd, evs, max, 0);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n < 0)
			return n;
		for (i = 0; i < n; i++)
			batch[i].ev = evs[i];
	}
	for (i = 0; i < n; i++) {
		struct seen_event *se = &batch[i];
		const struct procevent_event *ev = &se->ev;

		se->print = !m->count || m->seen < m->count;
		m->seen++;
		se->rule = NULL;
		se->have_exe = ev->type == PROCEVENT_FORK ||
			       ev->type == PROCEVENT_EXEC;
		if (se->have_exe && task_exe(ev->pid, se->exe, sizeof(se->exe)))
			se->exe[0] = '\0';
		if (ev->type == PROCEVENT_EXEC && se->exe[0])
			se->rule = veto_rule(m, se->exe);
		if (se->rule) {
			/* Vetoed: no ack delay, it dies before its next instruction. */
			r = procevent_ack_kill(m->fd, ev->id);
			if (r == -ENOENT) {
				ob_printf(&m->err, "%s: event %llu was released before our veto (ack deadline passed or task killed)\n",
					  ctl_prog, (unsigned long long)ev->id);
				continue;
			}
			if (!r)
				continue;
			/* Not held forever because of us: acked as usual. */
			ob_printf(&m->err, "%s: vetoing event %llu: %s\n",
				  ctl_prog, (unsigned long long)ev->id,
				  strerror(-r));
			se->rule = NULL;
		}
		r = add_pending(m, ev->id);
		if (r < 0 && !ret)
			ret = r;
	}
	r = ack_due(m, drain);
	if (r < 0 && !ret)
		ret = r;
	for (i = 0; i < n; i++) {
		if (!batch[i].print)
			continue;
		r = print_event(m, &batch[i]);
		if (r < 0 && !ret)
			ret = r;
	}
	return ret ? ret : n;
}

/*
 * Stopped by SIGTSTP, SIGTTIN or SIGTTOU: hold nothing while stopped.
 * Unsubscribe (no new events), take and ack what is still queued for us
 * and everything received, stop, and subscribe again when continued.
 */
static int suspend(struct monitor *m)
{
	ssize_t n;
	int ret;

	suspend_signal = 0;
	ret = procevent_set_mask(m->fd, 0);
	if (ret < 0)
		return ret;
	do
		n = take_batch(m, 16, 1);
	while (n > 0);
	ret = ack_due(m, 1);
	if (n < 0 && n != -ENOMSG)
		return (int)n;
	if (ret < 0)
		return ret;
	raise(SIGSTOP);
	/* SIGCONT: the stop request that stopped us is answered. */
	suspend_signal = 0;
	return procevent_set_mask(m->fd, m->mask);
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
	static const int stop_sigs[] = { SIGINT, SIGTERM };
	static const int suspend_sigs[] = { SIGTSTP, SIGTTIN, SIGTTOU };
	struct monitor m = {
		.fd = -1, .out = { .fd = STDOUT_FILENO },
		.err = { .fd = STDERR_FILENO },
	};
	uint64_t timeout_ns = 0, wd_usec;
	int have_timeout = 0, quiet = 0;
	const char *pid_file = NULL, *cgroup = NULL;
	int pidns = 0;
	uint32_t mask = 0;
	struct sigaction sa;
	sigset_t block;
	int c, ret, rc = CTL_EXIT_OK;
	size_t i;

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
			if (ctl_parse_count(optarg, &m.count) || !m.count) {
				ctl_err("monitor: bad --count '%s' (a number above 0)", optarg);
				return CTL_EXIT_USAGE;
			}
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
	/* Not PROCEVENT_ALL: fork and exec events are asked for by name. */
	if (!mask)
		mask = PROCEVENT_EXIT | PROCEVENT_SIGNAL;
	m.mask = mask;
	/*
	 * A deadline unless asked for none: whatever happens to this process
	 * (stopped by a debugger, its output stuck), no task waits for it
	 * longer than that.
	 */
	if (!have_timeout) {
		timeout_ns = m.ack_delay_ns + MON_DEFAULT_TIMEOUT_NS;
		have_timeout = 1;
	}

	/*
	 * The handled signals are blocked except inside ppoll() and output
	 * writes: a request is seen at one well-defined point, never between
	 * a receive and the bookkeeping of what must be acked.  No
	 * SA_RESTART: a write that blocks is interrupted by them.
	 */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sa.sa_handler = on_stop;
	for (i = 0; i < 2; i++) {
		sigaction(stop_sigs[i], &sa, NULL);
		sigaddset(&block, stop_sigs[i]);
	}
	sa.sa_handler = on_suspend;
	for (i = 0; i < 3; i++) {
		sigaction(suspend_sigs[i], &sa, NULL);
		sigaddset(&block, suspend_sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &block, &m.waitmask);
	for (i = 0; i < 2; i++)
		sigdelset(&m.waitmask, stop_sigs[i]);
	for (i = 0; i < 3; i++)
		sigdelset(&m.waitmask, suspend_sigs[i]);

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
		} else if (ret < 0 && cgroup && ret != -EOPNOTSUPP) {
			ctl_err("monitor: --cgroup %s: %s", cgroup, strerror(-ret));
			rc = CTL_EXIT_FAIL;
			goto out;
		} else if (ret < 0) {
			rc = ctl_fail("setting the scope", ret);
			goto out;
		}
	}
	ret = procevent_set_timeout(m.fd, timeout_ns);
	if (ret < 0) {
		rc = ctl_fail("setting the ack timeout", ret);
		goto out;
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
		ob_printf(&m.err, "%s: subscribed to %s events as subscriber %u",
			  ctl_prog, what, position(m.fd));
		if (cgroup)
			ob_printf(&m.err, " for cgroup %s", cgroup);
		else if (pidns)
			ob_printf(&m.err, " for our pid namespace");
		if (m.nkill_exec)
			ob_printf(&m.err, ", vetoing %zu exec pattern%s",
				  m.nkill_exec, m.nkill_exec == 1 ? "" : "s");
		if (m.ack_delay_ns)
			ob_printf(&m.err, ", acking each after %llu ms",
				  (unsigned long long)(m.ack_delay_ns / 1000000));
		if (timeout_ns)
			ob_printf(&m.err, ", ack deadline %llu ms",
				  (unsigned long long)(timeout_ns / 1000000));
		else
			ob_printf(&m.err, ", no ack deadline");
		ob_printf(&m.err, "\n");
	}
	pe_notify_ready();
	wd_usec = pe_notify_watchdog_usec();

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = -1, .events = POLLIN },
			{ .fd = -1, .events = POLLOUT },
			{ .fd = -1, .events = POLLOUT },
		};
		struct timespec ts, *tsp = NULL;
		int want_more = !m.count || m.seen < m.count;
		uint64_t wait_ns = UINT64_MAX;

		if (stop_signal)
			break;
		if (suspend_signal) {
			ret = suspend(&m);
			if (ret < 0) {
				rc = ctl_fail("releasing events before stopping", ret);
				break;
			}
			continue;
		}
		if (m.out.failed || m.err.failed) {
			/* Acked already; a reader that went away ends us. */
			ret = m.out.failed ? m.out.failed : m.err.failed;
			rc = ctl_fail("writing the output", ret);
			break;
		}
		if (!want_more && m.npend == 0)
			break;
		/* No new events while the output is stuck: see the top. */
		if (want_more && ob_pending(&m.out) < MON_OUT_MAX &&
		    ob_pending(&m.err) < MON_OUT_MAX)
			pfd[0].fd = m.fd;
		if (ob_pending(&m.out))
			pfd[1].fd = m.out.fd;
		if (ob_pending(&m.err))
			pfd[2].fd = m.err.fd;
		if (m.npend) {
			uint64_t now = mono_ns(), due = m.pend[0].due_ns;

			for (i = 1; i < m.npend; i++)
				if (m.pend[i].due_ns < due)
					due = m.pend[i].due_ns;
			wait_ns = due > now ? due - now : 0;
		}
		if (wd_usec && wait_ns > wd_usec * 500)
			wait_ns = wd_usec * 500;
		if (wait_ns != UINT64_MAX) {
			ts.tv_sec = (time_t)(wait_ns / 1000000000ULL);
			ts.tv_nsec = (long)(wait_ns % 1000000000ULL);
			tsp = &ts;
		}
		ret = ppoll(pfd, 3, tsp, &m.waitmask);
		if (ret < 0 && errno != EINTR) {
			rc = ctl_fail("poll", -errno);
			break;
		}
		if (ret > 0 && (pfd[0].revents & POLLIN)) {
			size_t max = 16;
			ssize_t n;

			if (m.count && m.count - m.seen < max)
				max = (size_t)(m.count - m.seen);
			n = take_batch(&m, max, 0);
			if (n < 0) {
				rc = ctl_fail("receiving events", (int)n);
				break;
			}
		}
		ret = ack_due(&m, 0);
		if (ret < 0) {
			rc = ctl_fail("acknowledging events", ret);
			break;
		}
		if (ret >= 0 && pfd[1].revents)
			ob_write(&m, &m.out);
		if (ret >= 0 && pfd[2].revents)
			ob_write(&m, &m.err);
		pe_notify_watchdog();
	}
out:
	/* Whatever happened above, release everything we received. */
	ret = m.fd >= 0 ? ack_due(&m, 1) : 0;
	if (ret < 0 && rc == CTL_EXIT_OK)
		rc = ctl_fail("acknowledging events", ret);
	/* Nothing waits for us from here on: a stuck reader may block us. */
	close(m.fd);
	for (i = 0; i < 2; i++)
		signal(stop_sigs[i], SIG_DFL);
	for (i = 0; i < 3; i++)
		signal(suspend_sigs[i], SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	ob_flush(&m.out);
	ob_flush(&m.err);
	if (m.out.failed && rc == CTL_EXIT_OK && !stop_signal)
		rc = ctl_fail("writing the output", m.out.failed);
	if (stop_signal && !quiet)
		fprintf(stderr, "%s: %s: acknowledged everything received, exiting\n",
			ctl_prog, stop_signal == SIGINT ? "interrupted" : "terminated");
	free(m.out.buf);
	free(m.err.buf);
	free(m.pend);
	free(m.kill_exec);
	if (pid_file)
		unlink(pid_file);
	return rc;
}
