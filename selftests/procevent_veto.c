// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: the veto (SPEC section 8.3).  An ack with PROCEVENT_ACK_KILL
 * on a FORK, EXEC or SIGNAL event releases the task with SIGKILL pending:
 * it dies before another user instruction, later subscribers are not
 * asked, and it counts as an ack.  On EXIT it is refused; other flag bits
 * stay refused.
 */
#include "procevent_util.h"
#include "kselftest_harness.h"

PE_EXEC_HELPER()

FIXTURE(veto) {
	int unused;
};

FIXTURE_SETUP(veto)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(veto)
{
	pe_cleanup();
	pe_helper_remove();
}

/* Expect pid to die of SIGKILL, having written nothing to fd. */
static void expect_killed_silent(struct __test_metadata *_metadata,
				 pid_t pid, int fd)
{
	char buf[8];
	int st = 0;

	ASSERT_EQ(0, pe_reap(pid, PE_WAIT_MS, &st))
		TH_LOG("the vetoed task did not die");
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(0, pe_drain(fd, buf, sizeof(buf), PE_WAIT_MS))
		TH_LOG("the vetoed task ran: it wrote '%c'", buf[0]);
}

static int runs_child(void *arg)
{
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(veto, veto_fork_child_never_runs)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev));
	ASSERT_EQ(0, pe_ack_kill(fd, ev.id));
	expect_killed_silent(_metadata, k.pid, k.report);
}

static int exec_child(void *arg)
{
	if (pe_gate_wait() != 'e')
		return 0;
	return 100 + pe_helper_exec((int)(long)arg);
}

TEST_F(veto, veto_exec_new_program_never_runs)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, hp[2];

	ASSERT_EQ(0, pe_helper_install());
	ASSERT_EQ(0, pipe2(hp, O_CLOEXEC));
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	ASSERT_EQ(0, pe_spawn(&k, exec_child, (void *)(long)hp[1]));
	close(hp[1]);
	ASSERT_EQ(0, pe_go(&k, 'e'));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, k.pid, &ev));
	EXPECT_STREQ(PE_HELPER_NAME, ev.comm);
	ASSERT_EQ(0, pe_ack_kill(fd, ev.id));
	expect_killed_silent(_metadata, k.pid, hp[0]);
	close(hp[0]);
}

static void on_usr1(int sig)
{
	pe_report_byte('H');
}

static int handler_child(void *arg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		return 100;
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(veto, veto_signal_handler_never_runs)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_spawn(&k, handler_child, NULL));
	ASSERT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_SIGNAL, k.pid, &ev));
	EXPECT_EQ(SIGUSR1, ev.signo);
	ASSERT_EQ(0, pe_ack_kill(fd, ev.id));
	expect_killed_silent(_metadata, k.pid, k.report);
}

TEST_F(veto, veto_skips_later_subscribers)
{
	struct procevent_event ev, ev2;
	struct pe_stats s0, s1;
	struct pe_child k;
	int a = pe_open(), b = pe_open();

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(a, PROCEVENT_FORK, k.pid, &ev));
	ASSERT_EQ(0, pe_ack_kill(a, ev.id));
	expect_killed_silent(_metadata, k.pid, k.report);
	EXPECT_EQ(0, pe_quiet(b, PE_QUIET_MS, &ev2))
		TH_LOG("the second subscriber saw the vetoed event %llu",
		       (unsigned long long)ev2.id);
	EXPECT_EQ(0, pe_fdv(b, "queued"));
	EXPECT_EQ(0, pe_fdv(b, "acked"));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.fork.delivered + 1, s1.fork.delivered);
}

TEST_F(veto, veto_counts_as_ack)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev));
	ASSERT_EQ(0, pe_ack_kill(fd, ev.id));
	expect_killed_silent(_metadata, k.pid, k.report);
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	/* Acked once: a second ack, plain or kill, finds nothing. */
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	EXPECT_EQ(-ENOENT, pe_ack_kill(fd, ev.id));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.fork.acked + 1, s1.fork.acked);
	EXPECT_EQ(s0.fork.withdrawn, s1.fork.withdrawn);
}

TEST_F(veto, veto_on_exit_einval_then_plain_ack)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open(), st = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 9, &ev));
	EXPECT_EQ(-EINVAL, pe_ack_kill(fd, ev.id));
	/* Still received, still held, not counted. */
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
	pe_sleep_ms(50);
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(9, WEXITSTATUS(st));
}

TEST_F(veto, ack_unknown_flag_bits_einval)
{
	static const uint32_t bad[] = {
		0x2, 0x4, 0x80000000u, 0xfffffffeu, 0xffffffffu,
		PROCEVENT_ACK_KILL | 0x2, PROCEVENT_ACK_KILL | 0x80000000u,
	};
	struct procevent_event ev;
	struct pe_child k;
	unsigned int i;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, pe_ack_full(fd, ev.id, bad[i], 0))
			TH_LOG("flags 0x%x", bad[i]);
	}
	EXPECT_EQ(-EINVAL, pe_ack_full(fd, ev.id, PROCEVENT_ACK_KILL, 1));
	/* None of them acked or killed: the child is still held. */
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_poll_in(k.report, PE_QUIET_MS));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_HARNESS_MAIN
