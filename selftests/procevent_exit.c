// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: PROCEVENT_EXIT events (SPEC section 1 and the payload of
 * section 2): when they are raised, how long the exiting process is held,
 * and what every field of the record says.
 */
#include "procevent_util.h"
#include <sys/resource.h>
#include <sys/signalfd.h>
#include "kselftest_harness.h"

FIXTURE(exit) {
	int unused;
};

FIXTURE_SETUP(exit)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(exit)
{
	pe_cleanup();
}

struct waiter {
	pid_t pid;
	pid_t ret;
	int status;
	uint64_t end;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->ret = waitpid(w->pid, &w->status, 0);
	w->end = pe_mono();
	return NULL;
}

/*
 * Two subscribers: the parent's waitpid() returns only after the second
 * (last) ack, however long the subscribers take.
 */
TEST_F(exit, exit_held_until_last_ack)
{
	struct procevent_event ev;
	struct waiter w = { 0 };
	struct pe_child k;
	uint64_t t_event, t_ack1, t_ack2;
	pthread_t th;
	int a = pe_open(), b = pe_open();

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 7));
	w.pid = k.pid;
	ASSERT_EQ(0, pthread_create(&th, NULL, waiter_fn, &w));
	ASSERT_EQ(0, pe_go(&k, 'x'));

	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	t_event = pe_mono();
	ASSERT_EQ(k.pid, ev.pid);
	pe_sleep_ms(150);
	t_ack1 = pe_mono();
	ASSERT_EQ(0, pe_ack(a, ev.id));

	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	ASSERT_EQ(k.pid, ev.pid);
	pe_sleep_ms(300);
	EXPECT_EQ(0, w.end) TH_LOG("waitpid returned before the last ack");
	t_ack2 = pe_mono();
	ASSERT_EQ(0, pe_ack(b, ev.id));

	EXPECT_EQ(0, pe_join(th, PE_WAIT_MS))
		TH_LOG("waitpid did not return after the last ack");
	pe_untrack_pid(k.pid);
	EXPECT_EQ(k.pid, w.ret);
	EXPECT_TRUE(WIFEXITED(w.status));
	EXPECT_EQ(7, WEXITSTATUS(w.status));
	EXPECT_LE(t_ack2, w.end);
	EXPECT_LE(t_event + 450 * PE_MS, w.end);
	EXPECT_LT(t_ack1, t_ack2);
}

TEST_F(exit, exit_parent_gets_no_sigchld_before_ack)
{
	struct procevent_event ev;
	struct signalfd_siginfo si;
	struct pe_child k;
	sigset_t set;
	int fd, sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	ASSERT_LE(0, sfd);
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	EXPECT_EQ(0, pe_poll_in(sfd, PE_QUIET_MS));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(1, pe_poll_in(sfd, PE_WAIT_MS));
	EXPECT_EQ((ssize_t)sizeof(si), read(sfd, &si, sizeof(si)));
	EXPECT_EQ(k.pid, (pid_t)si.ssi_pid);
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	close(sfd);
}

TEST_F(exit, exit_pidfd_not_readable_until_ack)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, pidfd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	pidfd = syscall(SYS_pidfd_open, k.pid, 0);
	if (pidfd < 0)
		SKIP(return, "pidfd_open: %s", strerror(errno));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(0, pe_poll_in(pidfd, PE_QUIET_MS));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(1, pe_poll_in(pidfd, PE_WAIT_MS));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	close(pidfd);
}

TEST_F(exit, exit_pid_stays_allocated_during_hold)
{
	struct procevent_event ev;
	struct pe_child k;
	char path[64];
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	pe_sleep_ms(100);
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(0, kill(k.pid, 0));
	snprintf(path, sizeof(path), "/proc/%d/stat", k.pid);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	EXPECT_EQ(-1, kill(k.pid, 0));
}

TEST_F(exit, exit_hold_not_interrupted_by_signals)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 7, &ev));
	EXPECT_EQ(0, kill(k.pid, SIGTERM));
	EXPECT_EQ(0, kill(k.pid, SIGKILL));
	pe_sleep_ms(PE_QUIET_MS);
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	/* The exit code is the one it exited with, not a signal. */
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(7, WEXITSTATUS(status));
}

static int fields_child(void *arg)
{
	prctl(PR_SET_NAME, "pe-fields");
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(exit, exit_event_fields_are_all_written)
{
	struct procevent_event ev;
	struct pe_child k;
	uint64_t t0, t1;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, fields_child, NULL));
	ASSERT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	t0 = pe_mono();
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	t1 = pe_mono();

	EXPECT_EQ(PE_REC, ev.size);
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_LT(0, ev.id);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, ev.id);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(k.pid, ev.tgid);
	EXPECT_EQ(getpid(), ev.ppid);
	EXPECT_EQ(0, ev.uid);
	EXPECT_TRUE(WIFEXITED(ev.status));
	EXPECT_EQ(0, ev.status);
	EXPECT_EQ(0, ev.signo);
	EXPECT_EQ(0, ev.si_code);
	EXPECT_EQ(0, ev.sender_pid);
	EXPECT_EQ(0, ev.sender_uid);
	EXPECT_EQ(0, ev.flags);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, ev.start_time_ns);
	EXPECT_NE(0, ev.start_time_ns);
	EXPECT_LE(t0, ev.time_ns);
	EXPECT_GE(t1, ev.time_ns);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, ev.cgroup_id);
	EXPECT_STREQ("pe-fields", ev.comm);
	/* NUL-terminated, and nothing of the sentinel left after it. */
	EXPECT_EQ(0, ev.comm[15]);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

static int long_comm_child(void *arg)
{
	prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz");
	pe_gate_wait();
	return 0;
}

TEST_F(exit, exit_comm_is_nul_terminated_at_15_chars)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, long_comm_child, NULL));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(0, memcmp(ev.comm, "abcdefghijklmno", 16));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(exit, exit_status_is_exit_code)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 7, &ev));
	EXPECT_TRUE(WIFEXITED(ev.status));
	EXPECT_EQ(7, WEXITSTATUS(ev.status));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	EXPECT_EQ(status, ev.status);
}

TEST_F(exit, exit_status_killed_by_sigkill)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, kill(k.pid, SIGKILL));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_TRUE(WIFSIGNALED(ev.status));
	EXPECT_EQ(SIGKILL, WTERMSIG(ev.status));
	EXPECT_EQ(0, ev.signo);
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	EXPECT_EQ(status, ev.status);
}

static int abort_child(void *arg)
{
	struct rlimit rl = { 0, 0 };

	/* No core file: keeps the VM's file system clean. */
	setrlimit(RLIMIT_CORE, &rl);
	pe_gate_wait();
	abort();
}

TEST_F(exit, exit_status_matches_wait_after_abort)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, abort_child, NULL));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_TRUE(WIFSIGNALED(ev.status));
	EXPECT_EQ(SIGABRT, WTERMSIG(ev.status));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	EXPECT_EQ(status, ev.status);
}

static int setuid_child(void *arg)
{
	if (setuid(1234))
		return 100;
	pe_gate_wait();
	return 0;
}

TEST_F(exit, exit_uid_is_real_uid_after_setuid)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, setuid_child, NULL));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(1234, ev.uid);
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(exit, exit_start_time_matches_proc_stat)
{
	struct procevent_event ev;
	struct pe_child k;
	unsigned long long ticks = 0, tick_ns;
	int fd;

	tick_ns = 1000000000ULL / sysconf(_SC_CLK_TCK);
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_start_ticks(k.pid, &ticks));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	/* /proc truncates the boot-based start time to whole ticks. */
	EXPECT_LE(ticks * tick_ns, ev.start_time_ns);
	EXPECT_GT((ticks + 1) * tick_ns, ev.start_time_ns);
	EXPECT_GE(pe_now(CLOCK_BOOTTIME), ev.start_time_ns);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(exit, exit_cgroup_id_matches_cgroup2_handle)
{
	struct procevent_event ev;
	struct pe_child k;
	uint64_t id = 0;
	int fd, r;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	r = pe_cgroup_id(k.pid, &id);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	if (r == -ENOSYS)
		SKIP(return, "cgroup2 is not mounted at /sys/fs/cgroup");
	ASSERT_EQ(0, r);
	EXPECT_NE(0, ev.cgroup_id);
	EXPECT_EQ(id, ev.cgroup_id);
}

TEST_F(exit, exit_ids_increase_strictly)
{
	struct procevent_event ev;
	struct pe_child k;
	uint64_t last = 0;
	int fd, i;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, pe_exit_event(fd, &k, i, &ev));
		EXPECT_LT(last, ev.id);
		last = ev.id;
		ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
		pe_child_close(&k);
	}
}

/*
 * The exit probe stays registered a moment after the last EXIT subscriber
 * changes its mask; an exit in that moment is neither raised nor held.
 */
TEST_F(exit, exit_not_raised_just_after_exit_leaves_the_mask)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL))
		TH_LOG("the exit was held after EXIT left the mask");
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.exit.raised, s1.exit.raised);
	EXPECT_EQ(s0.exit.lost, s1.exit.lost);
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev));
}

TEST_F(exit, exit_not_raised_without_exit_in_mask)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev));
}

TEST_F(exit, exit_not_held_when_pool_is_empty)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	long long old = 0;
	int fd, r;

	if (pe_param_read("pool_size", &old))
		SKIP(return, "no pool_size module parameter");
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_param_write("pool_size", 0));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	r = pe_reap(k.pid, PE_WAIT_MS, NULL);
	if (r) {
		/* Held after all: release it before reporting. */
		if (!pe_wait_event(fd, &ev, 0))
			pe_ack(fd, ev.id);
	}
	EXPECT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(0, pe_param_write("pool_size", old));
	EXPECT_EQ(0, r) TH_LOG("the exit was held with an empty pool");
	EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
	EXPECT_EQ(s0.exit.lost + 1, s1.exit.lost);
	EXPECT_EQ(s0.exit.delivered, s1.exit.delivered);
	EXPECT_EQ(0, s1.held);
	/* With the pool back, exits are held again. */
	pe_child_close(&k);
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_HARNESS_MAIN
