// SPDX-License-Identifier: GPL-2.0
/*
 * lockd_race: the race procevent removes, counted.
 *
 * Exit race, per trial: a child takes lock L from lockd and is killed with
 * SIGKILL; the parent waitpid()s and at once tries L without blocking.  A
 * "stale" trial is one where the server still names the dead child as
 * L's holder.  With --notify=procevent the child's exit is held until the
 * server released L, so there must be none; with the asynchronous
 * methods (cn_proc, pidfd) the server may be late.
 *
 * Signal race, per trial: the parent holds L; a child waits for L in the
 * server and catches SIGALRM.  Its handler asks the server whether its
 * request is still pending.  With procevent the server cancels it before
 * the handler runs, so no handler may see it pending; without, the
 * request is only cancelled after the handler returned.
 *
 * TAP: per method one test for each race.  The procevent results are
 * asserted (0 stale, 0 pending); the others are measured and reported.
 * The table at the end ("# |" lines) is what "make race" prints.
 *
 *   lockd_race [--trials N] [--async-trials N] [--signal-trials N]
 *              [--methods a,b,c]
 *
 * --async-trials sets the exit trials of the asynchronous methods (default:
 * --trials), whose stale counts are only reported.
 */
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "lockd_test.h"

#define LOCK_NAME	"race.L"
#define SOCK_PATH	"/tmp/lockd-race.sock"

struct result {
	const char *method;
	int skipped;
	long trials, stale, errors;
	int64_t ns;			/* all exit trials */
	int64_t late_max_ns;		/* longest wait for a stale lock */
	long sig_trials, pending, sig_errors;
	int64_t sig_ns;
};

static int tap_n;

static void tap(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void tap(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d %s", ok ? "" : "not ", ++tap_n, name);
	if (fmt) {
		printf(" # ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
}

static int read_byte(int fd)
{
	unsigned char b;
	ssize_t n;

	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? b : -1;
}

/* --- exit race -------------------------------------------------------------- */

static void exit_child(int wfd)
{
	struct lockc c;
	unsigned char b = 1;

	if (lockc_connect(&c, SOCK_PATH) == 0 &&
	    lockc_acquire(&c, LOCK_NAME, 0, LT_WAIT_MS, NULL) == 0)
		b = 0;
	if (write(wfd, &b, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static int exit_trial(struct lockc *pc, struct result *r)
{
	int p[2], st, ret;
	pid_t child, holder = 0;
	int64_t t0 = lt_ns(), t1;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (child == 0) {
		close(p[0]);
		exit_child(p[1]);
	}
	close(p[1]);
	ret = read_byte(p[0]);
	close(p[0]);
	kill(child, SIGKILL);
	if (waitpid(child, &st, 0) != child || ret != 0) {
		if (r->errors < 5)
			printf("# %s: exit trial: child could not take the lock\n",
			       r->method);
		return -1;
	}

	/* The moment of truth: the child is dead, its parent knows it. */
	ret = lockc_acquire(pc, LOCK_NAME, LOCKC_NONBLOCK, -1, &holder);
	if (ret == -EWOULDBLOCK && holder == child) {
		r->stale++;
		t1 = lt_ns();
		ret = lockc_acquire(pc, LOCK_NAME, 0, LT_WAIT_MS, NULL);
		t1 = lt_ns() - t1;
		if (t1 > r->late_max_ns)
			r->late_max_ns = t1;
	}
	if (ret)
		return -1;
	if (lockc_release(pc, LOCK_NAME))
		return -1;
	r->ns += lt_ns() - t0;
	return 0;
}

/* --- signal race ------------------------------------------------------------ */

static struct lockc sig_conn;
static volatile sig_atomic_t sig_seen, sig_pending, sig_failed;

static void on_alarm(int sig)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct lockc_info info;
	unsigned int i;
	int saved = errno;

	(void)sig;
	sig_seen = 1;
	if (lockc_query(&sig_conn, LOCK_NAME, &info)) {
		sig_failed = 1;
	} else {
		for (i = 0; i < info.shown; i++)
			if (info.waiters[i] == tid)
				sig_pending = 1;
	}
	errno = saved;
}

/* Exit status bits of a signal-race child. */
#define SC_PENDING	0x1	/* the handler saw its request pending */
#define SC_NOT_EINTR	0x2	/* the acquire did not end with EINTR */
#define SC_FAILED	0x4	/* setup or the handler's query failed */

static void signal_child(int wfd)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct lockc c;
	unsigned char b = 0;
	int ret, code = 0;

	/* No SA_RESTART: the library sees the interruption and cancels. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) || lockc_connect(&c, SOCK_PATH) ||
	    lockc_connect(&sig_conn, SOCK_PATH))
		b = 1;
	if (write(wfd, &b, 1) != 1 || b)
		_exit(SC_FAILED);
	ret = lockc_acquire(&c, LOCK_NAME, 0, 2 * LT_WAIT_MS, NULL);
	if (ret != -EINTR)
		code |= SC_NOT_EINTR;
	if (sig_pending)
		code |= SC_PENDING;
	if (sig_failed || !sig_seen)
		code |= SC_FAILED;
	_exit(code);
}

/* The state letter of @pid in /proc/PID/stat, 0 if unknown. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * Until the server lists @tid among L's waiters and the child sleeps
 * waiting for the answer: a signal that came between its request and its
 * wait would interrupt nothing (no server can fix that race for it).
 */
static int wait_for_waiter(struct lockc *pc, pid_t tid)
{
	int64_t deadline = lt_ms() + LT_WAIT_MS;
	struct lockc_info info;
	unsigned int i;
	int listed = 0;

	while (lt_ms() < deadline) {
		if (!listed) {
			if (lockc_query(pc, LOCK_NAME, &info))
				return -1;
			for (i = 0; i < info.shown; i++)
				if (info.waiters[i] == tid)
					listed = 1;
		}
		if (listed && proc_state(tid) == 'S')
			return 0;
		sched_yield();
	}
	return -1;
}

static int signal_trial(struct lockc *pc, struct result *r)
{
	int p[2], st, ret;
	int64_t t0 = lt_ns();
	pid_t child;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (child == 0) {
		close(p[0]);
		signal_child(p[1]);
	}
	close(p[1]);
	ret = read_byte(p[0]);
	close(p[0]);
	if (ret == 0)
		ret = wait_for_waiter(pc, child);
	if (ret == 0)
		kill(child, SIGALRM);
	else
		kill(child, SIGKILL);
	if (waitpid(child, &st, 0) != child || ret != 0 || !WIFEXITED(st) ||
	    (WEXITSTATUS(st) & (SC_FAILED | SC_NOT_EINTR))) {
		if (r->sig_errors < 5)
			printf("# %s: signal trial: %s, child wait status %#x\n",
			       r->method, ret ? "child never waited" : "child failed", st);
		return -1;
	}
	if (WEXITSTATUS(st) & SC_PENDING)
		r->pending++;
	r->sig_ns += lt_ns() - t0;
	return 0;
}

/* --- one method --------------------------------------------------------------- */

static void run_method(struct result *r, long trials, long sig_trials)
{
	struct lt_server srv;
	struct lockc pc;
	int st = 0;
	long i;

	if (!strcmp(r->method, "procevent") && !lt_have_procevent()) {
		printf("# %s: /dev/procevent missing (module not loaded)\n", r->method);
		r->skipped = 1;
		return;
	}
	if (lt_server_start(&srv, r->method, SOCK_PATH, NULL, &st)) {
		printf("# %s: lockd did not start (wait status %#x)\n", r->method, st);
		r->skipped = 1;
		return;
	}
	if (lockc_connect(&pc, SOCK_PATH)) {
		r->errors = trials;
		r->sig_errors = sig_trials;
		lt_server_stop(&srv);
		return;
	}
	for (i = 0; i < trials; i++) {
		r->trials++;
		if (exit_trial(&pc, r)) {
			r->errors++;
			/* Start the next trial with L free. */
			lockc_release(&pc, LOCK_NAME);
			lt_sleep_ms(10);
		}
	}

	if (sig_trials && lockc_acquire(&pc, LOCK_NAME, 0, LT_WAIT_MS, NULL) == 0) {
		for (i = 0; i < sig_trials; i++) {
			r->sig_trials++;
			if (signal_trial(&pc, r))
				r->sig_errors++;
		}
		lockc_release(&pc, LOCK_NAME);
	} else if (sig_trials) {
		r->sig_errors = sig_trials;
	}
	lockc_close(&pc);
	if (!lt_server_alive(&srv)) {
		printf("# %s: lockd died during the run\n", r->method);
		r->errors++;
	}
	lt_server_stop(&srv);
}

static void fmt_ms(char *buf, size_t len, int64_t ns, long n)
{
	if (n <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f ms", (double)ns / n / 1e6);
}

static void report(struct result *res, int n)
{
	struct utsname u;
	char c1[32], c2[32], c3[32];
	int i;

	uname(&u);
	printf("# lockd race on %s, %ld CPUs, one VM boot\n", u.release,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("# | notify | exit trials | stale lock seen | latest release | cost/trial | signal trials | handler saw request pending | cost/trial | errors |\n");
	printf("# |---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < n; i++) {
		struct result *r = &res[i];

		if (r->skipped) {
			printf("# | %s | skipped | | | | | | | |\n", r->method);
			continue;
		}
		fmt_ms(c1, sizeof(c1), r->ns, r->trials - r->errors);
		fmt_ms(c2, sizeof(c2), r->late_max_ns, r->stale ? 1 : 0);
		fmt_ms(c3, sizeof(c3), r->sig_ns, r->sig_trials - r->sig_errors);
		printf("# | %s | %ld | %ld | %s | %s | %ld | %ld | %s | %ld |\n",
		       r->method, r->trials, r->stale, c2, c1, r->sig_trials,
		       r->pending, c3, r->errors + r->sig_errors);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trials", required_argument, NULL, 't' },
		{ "signal-trials", required_argument, NULL, 's' },
		{ "async-trials", required_argument, NULL, 'a' },
		{ "methods", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const all[] = { "procevent", "cn_proc", "pidfd" };
	struct result res[3];
	long trials = 300, sig_trials = 100, async_trials = -1;
	char *methods = NULL, *tok, *save = NULL;
	int n = 0, i, ch;
	char name[64];

	while ((ch = getopt_long(argc, argv, "t:s:a:m:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			async_trials = strtol(optarg, NULL, 10);
			break;
		case 't':
			trials = strtol(optarg, NULL, 10);
			break;
		case 's':
			sig_trials = strtol(optarg, NULL, 10);
			break;
		case 'm':
			methods = optarg;
			break;
		default:
			fprintf(stderr, "usage: lockd_race [--trials N] [--async-trials N] [--signal-trials N] [--methods procevent,cn_proc,pidfd]\n");
			return 2;
		}
	}
	if (trials < 0 || sig_trials < 0)
		return 2;
	memset(res, 0, sizeof(res));
	if (methods) {
		for (tok = strtok_r(methods, ",", &save); tok && n < 3;
		     tok = strtok_r(NULL, ",", &save))
			for (i = 0; i < 3; i++)
				if (!strcmp(tok, all[i]))
					res[n++].method = all[i];
	} else {
		for (n = 0; n < 3; n++)
			res[n].method = all[n];
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", 2 * n);

	for (i = 0; i < n; i++) {
		struct result *r = &res[i];
		int sure = !strcmp(r->method, "procevent");

		run_method(r, sure || async_trials < 0 ? trials : async_trials,
			   sig_trials);
		snprintf(name, sizeof(name), "%s_exit_race", r->method);
		if (r->skipped)
			tap(1, name, "SKIP lockd --notify=%s unavailable", r->method);
		else if (sure)
			tap(r->stale == 0 && r->errors == 0, name,
			    "%ld of %ld trials saw the dead child still holding the lock, %ld errors",
			    r->stale, r->trials, r->errors);
		else
			tap(r->errors == 0, name,
			    "measured: %ld of %ld trials saw the dead child still holding the lock, %ld errors",
			    r->stale, r->trials, r->errors);
		snprintf(name, sizeof(name), "%s_signal_race", r->method);
		if (r->skipped)
			tap(1, name, "SKIP lockd --notify=%s unavailable", r->method);
		else if (sure)
			tap(r->pending == 0 && r->sig_errors == 0, name,
			    "%ld of %ld handlers saw their request pending, %ld errors",
			    r->pending, r->sig_trials, r->sig_errors);
		else
			tap(r->sig_errors == 0, name,
			    "measured: %ld of %ld handlers saw their request pending, %ld errors",
			    r->pending, r->sig_trials, r->sig_errors);
	}
	report(res, n);
	return 0;
}
