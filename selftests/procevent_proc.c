// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: introspection (SPEC section 5): /proc/procevent and the
 * procevent-* lines of a handle's fdinfo follow the events as they flow.
 */
#include "procevent_util.h"
#include "kselftest_harness.h"

FIXTURE(proc) {
	int unused;
};

FIXTURE_SETUP(proc)
{
	PE_SETUP_REQUIRE_MODULE();
	if (access(PE_PROC, F_OK)) {
		SKIP(, "%s does not exist", PE_PROC);
		fflush(NULL);
		_exit(255);
	}
}

FIXTURE_TEARDOWN(proc)
{
	pe_cleanup();
}

static void self_comm(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "re");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

TEST_F(proc, proc_file_is_0400)
{
	struct stat st;

	ASSERT_EQ(0, stat(PE_PROC, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0400, st.st_mode & 07777);
}

TEST_F(proc, proc_layout_without_subscribers)
{
	struct pe_stats s;

	ASSERT_EQ(0, pe_stats_read(&s))
		TH_LOG("held:, two events: lines and their fields expected");
	EXPECT_EQ(0, s.held);
	EXPECT_EQ(0, s.nsubs);
	/* An open, unsubscribed handle is not in the list. */
	ASSERT_LE(0, pe_open());
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(0, s.nsubs);
}

TEST_F(proc, proc_held_counts_held_tasks)
{
	struct procevent_event ev[2];
	struct pe_child k[2];
	struct pe_stats s;
	int fd, i;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(0, s.held);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_exit_event(fd, &k[i], 0, &ev[i]));
		ASSERT_EQ(0, pe_stats_read(&s));
		EXPECT_EQ(i + 1, s.held);
	}
	ASSERT_EQ(0, pe_ack_reap(fd, ev[0].id, k[0].pid, NULL));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(1, s.held);
	ASSERT_EQ(0, pe_ack_reap(fd, ev[1].id, k[1].pid, NULL));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(0, s.held);
}

TEST_F(proc, proc_exit_counters_follow_an_event)
{
	struct procevent_event ev;
	struct pe_stats s0, s1, s2;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.exit.raised + 1, s1.exit.raised);
	EXPECT_EQ(s0.exit.delivered + 1, s1.exit.delivered);
	EXPECT_EQ(s0.exit.acked, s1.exit.acked);
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	ASSERT_EQ(0, pe_stats_read(&s2));
	EXPECT_EQ(s0.exit.raised + 1, s2.exit.raised);
	EXPECT_EQ(s0.exit.acked + 1, s2.exit.acked);
	EXPECT_EQ(s0.exit.withdrawn, s2.exit.withdrawn);
	EXPECT_EQ(s0.exit.timedout, s2.exit.timedout);
	EXPECT_EQ(s0.exit.lost, s2.exit.lost);
	/* The other type did not move. */
	EXPECT_EQ(s0.signal.raised, s2.signal.raised);
	EXPECT_EQ(s0.signal.acked, s2.signal.acked);
}

/*
 * One exit visits A (times out), then B (closed with the event received):
 * every delivery ends in exactly one counter and the task is released.
 */
TEST_F(proc, proc_counters_balance_timeout_and_close)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int a, b;

	a = pe_open();
	b = pe_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_timeout(a, 50 * PE_MS));
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_exit_event(a, &k, 0, &ev));
	/* Not acked on A: it moves on to B when A's deadline passes. */
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	pe_close(b);
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(0, s1.held);
	EXPECT_EQ(s0.exit.raised + 1, s1.exit.raised);
	EXPECT_EQ(s0.exit.released + 1, s1.exit.released);
	EXPECT_EQ(s0.exit.delivered + 2, s1.exit.delivered);
	EXPECT_EQ(s0.exit.timedout + 1, s1.exit.timedout);
	EXPECT_EQ(s0.exit.moved + 1, s1.exit.moved);
	EXPECT_EQ(s0.exit.acked, s1.exit.acked);
	EXPECT_EQ(s0.exit.withdrawn, s1.exit.withdrawn);
	/* The balance a monitor can rely on once nothing is held. */
	EXPECT_EQ(s1.exit.delivered - s0.exit.delivered,
		  (s1.exit.acked - s0.exit.acked) +
		  (s1.exit.timedout - s0.exit.timedout) +
		  (s1.exit.withdrawn - s0.exit.withdrawn) +
		  (s1.exit.moved - s0.exit.moved));
}

static void on_usr1(int sig)
{
	pe_report_byte('S');
}

static int handler_child(void *arg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(proc, proc_signal_counters_follow_an_event)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_spawn(&k, handler_child, NULL));
	ASSERT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('S', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.signal.raised + 1, s1.signal.raised);
	EXPECT_EQ(s0.signal.delivered + 1, s1.signal.delivered);
	EXPECT_EQ(s0.signal.acked + 1, s1.signal.acked);
	EXPECT_EQ(s0.signal.withdrawn, s1.signal.withdrawn);
	EXPECT_EQ(s0.exit.raised, s1.exit.raised);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(proc, proc_subscriber_lines_in_list_order)
{
	struct procevent_event ev;
	struct pe_sub_line *u;
	struct pe_child k;
	struct pe_stats s;
	char comm[32];
	int fd[3], i;
	static const uint32_t masks[3] = {
		PROCEVENT_EXIT, PROCEVENT_SIGNAL, PE_ALL,
	};

	self_comm(comm, sizeof(comm));
	for (i = 0; i < 3; i++) {
		fd[i] = pe_open();
		ASSERT_LE(0, fd[i]);
	}
	/* Subscribe in the reverse order of opening. */
	for (i = 2; i >= 0; i--) {
		ASSERT_EQ(0, pe_set_mask(fd[i], masks[i]));
	}
	ASSERT_EQ(0, pe_set_timeout(fd[1], 5 * PE_MS));
	ASSERT_EQ(0, pe_stats_read(&s));
	ASSERT_EQ(3, s.nsubs);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(i + 1, s.subs[i].pos);
		EXPECT_EQ(getpid(), s.subs[i].pid);
		EXPECT_STREQ(comm, s.subs[i].comm);
	}
	EXPECT_EQ(PE_ALL, s.subs[0].mask);
	EXPECT_EQ(PROCEVENT_SIGNAL, s.subs[1].mask);
	EXPECT_EQ(PROCEVENT_EXIT, s.subs[2].mask);
	EXPECT_EQ(5 * PE_MS, s.subs[1].timeout_ns);
	EXPECT_EQ(0, s.subs[0].timeout_ns);

	/* An event waits on the first, then is received, then acked. */
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_fdinfo_wait(fd[2], "queued", 1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s));
	u = pe_stats_sub(&s, 1);
	EXPECT_EQ(1, u->waiting);
	EXPECT_EQ(0, u->received);
	ASSERT_EQ(0, pe_wait_event(fd[2], &ev, 0));
	ASSERT_EQ(0, pe_stats_read(&s));
	u = pe_stats_sub(&s, 1);
	EXPECT_EQ(0, u->waiting);
	EXPECT_EQ(1, u->received);
	ASSERT_EQ(0, pe_ack(fd[2], ev.id));
	/* Now on the third (the second's mask lacks EXIT). */
	ASSERT_EQ(0, pe_fdinfo_wait(fd[0], "queued", 1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(1, pe_stats_sub(&s, 1)->acked);
	EXPECT_EQ(0, pe_stats_sub(&s, 2)->waiting);
	EXPECT_EQ(1, pe_stats_sub(&s, 3)->waiting);
	ASSERT_EQ(0, pe_wait_event(fd[0], &ev, 0));
	ASSERT_EQ(0, pe_ack_reap(fd[0], ev.id, k.pid, NULL));

	/* A closed handle's line goes; the others move up. */
	pe_close(fd[2]);
	ASSERT_EQ(0, pe_stats_read(&s));
	ASSERT_EQ(2, s.nsubs);
	EXPECT_EQ(1, s.subs[0].pos);
	EXPECT_EQ(PROCEVENT_SIGNAL, s.subs[0].mask);
	EXPECT_EQ(2, s.subs[1].pos);
	EXPECT_EQ(PROCEVENT_EXIT, s.subs[1].mask);
	EXPECT_EQ(1, s.subs[1].acked);
}

TEST_F(proc, proc_subscriber_line_counts_timeouts)
{
	struct pe_child k;
	struct pe_stats s;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_timeout(fd, 100 * PE_MS));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	ASSERT_EQ(0, pe_stats_read(&s));
	ASSERT_EQ(1, s.nsubs);
	EXPECT_EQ(1, s.subs[0].timeouts);
	EXPECT_EQ(0, s.subs[0].waiting);
	EXPECT_EQ(100 * PE_MS, s.subs[0].timeout_ns);
}

TEST_F(proc, fdinfo_follows_handle_state)
{
	struct procevent_event ev;
	struct pe_child k;
	int a, fd;

	a = pe_open();
	fd = pe_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pe_fdv(fd, "mask"));
	EXPECT_EQ(0, pe_fdv(fd, "position"));
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, pe_fdv(fd, "timeouts"));
	EXPECT_EQ(0, pe_fdv(fd, "timeout-ns"));

	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, pe_set_timeout(fd, 7 * 1000 * PE_MS));
	EXPECT_EQ(PE_ALL, pe_fdv(fd, "mask"));
	EXPECT_EQ(2, pe_fdv(fd, "position"));
	EXPECT_EQ(7000 * PE_MS, pe_fdv(fd, "timeout-ns"));

	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_fdinfo_wait(fd, "queued", 1, PE_WAIT_MS));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, 0));
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, pe_fdv(fd, "timeouts"));

	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	EXPECT_EQ(PROCEVENT_EXIT, pe_fdv(fd, "mask"));
	EXPECT_EQ(2, pe_fdv(fd, "position"));
	pe_close(a);
	EXPECT_EQ(1, pe_fdv(fd, "position"));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	EXPECT_EQ(0, pe_fdv(fd, "position"));
	EXPECT_EQ(0, pe_fdv(fd, "mask"));
	/* The counters belong to the handle and survive unsubscribing. */
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
}

TEST_HARNESS_MAIN
