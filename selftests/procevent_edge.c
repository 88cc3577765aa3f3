// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: edges of the hold (SPEC 9.4, 9.5, 9.8) and the cgroup v2
 * freezer.
 *
 * A SIGNAL, FORK or EXEC hold ends as soon as a signal that will
 * terminate the task is pending and not blocked: SIGKILL, and the
 * default-action signals that terminate or dump core, which the kernel
 * does not turn into SIGKILL (SIGQUIT, SIGABRT, SIGSEGV sent with kill,
 * any of them while the task is traced).  The system's init cannot be
 * vetoed: the kill-ack fails with EPERM and the event stays received.
 * The sender of an SI_QUEUE-like signal is what the sender wrote, and is
 * labelled unverified; kill and tgkill senders are checked by the kernel.
 * A held task does not count as frozen: a cgroup being frozen reaches
 * "frozen 1" only after the ack.
 *
 * Every handle has an ack deadline of PE_DEADLINE_MS, so a module that
 * does not end a hold ends it there and the test fails on the time.
 */
#include "procevent_util.h"
#include <sys/ptrace.h>
#include <sys/resource.h>
#include "kselftest_harness.h"

PE_EXEC_HELPER()

#define PE_DEADLINE_MS	3000
#define PE_PROMPT_MS	1000

FIXTURE(edge) {
	char cg[1024];		/* a cgroup to freeze */
	int made;
};

FIXTURE_SETUP(edge)
{
	struct rlimit rl = { 0, 0 };

	PE_SETUP_REQUIRE_MODULE();
	self->made = 0;
	/* The signals that dump core kill the children without a dump. */
	ASSERT_EQ(0, setrlimit(RLIMIT_CORE, &rl));
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[1200];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		r = -errno;
	close(fd);
	return r;
}

FIXTURE_TEARDOWN(edge)
{
	int i;

	if (self->made)
		cg_write(self->cg, "cgroup.freeze", "0");
	pe_cleanup();
	pe_helper_remove();
	if (self->made) {
		/* Retried while the last task is still leaving. */
		for (i = 0; i < 100 && rmdir(self->cg) && errno == EBUSY; i++)
			pe_sleep_ms(20);
	}
}

static int open_sub(uint32_t mask)
{
	int fd = pe_open(), r;

	if (fd < 0)
		return fd;
	r = pe_set_timeout(fd, PE_DEADLINE_MS * PE_MS);
	if (!r)
		r = pe_set_mask(fd, mask);
	if (r) {
		pe_close(fd);
		return r;
	}
	return fd;
}

static uint64_t ms_since(uint64_t t0)
{
	return (pe_mono() - t0) / PE_MS;
}

/*
 * A child that handles SIGUSR1 (the handler reports the signal), blocks
 * the signal it is given (0: none), reports 'R' and exits on the gate.
 */
static void on_usr1(int sig)
{
	pe_report_byte((char)sig);
}

static int usr1_child(void *arg)
{
	int block = (int)(long)arg;
	struct sigaction sa;
	sigset_t set;

	prctl(PR_SET_NAME, "pe-usr1");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		return 100;
	if (block) {
		sigemptyset(&set);
		sigaddset(&set, block);
		if (sigprocmask(SIG_BLOCK, &set, NULL))
			return 101;
	}
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

static int spawn_usr1(struct pe_child *k, int block)
{
	int r = pe_spawn(k, usr1_child, (void *)(long)block);

	if (r)
		return r;
	return pe_expect_byte(k, PE_WAIT_MS) == 'R' ? 0 : -EPROTO;
}

/* Wait until the withdrawn counter of a type passes old: 0 or -ETIMEDOUT. */
static int wait_withdrawn(uint32_t type, long long old, int ms)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;
	struct pe_stats s;

	for (;;) {
		if (!pe_stats_read(&s)) {
			long long w = type == PROCEVENT_SIGNAL ? s.signal.withdrawn :
				      type == PROCEVENT_FORK ? s.fork.withdrawn :
				      s.exec.withdrawn;

			if (w > old)
				return 0;
		}
		if (pe_mono() >= end)
			return -ETIMEDOUT;
		pe_sleep_ms(2);
	}
}

/* ---- 9.4: every fatal signal ends a killable hold --------------------- */

/*
 * The child is held before its SIGUSR1 handler runs; sig, with its
 * default action, must end the hold at once: the child dies of it, the
 * handler never runs, the ack finds nothing and the event counts as
 * withdrawn.
 */
static void fatal_ends_signal_hold(struct __test_metadata *_metadata, int sig)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	uint64_t t0, ms;
	int fd, st = -1;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, spawn_usr1(&k, 0));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_SIGNAL, k.pid, &ev));
	ASSERT_EQ(0, pe_stats_read(&s0));
	t0 = pe_mono();
	ASSERT_EQ(0, kill(k.pid, sig));
	ASSERT_EQ(0, pe_reap(k.pid, 2 * PE_DEADLINE_MS, &st));
	ms = ms_since(t0);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("signal %d (%s) ended the hold after %llu ms (deadline %d ms)",
		       sig, strsignal(sig), (unsigned long long)ms,
		       PE_DEADLINE_MS);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(sig, WTERMSIG(st));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.signal.withdrawn + 1, s1.signal.withdrawn);
	EXPECT_EQ(s0.signal.acked, s1.signal.acked);
	EXPECT_EQ(0, pe_fdv(fd, "timeouts"));
	EXPECT_EQ(0, pe_drain(k.report, NULL, 0, PE_WAIT_MS))
		TH_LOG("the handler ran");
}

TEST_F(edge, sigquit_withdraws_signal_hold)
{
	fatal_ends_signal_hold(_metadata, SIGQUIT);
}

TEST_F(edge, sigabrt_withdraws_signal_hold)
{
	fatal_ends_signal_hold(_metadata, SIGABRT);
}

TEST_F(edge, kill_sigsegv_withdraws_signal_hold)
{
	fatal_ends_signal_hold(_metadata, SIGSEGV);
}

/*
 * Wait for a ptrace stop of pid: 0 and *st, -ESRCH when it died instead
 * (reaped, *st its status), or -errno.
 */
static int wait_stopped(pid_t pid, int ms, int *st)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;

	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG | __WALL);

		if (r < 0)
			return -errno;
		if (r == pid) {
			if (WIFSTOPPED(*st))
				return 0;
			pe_untrack_pid(pid);
			return -ESRCH;
		}
		if (pe_mono() >= end)
			return -ETIMEDOUT;
		pe_sleep_ms(2);
	}
}

/*
 * SIGTERM is turned into SIGKILL only for an untraced task.  Traced, it
 * stays SIGTERM, still fatal once delivered: the hold ends, and the
 * tracee reports the signal to its tracer.
 */
TEST_F(edge, sigterm_to_traced_task_withdraws_signal_hold)
{
	struct procevent_event ev;
	struct pe_stats s0;
	struct pe_child k;
	uint64_t t0, ms;
	int fd, st = -1, r;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, spawn_usr1(&k, 0));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_SIGNAL, k.pid, &ev));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, k.pid, NULL, NULL))
		TH_LOG("PTRACE_SEIZE: %s", strerror(errno));
	ASSERT_EQ(0, pe_stats_read(&s0));
	t0 = pe_mono();
	ASSERT_EQ(0, kill(k.pid, SIGTERM));
	r = wait_withdrawn(PROCEVENT_SIGNAL, s0.signal.withdrawn,
			   PE_PROMPT_MS);
	ms = ms_since(t0);
	EXPECT_EQ(0, r)
		TH_LOG("SIGTERM to the traced task did not end the hold in %llu ms",
		       (unsigned long long)ms);
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	/* Next: the signal-delivery stop for SIGTERM, then death. */
	ASSERT_EQ(0, wait_stopped(k.pid, 2 * PE_DEADLINE_MS, &st));
	EXPECT_EQ(SIGTERM, WSTOPSIG(st));
	ASSERT_EQ(0, ptrace(PTRACE_CONT, k.pid, NULL, (void *)(long)SIGTERM));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGTERM, WTERMSIG(st));
	EXPECT_EQ(0, pe_drain(k.report, NULL, 0, PE_WAIT_MS))
		TH_LOG("the handler ran");
}

static int runs_child(void *arg)
{
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(edge, sigquit_withdraws_fork_hold)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	uint64_t t0, ms;
	int fd, st = -1;

	fd = open_sub(PROCEVENT_FORK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev));
	ASSERT_EQ(0, pe_stats_read(&s0));
	t0 = pe_mono();
	ASSERT_EQ(0, kill(k.pid, SIGQUIT));
	ASSERT_EQ(0, pe_reap(k.pid, 2 * PE_DEADLINE_MS, &st));
	ms = ms_since(t0);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("SIGQUIT ended the fork hold after %llu ms",
		       (unsigned long long)ms);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGQUIT, WTERMSIG(st));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.fork.withdrawn + 1, s1.fork.withdrawn);
	EXPECT_EQ(0, pe_drain(k.report, NULL, 0, PE_WAIT_MS))
		TH_LOG("the child ran");
}

static int exec_child(void *arg)
{
	if (pe_gate_wait() != 'e')
		return 0;
	return 100 + pe_helper_exec((int)(long)arg);
}

TEST_F(edge, sigquit_withdraws_exec_hold)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	uint64_t t0, ms;
	int fd, hp[2], st = -1;

	ASSERT_EQ(0, pe_helper_install());
	ASSERT_EQ(0, pipe2(hp, O_CLOEXEC));
	fd = open_sub(PROCEVENT_EXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_spawn(&k, exec_child, (void *)(long)hp[1]));
	close(hp[1]);
	ASSERT_EQ(0, pe_go(&k, 'e'));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, k.pid, &ev));
	ASSERT_EQ(0, pe_stats_read(&s0));
	t0 = pe_mono();
	ASSERT_EQ(0, kill(k.pid, SIGQUIT));
	ASSERT_EQ(0, pe_reap(k.pid, 2 * PE_DEADLINE_MS, &st));
	ms = ms_since(t0);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("SIGQUIT ended the exec hold after %llu ms",
		       (unsigned long long)ms);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGQUIT, WTERMSIG(st));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.exec.withdrawn + 1, s1.exec.withdrawn);
	EXPECT_EQ(0, pe_drain(hp[0], NULL, 0, PE_WAIT_MS))
		TH_LOG("the new program ran");
	close(hp[0]);
}

/* Pending but blocked, SIGQUIT will not kill the task: the hold stays. */
TEST_F(edge, blocked_sigquit_does_not_end_signal_hold)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, spawn_usr1(&k, SIGQUIT));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_SIGNAL, k.pid, &ev));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, kill(k.pid, SIGQUIT));
	pe_sleep_ms(PE_QUIET_MS);
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.signal.withdrawn, s1.signal.withdrawn);
	EXPECT_EQ(0, pe_poll_in(k.report, 0)) TH_LOG("the handler ran");
	EXPECT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

/* ---- 9.8: who sent the signal ----------------------------------------- */

/* Spawn a SIGUSR1 child, signal it with send(k), receive the event. */
static int usr1_event(int fd, struct pe_child *k, struct procevent_event *ev,
		      int (*send)(pid_t pid))
{
	int r = spawn_usr1(k, 0);

	if (r)
		return r;
	if (send(k->pid))
		return -errno;
	return pe_wait_event_for(fd, PROCEVENT_SIGNAL, k->pid, ev);
}

/* Ack the event, see the handler run, let the child exit. */
static void usr1_finish(struct __test_metadata *_metadata, int fd,
			struct pe_child *k, struct procevent_event *ev)
{
	ASSERT_EQ(0, pe_ack(fd, ev->id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(k, 'x'));
	EXPECT_EQ(0, pe_reap(k->pid, PE_WAIT_MS, NULL));
}

static int send_sigqueue(pid_t pid)
{
	union sigval val = { .sival_int = 42 };

	return sigqueue(pid, SIGUSR1, val);
}

static int send_forged(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = 4242;
	si.si_uid = 777;
	return syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si);
}

static int send_kill(pid_t pid)
{
	return kill(pid, SIGUSR1);
}

static int send_tgkill(pid_t pid)
{
	return syscall(SYS_tgkill, pid, pid, SIGUSR1);
}

TEST_F(edge, sigqueue_sender_reported_as_written_and_unverified)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, usr1_event(fd, &k, &ev, send_sigqueue));
	EXPECT_EQ(SI_QUEUE, ev.si_code);
	EXPECT_EQ(getpid(), ev.sender_pid);
	EXPECT_EQ(getuid(), ev.sender_uid);
	EXPECT_EQ(PROCEVENT_F_SENDER_UNVERIFIED, ev.flags);
	usr1_finish(_metadata, fd, &k, &ev);
}

TEST_F(edge, forged_si_queue_sender_reported_raw_and_unverified)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, usr1_event(fd, &k, &ev, send_forged));
	EXPECT_EQ(SI_QUEUE, ev.si_code);
	EXPECT_EQ(4242, ev.sender_pid);
	EXPECT_EQ(777, ev.sender_uid);
	EXPECT_EQ(PROCEVENT_F_SENDER_UNVERIFIED, ev.flags);
	usr1_finish(_metadata, fd, &k, &ev);
}

TEST_F(edge, kill_sender_verified_flag_clear)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, usr1_event(fd, &k, &ev, send_kill));
	EXPECT_EQ(SI_USER, ev.si_code);
	EXPECT_EQ(getpid(), ev.sender_pid);
	EXPECT_EQ(getuid(), ev.sender_uid);
	EXPECT_EQ(0, ev.flags);
	usr1_finish(_metadata, fd, &k, &ev);
}

TEST_F(edge, tgkill_sender_verified_flag_clear)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, usr1_event(fd, &k, &ev, send_tgkill));
	EXPECT_EQ(SI_TKILL, ev.si_code);
	EXPECT_EQ(getpid(), ev.sender_pid);
	EXPECT_EQ(getuid(), ev.sender_uid);
	EXPECT_EQ(0, ev.flags);
	usr1_finish(_metadata, fd, &k, &ev);
}

/* ---- the cgroup v2 freezer -------------------------------------------- */

/* Make <own cgroup>/pe-frz-<pid>: 0, -ENOSYS without cgroup2, -errno. */
static int cg_make(FIXTURE_DATA(edge) *self)
{
	char line[512], base[600] = "", path[1100];
	struct statfs sfs;
	FILE *f;

	if (statfs("/sys/fs/cgroup", &sfs) || sfs.f_type != 0x63677270)
		return -ENOSYS;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(base, sizeof(base), "/sys/fs/cgroup%s",
				 strcmp(line + 3, "/") ? line + 3 : "");
		}
	}
	fclose(f);
	if (!base[0])
		return -ENOSYS;
	snprintf(self->cg, sizeof(self->cg), "%s/pe-frz-%d", base, getpid());
	if (mkdir(self->cg, 0755))
		return -errno;
	self->made = 1;
	snprintf(path, sizeof(path), "%s/cgroup.freeze", self->cg);
	return access(path, W_OK) ? -ENOSYS : 0;
}

#define CG_MAKE_OR_SKIP() do {						\
	int _r = cg_make(self);						\
	if (_r == -ENOSYS)						\
		SKIP(return, "no cgroup2 with cgroup.freeze at /sys/fs/cgroup"); \
	ASSERT_EQ(0, _r);						\
} while (0)

static int cg_move(const char *dir, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", pid);
	return cg_write(dir, "cgroup.procs", buf);
}

/* The value of key in dir/cgroup.events, or -errno. */
static int cg_event(const char *dir, const char *key)
{
	char path[1200], line[128];
	size_t n = strlen(key);
	int v = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, n) && line[n] == ' ') {
			v = atoi(line + n + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Wait until key reads want: 0 or -ETIMEDOUT. */
static int cg_event_wait(const char *dir, const char *key, int want, int ms)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;

	while (cg_event(dir, key) != want) {
		if (pe_mono() >= end)
			return -ETIMEDOUT;
		pe_sleep_ms(5);
	}
	return 0;
}

/* Watch key for ms: 0 if it kept reading want, else -EPROTO. */
static int cg_event_stays(const char *dir, const char *key, int want, int ms)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;

	do {
		if (cg_event(dir, key) != want)
			return -EPROTO;
		pe_sleep_ms(10);
	} while (pe_mono() < end);
	return 0;
}

/*
 * A task held before its signal handler counts as not frozen: freezing
 * its cgroup completes only after the ack, before the handler runs.
 */
TEST_F(edge, freezer_waits_for_signal_hold)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	CG_MAKE_OR_SKIP();
	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, spawn_usr1(&k, 0));
	ASSERT_EQ(0, cg_move(self->cg, k.pid));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_SIGNAL, k.pid, &ev));
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.freeze", "1"));
	EXPECT_EQ(0, cg_event_stays(self->cg, "frozen", 0, PE_QUIET_MS))
		TH_LOG("the cgroup froze while its task was held");
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_ack(fd, ev.id)) TH_LOG("the freezer ended the hold");
	EXPECT_EQ(0, cg_event_wait(self->cg, "frozen", 1, PE_WAIT_MS))
		TH_LOG("the cgroup did not freeze after the ack");
	EXPECT_EQ(0, pe_poll_in(k.report, 0)) TH_LOG("the handler ran frozen");
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.freeze", "0"));
	EXPECT_EQ(0, cg_event_wait(self->cg, "frozen", 0, PE_WAIT_MS));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

/*
 * A task held in its exit counts as not frozen: the cgroup reads frozen
 * once the ack lets the task leave it.
 */
TEST_F(edge, freezer_waits_for_exit_hold)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, st = -1;

	CG_MAKE_OR_SKIP();
	fd = open_sub(PROCEVENT_EXIT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_spawn_exit(&k, 3));
	ASSERT_EQ(0, cg_move(self->cg, k.pid));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXIT, k.pid, &ev));
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.freeze", "1"));
	EXPECT_EQ(0, cg_event_stays(self->cg, "frozen", 0, PE_QUIET_MS))
		TH_LOG("the cgroup froze while its task was held");
	EXPECT_EQ(1, cg_event(self->cg, "populated"));
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(0, cg_event_wait(self->cg, "populated", 0, PE_WAIT_MS));
	EXPECT_EQ(0, cg_event_wait(self->cg, "frozen", 1, PE_WAIT_MS))
		TH_LOG("the cgroup did not freeze once its task left");
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(3, WEXITSTATUS(st));
}

/* ---- 9.5: init cannot be vetoed --------------------------------------- */

/* SigCgt of pid: 0 and *mask, or -errno. */
static int sig_caught(pid_t pid, unsigned long long *mask)
{
	char path[64], line[256];
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "SigCgt:", 7)) {
			*mask = strtoull(line + 7, NULL, 16);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

/*
 * pid 1 (the VM's /init traps SIGUSR2) is held before its handler;
 * SIGKILL cannot kill it, so the veto fails and the event stays
 * received until a plain ack.
 */
TEST_F(edge, kill_ack_on_init_eperm_event_stays)
{
	struct procevent_event ev;
	unsigned long long cgt = 0;
	int fd;

	if (sig_caught(1, &cgt) || !(cgt & (1ULL << (SIGUSR2 - 1))))
		SKIP(return, "pid 1 does not catch SIGUSR2 (SigCgt %llx)", cgt);
	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kill(1, SIGUSR2));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS))
		TH_LOG("no SIGNAL event from pid 1 (exempt? its parent, the idle task, is a kernel thread, but init is no user-mode helper)");
	ASSERT_EQ(1, ev.pid) TH_LOG("event type %u of pid %d", ev.type, ev.pid);
	ASSERT_EQ(PROCEVENT_SIGNAL, ev.type);
	EXPECT_EQ(SIGUSR2, ev.signo);
	EXPECT_EQ(-EPERM, pe_ack_kill(fd, ev.id));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
}

TEST_HARNESS_MAIN
