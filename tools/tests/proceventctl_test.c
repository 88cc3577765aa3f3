// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl: help and usage errors, monitor's JSON against the event
 * the kernel gives a second subscriber, --count, SIGTERM during a hold,
 * fork and exec lines, the --kill-exec veto, --cgroup and --pidns scopes,
 * status's subscriber order and scopes, and the messages and exit codes
 * for a missing module, a caller without privilege and no free slot.
 */
#include "tools_test.h"

#include <grp.h>
#include <sched.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"

#define NEED_DEVICE() do { \
	if (!tt_have_device()) \
		SKIP(return, "no %s (module not loaded)", PROCEVENT_DEVICE); \
} while (0)

/* Exit codes from proceventctl(8). */
#define EXIT_USAGE	2
#define EXIT_NOMODULE	3
#define EXIT_PERM	4
#define EXIT_BUSY	5

/* 1 when @path is the root of a cgroup v2 mount, 0 otherwise. */
static int statfs_is_cgroup2(const char *path)
{
	struct statfs sf;

	return !statfs(path, &sf) && sf.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/*
 * Start a monitor and wait until it is subscribed: its --pid-file appears
 * once SET_MASK has returned (the subscriber list shows it a moment before
 * its probes are in place).
 */
static int start_monitor_setup(struct tt_proc *p, const char *const *args,
			       void (*setup)(void))
{
	const char *argv[32];
	char pidfile[64];
	int64_t end;
	size_t i;

	snprintf(pidfile, sizeof(pidfile), "/tmp/proceventctl_test.%d.pid",
		 (int)getpid());
	unlink(pidfile);
	for (i = 0; args[i] && i < 28; i++)
		argv[i] = args[i];
	argv[i++] = "--pid-file";
	argv[i++] = pidfile;
	argv[i] = NULL;
	if (tt_spawn(p, argv, setup))
		return -1;
	end = tt_ms() + TT_WAIT_MS;
	while (access(pidfile, F_OK)) {
		if (tt_ms() >= end || waitpid(p->pid, NULL, WNOHANG))
			return -1;
		usleep(2000);
	}
	return 0;
}

static int start_monitor(struct tt_proc *p, const char *const *args)
{
	return start_monitor_setup(p, args, NULL);
}

static void stop_monitor(struct tt_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		tt_finish(p, TT_WAIT_MS);
	}
}

static uint64_t exit_acked(void)
{
	struct procevent_status *st;
	uint64_t n;

	if (procevent_status_read(&st))
		return ~0ULL;
	n = st->exit.acked;
	procevent_status_free(st);
	return n;
}

TEST(help_for_every_command)
{
	static const char *const h0[] = { "--help", NULL };
	static const char *const h1[] = { "monitor", "--help", NULL };
	static const char *const h2[] = { "status", "--help", NULL };
	static const char *const h3[] = { "help", "monitor", NULL };
	static const char *const h4[] = { "held", "--help", NULL };
	const char *const *cmds[] = { h0, h1, h2, h4, h3 };
	struct tt_proc p;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		EXPECT_EQ(0, tt_run(&p, cmds[i], NULL, TT_WAIT_MS));
		EXPECT_EQ(0, strncmp(p.out, "usage: proceventctl", 19));
		EXPECT_EQ(0, p.err_len);
	}
	EXPECT_NE(NULL, strstr(p.out, "--ack-delay"));
	EXPECT_EQ(0, tt_run(&p, h1, NULL, TT_WAIT_MS));
	EXPECT_NE(NULL, strstr(p.out, "--fork"));
	EXPECT_NE(NULL, strstr(p.out, "--exec"));
	EXPECT_NE(NULL, strstr(p.out, "--cgroup PATH"));
	EXPECT_NE(NULL, strstr(p.out, "--pidns"));
	EXPECT_NE(NULL, strstr(p.out, "--kill-exec PATTERN"));
	/* what keeps the machine safe is said where a user looks */
	EXPECT_NE(NULL, strstr(p.out, "(default: 5s,"));
	EXPECT_NE(NULL, strstr(p.out, "0: none, wait forever"));
	EXPECT_NE(NULL, strstr(p.out, "acknowledged before its line is written"));
	EXPECT_NE(NULL, strstr(p.out, "SIGTSTP, SIGTTIN, SIGTTOU"));
}

TEST(usage_errors_exit_2)
{
	static const char *const a0[] = { NULL };
	static const char *const a1[] = { "frobnicate", NULL };
	static const char *const a2[] = { "monitor", "--ack-delay", "5x", NULL };
	static const char *const a3[] = { "monitor", "--count", "0", NULL };
	static const char *const a4[] = { "monitor", "--bogus", NULL };
	static const char *const a5[] = { "status", "extra", NULL };
	static const char *const a6[] = {
		"monitor", "--cgroup", "/sys/fs/cgroup", "--pidns", NULL
	};
	static const char *const a7[] = { "monitor", "--kill-exec", "", NULL };
	static const char *const a8[] = { "monitor", "--cgroup", NULL };
	const char *const *cmds[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8 };
	struct tt_proc p;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		EXPECT_EQ(EXIT_USAGE, tt_run(&p, cmds[i], NULL, TT_WAIT_MS)) {
			TH_LOG("case %zu: stderr: %s", i, p.err);
		}
		EXPECT_NE(0, p.err_len);
	}
}

TEST(monitor_json_line_is_the_event)
{
	static const char *const args[] = {
		"monitor", "--exit", "--json", "--count", "1", "--quiet", NULL
	};
	struct procevent_event ev;
	struct tt_proc mon;
	struct tt_json j;
	char expect[1024], *nl;
	pid_t child;
	int fd, status;

	NEED_DEVICE();
	ASSERT_EQ(0, start_monitor(&mon, args));
	/* Second in line: the kernel hands us the same event after the monitor's ack. */
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	child = tt_child_exit(7);
	ASSERT_LT(0, child);
	ASSERT_EQ(0, procevent_recv(fd, &ev, TT_WAIT_MS));
	EXPECT_EQ(child, ev.pid);
	EXPECT_EQ(0, procevent_ack(fd, ev.id));
	close(fd);
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 7);

	status = tt_finish(&mon, TT_WAIT_MS);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("monitor: status %d, stderr: %s", status, mon.err);
	}
	ASSERT_EQ(1, count_lines(mon.out)) {
		TH_LOG("monitor output: %s", mon.out);
	}
	nl = strchr(mon.out, '\n');
	*nl = '\0';
	ASSERT_EQ(0, tt_json_parse(mon.out, &j)) {
		TH_LOG("not a JSON object: %s", mon.out);
	}

#define FIELD_NUM(name, fmt, val) do { \
	snprintf(expect, sizeof(expect), fmt, val); \
	EXPECT_STREQ(expect, tt_json_get(&j, name) ?: "(missing)") { \
		TH_LOG("field %s in %s", name, mon.out); \
	} \
} while (0)
	FIELD_NUM("size", "%u", ev.size);
	EXPECT_STREQ("exit", tt_json_get(&j, "type") ?: "(missing)");
	FIELD_NUM("id", "%llu", (unsigned long long)ev.id);
	FIELD_NUM("pid", "%d", ev.pid);
	FIELD_NUM("tgid", "%d", ev.tgid);
	FIELD_NUM("ppid", "%d", ev.ppid);
	FIELD_NUM("uid", "%u", ev.uid);
	FIELD_NUM("status", "%d", ev.status);
	FIELD_NUM("signo", "%d", ev.signo);
	FIELD_NUM("si_code", "%d", ev.si_code);
	FIELD_NUM("sender_pid", "%d", ev.sender_pid);
	FIELD_NUM("sender_uid", "%u", ev.sender_uid);
	FIELD_NUM("flags", "%u", ev.flags);
	FIELD_NUM("start_time_ns", "%llu", (unsigned long long)ev.start_time_ns);
	FIELD_NUM("time_ns", "%llu", (unsigned long long)ev.time_ns);
	FIELD_NUM("cgroup_id", "%llu", (unsigned long long)ev.cgroup_id);
	FIELD_NUM("comm", "%s", ev.comm);
	FIELD_NUM("exit_code", "%d", 7);
#undef FIELD_NUM
}

static void on_signal(int sig)
{
	(void)sig;
}

TEST(monitor_json_signal_event_names_the_signal)
{
	static const char *const args[] = {
		"monitor", "--signal", "--json", "--count", "1", "--quiet", NULL
	};
	struct tt_proc mon;
	struct tt_json j;
	int pfd[2], status;
	char c, want[32];
	pid_t child;

	NEED_DEVICE();
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, start_monitor(&mon, args));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct sigaction sa = { .sa_handler = on_signal };
		sigset_t none, usr2;

		/*
		 * Blocked until sigsuspend(): a SIGUSR2 that came between the
		 * write and the wait would leave the child waiting forever.
		 */
		sigemptyset(&usr2);
		sigaddset(&usr2, SIGUSR2);
		sigprocmask(SIG_BLOCK, &usr2, NULL);
		sigaction(SIGUSR2, &sa, NULL);
		if (write(pfd[1], "r", 1) != 1)
			_exit(2);
		sigemptyset(&none);
		sigsuspend(&none);
		_exit(0);
	}
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	kill(child, SIGUSR2);
	status = tt_finish(&mon, TT_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_LE(0, tt_wait(child, TT_WAIT_MS));
	ASSERT_EQ(1, count_lines(mon.out)) {
		TH_LOG("monitor output: %s", mon.out);
	}
	*strchr(mon.out, '\n') = '\0';
	ASSERT_EQ(0, tt_json_parse(mon.out, &j));
	EXPECT_STREQ("signal", tt_json_get(&j, "type") ?: "");
	EXPECT_STREQ("SIGUSR2", tt_json_get(&j, "signal") ?: "");
	snprintf(want, sizeof(want), "%d", (int)child);
	EXPECT_STREQ(want, tt_json_get(&j, "pid") ?: "");
	snprintf(want, sizeof(want), "%d", (int)getpid());
	EXPECT_STREQ(want, tt_json_get(&j, "sender_pid") ?: "");
	close(pfd[0]);
	close(pfd[1]);
}

TEST(monitor_count_stops_after_n_events)
{
	static const char *const args[] = {
		"monitor", "--exit", "--count", "3", "--quiet", NULL
	};
	struct tt_proc mon;
	pid_t kids[5];
	char want[64];
	int i, status;

	NEED_DEVICE();
	ASSERT_EQ(0, start_monitor(&mon, args));
	for (i = 0; i < 3; i++) {
		kids[i] = tt_child_exit(i);
		ASSERT_LT(0, kids[i]);
		ASSERT_LE(0, tt_wait(kids[i], TT_WAIT_MS));
	}
	status = tt_finish(&mon, TT_WAIT_MS);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("monitor: status %d, stderr: %s", status, mon.err);
	}
	EXPECT_EQ(3, count_lines(mon.out)) {
		TH_LOG("monitor output: %s", mon.out);
	}
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "exit pid %d (", (int)kids[i]);
		EXPECT_NE(NULL, strstr(mon.out, want)) {
			TH_LOG("no \"%s\" in: %s", want, mon.out);
		}
	}
	/* Gone from the list: later exits are not held. */
	EXPECT_EQ(0, tt_wait_subscriber(mon.pid, 0, NULL));
	for (i = 3; i < 5; i++) {
		kids[i] = tt_child_exit(0);
		EXPECT_LE(0, tt_wait(kids[i], 1000));
	}
}

static void sigterm_during_hold(struct __test_metadata *_metadata, int sig)
{
	static const char *const args[] = {
		"monitor", "--exit", "--ack-delay", "60s", NULL
	};
	struct procevent_subscriber sub;
	struct tt_proc mon;
	uint64_t acked_before;
	int64_t end, t0;
	pid_t child;
	int status;

	NEED_DEVICE();
	ASSERT_EQ(0, start_monitor(&mon, args));
	acked_before = exit_acked();
	child = tt_child_exit(4);
	ASSERT_LT(0, child);
	/* The monitor has received the event and sits on it. */
	end = tt_ms() + TT_WAIT_MS;
	do {
		ASSERT_EQ(1, tt_wait_subscriber(mon.pid, 100, &sub));
	} while (sub.received == 0 && tt_ms() < end);
	ASSERT_EQ(1, sub.received) {
		char buf[2048] = "";
		int fd = open(PROCEVENT_PROC_FILE, O_RDONLY);

		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf) - 1) < 0)
				buf[0] = '\0';
			close(fd);
		}
		tt_drain(&mon);
		TH_LOG("child %d, monitor %d: stdout: %s stderr: %s /proc/procevent:\n%s",
		       (int)child, (int)mon.pid, mon.out, mon.err, buf);
		kill(mon.pid, SIGKILL);
	}
	EXPECT_EQ(1, tt_wait_lines(&mon, 1, TT_WAIT_MS));
	usleep(100000);
	EXPECT_EQ(0, waitpid(child, NULL, WNOHANG));

	t0 = tt_ms();
	kill(mon.pid, sig);
	status = tt_wait(child, 3000);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 4) {
		TH_LOG("held child not released within 3 s of the signal");
	}
	EXPECT_GT(3000, tt_ms() - t0);
	status = tt_finish(&mon, TT_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("monitor: status %d, stderr: %s", status, mon.err);
	}
	/* Released by an ack, not by closing the handle. */
	EXPECT_EQ(acked_before + 1, exit_acked());
	EXPECT_NE(NULL, strstr(mon.err, "acknowledged everything received")) {
		TH_LOG("stderr: %s", mon.err);
	}
}

TEST(monitor_sigterm_during_hold_acks_and_releases)
{
	sigterm_during_hold(_metadata, SIGTERM);
}

TEST(monitor_sigint_during_hold_acks_and_releases)
{
	sigterm_during_hold(_metadata, SIGINT);
}

/* The pool_size module parameter, or -1. */
static long pool_size_param(void)
{
	FILE *f = fopen("/sys/module/procevent/parameters/pool_size", "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

TEST(status_lists_subscribers_in_order)
{
	static const char *const margs[] = { "monitor", "--signal", "--quiet", NULL };
	static const char *const sjson[] = { "status", "--json", NULL };
	static const char *const stable[] = { "status", NULL };
	struct tt_proc mon, st;
	char want[256], *a, *b, *c;
	int fd1, fd2;
	long pool;

	NEED_DEVICE();
	/* Signal events only: the status commands we run raise none. */
	fd1 = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, start_monitor(&mon, margs));
	fd2 = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	ASSERT_LE(0, fd2);

	ASSERT_EQ(0, tt_run(&st, sjson, NULL, TT_WAIT_MS)) {
		TH_LOG("stderr: %s", st.err);
	}
	snprintf(want, sizeof(want), "{\"pos\":1,\"pid\":%d,", (int)getpid());
	a = strstr(st.out, want);
	snprintf(want, sizeof(want), "{\"pos\":2,\"pid\":%d,\"comm\":\"proceventctl\",\"mask\":2,",
		 (int)mon.pid);
	b = strstr(st.out, want);
	snprintf(want, sizeof(want), "{\"pos\":3,\"pid\":%d,", (int)getpid());
	c = strstr(st.out, want);
	EXPECT_TRUE(a && b && c && a < b && b < c) {
		TH_LOG("status --json: %s", st.out);
	}
	EXPECT_EQ(0, strncmp(st.out, "{\"held\":", 8));
	EXPECT_EQ(1, count_lines(st.out));
	pool = pool_size_param();
	ASSERT_LE(0, pool);
	snprintf(want, sizeof(want), ",\"pool\":{\"size\":%ld,\"free\":", pool);
	EXPECT_NE(NULL, strstr(st.out, want)) {
		TH_LOG("status --json: %s", st.out);
	}

	ASSERT_EQ(0, tt_run(&st, stable, NULL, TT_WAIT_MS));
	snprintf(want, sizeof(want), "\n1   %7d ", (int)getpid());
	a = strstr(st.out, want);
	snprintf(want, sizeof(want), "\n2   %7d proceventctl     signal ", (int)mon.pid);
	b = strstr(st.out, want);
	snprintf(want, sizeof(want), "\n3   %7d ", (int)getpid());
	c = strstr(st.out, want);
	EXPECT_TRUE(a && b && c && a < b && b < c) {
		TH_LOG("status: %s", st.out);
	}
	EXPECT_NE(NULL, strstr(st.out, "held tasks: "));
	snprintf(want, sizeof(want), " free of %ld, ", pool);
	a = strstr(st.out, "\nevent pool: ");
	EXPECT_TRUE(a && strstr(a, want) && strstr(a, " probes found it empty\n")) {
		TH_LOG("status: %s", st.out);
	}

	stop_monitor(&mon);
	close(fd1);
	close(fd2);
}

/* --- fork, exec, veto and scopes ------------------------------------------ */

/* A fresh directory under /tmp for program copies and markers. */
static int make_workdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/pe.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * Wait until the monitor's stdout has a line containing @needle; copy that
 * line (without its newline) to @line.  1 when found within @ms.
 */
static int wait_for_line(struct tt_proc *p, const char *needle, char *line,
			 size_t len, int ms)
{
	int64_t end = tt_ms() + ms;

	for (;;) {
		const char *hit, *start, *nl;

		tt_drain(p);
		hit = strstr(p->out, needle);
		if (hit) {
			start = hit;
			while (start > p->out && start[-1] != '\n')
				start--;
			nl = strchr(hit, '\n');
			if (nl) {
				size_t n = (size_t)(nl - start);

				if (n >= len)
					n = len - 1;
				memcpy(line, start, n);
				line[n] = '\0';
				return 1;
			}
		}
		if (tt_ms() >= end)
			return 0;
		usleep(2000);
	}
}

static void self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
}

TEST(monitor_fork_line_names_the_child_and_its_program)
{
	static const char *const args[] = { "monitor", "--fork", "--quiet", NULL };
	char want[4200], line[4096], exe[4096];
	struct tt_proc mon;
	pid_t child;
	int status;

	NEED_DEVICE();
	self_exe(exe, sizeof(exe));
	ASSERT_EQ(0, start_monitor(&mon, args));
	child = tt_child_exit(6);
	ASSERT_LT(0, child);
	snprintf(want, sizeof(want), "fork pid %d (", (int)child);
	EXPECT_EQ(1, wait_for_line(&mon, want, line, sizeof(line), TT_WAIT_MS)) {
		TH_LOG("no \"%s\" in: %s", want, mon.out);
	}
	snprintf(want, sizeof(want), ") ppid %d uid 0: new process %s [id ",
		 (int)getpid(), exe);
	EXPECT_NE(NULL, strstr(line, want)) {
		TH_LOG("no \"%s\" in: %s", want, line);
	}
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 6);
	stop_monitor(&mon);
}

TEST(monitor_exec_json_names_the_new_program)
{
	static const char *const args[] = {
		"monitor", "--exec", "--json", "--quiet", NULL
	};
	char dir[64], prog[128], marker[128], want[64], line[4096];
	struct tt_proc mon;
	struct tt_json j;
	pid_t child;
	int status;

	NEED_DEVICE();
	ASSERT_EQ(0, make_workdir(dir, sizeof(dir)));
	snprintf(prog, sizeof(prog), "%s/newprog", dir);
	snprintf(marker, sizeof(marker), "%s/newprog.ran", dir);
	ASSERT_EQ(0, tt_copy_self(prog));
	ASSERT_EQ(0, start_monitor(&mon, args));
	child = tt_run_marker(prog, marker, NULL);
	ASSERT_LT(0, child);
	snprintf(want, sizeof(want), ",\"pid\":%d,", (int)child);
	ASSERT_EQ(1, wait_for_line(&mon, want, line, sizeof(line), TT_WAIT_MS)) {
		TH_LOG("no \"%s\" in: %s", want, mon.out);
	}
	ASSERT_EQ(0, tt_json_parse(line, &j)) {
		TH_LOG("not a JSON object: %s", line);
	}
	EXPECT_STREQ("exec", tt_json_get(&j, "type") ?: "(missing)");
	EXPECT_STREQ(prog, tt_json_get(&j, "exe") ?: "(missing)");
	EXPECT_STREQ("newprog", tt_json_get(&j, "comm") ?: "(missing)");
	snprintf(want, sizeof(want), "%d", (int)getpid());
	EXPECT_STREQ(want, tt_json_get(&j, "ppid") ?: "(missing)");
	EXPECT_EQ(NULL, tt_json_get(&j, "vetoed"));
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_TRUE(exists(marker));
	stop_monitor(&mon);
}

TEST(monitor_kill_exec_vetoes_only_a_matching_program)
{
	static const char *const args[] = {
		"monitor", "--kill-exec", "*/victim", "--quiet", NULL
	};
	char dir[64], victim[128], bystander[128], mv[128], mb[128];
	char want[256], line[4096];
	struct tt_proc mon;
	pid_t v, b;
	int status;

	NEED_DEVICE();
	ASSERT_EQ(0, make_workdir(dir, sizeof(dir)));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(bystander, sizeof(bystander), "%s/bystander", dir);
	snprintf(mv, sizeof(mv), "%s/victim.ran", dir);
	snprintf(mb, sizeof(mb), "%s/bystander.ran", dir);
	ASSERT_EQ(0, tt_copy_self(victim));
	ASSERT_EQ(0, tt_copy_self(bystander));
	ASSERT_EQ(0, start_monitor(&mon, args));

	v = tt_run_marker(victim, mv, NULL);
	ASSERT_LT(0, v);
	status = tt_wait(v, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL) {
		TH_LOG("victim: status 0x%x, monitor: %s%s", status, mon.out,
		       mon.err);
	}
	EXPECT_FALSE(exists(mv));
	snprintf(want, sizeof(want), "exec pid %d (victim) ", (int)v);
	EXPECT_EQ(1, wait_for_line(&mon, want, line, sizeof(line), TT_WAIT_MS));
	snprintf(want, sizeof(want),
		 ": new program %s [id ", victim);
	EXPECT_NE(NULL, strstr(line, want)) {
		TH_LOG("line: %s", line);
	}
	EXPECT_NE(NULL, strstr(line, "] vetoed: killed (program matches '*/victim')")) {
		TH_LOG("line: %s", line);
	}

	b = tt_run_marker(bystander, mb, NULL);
	ASSERT_LT(0, b);
	status = tt_wait(b, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("bystander: status 0x%x", status);
	}
	EXPECT_TRUE(exists(mb));
	snprintf(want, sizeof(want), "exec pid %d (bystander) ", (int)b);
	EXPECT_EQ(1, wait_for_line(&mon, want, line, sizeof(line), TT_WAIT_MS));
	EXPECT_EQ(NULL, strstr(line, "vetoed"));
	stop_monitor(&mon);
	EXPECT_EQ(0, mon.err_len) {
		TH_LOG("stderr: %s", mon.err);
	}
}

TEST(monitor_cgroup_shows_only_the_subtree)
{
	const char *const args[] = {
		"monitor", "--exec", "--json", "--quiet", "--cgroup", NULL, NULL
	};
	char dir[64], in[128], out[128], min[128], mout[128];
	char cg[128], inner[160], want[64], line[4096], ino[32];
	const char *argv[8];
	struct tt_proc mon;
	struct tt_json j;
	struct stat sb;
	pid_t pi, po;
	int status, i;

	NEED_DEVICE();
	if (statfs_is_cgroup2("/sys/fs/cgroup") != 1)
		SKIP(return, "no cgroup v2 file system on /sys/fs/cgroup");
	ASSERT_EQ(0, make_workdir(dir, sizeof(dir)));
	snprintf(in, sizeof(in), "%s/inside", dir);
	snprintf(out, sizeof(out), "%s/outside", dir);
	snprintf(min, sizeof(min), "%s/inside.ran", dir);
	snprintf(mout, sizeof(mout), "%s/outside.ran", dir);
	ASSERT_EQ(0, tt_copy_self(in));
	ASSERT_EQ(0, tt_copy_self(out));
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/pe_tools.%d", (int)getpid());
	snprintf(inner, sizeof(inner), "%s/inner", cg);
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, mkdir(inner, 0755));
	ASSERT_EQ(0, stat(inner, &sb));

	memcpy(argv, args, sizeof(args));
	argv[5] = cg;
	ASSERT_EQ(0, start_monitor(&mon, argv));
	/* Outside first: were it shown, its line would come before the inside one. */
	po = tt_run_marker(out, mout, NULL);
	ASSERT_LT(0, po);
	status = tt_wait(po, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pi = tt_run_marker(in, min, inner);
	ASSERT_LT(0, pi);
	status = tt_wait(pi, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("inside: status 0x%x", status);
	}
	EXPECT_TRUE(exists(min));
	EXPECT_TRUE(exists(mout));

	snprintf(want, sizeof(want), ",\"pid\":%d,", (int)pi);
	EXPECT_EQ(1, wait_for_line(&mon, want, line, sizeof(line), TT_WAIT_MS)) {
		TH_LOG("no \"%s\" in: %s", want, mon.out);
	}
	EXPECT_EQ(0, tt_json_parse(line, &j));
	EXPECT_STREQ(in, tt_json_get(&j, "exe") ?: "(missing)");
	snprintf(ino, sizeof(ino), "%llu", (unsigned long long)sb.st_ino);
	EXPECT_STREQ(ino, tt_json_get(&j, "cgroup_id") ?: "(missing)");
	stop_monitor(&mon);
	EXPECT_EQ(1, count_lines(mon.out)) {
		TH_LOG("monitor output: %s", mon.out);
	}
	EXPECT_EQ(NULL, strstr(mon.out, out));

	/* The cgroup empties once its task is reaped; give it a moment. */
	for (i = 0; i < 100 && rmdir(inner); i++)
		usleep(10000);
	rmdir(cg);
}

TEST(monitor_cgroup_that_is_not_a_cgroup_fails)
{
	static const char *const a1[] = { "monitor", "--cgroup", "/tmp", NULL };
	static const char *const a2[] = {
		"monitor", "--cgroup", "/sys/fs/cgroup/no-such-cgroup", NULL
	};
	struct tt_proc p;

	NEED_DEVICE();
	EXPECT_EQ(1, tt_run(&p, a1, NULL, TT_WAIT_MS));
	EXPECT_STREQ("proceventctl: monitor: --cgroup /tmp: not a directory of a cgroup v2 file system\n",
		     p.err);
	EXPECT_EQ(1, tt_run(&p, a2, NULL, TT_WAIT_MS));
	EXPECT_STREQ("proceventctl: monitor: --cgroup /sys/fs/cgroup/no-such-cgroup: No such file or directory\n",
		     p.err);
}

/* Run in the monitor's child: its own mount namespace and /proc. */
static void own_proc(void)
{
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("proc", "/proc", "proc", 0, NULL))
		_exit(98);
}

TEST(monitor_pidns_shows_pids_of_its_namespace)
{
	static const char *const args[] = {
		"monitor", "--exec", "--pidns", "--json", "--quiet", NULL
	};
	char dir[64], in[128], out[128], min[128], mout[128];
	char want[64], line[4096], c;
	int go[2], rep[2], status;
	struct tt_proc mon;
	struct tt_json j;
	pid_t helper, pi, nspid = 0;

	NEED_DEVICE();
	ASSERT_EQ(0, make_workdir(dir, sizeof(dir)));
	snprintf(in, sizeof(in), "%s/inside", dir);
	snprintf(out, sizeof(out), "%s/outside", dir);
	snprintf(min, sizeof(min), "%s/inside.ran", dir);
	snprintf(mout, sizeof(mout), "%s/outside.ran", dir);
	ASSERT_EQ(0, tt_copy_self(in));
	ASSERT_EQ(0, tt_copy_self(out));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(rep));

	/* Forked before the new namespace: it stays outside. */
	helper = fork();
	ASSERT_LE(0, helper);
	if (helper == 0) {
		char env[200];
		char *argv[] = { out, NULL }, *envp[] = { env, NULL };

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(96);
		snprintf(env, sizeof(env), "TT_MARKER=%s", mout);
		execve(out, argv, envp);
		_exit(127);
	}
	close(go[0]);
	/*
	 * The monitor becomes pid 1 of a new pid namespace (with a /proc of
	 * its own to read exe from); children forked from now on are in it.
	 */
	if (unshare(CLONE_NEWPID)) {
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
		SKIP(return, "unshare(CLONE_NEWPID): %s", strerror(errno));
	}
	ASSERT_EQ(0, start_monitor_setup(&mon, args, own_proc)) {
		tt_finish(&mon, 1000);
		TH_LOG("monitor: %s", mon.err);
		kill(helper, SIGKILL);
	}

	ASSERT_EQ(1, write(go[1], "g", 1));
	status = tt_wait(helper, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_TRUE(exists(mout));

	pi = fork();
	ASSERT_LE(0, pi);
	if (pi == 0) {
		pid_t me = getpid();
		char env[200];
		char *argv[] = { in, NULL }, *envp[] = { env, NULL };

		if (write(rep[1], &me, sizeof(me)) != sizeof(me))
			_exit(96);
		snprintf(env, sizeof(env), "TT_MARKER=%s", min);
		execve(in, argv, envp);
		_exit(127);
	}
	ASSERT_EQ(sizeof(nspid), read(rep[0], &nspid, sizeof(nspid)));
	EXPECT_NE(pi, nspid);
	status = tt_wait(pi, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_TRUE(exists(min));

	snprintf(want, sizeof(want), ",\"pid\":%d,", (int)nspid);
	EXPECT_EQ(1, wait_for_line(&mon, want, line, sizeof(line), TT_WAIT_MS)) {
		TH_LOG("no \"%s\" in: %s", want, mon.out);
	}
	EXPECT_EQ(0, tt_json_parse(line, &j));
	EXPECT_STREQ("exec", tt_json_get(&j, "type") ?: "(missing)");
	EXPECT_STREQ(in, tt_json_get(&j, "exe") ?: "(missing)");
	stop_monitor(&mon);
	EXPECT_EQ(1, count_lines(mon.out)) {
		TH_LOG("monitor output: %s", mon.out);
	}
	EXPECT_EQ(NULL, strstr(mon.out, out));
}

TEST(status_shows_each_subscribers_scope)
{
	static const char *const sjson[] = { "status", "--json", NULL };
	static const char *const stable[] = { "status", NULL };
	struct tt_proc st;
	char want[256];
	int fd;

	NEED_DEVICE();
	fd = procevent_open(0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, procevent_set_scope_pidns(fd));
	ASSERT_EQ(0, procevent_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, tt_run(&st, sjson, NULL, TT_WAIT_MS));
	snprintf(want, sizeof(want), "\"pid\":%d,", (int)getpid());
	EXPECT_NE(NULL, strstr(st.out, want));
	EXPECT_NE(NULL, strstr(st.out, "\"timeout_ns\":0,\"scope\":\"pidns\"}")) {
		TH_LOG("status --json: %s", st.out);
	}
	ASSERT_EQ(0, tt_run(&st, stable, NULL, TT_WAIT_MS));
	EXPECT_NE(NULL, strstr(st.out, " TIMEOUT  SCOPE\n"));
	EXPECT_NE(NULL, strstr(st.out, "none  pidns\n")) {
		TH_LOG("status: %s", st.out);
	}
	close(fd);
}

/* --- the three failures a newcomer meets --------------------------------- */

static void drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		_exit(99);
}

/* From the bounding set: execve() as root would grant it back otherwise. */
static void drop_cap_sys_admin(void)
{
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0))
		_exit(99);
}

TEST(not_privileged_says_so)
{
	static const char *const mon[] = { "monitor", NULL };
	static const char *const sta[] = { "status", NULL };
	struct tt_proc p;

	NEED_DEVICE();
	EXPECT_EQ(EXIT_PERM, tt_run(&p, mon, drop_to_nobody, TT_WAIT_MS));
	EXPECT_STREQ("proceventctl: permission denied: /dev/procevent needs root (CAP_SYS_ADMIN).\n", p.err);
	EXPECT_EQ(0, p.out_len);
	EXPECT_EQ(EXIT_PERM, tt_run(&p, sta, drop_to_nobody, TT_WAIT_MS));
	EXPECT_STREQ("proceventctl: permission denied: /proc/procevent needs root (CAP_SYS_ADMIN).\n", p.err);
	/* root without CAP_SYS_ADMIN: the driver's EPERM, same message */
	EXPECT_EQ(EXIT_PERM, tt_run(&p, mon, drop_cap_sys_admin, TT_WAIT_MS));
	EXPECT_STREQ("proceventctl: permission denied: /dev/procevent needs root (CAP_SYS_ADMIN).\n", p.err);
}

TEST(no_free_slot_says_so)
{
	static const char *const mon[] = { "monitor", NULL };
	struct procevent_status *st;
	int fds[64], n = 0, total = 0, free_slots, i, fd;
	char want[256];
	struct tt_proc p;
	FILE *f;

	NEED_DEVICE();
	f = fopen("/sys/module/procevent/parameters/max_subscribers", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%d", &total));
	fclose(f);
	ASSERT_EQ(0, procevent_status_read(&st));
	free_slots = total - (int)st->nr_subscribers;
	procevent_status_free(st);
	ASSERT_GE(64, free_slots);
	/* Signal events only, so that the monitor's own exit is not held here. */
	for (i = 0; i < free_slots; i++) {
		fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
		ASSERT_LE(0, fd);
		fds[n++] = fd;
	}
	EXPECT_EQ(EXIT_BUSY, tt_run(&p, mon, NULL, TT_WAIT_MS));
	snprintf(want, sizeof(want),
		 "proceventctl: all %d subscriber slots are taken (module parameter max_subscribers).\n"
		 "'proceventctl status' shows who holds them.\n", total);
	EXPECT_STREQ(want, p.err);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

static int module_reload(void)
{
	const char *ko = getenv("PROCEVENT_KO");
	int fd, r;

	fd = open(ko ? ko : "/procevent.ko", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r;
}

TEST(module_not_loaded_says_so)
{
	static const char *const mon[] = { "monitor", NULL };
	static const char *const sta[] = { "status", "--json", NULL };
	const char *ko = getenv("PROCEVENT_KO");
	struct tt_proc p1, p2;
	int rc1, rc2, r;

	NEED_DEVICE();
	if (!ko || access(ko, R_OK))
		SKIP(return, "PROCEVENT_KO does not name the module file: cannot reload it");
	if (syscall(SYS_delete_module, "procevent", O_NONBLOCK))
		SKIP(return, "cannot unload the module: %s", strerror(errno));
	rc1 = tt_run(&p1, mon, NULL, TT_WAIT_MS);
	rc2 = tt_run(&p2, sta, NULL, TT_WAIT_MS);
	r = module_reload();
	ASSERT_EQ(0, r) {
		TH_LOG("reloading %s: %s", ko, strerror(-r));
	}
	EXPECT_EQ(EXIT_NOMODULE, rc1);
	EXPECT_STREQ("proceventctl: the procevent module is not loaded (no /dev/procevent).\n"
		     "Load it first: modprobe procevent (or insmod procevent.ko).\n", p1.err);
	EXPECT_EQ(EXIT_NOMODULE, rc2);
	EXPECT_STREQ("proceventctl: the procevent module is not loaded (no /proc/procevent).\n"
		     "Load it first: modprobe procevent (or insmod procevent.ko).\n", p2.err);
	EXPECT_EQ(0, p2.out_len);
}

/* --- a monitor never freezes the machine ---------------------------------- */

/* One char of /proc/<pid>/stat's state field ('T': stopped), or 0. */
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

static void wait_state(pid_t pid, char want, int ms)
{
	int64_t end = tt_ms() + ms;

	while (proc_state(pid) != want && tt_ms() < end)
		usleep(2000);
}

/* Milliseconds until @child is reaped (-1: not within @ms). */
static int64_t reap_ms(pid_t child, int64_t t0, int ms)
{
	int status = tt_wait(child, ms);

	return status < 0 ? -1 : tt_ms() - t0;
}

TEST(monitor_with_stuck_stdout_does_not_hold_events)
{
	char junk[4096];
	int64_t t0, took, worst = 0;
	struct tt_proc mon;
	int pfd[2], i, lines;
	pid_t child;

	NEED_DEVICE();
	/*
	 * The monitor's stdout: a pipe that nobody reads, filled up to the
	 * last byte, so that every write the monitor makes would block.
	 */
	memset(&mon, 0, sizeof(mon));
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, fcntl(pfd[1], F_SETFL, O_NONBLOCK));
	memset(junk, 'x', sizeof(junk));
	while (write(pfd[1], junk, sizeof(junk)) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(pfd[1], F_SETFL, 0));
	mon.pid = fork();
	ASSERT_LE(0, mon.pid);
	if (mon.pid == 0) {
		const char *argv[] = {
			tt_ctl_path(), "monitor", "--exit", "--quiet", NULL
		};

		dup2(pfd[1], 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ASSERT_EQ(1, tt_wait_subscriber(mon.pid, TT_WAIT_MS, NULL));
	usleep(100000);
	/* many events, many lines that cannot be written */
	for (i = 0; i < 20; i++) {
		t0 = tt_ms();
		child = tt_child_exit(i);
		ASSERT_LT(0, child);
		took = reap_ms(child, t0, 10000);
		ASSERT_LE(0, took) {
			kill(mon.pid, SIGKILL);
		}
		if (took > worst)
			worst = took;
	}
	/* acked before printing: no exit waited for the stuck output */
	EXPECT_GT(1000, worst) {
		TH_LOG("an exit was held %lld ms", (long long)worst);
	}
	EXPECT_EQ(0, waitpid(mon.pid, NULL, WNOHANG));
	/* a reader at last: the lines were kept, none lost */
	mon.out_fd = pfd[0];
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	close(pfd[1]);
	mon.err_fd = -1;
	mon.out_len = 0;
	lines = 0;
	t0 = tt_ms();
	while (lines < 20 && tt_ms() - t0 < TT_WAIT_MS) {
		ssize_t n = read(pfd[0], junk, sizeof(junk));
		ssize_t k;

		for (k = 0; k < n; k++)
			lines += junk[k] == '\n';
		if (n <= 0)
			usleep(2000);
	}
	EXPECT_EQ(20, lines);
	kill(mon.pid, SIGTERM);
	EXPECT_LE(0, tt_wait(mon.pid, TT_WAIT_MS));
	close(pfd[0]);
}

TEST(monitor_stopped_by_sigstop_holds_no_longer_than_the_default_timeout)
{
	static const char *const args[] = { "monitor", "--exit", "--quiet", NULL };
	struct tt_proc mon;
	int64_t t0, took;
	pid_t child;

	NEED_DEVICE();
	ASSERT_EQ(0, start_monitor(&mon, args));
	/* SIGSTOP cannot be caught: only the kernel's deadline helps */
	kill(mon.pid, SIGSTOP);
	wait_state(mon.pid, 'T', TT_WAIT_MS);
	t0 = tt_ms();
	child = tt_child_exit(3);
	ASSERT_LT(0, child);
	took = reap_ms(child, t0, 10000);
	EXPECT_LE(4500, took);
	EXPECT_GT(7000, took) {
		TH_LOG("held %lld ms by a stopped monitor", (long long)took);
	}
	kill(mon.pid, SIGCONT);
	stop_monitor(&mon);
}

TEST(monitor_sigtstp_releases_held_tasks_then_stops)
{
	static const char *const args[] = {
		"monitor", "--exit", "--ack-delay", "60s", "--timeout", "0",
		"--quiet", NULL
	};
	struct procevent_subscriber sub;
	struct tt_proc mon;
	int64_t t0, end, took;
	pid_t child, k2;
	int status;

	NEED_DEVICE();
	ASSERT_EQ(0, start_monitor(&mon, args));
	child = tt_child_exit(4);
	ASSERT_LT(0, child);
	end = tt_ms() + TT_WAIT_MS;
	do {
		ASSERT_EQ(1, tt_wait_subscriber(mon.pid, 100, &sub));
	} while (sub.received == 0 && tt_ms() < end);
	ASSERT_EQ(1, sub.received);
	usleep(100000);
	EXPECT_EQ(0, waitpid(child, NULL, WNOHANG));

	/* Ctrl-Z: released at once, though the delay and no deadline say hold */
	t0 = tt_ms();
	kill(mon.pid, SIGTSTP);
	took = reap_ms(child, t0, 3000);
	EXPECT_LE(0, took);
	EXPECT_GT(2000, took);
	wait_state(mon.pid, 'T', TT_WAIT_MS);
	EXPECT_EQ('T', proc_state(mon.pid));
	/* stopped, it is not in line: exits are not held meanwhile */
	EXPECT_EQ(0, tt_wait_subscriber(mon.pid, 0, NULL));
	k2 = tt_child_exit(5);
	ASSERT_LT(0, k2);
	status = tt_wait(k2, 2000);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 5);

	/* SIGCONT: in line again */
	kill(mon.pid, SIGCONT);
	EXPECT_EQ(1, tt_wait_subscriber(mon.pid, TT_WAIT_MS, &sub));
	EXPECT_EQ(PROCEVENT_EXIT, sub.mask);
	kill(mon.pid, SIGTERM);
	status = tt_finish(&mon, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("monitor: status 0x%x, stderr: %s", status, mon.err);
	}
	EXPECT_EQ(1, count_lines(mon.out)) {
		TH_LOG("monitor output: %s", mon.out);
	}
}

/* --- held tasks, and hostile names ------------------------------------------ */

TEST(held_says_none_when_nothing_is_held)
{
	static const char *const txt[] = { "held", NULL };
	static const char *const js[] = { "held", "--json", NULL };
	struct tt_proc p;

	NEED_DEVICE();
	ASSERT_EQ(0, tt_run(&p, txt, NULL, TT_WAIT_MS));
	EXPECT_STREQ("none\n", p.out);
	ASSERT_EQ(0, tt_run(&p, js, NULL, TT_WAIT_MS));
	EXPECT_STREQ("[]\n", p.out);
	EXPECT_EQ(0, tt_json_valid(p.out));
}

/* newline, 0xff, quote, backslash, e-acute: 7 bytes of a 15-byte comm */
static const char hostile[] = "a\nb\xff\"\\\xc3\xa9";
/* ... as JSON decodes it: the invalid byte as the text \xff */
static const char hostile_json[] = "a\nb\\xff\"\\\xc3\xa9";
/* ... and as text */
static const char hostile_text[] = "a\\nb\\xff\"\\\\\xc3\xa9";

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A child named @hostile that takes SIGUSR1 with a handler: its signal
 * event is held by a monitor with a long ack delay while the test looks.
 */
TEST(hostile_comm_gives_valid_json_in_monitor_and_held)
{
	static const char *const args[] = {
		"monitor", "--signal", "--json", "--ack-delay", "30s",
		"--timeout", "0", "--quiet", NULL
	};
	static const char *const hj[] = { "held", "--json", NULL };
	static const char *const ht[] = { "held", NULL };
	char want[64], line[4096], *obj, *end;
	int pfd[2], status;
	struct tt_proc mon, p;
	struct tt_json j;
	pid_t child;
	char c;

	NEED_DEVICE();
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, start_monitor(&mon, args));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigset_t none, usr1;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		if (prctl(PR_SET_NAME, hostile, 0, 0, 0) ||
		    write(pfd[1], "r", 1) != 1)
			_exit(2);
		sigemptyset(&none);
		sigsuspend(&none);
		_exit(0);
	}
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	kill(child, SIGUSR1);

	/* the monitor's line */
	snprintf(want, sizeof(want), ",\"pid\":%d,", (int)child);
	ASSERT_EQ(1, wait_for_line(&mon, want, line, sizeof(line), TT_WAIT_MS)) {
		TH_LOG("no \"%s\" in: %s", want, mon.out);
		stop_monitor(&mon);
	}
	EXPECT_EQ(0, tt_json_valid(line)) {
		TH_LOG("monitor: not JSON: %s", line);
	}
	ASSERT_EQ(0, tt_json_parse(line, &j));
	EXPECT_STREQ(hostile_json, tt_json_get(&j, "comm") ?: "(missing)");
	EXPECT_STREQ("signal", tt_json_get(&j, "type") ?: "(missing)");

	/* held --json, while the monitor sits on it */
	ASSERT_EQ(0, tt_run(&p, hj, NULL, TT_WAIT_MS));
	EXPECT_EQ(0, tt_json_valid(p.out)) {
		TH_LOG("held --json: not JSON: %s", p.out);
	}
	snprintf(want, sizeof(want), "{\"pid\":%d,", (int)child);
	obj = strstr(p.out, want);
	ASSERT_NE(NULL, obj) {
		TH_LOG("held --json: %s", p.out);
	}
	end = strchr(obj, '}');
	ASSERT_NE(NULL, end);
	end[1] = '\0';
	ASSERT_EQ(0, tt_json_parse(obj, &j)) {
		TH_LOG("object: %s", obj);
	}
	EXPECT_STREQ(hostile_json, tt_json_get(&j, "comm") ?: "(missing)");
	EXPECT_STREQ("signal", tt_json_get(&j, "type") ?: "(missing)");
	EXPECT_STREQ("received", tt_json_get(&j, "state") ?: "(missing)");
	EXPECT_STREQ("proceventctl", tt_json_get(&j, "sub_comm") ?: "(missing)");
	snprintf(want, sizeof(want), "%d", (int)mon.pid);
	EXPECT_STREQ(want, tt_json_get(&j, "sub_pid") ?: "(missing)");

	/* held, as text: one line for it, escaped */
	ASSERT_EQ(0, tt_run(&p, ht, NULL, TT_WAIT_MS));
	snprintf(want, sizeof(want), "\n%7d %7d %s", (int)child, (int)child,
		 hostile_text);
	EXPECT_NE(NULL, strstr(p.out, want)) {
		TH_LOG("held: %s", p.out);
	}
	EXPECT_EQ(0, strncmp(p.out, "    PID    TGID COMM ", 21));

	/* SIGTERM acks it: the child runs its handler and leaves */
	kill(mon.pid, SIGTERM);
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	tt_finish(&mon, TT_WAIT_MS);
	close(pfd[0]);
	close(pfd[1]);
}

/* --- versions --------------------------------------------------------------- */

TEST(version_and_status_show_the_module)
{
	static const char *const v[] = { "--version", NULL };
	static const char *const st[] = { "status", NULL };
	static const char *const sj[] = { "status", "--json", NULL };
	struct procevent_info info;
	char want[256];
	struct tt_proc p;

	NEED_DEVICE();
	ASSERT_EQ(0, procevent_features(-1, &info));
	snprintf(want, sizeof(want),
		 "module: procevent %u.%u.%u: events exit,signal,fork,exec; ack flags kill; scopes all,cgroup,pidns; max_subscribers %u; pool_size %u\n",
		 PROCEVENT_VERSION_MAJOR(info.version),
		 PROCEVENT_VERSION_MINOR(info.version),
		 PROCEVENT_VERSION_PATCH(info.version), info.max_subscribers,
		 info.pool_size);
	ASSERT_EQ(0, tt_run(&p, v, NULL, TT_WAIT_MS));
	EXPECT_EQ(0, strncmp(p.out, "proceventctl 0.5\n", 17));
	EXPECT_NE(NULL, strstr(p.out, want)) {
		TH_LOG("--version: %s", p.out);
	}
	ASSERT_EQ(0, tt_run(&p, st, NULL, TT_WAIT_MS));
	EXPECT_EQ(0, strncmp(p.out, want, strlen(want))) {
		TH_LOG("status: %s", p.out);
	}
	ASSERT_EQ(0, tt_run(&p, sj, NULL, TT_WAIT_MS));
	EXPECT_EQ(0, tt_json_valid(p.out));
	snprintf(want, sizeof(want),
		 ",\"module\":{\"version\":\"%u.%u.%u\",\"types\":15,\"ack_flags\":1,\"scope_kinds\":7,",
		 PROCEVENT_VERSION_MAJOR(info.version),
		 PROCEVENT_VERSION_MINOR(info.version),
		 PROCEVENT_VERSION_PATCH(info.version));
	EXPECT_NE(NULL, strstr(p.out, want)) {
		TH_LOG("status --json: %s", p.out);
	}
}

TEST_HARNESS_MAIN
